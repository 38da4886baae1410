"""A record conflict decided in the program: the decision becomes the next revision, is in the
audit log, and the next bundle carries both."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import bundles
from fieldkit.services.audit import AuditService
from fieldkit.services.records import RecordService
from fieldkit.storage.records import RecordStore
from tests.export.bundle_kit import World, make_world, unpack


@pytest.fixture
def world(tmp_path: Path, fast_kdf: object) -> World:
    w = make_world(tmp_path)
    yield w
    w.close()


def _conflict(world: World) -> tuple[str, RecordService]:
    """A person at revision 2 here, and another revision 2 of it received (e.g. a restored copy)."""
    records = RecordService(world.monitor)
    person = records.add("person", {"pseudonym": "QZXJ-1", "occupation": "механік"})
    bundles.export_bundle(world.monitor, world.usb)
    records.update(person.id, {"pseudonym": "QZXJ-1", "occupation": "агроном"}, 1)
    mine = [v for v in records.history(person.id) if v.revision == 2][0].doc
    theirs = copy.deepcopy(mine)
    theirs["data"] = {"pseudonym": "QZXJ-1", "occupation": "лікар", "citizenship": "QZXJ-land"}
    with world.monitor.session() as s:
        outcome = RecordStore(world.monitor.device_id).import_version(
            s, theirs, world.monitor.device_id
        )
    assert outcome == "conflict"
    return person.id, records


def test_both_sides_field_by_field_and_a_merge_travels_in_the_next_bundle(world: World) -> None:
    record_id, records = _conflict(world)
    [open_conflict] = records.conflicts()
    sides = records.conflict(record_id, open_conflict.revision)
    assert sides.local["occupation"] == "агроном"
    assert [data["occupation"] for _device, data in sides.others] == ["лікар"]
    merged = {**sides.local, "citizenship": sides.others[0][1]["citizenship"]}
    view = records.resolve_conflict(
        record_id,
        2,
        merged,
        decision="merged",
        fields={"occupation": "local", "citizenship": "other"},
    )
    assert view.revision == 3
    assert records.get(record_id).data == merged
    assert records.conflicts() == []
    entries = AuditService(world.monitor).entries_for(record_id)
    decided = [e for e in entries if e.action == "record.conflict_resolved"]
    assert len(decided) == 1
    assert decided[0].details["decision"] == "merged"
    assert decided[0].details["fields"] == {"citizenship": "other", "occupation": "local"}
    assert "лікар" not in json.dumps(decided[0].details, ensure_ascii=False), "no content"
    assert AuditService(world.monitor).verify().ok

    exported = bundles.export_bundle(world.monitor, world.usb)
    members = unpack(exported.path.read_bytes(), world.identities())
    names = [m.name.decode() for m in members]
    assert f"records/{record_id}-3.json" in names
    carried = json.loads(next(m.data for m in members if m.name.decode().endswith("-3.json")))
    assert carried["data"] == merged
    audit = b"".join(m.data for m in members if b"audit" in m.name)
    assert b"record.conflict_resolved" in audit


def test_choosing_the_version_held_here_still_makes_a_new_revision(world: World) -> None:
    record_id, records = _conflict(world)
    sides = records.conflict(record_id, 2)
    view = records.resolve_conflict(record_id, 2, sides.local, decision="local")
    assert view.revision == 3, "the decision supersedes both versions of revision 2"
    with pytest.raises(FieldkitError) as err:
        records.conflict(record_id, 2)
    assert err.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(FieldkitError):
        records.resolve_conflict(record_id, 2, sides.local, decision="local")
