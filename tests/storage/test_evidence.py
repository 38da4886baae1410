"""The evidence store and service on real SQLCipher vaults and real files."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from fieldkit.crypto.stream import CHUNK_SIZE, HEADER_SIZE, SEALED_CHUNK
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.evidence import (
    CopyRole,
    CustodyAction,
    EvidenceInput,
    ItemState,
    PreviewStatus,
)
from fieldkit.domain.progress import CancelToken
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.profile import open_profile
from fieldkit.storage.custody import CustodyLog
from fieldkit.storage.evidence import EvidenceStore
from fieldkit.storage.tables.evidence import CustodyEventRow, EvidenceItemRow
from fieldkit.storage.vault import Vault
from tests.helpers import find_plaintext

SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 40 * CHUNK_SIZE + 7]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def store_file(vault: Vault, item_id: str) -> Path:
    with vault.session() as s:
        row = s.get(EvidenceItemRow, item_id)
        assert row is not None
        return EvidenceStore(vault).files.path_for(row.storage_name)


def flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x40]))


@pytest.mark.parametrize("size", SIZES)
def test_add_and_export_round_trip_exact(new_vault: Vault, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    source = write(tmp_path / f"in-{size}.bin", data)
    service = EvidenceService(new_vault)
    result = service.add(source)
    assert result.status == "added"
    assert result.item.sha256 == hashlib.sha256(data).hexdigest()
    assert result.item.size == size
    with service.open_original(result.item.id) as handle:
        assert handle.read() == data
    exported = service.export(result.item.id, tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert exported.sha256 == result.item.sha256
    assert oct((tmp_path / "out.bin").stat().st_mode & 0o777) == "0o600"
    actions = [e.action for e in service.custody_events(result.item.id)]
    assert actions == [CustodyAction.COLLECTED, CustodyAction.EXPORTED]


def test_store_layout_random_names_and_wrapped_keys(new_vault: Vault, tmp_path: Path) -> None:
    data = b"same bytes" * 1000
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.txt", data)).item
    path = store_file(new_vault, item.id)
    assert path.parent.parent == new_vault.path / "store"
    # The name is random: neither the SHA-256 nor anything derived from the content.
    assert item.sha256[:32] != path.name
    assert item.sha256 not in str(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert path.read_bytes()[:8] == b"FKSTREAM"
    with new_vault.session() as s:
        row = s.get(EvidenceItemRow, item.id)
        assert row is not None
        assert row.wrapped_dek is not None
        # The DEK is wrapped (nonce + 32 + tag), never stored as is; the dedup tag is no hash.
        assert len(row.wrapped_dek) == 12 + 32 + 16
        assert row.dedup_tag != item.sha256


def test_same_file_twice_is_a_duplicate(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    first = service.add(write(tmp_path / "a.jpg.bin", b"x" * 5000))
    second = service.add(write(tmp_path / "renamed.bin", b"x" * 5000))
    assert second.status == "duplicate"
    assert second.item.id == first.item.id
    assert len(service.list_items()) == 1
    # Only one file in the store: the duplicate's copy was removed.
    assert len(EvidenceStore(new_vault).files.all_names()) == 1
    forced = service.add(tmp_path / "renamed.bin", allow_duplicate=True)
    assert forced.status == "added"
    assert forced.item.id != first.item.id


def test_flipped_byte_in_store_found_logged_and_reported(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    good = service.add(write(tmp_path / "good.bin", os.urandom(3 * CHUNK_SIZE))).item
    bad = service.add(write(tmp_path / "bad.bin", os.urandom(3 * CHUNK_SIZE))).item
    flip(store_file(new_vault, bad.id), HEADER_SIZE + SEALED_CHUNK + 100)
    results = {r.item_id: r for r in service.verify()}
    assert results[good.id].ok
    assert results[good.id].status == "ok"
    assert not results[bad.id].ok
    assert results[bad.id].status == "tampered"
    assert results[bad.id].chunk == 1
    assert "authentication failed" in (results[bad.id].detail or "")
    bad_actions = [e.action for e in service.custody_events(bad.id)]
    assert bad_actions[-1] == CustodyAction.INTEGRITY_FAILURE
    good_actions = [e.action for e in service.custody_events(good.id)]
    assert good_actions[-1] == CustodyAction.HASH_VERIFIED
    # Reading the original fails with a clear error, and export leaves nothing behind.
    with pytest.raises(FieldkitError) as info:
        service.open_original(bad.id).read()
    assert info.value.code == ErrorCode.EVIDENCE_TAMPERED
    with pytest.raises(FieldkitError) as info:
        service.export(bad.id, tmp_path / "exported.bin")
    assert info.value.code == ErrorCode.EVIDENCE_TAMPERED
    assert not (tmp_path / "exported.bin").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_truncated_and_missing_store_files_are_found(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    cut = service.add(write(tmp_path / "cut.bin", os.urandom(2 * CHUNK_SIZE + 10))).item
    gone = service.add(write(tmp_path / "gone.bin", os.urandom(100))).item
    path = store_file(new_vault, cut.id)
    with open(path, "r+b") as f:
        f.truncate(HEADER_SIZE + SEALED_CHUNK)
    store_file(new_vault, gone.id).unlink()
    results = {r.item_id: r for r in service.verify()}
    assert results[cut.id].status == "tampered"
    assert results[gone.id].status == "missing"


def test_file_swapped_between_items_is_detected(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    a = service.add(write(tmp_path / "a.bin", os.urandom(1000))).item
    b = service.add(write(tmp_path / "b.bin", os.urandom(1000))).item
    pa, pb = store_file(new_vault, a.id), store_file(new_vault, b.id)
    data_a, data_b = pa.read_bytes(), pb.read_bytes()
    pa.write_bytes(data_b)
    pb.write_bytes(data_a)
    results = service.verify()
    assert [r.status for r in results] == ["tampered", "tampered"]


def test_verify_one_item_and_unknown_id(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", b"abc")).item
    [result] = service.verify(item.id)
    assert result.ok
    assert result.actual_sha256 == hashlib.sha256(b"abc").hexdigest()
    with pytest.raises(FieldkitError) as info:
        service.verify("00000000-0000-0000-0000-000000000000")
    assert info.value.code == ErrorCode.EVIDENCE_NOT_FOUND


def test_export_refuses_existing_target_and_uses_original_name_in_folder(
    new_vault: Vault, tmp_path: Path
) -> None:
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "photo 1.bin", b"data")).item
    (tmp_path / "taken").write_bytes(b"keep me")
    with pytest.raises(FieldkitError) as info:
        service.export(item.id, tmp_path / "taken")
    assert info.value.code == ErrorCode.FILE_EXISTS
    assert (tmp_path / "taken").read_bytes() == b"keep me"
    folder = tmp_path / "out"
    folder.mkdir()
    result = service.export(item.id, folder, purpose="submission to prosecutor")
    assert Path(result.path) == folder / "photo 1.bin"
    last = service.custody_events(item.id)[-1]
    assert last.action == CustodyAction.EXPORTED
    assert last.purpose == "submission to prosecutor"
    assert last.hash_before == last.hash_after == item.sha256
    # Only the file name (and perhaps the kind of drive), never the folder it went to.
    assert last.details["file_name"] == "photo 1.bin"
    assert set(last.details) <= {"file_name", "destination"}
    assert last.details.get("destination") in (None, "local", "removable")
    assert str(tmp_path) not in json.dumps(last.details)


def test_purge_destroys_key_and_file_keeps_history(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", os.urandom(5000))).item
    path = store_file(new_vault, item.id)
    purged = service.purge(item.id, reason="acknowledged by the organisation")
    assert purged.state == ItemState.PURGED
    assert purged.sha256 == item.sha256
    assert not path.exists()
    with new_vault.session() as s:
        row = s.get(EvidenceItemRow, item.id)
        assert row is not None
        assert row.wrapped_dek is None
    with pytest.raises(FieldkitError) as info:
        service.open_original(item.id)
    assert info.value.code == ErrorCode.EVIDENCE_PURGED
    with pytest.raises(FieldkitError) as info:
        service.purge(item.id)
    assert info.value.code == ErrorCode.EVIDENCE_PURGED
    actions = [e.action for e in service.custody_events(item.id)]
    assert actions == [CustodyAction.COLLECTED, CustodyAction.PURGED]
    [result] = service.verify(item.id)
    assert result.status == "purged"
    # The same bytes can be added again after a purge (it is no longer a duplicate).
    assert service.add(tmp_path / "a.bin").status == "added"


def test_cancel_leaves_nothing(new_vault: Vault, tmp_path: Path) -> None:
    source = write(tmp_path / "big.bin", os.urandom(8 * 1024 * 1024))
    token = CancelToken()

    def progress(done: int, total: int, stage: str) -> None:
        if done >= 1024 * 1024:
            token.cancel()

    service = EvidenceService(new_vault)
    with pytest.raises(FieldkitError) as info:
        service.add(source, progress=progress, cancel=token)
    assert info.value.code == ErrorCode.CANCELLED
    assert service.list_items() == []
    assert list((new_vault.path / "store").rglob("*.partial")) == []
    assert EvidenceStore(new_vault).files.all_names() == []


def test_unreadable_sources_give_clear_errors(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    with pytest.raises(FieldkitError) as info:
        service.add(tmp_path / "nope.bin")
    assert info.value.code == ErrorCode.FILE_NOT_READABLE
    with pytest.raises(FieldkitError) as info:
        service.add(tmp_path)
    assert info.value.code == ErrorCode.FILE_NOT_READABLE
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FieldkitError) as info:
        service.add(fifo)  # must not block waiting for a writer
    assert info.value.code == ErrorCode.FILE_NOT_READABLE
    assert "regular" in info.value.message()


def test_custody_chain_is_append_only_and_verifiable(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", b"abc")).item
    service.verify(item.id)
    service.export(item.id, tmp_path / "x.bin")
    events = service.custody_events(item.id)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == "0" * 64
    assert events[1].prev_hash == events[0].event_hash
    assert events[2].prev_hash == events[1].event_hash
    assert all(e.device_id == new_vault.device_id for e in events)
    assert all(e.at.endswith("Z") for e in events)
    assert service.verify_custody(item.id) == []
    # The triggers refuse changes through SQL.
    for statement in (
        "UPDATE custody_events SET action = 'viewed'",
        "DELETE FROM custody_events WHERE seq = 2",
    ):
        with pytest.raises(DatabaseError, match="append-only"), new_vault.session() as s:
            s.execute(text(statement))


def test_custody_tampering_found_when_triggers_are_dropped(
    new_vault: Vault, tmp_path: Path
) -> None:
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", b"abc")).item
    service.verify(item.id)
    service.export(item.id, tmp_path / "x.bin")
    with new_vault.session() as s:
        s.execute(text("DROP TRIGGER custody_events_no_update"))
        s.execute(text("DROP TRIGGER custody_events_no_delete"))
        body = s.execute(select(CustodyEventRow.body).where(CustodyEventRow.seq == 3)).scalar_one()
        s.execute(
            text("UPDATE custody_events SET body = :b WHERE seq = 3"),
            {"b": bytes(body).replace(b'"exported"', b'"viewed"')},
        )
    problems = service.verify_custody(item.id)
    assert [(p.seq, "altered" in p.reason) for p in problems] == [(3, True)]
    with new_vault.session() as s:
        s.execute(text("DELETE FROM custody_events WHERE seq = 2"))
    problems = service.verify_custody(item.id)
    assert any(p.seq == 3 and "missing" in p.reason for p in problems)


def test_custody_events_exchange_between_devices(
    new_vault: Vault, new_coordinator_vault: Vault, tmp_path: Path
) -> None:
    monitor = EvidenceService(new_vault)
    coordinator = EvidenceService(new_coordinator_vault)
    data = os.urandom(200_000)
    item = monitor.add(write(tmp_path / "w-017.bin", data)).item
    monitor.verify(item.id)
    doc = monitor.metadata_doc(item.id)
    with new_vault.session() as s:
        events = list(monitor.custody_since(s, 0))
        metadata_docs = list(monitor.items_since(s, 0))
    assert [d["id"] for d in metadata_docs] == [item.id]
    assert "storage_name" not in metadata_docs[0]
    assert "wrapped_dek" not in metadata_docs[0]
    src = tmp_path / "w-017.bin"
    with new_coordinator_vault.session() as s, open(src, "rb") as f:
        new_id = coordinator.import_item(s, doc, f, item.sha256, item.size)
        assert coordinator.import_custody(s, events) == 2
    assert new_id == item.id
    # Importing again changes nothing.
    with new_coordinator_vault.session() as s, open(src, "rb") as f:
        assert coordinator.import_item(s, doc, f, item.sha256, item.size) == item.id
        assert coordinator.import_custody(s, events) == 0
    with coordinator.open_original(item.id) as handle:
        assert handle.read() == data
    chain = coordinator.custody_events(item.id)
    assert [e.action for e in chain] == [
        CustodyAction.COLLECTED,
        CustodyAction.HASH_VERIFIED,
        CustodyAction.RECEIVED,
    ]
    assert coordinator.verify_custody(item.id) == []
    # A forged event (edited body, old hash) is refused.
    forged = dict(events[1], actor="someone else")
    with pytest.raises(FieldkitError) as info, new_coordinator_vault.session() as s:
        CustodyLog.import_events(s, [forged])
    assert info.value.code == ErrorCode.CUSTODY_CHAIN_BROKEN


def test_import_with_wrong_bytes_leaves_nothing(
    new_vault: Vault, new_coordinator_vault: Vault, tmp_path: Path
) -> None:
    monitor = EvidenceService(new_vault)
    item = monitor.add(write(tmp_path / "a.bin", b"original" * 100)).item
    doc = monitor.metadata_doc(item.id)
    coordinator = EvidenceService(new_coordinator_vault)
    forged = write(tmp_path / "forged.bin", b"forgery!" * 100)
    with (
        pytest.raises(FieldkitError) as info,
        new_coordinator_vault.session() as s,
        open(forged, "rb") as f,
    ):
        coordinator.import_item(s, doc, f, item.sha256, item.size)
    assert info.value.code == ErrorCode.EVIDENCE_TAMPERED
    longer = write(tmp_path / "longer.bin", b"original" * 100 + b"!")
    with (
        pytest.raises(FieldkitError),
        new_coordinator_vault.session() as s,
        open(longer, "rb") as f,
    ):
        coordinator.import_item(s, doc, f, item.sha256, item.size)
    assert coordinator.list_items() == []
    assert EvidenceStore(new_coordinator_vault).files.all_names() == []


def test_derived_copy_records_parent_and_custody(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    original = service.add(write(tmp_path / "orig.bin", b"original bytes")).item
    derived = service.add(
        write(tmp_path / "redacted.bin", b"redacted bytes"),
        info=EvidenceInput(
            copy_role=CopyRole.DERIVED, parent_id=original.id, transformation="faces blurred"
        ),
    ).item
    assert derived.parent_id == original.id
    assert derived.copy_role == CopyRole.DERIVED
    parent_events = service.custody_events(original.id)
    assert parent_events[-1].action == CustodyAction.DERIVATIVE_CREATED
    assert parent_events[-1].details["derived_item"] == derived.id
    assert parent_events[-1].hash_after == derived.sha256
    with pytest.raises(FieldkitError) as info:
        service.add(
            write(tmp_path / "orphan.bin", b"zzz"),
            info=EvidenceInput(
                copy_role=CopyRole.WORKING, parent_id="22222222-2222-4222-8222-222222222222"
            ),
        )
    assert info.value.code == ErrorCode.EVIDENCE_NOT_FOUND


def test_cleanup_at_unlock_removes_partials_and_orphans(
    new_vault: Vault, tmp_path: Path, passphrase: str
) -> None:
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", b"kept")).item
    kept = store_file(new_vault, item.id)
    folder = new_vault.path / "store" / "ab"
    folder.mkdir()
    partial = folder / ("ab" + "1" * 30 + ".partial")
    orphan = folder / ("ab" + "2" * 30)
    partial.write_bytes(b"junk")
    orphan.write_bytes(b"junk")
    unrelated = folder / "README"
    unrelated.write_bytes(b"not ours")
    path = new_vault.path
    new_vault.lock()
    vault = open_profile(path, passphrase)
    try:
        assert not partial.exists()
        assert not orphan.exists()
        assert kept.exists()
        assert unrelated.exists()
        assert EvidenceService(vault).verify()[0].ok
    finally:
        vault.lock()


def test_no_plaintext_under_profile_or_temp(new_vault: Vault, tmp_path: Path) -> None:
    import time

    started = time.time() - 2
    marker = "W-017-" + secrets.token_hex(16)
    text_data = (f"Testimony of {marker}: cell 4.\n" * 2000).encode()
    utf16 = ("Свідчення " + marker).encode("utf-16-le") * 500
    source_dir = tmp_path / "sources"
    source_dir.mkdir()
    service = EvidenceService(new_vault)
    service.add(write(source_dir / "testimony.txt", text_data))
    service.add(write(source_dir / "utf16.txt", utf16))
    png_item = service.add(write(source_dir / "pic.png", _png_with_text(marker))).item
    assert png_item.preview_status == PreviewStatus.OK
    assert service.thumbnail(png_item.id)[:3] == b"\xff\xd8\xff"
    # Make sure everything is on disk (WAL folded in) before scanning.
    with new_vault.engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    assert find_plaintext(marker, new_vault.path) == []
    # The scanner does find the marker where it is in the clear (the test's own inputs).
    found = _scan_for(marker, source_dir, skip=tmp_path / "elsewhere", since=started)
    assert {p.name for p in found} == {"testimony.txt", "utf16.txt", "pic.png"}
    # Every file written anywhere in the temporary folder while the test ran.
    assert _scan_for(marker, Path(tempfile.gettempdir()), skip=source_dir, since=started) == []
    # No image of any kind sits in the profile in the clear (thumbnails are encrypted too).
    for path in (p for p in new_vault.path.rglob("*") if p.is_file()):
        head = path.read_bytes()[:8]
        assert not head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8")), path


def _scan_for(marker: str, root: Path, skip: Path, since: float = 0.0) -> list[Path]:
    """Files under root (not under skip, changed after ``since``) holding the marker.

    Looks for UTF-8 and UTF-16 (both byte orders).
    """
    needles = [marker.encode(), marker.encode("utf-16-le"), marker.encode("utf-16-be")]
    overlap = max(len(n) for n in needles)
    hits = []
    for dirpath, dirs, files in os.walk(root):
        here = Path(dirpath)
        if here == skip or skip in here.parents:
            dirs[:] = []
            continue
        for name in files:
            path = here / name
            try:
                if path.is_symlink() or not path.is_file() or path.stat().st_mtime < since:
                    continue
                with open(path, "rb") as handle:
                    tail = b""
                    while block := handle.read(1 << 20):
                        window = tail + block
                        if any(n in window for n in needles):
                            hits.append(path)
                            break
                        tail = window[-overlap:]
            except OSError:
                continue
    return hits


def _png_with_text(marker: str) -> bytes:
    import io

    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", marker)
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_vault_lock_is_required(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", b"abc")).item
    new_vault.lock()
    with pytest.raises(FieldkitError) as info:
        service.get(item.id)
    assert info.value.code == ErrorCode.PROFILE_LOCKED


def test_update_description_never_the_file(new_vault: Vault, tmp_path: Path) -> None:
    from fieldkit.domain.evidence import EvidenceUpdate, SensitiveFlag, VerificationStatus

    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", b"abc")).item
    updated = service.update(
        item.id,
        EvidenceUpdate(
            title="Cell 4, north wall",
            description="Photo of the cell taken during the visit",
            verification_status=VerificationStatus.CORROBORATED,
            sensitive_flags=(SensitiveFlag.IDENTIFIABLE_PERSONS,),
        ),
    )
    assert updated.title == "Cell 4, north wall"
    assert updated.verification_status == VerificationStatus.CORROBORATED
    assert updated.sensitive_flags == (SensitiveFlag.IDENTIFIABLE_PERSONS,)
    assert updated.sha256 == item.sha256
    assert updated.change_seq > item.change_seq
    assert updated.updated_at >= item.updated_at
    # Only the fields given change.
    again = service.update(item.id, EvidenceUpdate(description=None))
    assert again.description is None
    assert again.title == "Cell 4, north wall"


def test_newer_description_from_the_origin_device_is_imported(
    new_vault: Vault, new_coordinator_vault: Vault, tmp_path: Path
) -> None:
    from fieldkit.domain.evidence import EvidenceUpdate

    monitor = EvidenceService(new_vault)
    coordinator = EvidenceService(new_coordinator_vault)
    source = write(tmp_path / "a.bin", b"abc" * 100)
    item = monitor.add(source).item
    with new_coordinator_vault.session() as s, open(source, "rb") as f:
        coordinator.import_item(s, monitor.metadata_doc(item.id), f, item.sha256, item.size)
    monitor.update(item.id, EvidenceUpdate(title="Now with a title"))
    newer = monitor.metadata_doc(item.id)
    with new_coordinator_vault.session() as s, open(source, "rb") as f:
        coordinator.import_item(s, newer, f, item.sha256, item.size)
    assert coordinator.get(item.id).title == "Now with a title"
    # An older description (replayed bundle) does not overwrite the newer one.
    stale = dict(newer, title="stale", updated_at="2000-01-01T00:00:00.000000Z")
    with new_coordinator_vault.session() as s, open(source, "rb") as f:
        coordinator.import_item(s, stale, f, item.sha256, item.size)
    assert coordinator.get(item.id).title == "Now with a title"
    # A description that claims an unknown format or malformed references is refused.
    for bad in (dict(newer, format="other/9"), dict(newer, parent_id="../../etc")):
        bad["id"] = "11111111-1111-4111-8111-111111111111"
        with (
            pytest.raises(FieldkitError),
            new_coordinator_vault.session() as s,
            open(source, "rb") as f,
        ):
            coordinator.import_item(s, bad, f, item.sha256, item.size)


def test_export_where_hard_links_are_not_supported(
    new_vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    # FAT and exFAT USB sticks refuse link(); the export falls back to a careful rename.
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    service = EvidenceService(new_vault)
    data = os.urandom(100_000)
    item = service.add(write(tmp_path / "a.bin", data)).item
    monkeypatch.setattr(os, "link", no_links)
    result = service.export(item.id, tmp_path / "stick.bin")
    assert Path(result.path).read_bytes() == data
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_original_supports_random_access(new_vault: Vault, tmp_path: Path) -> None:
    data = os.urandom(5 * CHUNK_SIZE + 77)
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", data)).item
    with service.open_original(item.id, viewed_purpose="checked the frame at 00:42") as handle:
        assert handle.seekable()
        handle.seek(3 * CHUNK_SIZE + 5)
        assert handle.read(1000) == data[3 * CHUNK_SIZE + 5 : 3 * CHUNK_SIZE + 1005]
        handle.seek(0)
        assert handle.read(10) == data[:10]
    last = service.custody_events(item.id)[-1]
    assert last.action == CustodyAction.VIEWED
    assert last.purpose == "checked the frame at 00:42"


def test_links_to_records_checked_and_consent_inherited(new_vault: Vault, tmp_path: Path) -> None:
    import json

    from fieldkit.domain.evidence import SensitiveFlag
    from fieldkit.services.records import CaseService, RecordService

    samples = Path(__file__).resolve().parents[1] / "samples"
    case = CaseService(new_vault).add("Case W-017")
    records = RecordService(new_vault)
    person = records.add("person", json.loads((samples / "person.json").read_text()))
    interview_data = json.loads((samples / "interview_uk.json").read_text())
    interview_data.update(cases=[case.id], interviewee=person.id)
    interview_data.pop("detention_places", None)
    interview_data.pop("visit", None)
    for injury in interview_data.get("injuries") or []:
        injury.pop("photos", None)  # the sample's photo ids are not in this profile
    interview = records.add("interview", interview_data)
    service = EvidenceService(new_vault)
    item = service.add(
        write(tmp_path / "a.wav", b"RIFF\0\0\0\0WAVEfmt " + b"\0" * 100),
        case_id=case.id,
        interview_id=interview.id,
        person_ids=[person.id],
    ).item
    assert item.links.case_id == case.id
    assert item.links.interview_id == interview.id
    assert item.links.person_ids == (person.id,)
    limits = item.consent_limits or {}
    assert limits["interview_id"] == interview.id
    assert limits["scopes"]["publication_with_name"] == "declined"
    assert limits["scopes"]["share_prosecution"] == "conditional"
    assert limits["conditions"]["share_prosecution"]
    assert SensitiveFlag.CONSENT_LIMITED in item.sensitive_flags
    assert [i.id for i in service.list_items(case_id=case.id)] == [item.id]
    # Wrong kinds and unknown ids are refused before anything is stored.
    with pytest.raises(FieldkitError) as info:
        service.add(write(tmp_path / "b.bin", b"b"), case_id=person.id)
    assert info.value.code == ErrorCode.RECORD_WRONG_TYPE
    assert "is a person record, not a case record" in info.value.message()
    with pytest.raises(FieldkitError) as info:
        service.add(tmp_path / "b.bin", case_id="00000000-0000-4000-8000-000000000000")
    assert info.value.code == ErrorCode.RECORD_NOT_FOUND
    assert len(EvidenceStore(new_vault).files.all_names()) == 1


def test_profile_check_reports_missing_files_and_broken_custody(
    new_vault: Vault, tmp_path: Path
) -> None:
    from fieldkit.services.profile import check_profile

    service = EvidenceService(new_vault)
    kept = service.add(write(tmp_path / "a.bin", b"a")).item
    lost = service.add(write(tmp_path / "b.bin", b"b")).item
    report = check_profile(new_vault)
    assert report.ok
    assert report.extra["evidence"] == []
    store_file(new_vault, lost.id).unlink()
    with new_vault.session() as s:
        s.execute(text("DROP TRIGGER custody_events_no_delete"))
        s.execute(text("DELETE FROM custody_events WHERE item_id = :i"), {"i": kept.id})
        s.execute(text("DROP TRIGGER custody_events_no_update"))
        s.execute(
            text("UPDATE custody_events SET at = '1970-01-01T00:00:00.000000Z' WHERE item_id = :i"),
            {"i": lost.id},
        )
    report = check_profile(new_vault)
    assert not report.ok
    problems = report.extra["evidence"]
    assert any(lost.id in p and "missing" in p for p in problems)
    assert any(lost.id in p and "custody event 1" in p for p in problems)
    assert any(kept.id in p and "empty" in p for p in problems)
    assert [p.reason for p in service.verify_custody(kept.id)] == ["the custody log is empty"]


def test_gap_in_another_devices_chain_is_pending_not_tampering(
    new_vault: Vault, new_coordinator_vault: Vault, tmp_path: Path
) -> None:
    monitor = EvidenceService(new_vault)
    source = write(tmp_path / "a.bin", b"abc")
    item = monitor.add(source).item
    monitor.verify(item.id)
    monitor.export(item.id, tmp_path / "copy.bin")
    with new_vault.session() as s:
        events = list(monitor.custody_since(s, 0))
    assert [e["seq"] for e in events] == [1, 2, 3]
    coordinator = EvidenceService(new_coordinator_vault)
    with new_coordinator_vault.session() as s, open(source, "rb") as f:
        coordinator.import_item(s, monitor.metadata_doc(item.id), f, item.sha256, item.size)
        coordinator.import_custody(s, [events[0], events[2]])
    [problem] = coordinator.verify_custody(item.id)
    assert problem.seq == 3
    assert problem.reason == "events of another device have not arrived yet"
    with new_coordinator_vault.session() as s:
        coordinator.import_custody(s, events)
    assert coordinator.verify_custody(item.id) == []


def test_purge_removes_thumbnail_and_metadata(new_vault: Vault, tmp_path: Path) -> None:
    from tests.storage.test_evidence_media import jpeg_with_exif

    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "p.jpg", jpeg_with_exif())).item
    assert service.thumbnail(item.id) is not None
    assert item.embedded_metadata
    purged = service.purge(item.id)
    assert service.thumbnail(item.id) is None
    assert purged.embedded_metadata is None
    assert service.list_items(include_purged=False) == []


def test_failure_while_writing_the_row_leaves_no_file(
    new_vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fieldkit.storage.audit import AuditLog

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated failure inside the transaction")

    monkeypatch.setattr(AuditLog, "append", broken)
    service = EvidenceService(new_vault)
    with pytest.raises(RuntimeError):
        service.add(write(tmp_path / "a.bin", os.urandom(10_000)))
    assert service.list_items() == []
    assert EvidenceStore(new_vault).files.all_names() == []


@pytest.mark.parametrize(
    ("original_name", "expected"),
    [
        ("../../evil.txt", "evil.txt"),
        ("..\\..\\win.txt", "win.txt"),
        ("/etc/passwd", "passwd"),
        ("...", None),  # nothing usable left: the item id is used
        ("ok\x00name\x07.txt", "okname.txt"),
    ],
)
def test_export_to_folder_never_leaves_it(
    new_vault: Vault,
    new_coordinator_vault: Vault,
    tmp_path: Path,
    original_name: str,
    expected: str | None,
) -> None:
    # Names come from bundles (another device): they are display text, never paths.
    monitor = EvidenceService(new_vault)
    source = write(tmp_path / "a.bin", b"payload")
    item = monitor.add(source).item
    doc = dict(monitor.metadata_doc(item.id), original_name=original_name)
    coordinator = EvidenceService(new_coordinator_vault)
    with new_coordinator_vault.session() as s, open(source, "rb") as f:
        coordinator.import_item(s, doc, f, item.sha256, item.size)
    folder = tmp_path / "deep" / "out"
    folder.mkdir(parents=True)
    result = coordinator.export(item.id, folder)
    exported = Path(result.path)
    assert exported.parent == folder
    assert exported.name == (expected or item.id)
    assert exported.read_bytes() == b"payload"


def test_export_to_missing_folder_is_a_clear_error(new_vault: Vault, tmp_path: Path) -> None:
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", b"abc")).item
    with pytest.raises(FieldkitError) as info:
        service.export(item.id, tmp_path / "no-such-folder" / "a.bin")
    assert info.value.code == ErrorCode.FILE_NOT_WRITABLE
    assert "no-such-folder" in info.value.message()
    # A failed export is not a custody event.
    assert [e.action for e in service.custody_events(item.id)] == [CustodyAction.COLLECTED]


def test_working_copy_is_exact_with_its_own_key_and_custody(
    new_vault: Vault, tmp_path: Path
) -> None:
    service = EvidenceService(new_vault)
    data = os.urandom(3 * CHUNK_SIZE + 11)
    original = service.add(write(tmp_path / "orig.bin", data)).item
    copy = service.working_copy(original.id, purpose="for transcription")
    assert copy.id != original.id
    assert copy.copy_role == CopyRole.WORKING
    assert copy.parent_id == original.id
    assert copy.sha256 == original.sha256
    assert store_file(new_vault, copy.id) != store_file(new_vault, original.id)
    with service.open_original(copy.id) as handle:
        assert handle.read() == data
    assert service.custody_events(copy.id)[0].action == CustodyAction.COPIED
    parent_last = service.custody_events(original.id)[-1]
    assert parent_last.action == CustodyAction.COPIED
    assert parent_last.details["derived_item"] == copy.id
    # A damaged original cannot be copied.
    flip(store_file(new_vault, original.id), HEADER_SIZE + 5)
    with pytest.raises(FieldkitError) as info:
        service.working_copy(original.id)
    assert info.value.code == ErrorCode.EVIDENCE_TAMPERED
    assert len(EvidenceStore(new_vault).files.all_names()) == 2


def test_custody_import_refuses_events_of_the_wrong_device(
    new_vault: Vault, new_coordinator_vault: Vault, tmp_path: Path
) -> None:
    monitor = EvidenceService(new_vault)
    source = write(tmp_path / "a.bin", b"abc")
    item = monitor.add(source).item
    with new_vault.session() as s:
        events = list(monitor.custody_since(s, 0))
    coordinator = EvidenceService(new_coordinator_vault)
    with new_coordinator_vault.session() as s, open(source, "rb") as f:
        coordinator.import_item(s, monitor.metadata_doc(item.id), f, item.sha256, item.size)
    # Signed by another device than the events name.
    with pytest.raises(FieldkitError) as info, new_coordinator_vault.session() as s:
        coordinator.import_custody(s, events, from_device="33333333-3333-4333-8333-333333333333")
    assert info.value.code == ErrorCode.CUSTODY_CHAIN_BROKEN
    # Events dressed up as the coordinator's own (rehashed, so only the device check stops them).
    import hashlib as _hashlib

    from fieldkit.crypto.canonical_json import canonical_dumps

    body = {k: v for k, v in events[0].items() if k != "event_hash"}
    body["device_id"] = new_coordinator_vault.device_id
    forged = {**body, "event_hash": _hashlib.sha256(canonical_dumps(body)).hexdigest()}
    with pytest.raises(FieldkitError) as info, new_coordinator_vault.session() as s:
        coordinator.import_custody(s, [forged])
    assert info.value.code == ErrorCode.CUSTODY_CHAIN_BROKEN
    with new_coordinator_vault.session() as s:
        assert coordinator.import_custody(s, events, from_device=new_vault.device_id) == 1


def test_purge_interrupted_after_the_key_is_gone_is_finished_at_unlock(
    new_vault: Vault, tmp_path: Path, passphrase: str
) -> None:
    service = EvidenceService(new_vault)
    item = service.add(write(tmp_path / "a.bin", b"secret bytes")).item
    path = store_file(new_vault, item.id)
    # As if the process died right after committing the key destruction, before the unlink.
    with new_vault.session() as s:
        row = s.get(EvidenceItemRow, item.id)
        assert row is not None
        row.wrapped_dek = None
        row.state = "purged"
    assert path.exists()
    profile = new_vault.path
    new_vault.lock()
    vault = open_profile(profile, passphrase)
    try:
        assert not path.exists()
        assert EvidenceService(vault).get(item.id).state == ItemState.PURGED
    finally:
        vault.lock()
