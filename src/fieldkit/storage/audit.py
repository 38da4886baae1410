"""The append-only, hash-chained audit log.

Every change in a profile appends one entry. An entry's hash is the SHA-256 of the canonical JSON of
all its other fields, including the hash of the entry before it, so removing, altering or reordering
an entry breaks the chain. Triggers created by migration 0002 refuse UPDATE and DELETE on the table;
someone holding the key can drop them, which is why ``storage/audit_verify.py`` also recomputes
every hash and cross-checks every saved record version against its entry.

What the chain cannot show on its own is the loss of its newest entries (there is nothing after them
to link to). Record versions are cross-checked, and the entries a bundle carries to the organisation
anchor the chain outside the laptop.

Other areas append inside their own transaction, e.g.
``AuditLog.append(session, "evidence.add", "evidence", item_id, content_hash=sha256)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import N_, _
from fieldkit.storage import locks
from fieldkit.storage.tables.profile import ProfileMeta
from fieldkit.storage.tables.records import (
    AuditRow,
    ForeignAuditRow,
)
from fieldkit.storage.tables.sealed import seal_rows

GENESIS_HASH = "0" * 64
_HEX = frozenset("0123456789abcdef")
_MAX_TEXT = 64
_MAX_DETAILS_BYTES = 4096


def utc_now() -> str:
    """The current UTC time as ISO 8601 with microseconds and a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One audit entry as it is hashed, stored and carried in bundles."""

    seq: int
    at: str
    device_id: str
    actor: str
    action: str
    target_type: str
    target_id: str
    revision: int | None
    content_hash: str | None
    details: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    entry_hash: str = ""

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "device_id": self.device_id,
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "revision": self.revision,
            "content_hash": self.content_hash,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return sha256_hex(canonical_dumps(self.hashed_fields()))

    def to_doc(self) -> dict[str, Any]:
        """The JSON document of this entry (what a bundle carries)."""
        doc = self.hashed_fields()
        doc["entry_hash"] = self.entry_hash
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> AuditEntry:
        """Read an entry from untrusted JSON; raises AUDIT_CHAIN_BROKEN naming what is wrong."""
        if not isinstance(doc, Mapping):
            raise _broken(0, N_("an entry is not a JSON object"))
        seq = doc.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise _broken(0, N_("an entry has no valid sequence number"))
        expected = {
            "seq",
            "at",
            "device_id",
            "actor",
            "action",
            "target_type",
            "target_id",
            "revision",
            "content_hash",
            "details",
            "prev_hash",
            "entry_hash",
        }
        if set(doc) != expected:
            raise _broken(seq, N_("the entry has missing or unexpected fields"))
        for name in ("at", "device_id", "actor", "action", "target_type", "target_id"):
            value = doc[name]
            if not isinstance(value, str) or len(value) > _MAX_TEXT:
                raise _broken(seq, N_("a field of the entry is not valid text"))
        revision = doc["revision"]
        if revision is not None and (
            not isinstance(revision, int) or isinstance(revision, bool) or revision < 1
        ):
            raise _broken(seq, N_("the entry's revision is not valid"))
        content_hash = doc["content_hash"]
        if content_hash is not None and not _is_hash(content_hash):
            raise _broken(seq, N_("the entry's content hash is not valid"))
        if not _is_hash(doc["prev_hash"]) or not _is_hash(doc["entry_hash"]):
            raise _broken(seq, N_("the entry's hashes are not valid"))
        details = doc["details"]
        if not isinstance(details, Mapping) or len(canonical_dumps(details)) > _MAX_DETAILS_BYTES:
            raise _broken(seq, N_("the entry's details are not valid"))
        return cls(
            seq=seq,
            at=doc["at"],
            device_id=doc["device_id"],
            actor=doc["actor"],
            action=doc["action"],
            target_type=doc["target_type"],
            target_id=doc["target_id"],
            revision=revision,
            content_hash=content_hash,
            details=dict(details),
            prev_hash=doc["prev_hash"],
            entry_hash=doc["entry_hash"],
        )


class AuditItem(NamedTuple):
    """What a caller appends; the log adds the number, time, device, actor and hashes."""

    action: str
    target_type: str
    target_id: str
    revision: int | None = None
    content_hash: str | None = None
    details: Mapping[str, Any] | None = None


class AuditProblem(NamedTuple):
    """One finding of a verification: the entry's sequence number (0 when none applies) and why."""

    seq: int
    reason: str


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    count: int
    problems: tuple[AuditProblem, ...] = ()
    versions_checked: int = 0
    # The last entry of the signed checkpoint the verification continued from (None: every row
    # was verified in full).
    checkpoint_seq: int | None = None


@dataclass(frozen=True)
class ForeignImportResult:
    added: int
    already_present: int


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def _broken(seq: int, reason: str) -> FieldkitError:
    return FieldkitError(ErrorCode.AUDIT_CHAIN_BROKEN, seq=seq, reason=_(reason))


def entry_from_row(row: AuditRow | ForeignAuditRow, device_id: str | None = None) -> AuditEntry:
    try:
        details = json.loads(row.details)
    except ValueError:
        details = {"<unreadable>": row.details}
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        device_id=device_id if device_id is not None else row.device_id,
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        revision=row.revision,
        content_hash=row.content_hash,
        details=details if isinstance(details, dict) else {"<unreadable>": row.details},
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


class AuditLog:
    """The profile's audit log. Every method works inside the caller's session (transaction)."""

    @staticmethod
    def append(
        session: Session,
        action: str,
        target_type: str,
        target_id: str,
        revision: int | None = None,
        content_hash: str | None = None,
        details: Mapping[str, Any] | None = None,
        *,
        actor: str | None = None,
    ) -> AuditEntry:
        """Append one entry linked to the newest and return it. Details hold no record content."""
        item = AuditItem(action, target_type, target_id, revision, content_hash, details)
        return AuditLog.append_many(session, [item], actor=actor)[0]

    @staticmethod
    def append_many(
        session: Session, items: Sequence[AuditItem], *, actor: str | None = None
    ) -> list[AuditEntry]:
        """Append several entries in order with one read of the chain's head and one insert."""
        for item in items:
            for name, value in (("action", item.action), ("target_type", item.target_type)):
                if not value or len(value) > _MAX_TEXT:
                    raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail=name)
        if not items:
            return []
        meta = session.execute(select(ProfileMeta.device_id, ProfileMeta.role)).one()
        session.flush()
        # On a hub another coordinator may be appending: the head is read under the lock.
        locks.hold(session, locks.HubLock.AUDIT_APPEND)
        seq, prev = AuditLog.head(session)
        at = utc_now()
        entries: list[AuditEntry] = []
        rows: list[dict[str, Any]] = []
        for item in items:
            seq += 1
            detail_dict = dict(item.details or {})
            # the same fields, in the same form, as AuditEntry.hashed_fields gives
            hashed: dict[str, Any] = {
                "seq": seq,
                "at": at,
                "device_id": meta.device_id,
                "actor": actor if actor is not None else meta.role,
                "action": item.action,
                "target_type": item.target_type,
                "target_id": item.target_id,
                "revision": item.revision,
                "content_hash": item.content_hash,
                "details": detail_dict,
                "prev_hash": prev,
            }
            entry_hash = sha256_hex(canonical_dumps(hashed))
            entry = AuditEntry(**hashed, entry_hash=entry_hash)
            entries.append(entry)
            row = {
                **hashed,
                "details": canonical_dumps(detail_dict).decode("utf-8"),
                "entry_hash": entry_hash,
            }
            rows.append(row)
            prev = entry_hash
        session.execute(
            insert(cast(Table, AuditRow.__table__)),
            seal_rows(session.get_bind().dialect, AuditRow, rows),
        )
        return entries

    @staticmethod
    def head(session: Session) -> tuple[int, str]:
        """The newest sequence number and entry hash (0 and the genesis hash when empty)."""
        last = session.execute(
            select(AuditRow.seq, AuditRow.entry_hash).order_by(AuditRow.seq.desc()).limit(1)
        ).first()
        return (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)

    @staticmethod
    def count(session: Session) -> int:
        return int(session.execute(select(func.count()).select_from(AuditRow)).scalar_one())

    @staticmethod
    def entries_since(session: Session, seq: int) -> Iterator[AuditEntry]:
        """Own entries with a sequence number above ``seq``, oldest first (for bundles)."""
        rows = session.execute(
            select(AuditRow)
            .where(AuditRow.seq > seq)
            .order_by(AuditRow.seq)
            .execution_options(yield_per=1000)
        ).scalars()
        for row in rows:
            yield entry_from_row(row)

    @staticmethod
    def entries_for(session: Session, target_id: str) -> list[AuditEntry]:
        rows = session.execute(
            select(AuditRow).where(AuditRow.target_id == target_id).order_by(AuditRow.seq)
        ).scalars()
        return [entry_from_row(row) for row in rows]

    # --- other devices' logs, carried in bundles ------------------------------------------------

    @staticmethod
    def import_foreign(
        session: Session, device_id: str, entries: Iterable[AuditEntry | Mapping[str, Any]]
    ) -> ForeignImportResult:
        """Store another device's entries after checking each hash and its links to neighbours.

        Entries may arrive in any order and with gaps (bundles can arrive out of order); an entry
        that links wrongly to a neighbour already held, or that differs from an entry received
        before under the same number, raises AUDIT_CHAIN_BROKEN and nothing is stored.
        """
        batch: dict[int, AuditEntry] = {}
        for item in entries:
            entry = item if isinstance(item, AuditEntry) else AuditEntry.from_doc(item)
            if entry.device_id != device_id:
                raise _broken(entry.seq, N_("the entry belongs to another device"))
            if entry.compute_hash() != entry.entry_hash:
                raise _broken(entry.seq, N_("the entry was altered after it was written"))
            if entry.seq in batch and batch[entry.seq].entry_hash != entry.entry_hash:
                raise _broken(entry.seq, N_("two different entries carry the same number"))
            batch[entry.seq] = entry
        if not batch:
            return ForeignImportResult(0, 0)
        low, high = min(batch), max(batch)
        stored = {
            row.seq: row.entry_hash
            for row in session.execute(
                select(ForeignAuditRow.seq, ForeignAuditRow.entry_hash).where(
                    ForeignAuditRow.device_id == device_id,
                    ForeignAuditRow.seq >= low - 1,
                    ForeignAuditRow.seq <= high + 1,
                )
            )
        }
        stored_prev = {
            row.seq: row.prev_hash
            for row in session.execute(
                select(ForeignAuditRow.seq, ForeignAuditRow.prev_hash).where(
                    ForeignAuditRow.device_id == device_id,
                    ForeignAuditRow.seq >= low,
                    ForeignAuditRow.seq <= high + 1,
                )
            )
        }
        known = {**stored, **{seq: e.entry_hash for seq, e in batch.items()}}
        added = already = 0
        received = utc_now()
        rows: list[dict[str, Any]] = []
        for seq in sorted(batch):
            entry = batch[seq]
            if seq in stored:
                if stored[seq] != entry.entry_hash:
                    raise _broken(
                        seq, N_("the entry differs from the one received before with this number")
                    )
                already += 1
                continue
            before = GENESIS_HASH if seq == 1 else known.get(seq - 1)
            if before is not None and entry.prev_hash != before:
                raise _broken(seq, N_("the entry does not follow the one before it"))
            after_prev = stored_prev.get(seq + 1)
            if after_prev is not None and after_prev != entry.entry_hash:
                raise _broken(seq + 1, N_("the entry does not follow the one before it"))
            rows.append(
                {
                    "device_id": device_id,
                    "seq": seq,
                    "at": entry.at,
                    "actor": entry.actor,
                    "action": entry.action,
                    "target_type": entry.target_type,
                    "target_id": entry.target_id,
                    "revision": entry.revision,
                    "content_hash": entry.content_hash,
                    "details": canonical_dumps(dict(entry.details)).decode("utf-8"),
                    "prev_hash": entry.prev_hash,
                    "entry_hash": entry.entry_hash,
                    "received_at": received,
                }
            )
            added += 1
        if rows:
            # one executemany on the table (no ORM objects: thousands arrive in one bundle)
            session.execute(
                insert(cast(Table, ForeignAuditRow.__table__)),
                seal_rows(session.get_bind().dialect, ForeignAuditRow, rows),
            )
        session.flush()
        return ForeignImportResult(added=added, already_present=already)

    @staticmethod
    def foreign_devices(session: Session) -> list[str]:
        return list(session.execute(select(ForeignAuditRow.device_id).distinct()).scalars())
