"""A monitor enrols, exports; the coordinator verifies, imports and sends a receipt back; the
monitor applies it and purges. Also: the standard tools check the very same bundle, and the sequence
rules (replay, any order, gaps, equivocation, conflicts, revocation)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldkit.crypto.safetynumber import comparison_code
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.progress import CancelToken
from fieldkit.services import bundles, trust
from fieldkit.services.bundles import export as bundle_export
from fieldkit.services.records import RecordService
from fieldkit.storage.tables.bundles import (
    BundleAlarm,
    ExportState,
    ImportedBundle,
    QuarantinedBundle,
    SequenceGap,
)
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.tables.records import RecordRow
from tests.export.bundle_kit import (
    World,
    add_evidence,
    add_monitor,
    add_people,
    dump_tables,
    get,
    make_world,
    manifest_doc,
    resign,
    seal,
    set_manifest,
    unpack,
)
from tests.helpers import require_tool

# Each test runs with the coordinator on its own SQLCipher file and on a hub's PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def world(tmp_path: Path, fast_kdf: object) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


def count(vault: object, table: type) -> int:
    with vault.session() as s:  # type: ignore[attr-defined]
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def test_enrolment_codes_match_on_both_sides(world: World) -> None:
    monitor_side = trust.enrol(world.monitor, world.org_card, None)
    devices = trust.list_devices(world.coordinator)
    assert len(devices) == 1
    assert devices[0].code == monitor_side.code
    assert len(monitor_side.code.replace(" ", "")) == 30
    with world.coordinator.session() as s:
        org_pub = trust.org_public_key(s).public_bytes
    assert monitor_side.code == comparison_code(world.monitor.device_public_key, org_pub)


def test_full_cycle_export_import_receipt_purge(world: World) -> None:
    people = add_people(world.monitor, 4)
    item = add_evidence(world.monitor, world.root / "src", os.urandom(150_000))
    exported = bundles.export_bundle(world.monitor, world.usb)
    assert exported.path.exists()
    assert exported.path.suffix == ".fkb"
    assert not list(world.usb.glob("*.partial"))
    assert exported.records == 4
    assert exported.objects == 1
    assert exported.evidence == 1

    report = bundles.verify_bundle(world.coordinator, exported.path)
    assert report.ok
    assert report.status == "verified"
    assert report.records_new == 4
    assert report.signer_label == "W-017 laptop"
    assert count(world.coordinator, RecordRow) == 0  # verify changes nothing

    report = bundles.import_bundle(world.coordinator, exported.path)
    assert report.status == "imported"
    assert report.chain == "first"
    assert count(world.coordinator, RecordRow) == 4
    with world.coordinator.session() as s:
        ids = set(s.execute(select(RecordRow.id)).scalars())
        assert ids == set(people)
        assert s.get(EvidenceItemRow, item) is not None
    assert report.receipt is not None
    assert Path(report.receipt).exists()

    # the evidence original arrived intact
    from fieldkit.services.evidence import EvidenceService

    with EvidenceService(world.coordinator).open_original(item) as fh:
        coordinator_copy = fh.read()
    with EvidenceService(world.monitor).open_original(item) as fh:
        assert fh.read() == coordinator_copy

    applied = bundles.apply_receipt(world.monitor, Path(report.receipt))
    assert applied.acknowledged_through == exported.change_through
    assert applied.bundles == [1]
    purged = bundles.purge_acknowledged(world.monitor)
    assert purged.purged == [item]
    with world.monitor.session() as s:
        row = s.get(EvidenceItemRow, item)
        assert row is not None
        assert row.state == "purged"
    with pytest.raises(FieldkitError) as err:
        EvidenceService(world.monitor).open_original(item)
    assert err.value.code == ErrorCode.EVIDENCE_PURGED


@pytest.mark.tools
def test_standard_tools_verify_the_same_bundle(world: World) -> None:
    age = require_tool("age")
    minisign = require_tool("minisign")
    sha256sum = require_tool("sha256sum")
    tar = require_tool("tar")
    add_people(world.monitor, 3)
    add_evidence(world.monitor, world.root / "src", os.urandom(70_000))
    exported = bundles.export_bundle(world.monitor, world.usb)
    key = world.root / "org.key"
    trust.export_identity(world.coordinator, key)
    out = world.root / "extracted"
    out.mkdir()
    # exactly: age -d -i org.key BUNDLE | tar -x
    pipeline = pipe([age, "-d", "-i", str(key), str(exported.path)], [tar, "-x", "-C", str(out)])
    assert pipeline.returncode == 0, pipeline.stderr
    listing = (
        pipe([age, "-d", "-i", str(key), str(exported.path)], [tar, "-t"])
        .stdout.decode()
        .splitlines()
    )
    assert listing[:3] == ["SHA256SUMS", "SHA256SUMS.minisig", "manifest.json"]
    sig = subprocess.run(
        [minisign, "-V", "-p", str(world.device_pub), "-m", "SHA256SUMS"],
        cwd=out,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sig.returncode == 0, sig.stderr
    assert f"bundle={exported.bundle_id}" in sig.stdout
    assert f"device={world.monitor.device_id}" in sig.stdout
    assert "seq=1" in sig.stdout
    sums = subprocess.run(
        [sha256sum, "-c", "--strict", "SHA256SUMS"], cwd=out, capture_output=True, text=True
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert sums.stdout.count(": OK") == len(listing) - 2
    # and a flipped byte in a record is caught by the same standard tools
    record = next((out / "records").iterdir())
    data = bytearray(record.read_bytes())
    data[5] ^= 1
    record.write_bytes(bytes(data))
    assert subprocess.run([sha256sum, "-c", "SHA256SUMS"], cwd=out, capture_output=True).returncode


def pipe(first: list[str], second: list[str]) -> subprocess.CompletedProcess[bytes]:
    """``first | second`` without a shell."""
    producer = subprocess.Popen(first, stdout=subprocess.PIPE)
    try:
        result = subprocess.run(second, stdin=producer.stdout, capture_output=True, check=False)
    finally:
        assert producer.stdout is not None
        producer.stdout.close()
        assert producer.wait(timeout=60) == 0
    return result


def test_replay_is_a_no_op(world: World) -> None:
    add_people(world.monitor, 2)
    exported = bundles.export_bundle(world.monitor, world.usb)
    bundles.import_bundle(world.coordinator, exported.path)
    before = dump_tables(world.coordinator)
    again = bundles.import_bundle(world.coordinator, exported.path, write_receipt=False)
    assert again.status == "already_imported"
    assert dump_tables(world.coordinator) == before


def test_any_order_gaps_are_recorded_then_filled(world: World) -> None:
    paths = []
    for i in range(3):
        add_people(world.monitor, 1, prefix="STU"[i])
        paths.append(bundles.export_bundle(world.monitor, world.usb).path)
    third = bundles.import_bundle(world.coordinator, paths[2])
    assert third.chain == "pending"
    assert third.gaps == [[1, 2]]  # gaps are ranges now: one row, however many numbers
    with world.coordinator.session() as s:
        gaps = {(g.seq, g.through): g.status for g in s.execute(select(SequenceGap)).scalars()}
    assert gaps == {(1, 2): "pending"}
    first = bundles.import_bundle(world.coordinator, paths[0])
    assert first.chain == "first"
    assert first.gaps == [[2, 2]]
    second = bundles.import_bundle(world.coordinator, paths[1])
    assert second.chain == "linked"
    assert second.gaps == []
    with world.coordinator.session() as s:
        assert list(s.execute(select(SequenceGap)).scalars()) == []  # filled gaps go
    # bundles carry everything not acknowledged, so the third alone already held all records
    assert count(world.coordinator, RecordRow) == 3
    assert third.records_new == 3
    assert second.records_same == 2


def test_equivocation_raises_an_alarm_and_changes_nothing_else(world: World) -> None:
    add_people(world.monitor, 1)
    first = bundles.export_bundle(world.monitor, world.usb)
    bundles.import_bundle(world.coordinator, first.path)
    # a second, different bundle with the same number, properly signed by the device key
    members = unpack(first.path.read_bytes(), world.identities())
    doc = manifest_doc(members)
    doc["bundle_id"] = "00000000-0000-4000-8000-000000000001"
    doc["created_at"] = "2026-01-01T00:00:00Z"
    set_manifest(members, doc)
    resign(members, world.device_key())
    forged = world.usb / "forged.fkb"
    forged.write_bytes(seal(members, world.recipient()))
    before = dump_tables(world.coordinator)
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, forged)
    assert err.value.code == ErrorCode.BUNDLE_EQUIVOCATION
    assert "ALARM" in err.value.message()
    after = dump_tables(world.coordinator)
    assert len(after.pop("bundle_alarms")) == len(before.pop("bundle_alarms")) + 1
    assert after == before
    with world.coordinator.session() as s:
        alarm = s.execute(select(BundleAlarm)).scalar_one()
    assert alarm.kind == "equivocation"
    assert alarm.seq == 1


def test_another_devices_revision_of_a_record_is_refused_not_a_conflict(world: World) -> None:
    """Was a listed conflict; a device speaks only for itself now (issue: signer binding)."""
    other = add_monitor(world, "second", "W-018 laptop")
    (person,) = add_people(world.monitor, 1)
    first = bundles.export_bundle(world.monitor, world.usb)
    bundles.import_bundle(world.coordinator, first.path)
    # the second laptop holds its own revision 2 of the same record ...
    members = unpack(first.path.read_bytes(), world.identities())
    record_doc = __import__("json").loads(get(members, f"records/{person}-1.json").data)
    RecordService(world.monitor).update(person, {"pseudonym": "W-100"}, 1)
    with other.session() as s:
        from fieldkit.storage.records import RecordStore

        RecordStore(other.device_id).import_version(s, record_doc, world.monitor.device_id)
    RecordService(other).update(person, {"pseudonym": "W-200"}, 1)
    b1 = bundles.export_bundle(world.monitor, world.usb)
    b2 = bundles.export_bundle(other, world.usb)
    r1 = bundles.import_bundle(world.coordinator, b1.path)
    assert r1.conflicts == []
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, b2.path)
    assert err.value.code == ErrorCode.BUNDLE_FOREIGN_CLAIM
    assert "claims records of another device" in err.value.message()
    assert RecordService(world.coordinator).conflicts() == []
    assert RecordService(world.coordinator).get(person).data["pseudonym"] == "W-100"
    assert [a["kind"] for a in bundles.list_alarms(world.coordinator)] == ["foreign_claim"]


def test_revoked_device_before_and_after_its_last_good_bundle(world: World) -> None:
    add_people(world.monitor, 1)
    first = bundles.export_bundle(world.monitor, world.usb)
    add_people(world.monitor, 1, prefix="X")
    second = bundles.export_bundle(world.monitor, world.usb)
    trust.revoke_device(world.coordinator, "W-017 laptop", last_good_seq=1)
    flagged = bundles.import_bundle(world.coordinator, first.path)
    assert flagged.status == "flagged"
    before = dump_tables(world.coordinator)
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, second.path)
    assert err.value.code == ErrorCode.BUNDLE_REVOKED_SIGNER
    after = dump_tables(world.coordinator)
    assert len(after.pop("quarantined_bundles")) == len(before.pop("quarantined_bundles")) + 1
    assert after == before
    with world.coordinator.session() as s:
        held = s.execute(select(QuarantinedBundle)).scalar_one()
        assert held.held_file is not None
        assert s.execute(select(ImportedBundle.status)).scalar_one() == "flagged"
    assert (world.coordinator.quarantine_dir / "held" / held.held_file).exists()


def test_nothing_to_export_and_not_enrolled(world: World, tmp_path: Path) -> None:
    add_people(world.monitor, 1)
    exported = bundles.export_bundle(world.monitor, world.usb)
    report = bundles.import_bundle(world.coordinator, exported.path)
    bundles.apply_receipt(world.monitor, Path(report.receipt or ""))
    with pytest.raises(FieldkitError) as err:
        bundles.export_bundle(world.monitor, world.usb)
    assert err.value.code == ErrorCode.NOTHING_TO_EXPORT


def test_unacknowledged_changes_travel_again(world: World) -> None:
    add_people(world.monitor, 2)
    lost = bundles.export_bundle(world.monitor, world.usb)
    lost.path.unlink()  # the stick was lost
    add_people(world.monitor, 1, prefix="N")
    again = bundles.export_bundle(world.monitor, world.usb)
    assert again.seq == 2
    assert again.records == 3
    assert again.change_from == 0
    report = bundles.import_bundle(world.coordinator, again.path)
    assert report.gaps == [[1, 1]]
    assert count(world.coordinator, RecordRow) == 3
    applied = bundles.apply_receipt(world.monitor, Path(report.receipt or ""))
    assert applied.acknowledged_through == again.change_through


def test_cancelled_export_changes_nothing(world: World) -> None:
    add_people(world.monitor, 2)
    add_evidence(world.monitor, world.root / "src", os.urandom(3 * 1024 * 1024))
    before = dump_tables(world.monitor)
    token = CancelToken()

    def progress(done: int, total: int, stage: str) -> None:
        if done > 1024 * 1024:
            token.cancel()

    with pytest.raises(FieldkitError) as err:
        bundles.export_bundle(world.monitor, world.usb, progress=progress, cancel=token)
    assert err.value.code == ErrorCode.CANCELLED
    assert list(world.usb.iterdir()) == []
    assert dump_tables(world.monitor) == before
    exported = bundles.export_bundle(world.monitor, world.usb)
    assert exported.seq == 1


def test_failed_export_to_a_missing_folder(world: World) -> None:
    add_people(world.monitor, 1)
    before = dump_tables(world.monitor)
    with pytest.raises(FieldkitError) as err:
        bundles.export_bundle(world.monitor, world.root / "no-such-stick")
    assert err.value.code == ErrorCode.FOLDER_NOT_FOUND
    assert dump_tables(world.monitor) == before


def test_receipt_checks(world: World) -> None:
    add_people(world.monitor, 1)
    exported = bundles.export_bundle(world.monitor, world.usb)
    report = bundles.import_bundle(world.coordinator, exported.path)
    receipt = Path(report.receipt or "")
    # altered receipt
    altered = world.root / "altered.json"
    altered.write_bytes(
        receipt.read_bytes().replace(b'"acknowledged_through":', b'"acknowledged_through": ')
    )
    shutil.copy(
        receipt.with_name(receipt.name + ".minisig"), altered.with_name("altered.json.minisig")
    )
    with pytest.raises(FieldkitError) as err:
        bundles.apply_receipt(world.monitor, altered)
    assert err.value.code == ErrorCode.RECEIPT_SIGNATURE_INVALID
    message = err.value.message()
    assert message.count("does not verify") == 1
    assert "altered.json" in message
    # another file given by mistake (the organisation card, no .minisig beside it)
    card = world.root / "org.pub"
    card.write_bytes(trust.card_bytes(world.coordinator))
    with pytest.raises(FieldkitError) as err:
        bundles.apply_receipt(world.monitor, card)
    assert err.value.code == ErrorCode.NOT_A_RECEIPT
    assert ".minisig" not in err.value.message().split(":")[0]
    assert "is not a receipt" in err.value.message()
    # the receipt without its signature file
    lonely = world.root / "lonely.json"
    lonely.write_bytes(receipt.read_bytes())
    with pytest.raises(FieldkitError) as err:
        bundles.apply_receipt(world.monitor, lonely)
    assert err.value.code == ErrorCode.RECEIPT_INVALID
    assert "signature file" in err.value.message()
    # the signature file given instead of the receipt: the receipt beside it is used
    with pytest.raises(FieldkitError) as err:
        bundles.apply_receipt(world.monitor, altered.with_name("altered.json.minisig"))
    assert err.value.code == ErrorCode.RECEIPT_SIGNATURE_INVALID
    # a receipt for another device
    other = add_monitor(world, "second", "W-018 laptop")
    with pytest.raises(FieldkitError) as err:
        bundles.apply_receipt(other, receipt)
    assert err.value.code == ErrorCode.RECEIPT_INVALID
    with other.session() as s:
        state = s.get(ExportState, 1)
        assert state is not None
        assert state.acknowledged_through == 0
    applied = bundles.apply_receipt(world.monitor, receipt)
    assert applied.acknowledged_through > 0


@pytest.mark.tools
def test_receipt_checks_with_minisign(world: World) -> None:
    minisign = require_tool("minisign")
    add_people(world.monitor, 1)
    report = bundles.import_bundle(
        world.coordinator, bundles.export_bundle(world.monitor, world.usb).path
    )
    with world.coordinator.session() as s:
        org_pub = trust.org_public_key(s)
    pub = world.root / "org-sign.pub"
    pub.write_text(org_pub.file_text())
    result = subprocess.run(
        [minisign, "-V", "-p", str(pub), "-m", str(report.receipt)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "fieldkit-receipt/1" in result.stdout


def test_startup_cleanup_removes_stale_quarantine(world: World) -> None:
    world.coordinator.quarantine_dir.mkdir(parents=True, exist_ok=True)
    stale = world.coordinator.quarantine_dir / "0123.q"
    stale.write_bytes(b"ciphertext")
    assert bundles.quarantine_cleanup(world.coordinator) == 1
    assert not stale.exists()


def test_cancelled_import_changes_nothing(world: World) -> None:
    add_people(world.monitor, 2)
    add_evidence(world.monitor, world.root / "src", os.urandom(3 * 1024 * 1024))
    exported = bundles.export_bundle(world.monitor, world.usb)
    before = dump_tables(world.coordinator)
    token = CancelToken()

    def progress(done: int, total: int, stage: str) -> None:
        if done > 1024 * 1024:
            token.cancel()

    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, exported.path, progress=progress, cancel=token)
    assert err.value.code == ErrorCode.CANCELLED
    assert dump_tables(world.coordinator) == before
    assert not list(world.coordinator.quarantine_dir.glob("*.q"))
    assert bundles.import_bundle(world.coordinator, exported.path).status == "imported"


def test_export_sees_one_snapshot_while_the_profile_changes(world: World) -> None:
    add_people(world.monitor, 3)
    saved: list[str] = []

    def progress(done: int, total: int, stage: str) -> None:
        # another part of the program saves a record while the bundle is being written
        if not saved:
            saved.extend(add_people(world.monitor, 1, prefix="Z"))

    exported = bundles.export_bundle(world.monitor, world.usb, progress=progress)
    assert saved
    assert exported.records == 3
    report = bundles.import_bundle(world.coordinator, exported.path)
    assert report.records_new == 3
    later = bundles.export_bundle(world.monitor, world.usb)
    assert later.records == 4  # nothing acknowledged yet: everything travels again


def test_exported_originals_get_a_custody_event_that_travels_once(world: World) -> None:
    from fieldkit.services.evidence import EvidenceService

    item = add_evidence(world.monitor, world.root / "src", os.urandom(10_000))
    first = bundles.export_bundle(world.monitor, world.usb)
    actions = [e.action for e in EvidenceService(world.monitor).custody_events(item)]
    assert "exported_in_bundle" in actions
    report = bundles.import_bundle(world.coordinator, first.path)
    bundles.apply_receipt(world.monitor, Path(report.receipt or ""))
    # the export event itself is news for the organisation, but the file does not travel again
    second = bundles.export_bundle(world.monitor, world.usb)
    assert second.objects == 0
    assert second.custody_events == 1
    report = bundles.import_bundle(world.coordinator, second.path)
    coordinator_actions = [
        e.action for e in EvidenceService(world.coordinator).custody_events(item)
    ]
    assert "exported_in_bundle" in coordinator_actions
    bundles.apply_receipt(world.monitor, Path(report.receipt or ""))
    with pytest.raises(FieldkitError) as err:
        bundles.export_bundle(world.monitor, world.usb)
    assert err.value.code == ErrorCode.NOTHING_TO_EXPORT


def test_a_long_backlog_travels_in_several_complete_bundles(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle_export, "MAX_BUNDLE_RECORDS", 3)
    people = add_people(world.monitor, 5)
    add_evidence(world.monitor, world.root / "src", os.urandom(5_000))
    first = bundles.export_bundle(world.monitor, world.usb)
    assert first.records == 3
    assert first.objects == 0
    report = bundles.import_bundle(world.coordinator, first.path)
    bundles.apply_receipt(world.monitor, Path(report.receipt or ""))
    second = bundles.export_bundle(world.monitor, world.usb)
    assert second.records == 2
    assert second.objects == 1
    assert second.change_from == first.change_through
    bundles.import_bundle(world.coordinator, second.path)
    with world.coordinator.session() as s:
        assert set(s.execute(select(RecordRow.id)).scalars()) == set(people)


def test_a_partial_bundle_left_by_a_crash_is_cleaned_up(world: World) -> None:
    stale = world.usb / ("ab" * 16 + ".fkb.partial")
    stale.write_bytes(b"half a bundle")
    foreign = world.usb / "notes.fkb.partial"
    foreign.write_bytes(b"not ours")
    add_people(world.monitor, 1)
    exported = bundles.export_bundle(world.monitor, world.usb)
    assert not stale.exists()
    assert foreign.exists()
    assert exported.path.exists()
