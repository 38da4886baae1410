"""Verifying the audit log: in full, or continuing from the newest signed checkpoint.

A full verification recomputes the hash of every entry and its link to the one before, the hash
of every saved record version and that each has its entry, and that every record's head is its
saved version. When it finds nothing wrong it leaves a signed checkpoint
(``storage/audit_checkpoint.py``); the next verification proves the rows the checkpoint covers
unchanged by their stored bytes and verifies in full only what came after. A checkpoint that is
not this device's, or whose signature fails, is reported and ignored; covered rows that changed
are reported, and a full verification then names the entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from fieldkit.i18n import N_, _
from fieldkit.storage import audit_checkpoint as checkpoints
from fieldkit.storage.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditLog,
    AuditProblem,
    AuditReport,
    entry_from_row,
    sha256_hex,
    utc_now,
)
from fieldkit.storage.audit_checkpoint import Checkpoint, RawUnreadable, RowDigest
from fieldkit.storage.tables.records import (
    AuditRow,
    ForeignAuditRow,
    RecordRow,
    RecordVersionRow,
)

_IN_CHUNK = 500
_Recorded = dict[tuple[str, int, str], int]


def _head_matches(
    revision: int, deleted: bool, confidential: bool, data: str, doc: bytes | None
) -> bool:
    if doc is None:
        return False
    try:
        saved = json.loads(doc)
        current = json.loads(data)
    except ValueError:
        return False
    return bool(
        isinstance(saved, dict)
        and saved.get("revision") == revision
        and saved.get("deleted") == bool(deleted)
        and saved.get("confidential") == bool(confidential)
        and saved.get("data") == current
    )


def _hash_matches(entry: AuditEntry) -> bool:
    """Whether the entry's hash is the hash of its fields. Most entries' canonical JSON is what
    the standard encoder writes (sorted keys, no spaces, UTF-8): that is tried first, and only an
    entry it does not match is written again by the canonical writer, which decides. (A match
    cannot be wrong: the standard encoding of these fields is unambiguous, and equal SHA-256
    values of different bytes are not found in practice.)"""
    fields = entry.hashed_fields()
    try:
        quick = json.dumps(
            fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError):
        quick = b""
    if quick and sha256_hex(quick) == entry.entry_hash:
        return True
    return entry.compute_hash() == entry.entry_hash


class _ChainChecker:
    """Walks entries in sequence order and collects what is wrong with the chain."""

    def __init__(self, missing_reason: str) -> None:
        self.problems: list[AuditProblem] = []
        self.count = 0
        self._expected_seq = 1
        self._prev = GENESIS_HASH
        self._missing_reason = missing_reason

    def start_after(self, seq: int, entry_hash: str) -> None:
        """Continue a chain whose entries up to ``seq`` (ending in ``entry_hash``) are proven."""
        self._expected_seq = seq + 1
        self._prev = entry_hash

    def feed(self, entry: AuditEntry) -> None:
        self.count += 1
        if entry.seq != self._expected_seq:
            if entry.seq > self._expected_seq:
                self.problems.append(
                    AuditProblem(
                        entry.seq,
                        _(self._missing_reason).format(
                            first=self._expected_seq, last=entry.seq - 1
                        ),
                    )
                )
        elif entry.prev_hash != self._prev:
            self.problems.append(
                AuditProblem(
                    entry.seq,
                    _(
                        "the entry does not follow the one before it "
                        "(an entry was removed, reordered or altered)"
                    ),
                )
            )
        if not _hash_matches(entry):
            self.problems.append(
                AuditProblem(entry.seq, _("the entry was altered after it was written"))
            )
        self._expected_seq = entry.seq + 1
        self._prev = entry.entry_hash


def verify_log(session: Session, *, full: bool = False) -> AuditReport:
    """Check this profile's chain, its saved record versions and heads; continue from the newest
    signed checkpoint unless ``full``. A verification that finds nothing wrong leaves a new
    checkpoint when the session gives it one consistent view of the database."""
    snapshot = _snapshot(session)
    top_seq, _top_hash = AuditLog.head(session)
    top_version = int(
        session.execute(select(func.coalesce(func.max(RecordVersionRow.id), 0))).scalar_one()
    )
    problems: list[AuditProblem] = []
    checkpoint = None if full else checkpoints.latest(session)
    if checkpoint is not None and not checkpoints.signed_by_this_device(session, checkpoint):
        problems.append(
            AuditProblem(
                0,
                _(
                    "the audit checkpoint of {at} is not signed by this device's key (forged, "
                    "altered or made by another device); it was ignored and every entry was "
                    "checked in full"
                ).format(at=checkpoint.made_at),
            )
        )
        checkpoint = None
    if checkpoint is not None:
        audit, saved = RowDigest(), RowDigest()
        changed = _covered_changes(session, checkpoint, top_seq, audit, saved)
        if not changed:
            return _continue(session, checkpoint, top_seq, top_version, snapshot, audit, saved)
        problems.extend(changed)
    return _full(session, problems, top_seq, top_version, snapshot and not problems)


def _snapshot(session: Session) -> bool:
    """Make the session's reads one consistent view; False when that cannot be had here (then no
    checkpoint is written: it must cover exactly what was verified)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if not getattr(raw, "in_transaction", True):
            connection.exec_driver_sql("BEGIN")  # the driver itself begins only before a write
        return True
    level = connection.exec_driver_sql("SELECT current_setting('transaction_isolation')").scalar()
    return level in ("repeatable read", "serializable")


def _full(
    session: Session,
    problems: list[AuditProblem],
    top_seq: int,
    top_version: int,
    may_checkpoint: bool,
) -> AuditReport:
    checker = _ChainChecker(N_("entries {first} to {last} are missing"))
    recorded: _Recorded = {}
    # Core rows, not ORM objects: the same columns, a fraction of the cost per row
    rows = session.execute(
        select(*cast(Table, AuditRow.__table__).c)
        .where(AuditRow.seq <= top_seq)
        .order_by(AuditRow.seq)
        .execution_options(yield_per=5000)
    )
    _check_entries(checker, recorded, rows)
    problems.extend(checker.problems)
    versions, version_problems = _check_versions(session, recorded, None, top_version, 0)
    problems.extend(version_problems)
    problems.extend(_check_heads(session, None))
    if may_checkpoint and not problems:
        audit, saved = RowDigest(), RowDigest()
        try:
            checkpoints.digest_audit(session, audit, None, top_seq)
            checkpoints.digest_versions(session, saved, None, top_version)
            heads = checkpoints.head_digests(session)
        except RawUnreadable:
            pass
        else:
            _store(session, top_seq, audit, saved, top_version, heads)
    return _report(problems, checker.count, versions, None)


def _covered_changes(
    session: Session, cp: Checkpoint, top_seq: int, audit: RowDigest, saved: RowDigest
) -> list[AuditProblem]:
    """What differs, in the rows the checkpoint covers, from when it was made (empty: nothing).
    ``audit`` and ``saved`` are left holding the digests of the covered rows."""
    at, seq = cp.made_at, cp.audit_seq
    try:
        checkpoints.digest_audit(session, audit, None, seq)
        checkpoints.digest_versions(session, saved, None, cp.versions_last_id)
    except RawUnreadable:
        return [
            AuditProblem(
                0,
                _(
                    "rows covered by the signed checkpoint of {at} can no longer be read as "
                    "stored (they were altered)"
                ).format(at=at),
            )
        ]
    found: list[AuditProblem] = []
    if top_seq < seq or audit.count != seq:
        found.append(
            AuditProblem(
                0,
                _(
                    "the signed checkpoint of {at} covers {count} entries up to entry {seq}; "
                    "there are {found} now (entries were removed or inserted)"
                ).format(at=at, count=seq, seq=seq, found=audit.count),
            )
        )
    elif audit.hexdigest() != cp.audit_digest:
        found.append(
            AuditProblem(
                0,
                _(
                    "entries 1 to {seq} differ from the signed checkpoint of {at} (an entry "
                    "was edited, replaced or reordered)"
                ).format(at=at, seq=seq),
            )
        )
    if saved.count != cp.versions_count:
        found.append(
            AuditProblem(
                0,
                _(
                    "the signed checkpoint of {at} covers {count} saved record versions; "
                    "there are {found} now (versions were removed or inserted)"
                ).format(at=at, count=cp.versions_count, found=saved.count),
            )
        )
    elif saved.hexdigest() != cp.versions_digest:
        found.append(
            AuditProblem(
                0,
                _(
                    "saved record versions covered by the signed checkpoint of {at} were "
                    "changed (a version was edited, replaced or reordered)"
                ).format(at=at),
            )
        )
    return found


def _continue(
    session: Session,
    cp: Checkpoint,
    top_seq: int,
    top_version: int,
    may_checkpoint: bool,
    audit: RowDigest,
    saved: RowDigest,
) -> AuditReport:
    """The rows the checkpoint covers are as they were: verify in full only what came after."""
    checker = _ChainChecker(N_("entries {first} to {last} are missing"))
    checker.start_after(cp.audit_seq, cp.audit_hash)
    recorded: _Recorded = {}
    rows = session.execute(
        select(*cast(Table, AuditRow.__table__).c)
        .where(AuditRow.seq > cp.audit_seq, AuditRow.seq <= top_seq)
        .order_by(AuditRow.seq)
        .execution_options(yield_per=5000)
    )
    _check_entries(checker, recorded, rows)
    problems = list(checker.problems)
    newer, version_problems = _check_versions(
        session, recorded, cp.versions_last_id, top_version, cp.audit_seq
    )
    problems.extend(version_problems)
    try:
        heads = checkpoints.head_digests(session)
    except RawUnreadable:
        heads = b""
        problems.extend(_check_heads(session, None))
    else:
        if heads != cp.heads:
            problems.extend(_changed_heads(session, cp, heads))
    if (
        may_checkpoint
        and not problems
        and (top_seq != cp.audit_seq or top_version != cp.versions_last_id or heads != cp.heads)
    ):
        try:  # the covered rows' digests continue over what came after
            checkpoints.digest_audit(session, audit, cp.audit_seq, top_seq)
            checkpoints.digest_versions(session, saved, cp.versions_last_id, top_version)
        except RawUnreadable:
            pass
        else:
            _store(session, top_seq, audit, saved, top_version, heads)
    return _report(problems, cp.audit_seq + checker.count, cp.versions_count + newer, cp.audit_seq)


def _changed_heads(session: Session, cp: Checkpoint, heads: bytes) -> list[AuditProblem]:
    before = checkpoints.split_heads(cp.heads)
    now = checkpoints.split_heads(heads)
    problems = [
        AuditProblem(
            0,
            _(
                "a record that was there at the signed checkpoint of {at} is gone "
                "(record row {num})"
            ).format(at=cp.made_at, num=num),
        )
        for num in sorted(set(before) - set(now))
    ]
    changed = [num for num, digest in now.items() if before.get(num) != digest]
    problems.extend(_check_heads(session, changed))
    return problems


def _store(
    session: Session,
    top_seq: int,
    audit: RowDigest,
    saved: RowDigest,
    top_version: int,
    heads: bytes,
) -> None:
    last_hash = GENESIS_HASH
    if top_seq:
        last_hash = str(
            session.execute(select(AuditRow.entry_hash).where(AuditRow.seq == top_seq)).scalar_one()
        )
    checkpoints.store(
        session,
        Checkpoint(
            made_at=utc_now(),
            device_id="",
            key_id="",
            audit_seq=top_seq,
            audit_hash=last_hash,
            audit_digest=audit.hexdigest(),
            versions_last_id=top_version,
            versions_count=saved.count,
            versions_digest=saved.hexdigest(),
            heads_count=len(heads) // checkpoints.HEAD_ENTRY_BYTES,
            heads=heads,
        ),
    )


def _report(
    problems: list[AuditProblem], count: int, versions: int, checkpoint_seq: int | None
) -> AuditReport:
    problems.sort(key=lambda p: (p.seq == 0, p.seq))
    return AuditReport(
        ok=not problems,
        count=count,
        problems=tuple(problems),
        versions_checked=versions,
        checkpoint_seq=checkpoint_seq,
    )


def _check_entries(checker: _ChainChecker, recorded: _Recorded, rows: Iterable[Any]) -> None:
    for row in rows:
        entry = entry_from_row(row)
        checker.feed(entry)
        if (
            entry.target_type == "record"
            and entry.revision is not None
            and entry.content_hash is not None
        ):
            recorded[(entry.target_id, entry.revision, entry.content_hash)] = entry.seq


def _check_versions(
    session: Session, recorded: _Recorded, low: int | None, high: int, older_entries: int
) -> tuple[int, list[AuditProblem]]:
    """Versions with low < id <= high: each hashes to its content hash and has its entry (among
    ``recorded``, or among the entries up to ``older_entries`` that were not read)."""
    problems: list[AuditProblem] = []
    versions = 0
    version_rows = session.execute(
        select(
            RecordVersionRow.record_id,
            RecordVersionRow.revision,
            RecordVersionRow.doc,
            RecordVersionRow.content_hash,
        )
        .where(
            RecordVersionRow.id <= high,
            *(() if low is None else (RecordVersionRow.id > low,)),
        )
        .execution_options(yield_per=2000)
    )
    unmatched: list[tuple[str, int, str]] = []
    for record_id, revision, doc, content_hash in version_rows:
        versions += 1
        key = (record_id, revision, content_hash)
        if sha256_hex(doc) != content_hash:
            problems.append(
                AuditProblem(
                    recorded.get(key, 0),
                    _("the saved version {revision} of record {id} was altered").format(
                        revision=revision, id=record_id
                    ),
                )
            )
        elif key not in recorded:
            unmatched.append(key)
    for record_id, revision, content_hash in unmatched:
        if older_entries and _has_entry(session, record_id, revision, content_hash, older_entries):
            continue
        problems.append(
            AuditProblem(
                0,
                _(
                    "the saved version {revision} of record {id} has no matching "
                    "audit entry (the entry was removed or the version was altered)"
                ).format(revision=revision, id=record_id),
            )
        )
    return versions, problems


def _has_entry(
    session: Session, record_id: str, revision: int, content_hash: str, up_to: int
) -> bool:
    return (
        session.execute(
            select(AuditRow.seq)
            .where(
                AuditRow.target_id == record_id,
                AuditRow.revision == revision,
                AuditRow.target_type == "record",
                AuditRow.content_hash == content_hash,
                AuditRow.seq <= up_to,
            )
            .limit(1)
        ).first()
        is not None
    )


def _check_heads(session: Session, nums: list[int] | None) -> list[AuditProblem]:
    """Every record's head (or those with the given row numbers) must be its saved version:
    same hash, same state."""
    query = select(
        RecordRow.id,
        RecordRow.revision,
        RecordRow.deleted,
        RecordRow.confidential,
        RecordRow.data,
        RecordVersionRow.doc,
    ).outerjoin(
        RecordVersionRow,
        (RecordVersionRow.record_id == RecordRow.id)
        & (RecordVersionRow.revision == RecordRow.revision)
        & (RecordVersionRow.content_hash == RecordRow.content_hash),
    )
    if nums is None:
        selections = [query.execution_options(yield_per=2000)]
    else:
        selections = [
            query.where(RecordRow.num.in_(nums[i : i + _IN_CHUNK]))
            for i in range(0, len(nums), _IN_CHUNK)
        ]
    problems: list[AuditProblem] = []
    for selection in selections:
        for record_id, revision, deleted, confidential, data, doc in session.execute(selection):
            if not _head_matches(revision, deleted, confidential, data, doc):
                problems.append(
                    AuditProblem(
                        0,
                        _(
                            "the current state of record {id} does not match its saved version"
                        ).format(id=record_id),
                    )
                )
    return problems


def verify_foreign(session: Session, device_id: str) -> AuditReport:
    """Check a device's received chain; entries not received yet show as missing."""
    checker = _ChainChecker(N_("entries {first} to {last} have not been received"))
    rows = session.execute(
        select(ForeignAuditRow)
        .where(ForeignAuditRow.device_id == device_id)
        .order_by(ForeignAuditRow.seq)
        .execution_options(yield_per=2000)
    ).scalars()
    for row in rows:
        checker.feed(entry_from_row(row, device_id=device_id))
    return AuditReport(
        ok=not checker.problems, count=checker.count, problems=tuple(checker.problems)
    )
