"""The hash-chained audit log on a real SQLCipher vault, including tampering with the raw file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.storage.audit import GENESIS_HASH, AuditEntry, AuditLog
from fieldkit.storage.audit_verify import verify_foreign, verify_log
from fieldkit.storage.engine import connect_raw
from fieldkit.storage.vault import SQLCIPHER_PURPOSE, Vault, database_path

# Each test runs on a profile's own SQLCipher file and on a hub's PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")

DEVICE_B = "0b6a4f3e-2a43-4c61-9d6c-5f0e9d1b7a22"


@contextmanager
def raw_db(vault: Vault) -> Iterator[Any]:
    """The profile's database opened directly with the vault's key: what an attacker holding the
    key could do, bypassing the application and its triggers. On a hub: the server's database
    as its administrator reaches it, triggers disabled."""
    if vault.hub is not None:
        yield from _raw_server_db(vault.hub.database)
        return
    conn = connect_raw(database_path(vault.path), vault.subkey(SQLCIPHER_PURPOSE))
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        conn.execute("DROP TRIGGER IF EXISTS record_versions_no_update")
        conn.execute("DROP TRIGGER IF EXISTS record_versions_no_delete")
        yield conn
        conn.commit()
    finally:
        conn.close()


class _QmarkConnection:
    """SQLite's ``?`` placeholders on a psycopg connection, so the tampering reads the same."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), params)


def _raw_server_db(url: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        for table in ("audit_log", "record_versions"):
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield _QmarkConnection(conn)


def _fill(vault: Vault, n: int = 5) -> list[AuditEntry]:
    with vault.session() as s:
        return [
            AuditLog.append(s, "test.action", "thing", f"T-{i:03d}", details={"n": i})
            for i in range(n)
        ]


def test_entries_chain_from_genesis(new_vault: Vault) -> None:
    entries = _fill(new_vault, 3)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    assert all(e.compute_hash() == e.entry_hash for e in entries)
    assert entries[0].device_id == new_vault.device_id
    assert entries[0].actor == "monitor"
    with new_vault.session() as s:
        report = verify_log(s)
        assert report.ok
        assert report.count == 3
        assert report.problems == ()
        assert AuditLog.head(s) == (3, entries[2].entry_hash)
        assert [e.seq for e in AuditLog.entries_since(s, 1)] == [2, 3]


def test_an_empty_log_verifies(new_vault: Vault) -> None:
    with new_vault.session() as s:
        report = verify_log(s)
    assert report.ok
    assert report.count == 0


def test_database_refuses_update_and_delete(new_vault: Vault) -> None:
    _fill(new_vault, 2)
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log WHERE seq = 1"):
        with pytest.raises(Exception, match="append-only"), new_vault.session() as s:
            s.execute(text(statement))
    with new_vault.session() as s:
        assert AuditLog.count(s) == 2
        assert verify_log(s).ok


def test_altered_entry_is_found(new_vault: Vault) -> None:
    _fill(new_vault, 5)
    with raw_db(new_vault) as conn:
        conn.execute("UPDATE audit_log SET target_id = 'T-999' WHERE seq = 3")
    with new_vault.session() as s:
        report = verify_log(s)
    assert not report.ok
    assert [p.seq for p in report.problems] == [3]
    assert "altered" in report.problems[0].reason


def test_altered_entry_with_recomputed_hash_breaks_the_next_link(new_vault: Vault) -> None:
    entries = _fill(new_vault, 5)
    forged = AuditEntry(**{**entries[2].hashed_fields(), "target_id": "T-999"})
    with raw_db(new_vault) as conn:
        conn.execute(
            "UPDATE audit_log SET target_id = 'T-999', entry_hash = ? WHERE seq = 3",
            (forged.compute_hash(),),
        )
    with new_vault.session() as s:
        report = verify_log(s)
    assert not report.ok
    assert [p.seq for p in report.problems] == [4]
    assert "does not follow" in report.problems[0].reason


def test_removed_entry_is_found(new_vault: Vault) -> None:
    _fill(new_vault, 5)
    with raw_db(new_vault) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 2")
    with new_vault.session() as s:
        report = verify_log(s)
    assert not report.ok
    assert report.count == 4
    assert report.problems[0].seq == 3
    assert "2 to 2 are missing" in report.problems[0].reason


def test_removed_and_renumbered_entry_is_found(new_vault: Vault) -> None:
    # Removing entry 2 and renumbering the rest closes the gap, but not the chain.
    _fill(new_vault, 4)
    with raw_db(new_vault) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 2")
        for seq in (3, 4):
            conn.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", (seq - 1, seq))
    if new_vault.backend == "postgresql":
        # On a hub each entry's sealed details are bound to its number: a renumbered entry
        # does not open, and the database is reported damaged.
        with pytest.raises(FieldkitError) as info, new_vault.session() as s:
            verify_log(s)
        assert info.value.code == ErrorCode.DATABASE_DAMAGED
        return
    with new_vault.session() as s:
        report = verify_log(s)
    assert not report.ok
    assert {p.seq for p in report.problems} >= {2}


def test_reordered_entries_are_found(new_vault: Vault) -> None:
    _fill(new_vault, 4)
    with raw_db(new_vault) as conn:
        conn.execute("UPDATE audit_log SET seq = 100 WHERE seq = 2")
        conn.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3")
        conn.execute("UPDATE audit_log SET seq = 3 WHERE seq = 100")
    if new_vault.backend == "postgresql":
        with pytest.raises(FieldkitError) as info, new_vault.session() as s:
            verify_log(s)
        assert info.value.code == ErrorCode.DATABASE_DAMAGED
        return
    with new_vault.session() as s:
        report = verify_log(s)
    assert not report.ok
    reasons = " ".join(p.reason for p in report.problems)
    assert "does not follow" in reasons or "altered" in reasons


def test_details_never_need_record_content_and_round_trip(new_vault: Vault) -> None:
    with new_vault.session() as s:
        entry = AuditLog.append(
            s, "evidence.add", "evidence", "E-1", content_hash="a" * 64, details={"size": 10}
        )
    doc = entry.to_doc()
    assert AuditEntry.from_doc(doc) == entry
    assert doc["details"] == {"size": 10}
    with new_vault.session() as s:
        assert AuditLog.entries_for(s, "E-1") == [entry]


def test_append_refuses_empty_action(new_vault: Vault) -> None:
    with pytest.raises(FieldkitError) as info, new_vault.session() as s:
        AuditLog.append(s, "", "thing", "x")
    assert info.value.code == ErrorCode.INVALID_ARGUMENT


# --- other devices' entries -------------------------------------------------------------------


def _foreign_chain(n: int, device: str = DEVICE_B) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        draft = AuditEntry(
            seq=seq,
            at=f"2026-11-0{min(seq, 9)}T10:00:00.000000Z",
            device_id=device,
            actor="monitor",
            action="record.create",
            target_type="record",
            target_id=f"R-{seq}",
            revision=1,
            content_hash=f"{seq:064x}",
            details={"type": "visit"},
            prev_hash=prev,
        )
        entry = AuditEntry(**{**draft.hashed_fields(), "entry_hash": draft.compute_hash()})
        entries.append(entry)
        prev = entry.entry_hash
    return entries


def test_foreign_entries_import_in_any_order_and_twice(new_coordinator_vault: Vault) -> None:
    chain = _foreign_chain(6)
    vault = new_coordinator_vault
    with vault.session() as s:
        result = AuditLog.import_foreign(s, DEVICE_B, [e.to_doc() for e in chain[3:]])
        assert (result.added, result.already_present) == (3, 0)
        gap = verify_foreign(s, DEVICE_B)
        assert not gap.ok
        assert "1 to 3 have not been received" in gap.problems[0].reason
    with vault.session() as s:
        result = AuditLog.import_foreign(s, DEVICE_B, [e.to_doc() for e in chain[:4]])
        assert (result.added, result.already_present) == (3, 1)
        report = verify_foreign(s, DEVICE_B)
        assert report.ok
        assert report.count == 6
        assert AuditLog.foreign_devices(s) == [DEVICE_B]
        # Our own log records nothing of theirs.
        assert AuditLog.count(s) == 0


def test_foreign_entry_that_was_altered_is_refused(new_coordinator_vault: Vault) -> None:
    chain = _foreign_chain(3)
    docs = [e.to_doc() for e in chain]
    docs[1]["target_id"] = "R-forged"
    with pytest.raises(FieldkitError) as info, new_coordinator_vault.session() as s:
        AuditLog.import_foreign(s, DEVICE_B, docs)
    assert info.value.code == ErrorCode.AUDIT_CHAIN_BROKEN
    assert info.value.params["seq"] == 2
    with new_coordinator_vault.session() as s:
        assert verify_foreign(s, DEVICE_B).count == 0  # nothing was stored


def test_foreign_entry_that_does_not_link_is_refused(new_coordinator_vault: Vault) -> None:
    chain = _foreign_chain(3)
    other = _foreign_chain(3)  # same device, different history (times differ below)
    forged_draft = AuditEntry(**{**other[2].hashed_fields(), "prev_hash": "f" * 64})
    forged = AuditEntry(
        **{**forged_draft.hashed_fields(), "entry_hash": forged_draft.compute_hash()}
    )
    with new_coordinator_vault.session() as s:
        AuditLog.import_foreign(s, DEVICE_B, chain[:2])
    with pytest.raises(FieldkitError) as info, new_coordinator_vault.session() as s:
        AuditLog.import_foreign(s, DEVICE_B, [forged])
    assert info.value.code == ErrorCode.AUDIT_CHAIN_BROKEN
    assert info.value.params["seq"] == 3


def test_foreign_equivocation_is_refused(new_coordinator_vault: Vault) -> None:
    chain = _foreign_chain(2)
    with new_coordinator_vault.session() as s:
        AuditLog.import_foreign(s, DEVICE_B, chain)
    draft = AuditEntry(**{**chain[1].hashed_fields(), "target_id": "R-other"})
    twin = AuditEntry(**{**draft.hashed_fields(), "entry_hash": draft.compute_hash()})
    with pytest.raises(FieldkitError) as info, new_coordinator_vault.session() as s:
        AuditLog.import_foreign(s, DEVICE_B, [twin])
    assert info.value.code == ErrorCode.AUDIT_CHAIN_BROKEN
    assert "received before" in info.value.message()


def test_foreign_entry_of_another_device_is_refused(new_coordinator_vault: Vault) -> None:
    chain = _foreign_chain(1, device="7d1c8a52-5b0e-4f5e-8f53-0e2f1b6a9c10")
    with pytest.raises(FieldkitError) as info, new_coordinator_vault.session() as s:
        AuditLog.import_foreign(s, DEVICE_B, chain)
    assert "another device" in info.value.message()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("prev_hash"),
        lambda d: d.update(extra=1),
        lambda d: d.update(seq=0),
        lambda d: d.update(seq=True),
        lambda d: d.update(revision="1"),
        lambda d: d.update(entry_hash="xyz"),
        lambda d: d.update(actor="a" * 500),
        lambda d: d.update(details=["not", "a", "dict"]),
    ],
)
def test_malformed_foreign_documents_are_refused(mutate: object) -> None:
    doc = _foreign_chain(1)[0].to_doc()
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(FieldkitError) as info:
        AuditEntry.from_doc(doc)
    assert info.value.code == ErrorCode.AUDIT_CHAIN_BROKEN
