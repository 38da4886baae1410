"""Signed audit checkpoints: verification continues from the last one and still proves every row.

Each tampering is done the way someone holding the key would do it: directly in the database,
with the append-only triggers dropped (``raw_db``), on a profile's SQLCipher file and on a hub's
PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.services.audit import AuditService
from fieldkit.storage import audit_checkpoint as checkpoints
from fieldkit.storage.audit import AuditReport
from fieldkit.storage.audit_checkpoint import Checkpoint
from fieldkit.storage.records import RecordStore
from fieldkit.storage.tables.records import AuditCheckpointRow
from fieldkit.storage.vault import Vault
from tests import pg
from tests.storage.test_audit import raw_db

pytestmark = pytest.mark.usefixtures("backend")


def _records(vault: Vault, n: int, second: int = 0) -> list[str]:
    """``n`` person records, the first ``second`` of them saved a second time."""
    store = RecordStore(vault.device_id)
    with vault.session() as s:
        ids = store.create_many(
            s, [("person", {"pseudonym": f"W-{i:03d}", "sex": "female"}, False) for i in range(n)]
        )
    with vault.session() as s:
        for record_id in ids[:second]:
            store.save(s, record_id, {"pseudonym": "W-999", "sex": "male"}, 1)
    return ids


def _verify(vault: Vault, *, full: bool = False) -> AuditReport:
    return AuditService(vault).verify(full=full).own


def _verify_tampered(vault: Vault) -> AuditReport | None:
    """A verification after a tampering that moved a sealed value to another row: on a hub the
    value no longer opens against its new row and the database is reported damaged (None);
    a profile's SQLCipher file holds plain values, and the report must name the tampering."""
    if vault.backend != "postgresql":
        return _verify(vault)
    with pytest.raises(FieldkitError) as info:
        _verify(vault)
    assert info.value.code == ErrorCode.DATABASE_DAMAGED
    return None


def _checkpoint(vault: Vault) -> Checkpoint:
    with vault.session() as s:
        found = checkpoints.latest(s)
    assert found is not None
    return found


def _reasons(report: AuditReport) -> str:
    return "\n".join(f"{p.seq}: {p.reason}" for p in report.problems)


@pytest.fixture
def checked(new_vault: Vault) -> Vault:
    """A profile with 12 records (4 edited) whose audit log was verified once: it has a
    checkpoint over everything."""
    _records(new_vault, 12, second=4)
    first = _verify(new_vault)
    assert first.ok, _reasons(first)
    assert first.checkpoint_seq is None  # there was no checkpoint to continue from
    return new_vault


def test_a_clean_verification_leaves_a_checkpoint_the_next_one_continues_from(
    checked: Vault,
) -> None:
    cp = _checkpoint(checked)
    assert (cp.audit_seq, cp.versions_count, cp.heads_count) == (16, 16, 12)
    assert cp.device_id == checked.device_id
    assert cp.key_id == checked.device_key_fingerprint
    again = _verify(checked)
    assert again.ok, _reasons(again)
    assert again.checkpoint_seq == 16
    full = _verify(checked, full=True)
    assert (again.count, again.versions_checked) == (full.count, full.versions_checked) == (16, 16)
    assert full.checkpoint_seq is None


def test_what_came_after_the_checkpoint_is_verified_and_a_new_checkpoint_covers_it(
    checked: Vault,
) -> None:
    store = RecordStore(checked.device_id)
    first_ids = [r.id for r in _heads(checked)]
    with checked.session() as s:
        store.save(s, first_ids[6], {"pseudonym": "W-555", "sex": "male"}, 1)
    _records(checked, 3)
    report = _verify(checked)
    assert report.ok, _reasons(report)
    assert report.checkpoint_seq == 16
    assert (report.count, report.versions_checked) == (20, 20)
    cp = _checkpoint(checked)
    assert (cp.audit_seq, cp.versions_count, cp.heads_count) == (20, 20, 15)
    assert _verify(checked).checkpoint_seq == 20


def test_an_edited_entry_before_the_checkpoint_is_found_and_named(checked: Vault) -> None:
    with raw_db(checked) as db:
        db.execute("UPDATE audit_log SET actor = ? WHERE seq = ?", ("coordinator", 5))
    report = _verify(checked)
    assert not report.ok
    text = _reasons(report)
    assert "entries 1 to 16 differ from the signed checkpoint" in text
    assert "5: the entry was altered after it was written" in text  # the full pass names it
    assert report.checkpoint_seq is None


def test_an_edit_no_hash_covers_is_found_by_the_checkpoint(checked: Vault) -> None:
    """The save time of a version is not part of its hash: only the checkpoint sees it change."""
    with raw_db(checked) as db:
        db.execute("UPDATE record_versions SET saved_at = ? WHERE id = ?", ("2020-01-01", 3))
    report = _verify(checked)
    assert not report.ok
    assert "saved record versions covered by the signed checkpoint" in _reasons(report)
    assert not _verify(checked).ok  # no new checkpoint was made over the change


def test_a_removed_entry_before_the_checkpoint_is_found(checked: Vault) -> None:
    with raw_db(checked) as db:
        db.execute("DELETE FROM audit_log WHERE seq = ?", (7,))
    report = _verify(checked)
    text = _reasons(report)
    assert "covers 16 entries up to entry 16; there are 15 now" in text
    assert "entries 7 to 7 are missing" in text


def test_a_removed_last_entry_of_the_checkpoint_is_found(checked: Vault) -> None:
    """Removing the newest entries leaves an intact chain; the checkpoint still covers them."""
    with raw_db(checked) as db:
        db.execute("DELETE FROM audit_log WHERE seq >= ?", (15,))
        db.execute("DELETE FROM record_versions WHERE id >= ?", (15,))
    report = _verify(checked)
    text = _reasons(report)
    assert "covers 16 entries up to entry 16; there are 14 now" in text
    assert "covers 16 saved record versions; there are 14 now" in text


def test_an_inserted_version_before_the_checkpoint_is_found(checked: Vault) -> None:
    with raw_db(checked) as db:
        db.execute(
            "INSERT INTO record_versions (id, record_id, revision, doc, content_hash, deleted, "
            "saved_at, saved_by_device, change_seq, origin) SELECT -1, record_id, 9, doc, "
            "content_hash, deleted, saved_at, saved_by_device, -1, origin FROM record_versions "
            "WHERE id = ?",
            (2,),
        )
    report = _verify_tampered(checked)
    if report is None:
        return
    text = _reasons(report)
    assert "covers 16 saved record versions; there are 17 now" in text
    assert "the saved version 9 of record" in text
    assert "has no matching audit entry" in text


def test_reordered_entries_before_the_checkpoint_are_found(checked: Vault) -> None:
    with raw_db(checked) as db:
        db.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", (1000, 3))
        db.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", (3, 4))
        db.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", (4, 1000))
    report = _verify_tampered(checked)
    if report is None:
        return
    text = _reasons(report)
    assert "entries 1 to 16 differ from the signed checkpoint" in text
    assert "does not follow the one before it" in text


def test_an_altered_checkpoint_is_reported_and_ignored(checked: Vault) -> None:
    with raw_db(checked) as db:
        db.execute("UPDATE audit_checkpoints SET audit_seq = ?", (15,))
    report = _verify(checked)
    assert not report.ok
    assert report.checkpoint_seq is None
    assert "is not signed by this device's key" in _reasons(report)
    assert len(report.problems) == 1  # the rows themselves are intact (a full pass said so)
    # A full verification does not read it; it proves everything and replaces it.
    assert _verify(checked, full=True).ok
    assert _verify(checked).checkpoint_seq == 16


def test_a_checkpoint_covering_tampered_rows_signed_by_another_device_is_refused(
    checked: Vault, tmp_path: Path, fast_kdf: KdfParams, passphrase: str
) -> None:
    """Someone edits entry 5, then signs a checkpoint over the edited rows with a key of their
    own, naming this device or theirs: it is ignored and the full pass finds the edit."""
    other = Vault.create(
        tmp_path / "other", passphrase, Role.MONITOR, fast_kdf, database=pg.coordinator_database()
    )
    try:
        with raw_db(checked) as db:
            db.execute("UPDATE audit_log SET actor = ? WHERE seq = ?", ("coordinator", 5))
        made = _checkpoint(checked)
        with checked.session() as s:
            digest = checkpoints.RowDigest()
            checkpoints.digest_audit(s, digest, 0, made.audit_seq)
        key = other.device_signing_key()
        for device_id, key_id in (
            (checked.device_id, checked.device_key_fingerprint),
            (other.device_id, other.device_key_fingerprint),
        ):
            forged = Checkpoint(
                **{
                    **made.__dict__,
                    "audit_digest": digest.hexdigest(),
                    "device_id": device_id,
                    "key_id": key_id,
                }
            )
            values = {**forged.__dict__, "signature": key.sign(forged.signed_bytes())}
            with checked.session() as s:
                s.execute(delete(AuditCheckpointRow))
                s.execute(insert(AuditCheckpointRow), [values])
            report = _verify(checked)
            text = _reasons(report)
            assert "is not signed by this device's key" in text
            assert "5: the entry was altered after it was written" in text
            assert report.checkpoint_seq is None
    finally:
        other.lock()


def test_an_entry_after_the_checkpoint_that_was_edited_is_found(checked: Vault) -> None:
    _records(checked, 2)
    with raw_db(checked) as db:
        db.execute("UPDATE audit_log SET target_id = ? WHERE seq = ?", ("X-1", 18))
    report = _verify(checked)
    assert report.checkpoint_seq == 16  # the covered rows were proven by the checkpoint
    text = _reasons(report)
    assert "18: the entry was altered after it was written" in text


def test_a_version_after_the_checkpoint_that_was_edited_is_found(checked: Vault) -> None:
    _records(checked, 2)
    with raw_db(checked) as db:
        db.execute("UPDATE record_versions SET content_hash = ? WHERE id = ?", ("0" * 64, 18))
    report = _verify_tampered(checked)
    if report is None:
        return
    assert report.checkpoint_seq == 16
    assert "was altered" in _reasons(report) or "has no matching audit entry" in _reasons(report)


def test_a_head_changed_behind_the_application_is_found(checked: Vault) -> None:
    heads = _heads(checked)
    with raw_db(checked) as db:
        db.execute("UPDATE records SET revision = revision + 5 WHERE num = ?", (heads[2].num,))
    report = _verify(checked)
    assert report.checkpoint_seq == 16
    assert (
        f"the current state of record {heads[2].id} does not match its saved version"
        in _reasons(report)
    )


def test_a_removed_head_is_found(checked: Vault) -> None:
    heads = _heads(checked)
    with raw_db(checked) as db:
        db.execute("DELETE FROM records WHERE num = ?", (heads[3].num,))
    report = _verify(checked)
    assert f"is gone (record row {heads[3].num})" in _reasons(report)


def test_a_deleted_checkpoint_only_makes_the_next_verification_full(checked: Vault) -> None:
    with raw_db(checked) as db:
        db.execute("DELETE FROM audit_checkpoints")
    report = _verify(checked)
    assert report.ok
    assert report.checkpoint_seq is None
    assert _verify(checked).checkpoint_seq == 16


class _Head:
    def __init__(self, num: int, record_id: str) -> None:
        self.num = num
        self.id = record_id


def _heads(vault: Vault) -> list[_Head]:
    from fieldkit.storage.tables.records import RecordRow

    with vault.session() as s:
        rows = s.execute(select(RecordRow.num, RecordRow.id).order_by(RecordRow.num)).all()
    return [_Head(num, record_id) for num, record_id in rows]
