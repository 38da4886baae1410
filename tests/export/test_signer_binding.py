"""A trusted device speaks only for itself: bundles forged by a second enrolled device.

Each forged bundle is built the way an attacker holding an enrolled laptop builds it: from the
published format (docs/bundle-format.md), with the project's own tar, age and minisign writers,
signed with the second device's real key. Every one is refused, the coordinator's tables are the
same afterwards (one alarm row aside), and the first monitor's work still imports.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.export.bundle_format import MANIFEST_NAME, SIG_NAME, SUMS_NAME
from fieldkit.services import bundles
from fieldkit.services.evidence import startup_cleanup
from fieldkit.services.records import RecordService
from fieldkit.storage.custody import CustodyLog
from fieldkit.storage.vault import Vault
from tests.export.bundle_kit import (
    Member,
    World,
    add_evidence,
    add_monitor,
    add_people,
    dump_tables,
    make_world,
    manifest_doc,
    resign,
    seal,
    store_files,
    unpack,
)
from tests.storage.test_records_samples import interview_data

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
    w = make_world(tmp_path_factory.mktemp("binding"))
    # monitor A: two people, an evidence item; its bundle is imported
    w.extra["a_people"] = add_people(w.monitor, 2, prefix="A")
    w.extra["a_item"] = add_evidence(w.monitor, w.root / "a", os.urandom(50_000), "a.bin")
    a1 = bundles.export_bundle(w.monitor, w.usb)
    w.extra["a_members"] = unpack(a1.path.read_bytes(), w.identities())
    bundles.import_bundle(w.coordinator, a1.path)
    # monitor D, enrolled too: its own person and item; its real bundle is the attacker's base
    d = add_monitor(w, "d", "W-666 laptop")
    add_people(d, 1, prefix="D")
    w.extra["d_item"] = add_evidence(d, w.root / "d", os.urandom(30_000), "d.bin")
    d1 = bundles.export_bundle(d, w.usb)
    w.extra["d_members"] = unpack(d1.path.read_bytes(), w.identities())
    yield w
    w.close()


def _d(world: World) -> Vault:
    vault = world.extra["d"]
    assert isinstance(vault, Vault)
    return vault


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(members: list[Member], name: str) -> Any:
    return json.loads(next(m for m in members if m.name == name.encode()).data)


def a_record(world: World, index: int = 0) -> Doc:
    """Monitor A's record version as A's own bundle carried it."""
    person = world.extra["a_people"][index]
    doc = _json(world.extra["a_members"], f"records/{person}-1.json")
    assert isinstance(doc, dict)
    return doc


def _a_object(world: World, sha: str) -> bytes:
    data = next(m.data for m in world.extra["a_members"] if m.name == f"objects/{sha}".encode())
    assert isinstance(data, bytes)
    return data


def a_evidence(world: World) -> Doc:
    doc = _json(world.extra["a_members"], f"evidence/{world.extra['a_item']}.json")
    assert isinstance(doc, dict)
    return doc


def d_parts(world: World) -> dict[str, Any]:
    """The attacker's starting point: the parts of D's real bundle, as editable documents."""
    members = copy.deepcopy(world.extra["d_members"])
    manifest = manifest_doc(members)
    by_name = {m.name.decode(): m for m in members}
    return {
        "manifest": manifest,
        "records": [
            json.loads(by_name[f"records/{e['id']}-{e['revision']}.json"].data)
            for e in manifest["records"]
        ],
        "evidence": [
            json.loads(by_name[f"evidence/{e['id']}.json"].data) for e in manifest["evidence"]
        ],
        "audit": by_name["audit.json"].data,
        "custody": json.loads(by_name["custody.json"].data),
        "objects": {
            o["sha256"]: by_name[f"objects/{o['sha256']}"].data for o in manifest["objects"]
        },
        "media": {o["sha256"]: o["media_type"] for o in manifest["objects"]},
    }


def build(world: World, parts: dict[str, Any]) -> bytes:
    """A complete bundle from the parts, in the order of §3, signed by D's real key."""
    manifest = parts["manifest"]
    body: list[Member] = []
    manifest["records"] = []
    for doc in parts["records"]:
        raw = canonical_dumps(doc)
        manifest["records"].append(
            {
                "id": doc["id"],
                "type": doc["type"],
                "revision": doc["revision"],
                "operation": "delete" if doc["deleted"] else "upsert",
                "sha256": _sha(raw),
                "size": len(raw),
            }
        )
        body.append(Member(f"records/{doc['id']}-{doc['revision']}.json".encode(), raw))
    manifest["evidence"] = []
    for doc in parts["evidence"]:
        raw = canonical_dumps(doc)
        manifest["evidence"].append({"id": doc["id"], "sha256": _sha(raw), "size": len(raw)})
        body.append(Member(f"evidence/{doc['id']}.json".encode(), raw))
    audit = parts["audit"]
    manifest["audit"] = {
        "sha256": _sha(audit),
        "size": len(audit),
        "entries": len(json.loads(audit)),
    }
    body.append(Member(b"audit.json", audit))
    custody = canonical_dumps(parts["custody"])
    manifest["custody"] = {
        "sha256": _sha(custody),
        "size": len(custody),
        "entries": len(parts["custody"]),
    }
    body.append(Member(b"custody.json", custody))
    manifest["objects"] = []
    for sha, data in parts["objects"].items():
        manifest["objects"].append(
            {"sha256": sha, "size": len(data), "media_type": parts["media"].get(sha, "image/png")}
        )
        body.append(Member(f"objects/{sha}".encode(), data))
    members = [
        Member(SUMS_NAME.encode(), b""),
        Member(SIG_NAME.encode(), b""),
        Member(MANIFEST_NAME.encode(), b""),
    ]
    members += body
    # json.dumps, not the project's writer: an attacker's numbers need not be representable
    raw = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    next(m for m in members if m.name == MANIFEST_NAME.encode()).data = raw.encode()
    resign(members, _d(world).device_signing_key())
    return seal(members, world.recipient())


def refused(world: World, data: bytes, *codes: ErrorCode) -> FieldkitError:
    """Import ``data``: it must be refused with one of ``codes`` and change nothing but, for a
    claim on another device's records, one alarm row."""
    path = world.root / "forged" / (_sha(data)[:16] + ".fkb")
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    startup_cleanup(world.coordinator)
    before = dump_tables(world.coordinator)
    files = store_files(world.coordinator)
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, path)
    after = dump_tables(world.coordinator)
    assert err.value.code in codes, err.value.message()
    alarms_before, alarms_after = before.pop("bundle_alarms"), after.pop("bundle_alarms")
    if err.value.code == ErrorCode.BUNDLE_FOREIGN_CLAIM:
        new = [a for a in alarms_after if a not in alarms_before]
        assert [a[1] for a in new] == ["foreign_claim"]
        assert "claims records of another device" in err.value.message()
        assert "integrity" not in err.value.message().lower()
    else:
        assert alarms_after == alarms_before
    assert after == before, "the coordinator's database changed"
    # an original stored before a later member failed is an orphan the start-up clean-up removes
    startup_cleanup(world.coordinator)
    assert store_files(world.coordinator) == files
    return err.value


FOREIGN = ErrorCode.BUNDLE_FOREIGN_CLAIM


def test_the_attackers_unaltered_base_bundle_would_import(world: World) -> None:
    path = world.root / "forged" / "base.fkb"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(build(world, d_parts(world)))
    report = bundles.verify_bundle(world.coordinator, path)
    assert report.ok, report.refusal


# --- finding 1: custody events bound to the signer -----------------------------------------------


def _continue_a_chain(world: World, device: str) -> Doc:
    """A custody event on A's item that continues A's chain (seq, prev_hash, event_hash right)."""
    item = world.extra["a_item"]
    with world.coordinator.session() as s:
        seq, prev = CustodyLog.head(s, item, world.monitor.device_id)
    body = {
        "v": 1,
        "id": "0e4b8c1a-5f1e-4c59-9a43-7a9b3f1d2c10",
        "item_id": item,
        "device_id": device,
        "seq": seq + 1,
        "action": "viewed",
        "at": "2026-11-30T10:00:00.000000Z",
        "actor": "CANARYNAME-Q7",
        "purpose": None,
        "hash_before": None,
        "hash_after": None,
        "details": {},
        "prev_hash": prev,
    }
    return {**body, "event_hash": _sha(canonical_dumps(body))}


def test_custody_events_naming_another_device_are_refused(world: World) -> None:
    parts = d_parts(world)
    parts["custody"].append(_continue_a_chain(world, world.monitor.device_id))
    refused(world, build(world, parts), FOREIGN)


def test_own_custody_events_on_another_devices_item_are_refused(world: World) -> None:
    parts = d_parts(world)
    parts["custody"].append(_continue_a_chain(world, _d(world).device_id))
    refused(world, build(world, parts), FOREIGN)


# --- finding 2: another device's records are never replaced or deleted ---------------------------


@pytest.mark.parametrize("author", ["a", "d"])
@pytest.mark.parametrize("change", ["replace", "delete"])
def test_another_devices_record_is_not_replaced_or_deleted(
    world: World, author: str, change: str
) -> None:
    doc = a_record(world)
    doc["revision"] = 999_999_999
    doc["origin_device"] = world.monitor.device_id if author == "a" else _d(world).device_id
    if change == "delete":
        doc["deleted"] = True
    else:
        doc["data"]["pseudonym"] = "X-999"
    parts = d_parts(world)
    parts["records"].append(doc)
    refused(world, build(world, parts), FOREIGN)
    view = RecordService(world.coordinator).get(doc["id"])
    assert (view.revision, view.deleted) == (1, False)


def test_same_revision_of_another_devices_record_is_refused_not_a_conflict(world: World) -> None:
    doc = a_record(world)
    doc["data"]["pseudonym"] = "X-999"
    doc["origin_device"] = _d(world).device_id
    parts = d_parts(world)
    parts["records"].append(doc)
    refused(world, build(world, parts), FOREIGN)


# --- finding 3: authorship comes from the signer ---------------------------------------------


def test_a_new_record_claiming_another_author_is_refused(world: World) -> None:
    parts = d_parts(world)
    parts["records"][0]["origin_device"] = world.monitor.device_id
    refused(world, build(world, parts), FOREIGN)


def test_a_new_evidence_item_claiming_another_author_is_refused(world: World) -> None:
    parts = d_parts(world)
    parts["evidence"][0]["origin_device"] = world.monitor.device_id
    refused(world, build(world, parts), FOREIGN)


@pytest.mark.parametrize("author", ["a", "d"])
def test_another_devices_evidence_description_is_not_rewritten(world: World, author: str) -> None:
    doc = a_evidence(world)
    doc["title"] = "CANARYNAME-FORGED"
    doc["updated_at"] = "2099-01-01T00:00:00.000000Z"
    doc["origin_device"] = world.monitor.device_id if author == "a" else _d(world).device_id
    parts = d_parts(world)
    parts["evidence"].append(doc)
    # the attacker holds a copy of A's original (the strongest case: it could send the bytes)
    parts["objects"][doc["sha256"]] = _a_object(world, doc["sha256"])
    refused(world, build(world, parts), FOREIGN)


def test_own_record_referring_to_another_devices_record_is_refused(world: World) -> None:
    parts = d_parts(world)
    parts["records"].append(_own_interview(world, world.extra["a_people"][0]))
    refused(world, build(world, parts), FOREIGN)


def _own_interview(world: World, person: str) -> Doc:
    """A version document of an interview of D's, its interviewee changed to ``person`` (a
    record of A's), as D's own program would have written it."""
    from fieldkit.storage.records import RecordStore

    d = _d(world)
    own = RecordService(d).add("person", {"pseudonym": "D-002"})
    interview = RecordService(d).add("interview", interview_data(own.id))
    with d.session() as s:
        doc = next(
            v.doc
            for v in RecordStore(d.device_id).versions_since(s, 0)
            if v.record_id == interview.id
        )
    doc["data"]["interviewee"] = person
    return doc


def test_own_evidence_linked_to_another_devices_record_is_refused(world: World) -> None:
    parts = d_parts(world)
    parts["evidence"][0]["links"]["person_ids"] = [world.extra["a_people"][0]]
    refused(world, build(world, parts), FOREIGN)


# --- every field naming a device, an id, a revision, a time or a size, with another's value -----


def _a_manifest(world: World) -> Doc:
    return manifest_doc(copy.deepcopy(world.extra["a_members"]))


Mutation = Callable[[World, dict[str, Any]], None]


def _set(path: str, value: Callable[[World], Any]) -> Mutation:
    def change(world: World, parts: dict[str, Any]) -> None:
        target: Any = parts
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value(world)
        else:
            target[last] = value(world)

    return change


A_DEVICE: Callable[[World], Any] = lambda w: w.monitor.device_id  # noqa: E731


FIELD_SWEEP: dict[str, tuple[Mutation, tuple[ErrorCode, ...]]] = {
    "manifest.device.device_id": (
        _set("manifest.device.device_id", A_DEVICE),
        (ErrorCode.BUNDLE_DEVICE_MISMATCH,),
    ),
    "manifest.device.key_id": (
        _set("manifest.device.key_id", lambda w: _a_manifest(w)["device"]["key_id"]),
        (ErrorCode.BUNDLE_DEVICE_MISMATCH, ErrorCode.BUNDLE_MANIFEST_INVALID),
    ),
    "manifest.bundle_id": (
        _set("manifest.bundle_id", lambda w: _a_manifest(w)["bundle_id"]),
        (ErrorCode.BUNDLE_MANIFEST_INVALID,),
    ),
    "record.id": (
        _set("records.0.id", lambda w: w.extra["a_people"][1]),
        (FOREIGN,),
    ),
    "record.origin_device": (_set("records.0.origin_device", A_DEVICE), (FOREIGN,)),
    "record.revision of A's record": (
        lambda w, p: p["records"].append({**a_record(w, 1), "revision": 2}),
        (FOREIGN,),
    ),
    "evidence.id": (
        _set("evidence.0.id", lambda w: w.extra["a_item"]),
        (FOREIGN,),
    ),
    "evidence.origin_device": (_set("evidence.0.origin_device", A_DEVICE), (FOREIGN,)),
    "evidence.parent_id": (
        _set("evidence.0.parent_id", lambda w: w.extra["a_item"]),
        (FOREIGN,),
    ),
    "evidence.sha256 of A's original": (
        lambda w, p: p["evidence"][0].update(
            sha256=a_evidence(w)["sha256"], size=a_evidence(w)["size"]
        ),
        (ErrorCode.BUNDLE_MEMBER_INVALID,),
    ),
    "custody.device_id": (_set("custody.0.device_id", A_DEVICE), (FOREIGN,)),
    "custody.item_id": (
        _set("custody.0.item_id", lambda w: w.extra["a_item"]),
        (FOREIGN,),
    ),
    "custody.id of A's event": (
        lambda w, p: p["custody"][0].update(id=_a_event_id(w)),
        (ErrorCode.BUNDLE_MEMBER_INVALID,),
    ),
}


def _a_event_id(world: World) -> str:
    with world.coordinator.session() as s:
        events = CustodyLog.events(s, world.extra["a_item"])
    return events[0].id


def _rehash_custody(parts: dict[str, Any]) -> None:
    for event in parts["custody"]:
        body = {k: v for k, v in event.items() if k != "event_hash"}
        event["event_hash"] = _sha(canonical_dumps(body))


@pytest.mark.parametrize("field", list(FIELD_SWEEP))
def test_field_with_another_devices_value_is_refused(world: World, field: str) -> None:
    mutate, codes = FIELD_SWEEP[field]
    parts = d_parts(world)
    mutate(world, parts)
    _rehash_custody(parts)  # a forger recomputes every hash it can
    refused(world, build(world, parts), *codes)


@pytest.mark.parametrize(
    "path",
    ["manifest.created_at", "records.0.created_at", "records.0.updated_at", "custody.0.at"],
)
def test_times_copied_from_another_device_change_nothing_of_its(world: World, path: str) -> None:
    """Times are informational: D may claim any, but only about its own records."""
    a_before = {k: v for k, v in dump_tables(world.coordinator).items() if k != "bundle_alarms"}
    parts = d_parts(world)
    _set(path, lambda w: "2099-12-31T23:59:59.000000Z")(world, parts)
    _rehash_custody(parts)
    path_out = world.root / "forged" / f"times-{path}.fkb"
    path_out.parent.mkdir(exist_ok=True)
    path_out.write_bytes(build(world, parts))
    report = bundles.verify_bundle(world.coordinator, path_out)
    assert report.ok, report.refusal
    assert {
        k: v for k, v in dump_tables(world.coordinator).items() if k != "bundle_alarms"
    } == a_before


# --- after all the attempts, A's next real bundle still imports ----------------------------------


def test_zz_the_first_monitors_next_bundle_imports_after_the_attacks(world: World) -> None:
    service = RecordService(world.monitor)
    person = world.extra["a_people"][0]
    current = service.get(person)
    service.update(person, {**current.data, "pseudonym": "A-777"}, current.revision)
    nxt = bundles.export_bundle(world.monitor, world.usb)
    report = bundles.import_bundle(world.coordinator, nxt.path)
    assert report.ok
    assert report.custody_events >= 1
    view = RecordService(world.coordinator).get(person)
    assert (view.revision, view.data["pseudonym"]) == (2, "A-777")
    assert view.origin_device == world.monitor.device_id
    assert RecordService(world.coordinator).conflicts() == []


# --- finding 4: far sequence numbers are refused at once --------------------------------------


@pytest.mark.parametrize("seq", [10**6, 2**62])
def test_a_far_sequence_number_is_refused_in_bounded_time(world: World, seq: int) -> None:
    parts = d_parts(world)
    parts["manifest"]["seq"] = seq
    parts["manifest"]["prev"] = "0" * 64
    error = refused(
        world, build(world, parts), ErrorCode.BUNDLE_SEQ_JUMP, ErrorCode.BUNDLE_MANIFEST_INVALID
    )
    if seq == 10**6:
        assert error.code == ErrorCode.BUNDLE_SEQ_JUMP
        assert "1000" in error.message()
    # verify (which used to make a gap row per missing number) refuses as quickly
    path = world.root / "forged" / f"far-{seq}.fkb"
    path.write_bytes(build(world, parts))
    report = bundles.verify_bundle(world.coordinator, path)
    assert not report.ok
    assert report.gaps == []


def test_gaps_are_ranges_that_split_as_numbers_arrive(world: World) -> None:
    from fieldkit.services.bundles.sequence import update_gaps

    device = "9d2f7c1e-0b4a-4c3e-8f6a-1a2b3c4d5e6f"  # no bundles imported from it
    with world.coordinator.session() as s:
        assert update_gaps(s, device, 1000) == [(1, 999)]
        assert update_gaps(s, device, 500) == [(1, 499), (501, 999)]
        assert update_gaps(s, device, 1) == [(2, 499), (501, 999)]
        assert update_gaps(s, device, 999) == [(2, 499), (501, 998)]
        s.rollback()


# --- finding 5: text bounds on import ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "length"),
    [("title", 2_000_000), ("title", 501), ("description", 20_001), ("original_name", 1001)],
)
def test_evidence_text_past_its_bound_is_refused(world: World, field: str, length: int) -> None:
    parts = d_parts(world)
    parts["evidence"][0][field] = "я" * length
    refused(
        world,
        build(world, parts),
        ErrorCode.BUNDLE_MEMBER_INVALID,
        ErrorCode.BUNDLE_TOO_LARGE,
    )
