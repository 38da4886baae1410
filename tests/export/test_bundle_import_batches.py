"""Bundle import stores records in batches: more records than one batch arrive whole, and a refused
record in a later batch is named by its member while nothing of the bundle is kept."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import bundles
from fieldkit.services.audit import AuditService
from fieldkit.services.records import RecordService
from tests.export.bundle_kit import (
    World,
    add_people,
    dump_tables,
    make_world,
    manifest_doc,
    resign,
    seal,
    set_manifest,
    unpack,
)

COUNT = bundles.RECORD_BATCH + 44


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
    w = make_world(tmp_path_factory.mktemp("batches"))
    w.extra["people"] = add_people(w.monitor, COUNT)
    exported = bundles.export_bundle(w.monitor, w.usb)
    w.extra["bundle"] = exported.path.read_bytes()
    yield w
    w.close()


def _write(world: World, name: str, data: bytes) -> os.PathLike[str]:
    path = world.root / name
    path.write_bytes(data)
    return path


def test_a_record_refused_in_a_later_batch_is_named_and_nothing_is_kept(world: World) -> None:
    members = unpack(world.extra["bundle"], world.identities())
    records = [m for m in members if m.name.startswith(b"records/")]
    assert len(records) == COUNT
    target = records[bundles.RECORD_BATCH + 10]  # in the second batch
    doc = json.loads(target.data)
    doc["data"] = {**doc["data"], "pseudonym": "  W-900  "}  # not in its normalised form
    target.data = canonical_dumps(doc)
    manifest = manifest_doc(members)
    name = target.name.decode()
    for rec in manifest["records"]:
        if f"records/{rec['id']}-{rec['revision']}.json" == name:
            rec["sha256"] = hashlib.sha256(target.data).hexdigest()
            rec["size"] = len(target.data)
    set_manifest(members, manifest)
    resign(members, world.device_key())
    path = _write(world, "forged.fkb", seal(members, world.recipient()))
    before = dump_tables(world.coordinator)
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, path)
    assert err.value.code == ErrorCode.BUNDLE_MEMBER_INVALID, err.value.message()
    assert name in err.value.message()
    assert "normalised" in err.value.message()
    assert dump_tables(world.coordinator) == before


def test_more_records_than_one_batch_arrive_whole(world: World) -> None:
    path = _write(world, "real.fkb", world.extra["bundle"])
    report = bundles.import_bundle(world.coordinator, path, write_receipt=False)
    assert report.ok
    assert report.imported
    assert report.records_new == COUNT
    assert report.records_same == 0
    here, there = RecordService(world.coordinator), RecordService(world.monitor)
    for record_id in world.extra["people"][:: bundles.RECORD_BATCH // 4]:
        assert here.get(record_id).content_hash == there.get(record_id).content_hash
    with world.coordinator.session() as s:
        change_seqs = list(
            s.execute(text("SELECT change_seq FROM record_versions ORDER BY id")).scalars()
        )
        fts = s.execute(text("SELECT count(*) FROM records_fts")).scalar_one()
    assert len(change_seqs) == COUNT
    assert change_seqs == list(range(change_seqs[0], change_seqs[0] + COUNT))
    assert fts == COUNT
    verdict = AuditService(world.coordinator).verify()
    assert verdict.ok
    assert verdict.own.versions_checked == COUNT
