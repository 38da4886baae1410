"""Bundle use cases: export (monitor), import and verify (coordinator), receipts, purge.

Export carries everything above the acknowledged change mark, streams in constant memory, writes to
``<random>.fkb.partial``, syncs and renames; the export state is committed only when the bundle is
complete. Import runs the checks of :mod:`fieldkit.export.bundle_read`, streams objects into an
encrypted quarantine, and applies everything in one database transaction; any failure rolls it
back and deletes the quarantine. Verify runs the same pipeline and rolls back on purpose.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import queue
import re
import secrets
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldkit import i18n
from fieldkit.crypto.canonical_json import StrictJSONError, canonical_dumps, strict_loads
from fieldkit.crypto.minisign import (
    MinisignError,
    MinisignPublicKey,
    MinisignSignature,
    sign,
    verify,
)
from fieldkit.crypto.stream import StreamWriter, new_dek, open_stream
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import NOT_REGULAR_FILE as NOT_REGULAR
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_format import display_name, open_regular_file
from fieldkit.export.bundle_read import (
    NullObjectSink,
    ObjectSink,
    Signer,
    read_bundle,
)
from fieldkit.export.bundle_write import MemberChangedError, write_bundle
from fieldkit.export.manifest import (
    AuditEntry,
    CustodyEntry,
    EvidenceEntry,
    Manifest,
    ObjectEntry,
    RecordEntry,
)
from fieldkit.services import trust
from fieldkit.services.profile import require_role
from fieldkit.storage.audit import AuditLog, utc_now
from fieldkit.storage.changes import current_change_seq
from fieldkit.storage.fsutil import FILE_MODE, atomic_write_bytes, fsync_dir, make_private_dir
from fieldkit.storage.tables.bundles import (
    BundleAlarm,
    ExportedBundle,
    ExportState,
    ImportConflict,
    ImportedBundle,
    QuarantinedBundle,
    SequenceGap,
    TrustedDevice,
)
from fieldkit.storage.tables.evidence import CustodyEventRow, EvidenceItemRow
from fieldkit.storage.vault import Vault

if TYPE_CHECKING:
    from fieldkit.storage.records import RecordStore

BUNDLE_SUFFIX = ".fkb"
PARTIAL_SUFFIX = ".partial"
QUARANTINE_SUFFIX = ".q"
HELD_DIR = "held"
RECEIPT_FORMAT = "fieldkit-receipt/1"
HELD_REASONS = {
    ErrorCode.BUNDLE_UNKNOWN_SIGNER.value: N_("signed by a device that is not enrolled"),
    ErrorCode.BUNDLE_REVOKED_SIGNER.value: N_(
        "signed by a revoked device after its last trusted bundle"
    ),
}
MAX_RECEIPT_BYTES = 4 * 1024 * 1024
DEFAULT_MEDIA_TYPE = "application/octet-stream"
READ_BLOCK = 1024 * 1024
# Far below the readers' limits (100 000 entries, 16 MiB of manifest): a longer backlog travels
# in several bundles, each complete for its range of changes.
MAX_BUNDLE_RECORDS = 40_000


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    path: Path
    bundle_id: str
    seq: int
    bundle_hash: str
    records: int
    evidence: int
    objects: int
    audit_entries: int
    custody_events: int
    payload_bytes: int
    encrypted_bytes: int
    change_from: int
    change_through: int

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["path"] = str(self.path)
        return data


@dataclass
class BundleReport:
    """What an import did, or what a verification found (``imported`` is False then)."""

    path: str
    ok: bool = False
    imported: bool = False
    status: str = "refused"  # imported | flagged | already_imported | verified | refused
    bundle_id: str | None = None
    device_id: str | None = None
    signer_label: str | None = None
    key_id: str | None = None
    seq: int | None = None
    bundle_hash: str | None = None
    chain: str | None = None  # first | linked | pending
    gaps: list[int] = field(default_factory=list)
    records: int = 0
    records_new: int = 0
    records_same: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    evidence: int = 0
    objects: int = 0
    payload_bytes: int = 0
    encrypted_bytes: int = 0
    audit_entries: int = 0
    custody_events: int = 0
    receipt: str | None = None
    refusal: dict[str, str] | None = None
    held_resolved: int = 0  # held entries of this same bundle, resolved by this import

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ReceiptResult:
    receipt_id: str
    acknowledged_through: int
    bundles: list[int]


@dataclass(frozen=True)
class PurgeResult:
    purged: list[str]
    acknowledged_through: int


class _BackgroundWriter:
    """Writes to a file descriptor from a second thread, so the disk works while this thread
    hashes and encrypts (file writes release the GIL). At most ``max_pending`` writes (each at
    most 1 MiB) wait in memory."""

    def __init__(self, fd: int, max_pending: int = 16) -> None:
        self._fd = fd
        self._queue: queue.Queue[bytes | None] = queue.Queue(max_pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bundle-writer", daemon=True)
        self._thread.start()
        self._closed = False

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue
            try:
                view = memoryview(item)
                while view:
                    view = view[os.write(self._fd, view) :]
            except BaseException as exc:  # reported to the writing thread
                self._error = exc

    def write(self, data: bytes) -> int:
        if self._error is not None:
            raise self._error
        self._queue.put(bytes(data))
        return len(data)

    def finish(self, *, sync: bool) -> None:
        """Wait for every pending write; then fsync when asked. Raises the writer's error."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error
        if sync:
            os.fsync(self._fd)

    def abandon(self) -> None:
        with contextlib.suppress(BaseException):
            self.finish(sync=False)


# --- export (monitor) ----------------------------------------------------------------------------


@dataclass
class _RecordPlan:
    entry: RecordEntry
    change_seq: int


def _media_type(value: Any) -> str:
    from fieldkit.export.manifest import _MEDIA_RE

    text = str(value or "").lower()
    return text if _MEDIA_RE.fullmatch(text) else DEFAULT_MEDIA_TYPE


def _record_plans(
    store: RecordStore, session: Session, since: int, through: int, *, with_type: bool = True
) -> Iterator[tuple[RecordEntry, bytes, int]]:
    """Record versions to carry; ``with_type=False`` skips parsing each document (the second,
    streaming pass needs only the member name and the bytes)."""
    seen: set[tuple[str, int]] = set()
    for version in store.versions_since(session, since):
        if version.change_seq > through:
            return
        key = (version.record_id, version.revision)
        if key in seen:
            continue  # a second version of one revision (a conflict copy) travels once
        seen.add(key)
        canonical = version.canonical
        entry = RecordEntry(
            id=version.record_id,
            type=str(version.doc.get("type")) if with_type else "",
            revision=version.revision,
            operation="delete" if version.deleted else "upsert",
            sha256=hashlib.sha256(canonical).hexdigest(),
            size=len(canonical),
        )
        yield entry, canonical, version.change_seq


def _change_seqs(session: Session, table: Any, since: int) -> dict[str, int]:
    rows = session.execute(select(table.id, table.change_seq).where(table.change_seq > since))
    return {str(row[0]): int(row[1]) for row in rows}


def _file_chunks(source: BinaryIO, cancel: CancelToken | None) -> Iterator[bytes]:
    with source:
        while True:
            block = source.read(READ_BLOCK)
            if not block:
                return
            yield block
            check_cancel(cancel)


def export_bundle(
    vault: Vault,
    to_dir: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Write one bundle with everything the organisation has not acknowledged yet."""
    require_role(vault, Role.MONITOR)
    from fieldkit.services.evidence import EvidenceService

    to_dir = Path(to_dir)
    if not to_dir.is_dir():
        raise FieldkitError(ErrorCode.FOLDER_NOT_FOUND, path=str(to_dir))
    from fieldkit.storage.records import RecordStore

    _remove_stale_partials(to_dir)
    store = RecordStore(vault.device_id)
    evidence = EvidenceService(vault)
    signing_key = vault.device_signing_key()
    device_key = trust.device_public_key(vault)
    name = secrets.token_hex(16) + BUNDLE_SUFFIX
    final = to_dir / name
    partial = to_dir / (name + PARTIAL_SUFFIX)
    committed: tuple[str, int, str | None] | None = None  # bundle id, previous seq and hash
    try:
        with vault.session() as s:
            # One read transaction: both passes over the data see the same snapshot even if the
            # desktop program saves something meanwhile. The state is written afterwards.
            s.connection().exec_driver_sql("BEGIN")
            enrolled = trust.enrolment(s)
            state = s.get(ExportState, 1)
            assert state is not None
            ack = state.acknowledged_through
            audit_ack = state.audit_acknowledged_through
            through = current_change_seq(s)
            records: list[RecordEntry] = []
            for entry, _canonical, change_seq in _record_plans(store, s, ack, through):
                records.append(entry)
                if len(records) == MAX_BUNDLE_RECORDS:
                    through = change_seq  # the rest travels in the next bundle
                    break
            evidence_seq = _change_seqs(s, EvidenceItemRow, ack)
            evidence_docs = [
                doc
                for doc in evidence.items_since(s, ack)
                if evidence_seq.get(str(doc["id"]), 0) <= through
            ]
            evidence_entries: list[EvidenceEntry] = []
            objects: dict[str, ObjectEntry] = {}
            object_item: dict[str, str] = {}
            for doc in evidence_docs:
                raw = canonical_dumps(doc)
                evidence_entries.append(
                    EvidenceEntry(
                        id=str(doc["id"]), sha256=hashlib.sha256(raw).hexdigest(), size=len(raw)
                    )
                )
                sha = str(doc["sha256"])
                if sha not in objects:
                    objects[sha] = ObjectEntry(
                        sha, int(doc["size"]), _media_type(doc.get("media_type"))
                    )
                    object_item[sha] = str(doc["id"])
            audit_docs = [e.to_doc() for e in AuditLog.entries_since(s, audit_ack)]
            audit_through = max((int(d["seq"]) for d in audit_docs), default=audit_ack)
            custody_seq = _change_seqs(s, CustodyEventRow, ack)
            custody_docs = [
                doc
                for doc in evidence.custody_since(s, ack)
                if custody_seq.get(str(doc["id"]), 0) <= through
            ]
            if not (records or evidence_entries or audit_docs or custody_docs):
                raise FieldkitError(ErrorCode.NOTHING_TO_EXPORT)
            audit_bytes = canonical_dumps(audit_docs) if audit_docs else b""
            custody_bytes = canonical_dumps(custody_docs) if custody_docs else b""
            manifest = Manifest(
                bundle_id=str(uuid.uuid4()),
                created_at=utc_now(),
                device_id=vault.device_id,
                device_key_id=device_key.id_hex,
                org_recipients=[r.fingerprint() for r in enrolled.recipients],
                seq=state.last_seq + 1,
                prev=state.last_hash,
                change_from=ack,
                change_through=through,
                records=records,
                evidence=evidence_entries,
                audit=AuditEntry(
                    hashlib.sha256(audit_bytes).hexdigest(), len(audit_bytes), len(audit_docs)
                )
                if audit_docs
                else None,
                custody=CustodyEntry(
                    hashlib.sha256(custody_bytes).hexdigest(), len(custody_bytes), len(custody_docs)
                )
                if custody_docs
                else None,
                objects=list(objects.values()),
            )
            estimate = sum(size for _n, _s, size in manifest.members()) + 16 * 1024 * 1024
            if shutil.disk_usage(to_dir).free < estimate:
                raise FieldkitError(ErrorCode.DISK_FULL, path=str(to_dir))

            def contents() -> Iterator[tuple[str, Iterable[bytes]]]:
                for entry, canonical, _seq in _record_plans(
                    store, s, ack, through, with_type=False
                ):
                    yield entry.member, (canonical,)
                for doc, eentry in zip(evidence_docs, evidence_entries, strict=True):
                    yield eentry.member, (canonical_dumps(doc),)
                if audit_docs:
                    yield "audit.json", (audit_bytes,)
                if custody_docs:
                    yield "custody.json", (custody_bytes,)
                for sha, oentry in objects.items():
                    source = evidence.open_for_bundle(s, object_item[sha])
                    yield oentry.member, _file_chunks(source, cancel)

            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
            try:
                out = _BackgroundWriter(fd)
                try:
                    written = write_bundle(
                        out,  # type: ignore[arg-type]
                        manifest=manifest,
                        recipients=enrolled.recipients,
                        signing_key=signing_key,
                        contents=contents(),
                        progress=progress,
                        cancel=cancel,
                    )
                    out.finish(sync=True)
                except BaseException:
                    out.abandon()
                    raise
            finally:
                os.close(fd)
            last_seq, last_hash = state.last_seq, state.last_hash
        with vault.session() as s:
            state = s.get(ExportState, 1)
            assert state is not None
            if state.last_seq != last_seq or state.acknowledged_through != ack:
                raise FieldkitError(
                    ErrorCode.INVALID_ARGUMENT,
                    detail="another export or receipt changed the export state; export again",
                )
            s.add(
                ExportedBundle(
                    bundle_id=manifest.bundle_id,
                    seq=manifest.seq,
                    bundle_hash=written.bundle_hash,
                    change_from=ack,
                    change_through=through,
                    audit_through=audit_through,
                    created_at=manifest.created_at,
                    file_name=name,
                    acknowledged=False,
                )
            )
            previous = (manifest.bundle_id, last_seq, last_hash)
            state.last_seq = manifest.seq
            state.last_hash = written.bundle_hash
            # Each original that left gets a custody event. The events take change numbers above
            # this bundle's range, so the next bundle carries them (the items themselves do not
            # change, so their files do not travel again).
            recipient = ",".join(manifest.org_recipients)
            for eentry in evidence_entries:
                evidence.record_bundle_export(
                    s, eentry.id, bundle_id=manifest.bundle_id, recipient=recipient
                )
        committed = previous
        # Committed first, renamed second: a rename that fails is undone below, while a bundle
        # that exists without its state row could never be told apart from a forged one.
        os.replace(partial, final)
        with contextlib.suppress(OSError):
            fsync_dir(to_dir)
    except MemberChangedError as exc:
        _undo_export(vault, partial, committed)
        raise FieldkitError(
            ErrorCode.EVIDENCE_TAMPERED,
            id=exc.member,
            reason=TranslatableText(N_("changed while it was exported")),
        ) from None
    except OSError as exc:
        _undo_export(vault, partial, committed)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise FieldkitError(ErrorCode.DISK_FULL, path=str(to_dir)) from None
        raise FieldkitError(
            ErrorCode.FILE_NOT_WRITABLE, path=str(to_dir), reason=os_reason(exc)
        ) from None
    except BaseException:
        _undo_export(vault, partial, committed)
        raise
    return ExportResult(
        path=final,
        bundle_id=manifest.bundle_id,
        seq=manifest.seq,
        bundle_hash=written.bundle_hash,
        records=len(manifest.records),
        evidence=len(manifest.evidence),
        objects=len(manifest.objects),
        audit_entries=len(audit_docs),
        custody_events=len(custody_docs),
        payload_bytes=written.payload_bytes,
        encrypted_bytes=written.encrypted_bytes,
        change_from=ack,
        change_through=through,
    )


_PARTIAL_NAME = re.compile(r"[0-9a-f]{32}\.fkb\.partial")


def _remove_stale_partials(directory: Path) -> None:
    """A bundle being written when the laptop died leaves ``<32 hex>.fkb.partial``; only such
    names (ours, and never complete bundles) are removed."""
    with contextlib.suppress(OSError):
        for entry in directory.iterdir():
            if _PARTIAL_NAME.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
                with contextlib.suppress(OSError):
                    entry.unlink()


def _undo_export(
    vault: Vault, partial: Path, committed: tuple[str, int, str | None] | None
) -> None:
    with contextlib.suppress(OSError):
        partial.unlink()
    if committed is None:
        return
    bundle_id, last_seq, last_hash = committed
    with vault.session() as s:
        row = s.get(ExportedBundle, bundle_id)
        if row is not None:
            s.delete(row)
        state = s.get(ExportState, 1)
        assert state is not None
        state.last_seq = last_seq
        state.last_hash = last_hash


# --- import and verify (coordinator) -------------------------------------------------------------


class _AlreadyImported(Exception):
    pass


class _DryRun(Exception):
    pass


class _QuarantineFile:
    """One object on its way in: encrypted under a key that exists only in memory."""

    def __init__(self, directory: Path) -> None:
        make_private_dir(directory)
        self.path = directory / (secrets.token_hex(16) + QUARANTINE_SUFFIX)
        self._fd = os.open(
            self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE
        )
        self._out = _BackgroundWriter(self._fd)
        self._dek = new_dek()
        self._writer = StreamWriter(self._out, self._dek)  # type: ignore[arg-type]
        self._open = True
        self.size = 0

    def write(self, data: bytes) -> int:
        self._writer.write(data)
        self.size += len(data)
        return len(data)

    def _close(self) -> None:
        if self._open:
            self._open = False
            os.close(self._fd)

    def commit(self) -> None:
        try:
            self._writer.finish()
            self._out.finish(sync=False)  # staging only: no fsync needed
        finally:
            self._close()

    def abort(self) -> None:
        self._out.abandon()
        self._close()
        self.delete()

    def open(self) -> BinaryIO:
        return open_stream(self.path.open("rb"), self._dek, close_source=True)

    def delete(self) -> None:
        if self._open:
            self._out.abandon()
            self._close()
        with contextlib.suppress(OSError):
            self.path.unlink()


# Received record versions are stored this many at a time (RecordStore.import_versions).
RECORD_BATCH = 256


class _Importer:
    """The visitor that applies a verified bundle to one open session."""

    def __init__(
        self, vault: Vault, session: Session, report: BundleReport, *, dry_run: bool
    ) -> None:
        self.vault = vault
        self.s = session
        self.report = report
        self.dry_run = dry_run
        from fieldkit.storage.records import RecordStore

        self.store: RecordStore = RecordStore(vault.device_id)
        self.quarantine: dict[str, _QuarantineFile] = {}
        self.evidence_docs: list[tuple[EvidenceEntry, dict[str, Any]]] = []
        self.pending_records: list[tuple[RecordEntry, dict[str, Any]]] = []
        self.custody: list[dict[str, Any]] = []
        self.signer: Signer | None = None
        self.manifest: Manifest | None = None
        self.bundle_hash = ""
        self.flagged = False
        self.alarm: BundleAlarm | None = None
        self.held_reason: ErrorCode | None = None

    # -- checks that need the database --

    def on_signed(self, signer: Signer, manifest: Manifest, bundle_hash: str) -> None:
        self.signer, self.manifest, self.bundle_hash = signer, manifest, bundle_hash
        r = self.report
        r.bundle_id, r.device_id, r.signer_label = (
            manifest.bundle_id,
            signer.device_id,
            signer.label,
        )
        r.key_id, r.seq, r.bundle_hash = manifest.device_key_id, manifest.seq, bundle_hash
        r.records, r.evidence, r.objects = (
            len(manifest.records),
            len(manifest.evidence),
            len(manifest.objects),
        )
        s = self.s
        by_id = s.get(ImportedBundle, manifest.bundle_id)
        if by_id is not None:
            if by_id.bundle_hash == bundle_hash and by_id.device_id == signer.device_id:
                raise _AlreadyImported()
            raise FieldkitError(
                ErrorCode.BUNDLE_MANIFEST_INVALID,
                path=r.path,
                reason=TranslatableText(N_("a different bundle with this id was imported before")),
            )
        if not self.dry_run:
            # every object is written twice: into the quarantine, then into the evidence store
            needed = 2 * sum(o.size for o in manifest.objects) + 64 * 1024 * 1024
            if shutil.disk_usage(self.vault.path).free < needed:
                raise FieldkitError(ErrorCode.DISK_FULL, path=str(self.vault.path))
        same_seq = s.execute(
            select(ImportedBundle).where(
                ImportedBundle.device_id == signer.device_id, ImportedBundle.seq == manifest.seq
            )
        ).scalar_one_or_none()
        if same_seq is not None:
            self._alarm("equivocation", same_seq.bundle_hash)
        if signer.status == "revoked":
            if signer.last_good_seq is not None and manifest.seq <= signer.last_good_seq:
                self.flagged = True
            else:
                self.held_reason = ErrorCode.BUNDLE_REVOKED_SIGNER
                raise FieldkitError(
                    ErrorCode.BUNDLE_REVOKED_SIGNER, path=r.path, label=signer.label
                )
        # the hash chain, in both directions
        before = s.execute(
            select(ImportedBundle).where(
                ImportedBundle.device_id == signer.device_id, ImportedBundle.seq == manifest.seq - 1
            )
        ).scalar_one_or_none()
        after = s.execute(
            select(ImportedBundle).where(
                ImportedBundle.device_id == signer.device_id, ImportedBundle.seq == manifest.seq + 1
            )
        ).scalar_one_or_none()
        if before is not None and manifest.prev != before.bundle_hash:
            self._alarm("fork", before.bundle_hash)
        if after is not None and after.prev_hash != bundle_hash:
            self._alarm("fork", after.prev_hash or "")
        if manifest.seq == 1:
            r.chain = "first"
        elif before is not None:
            r.chain = "linked"
        else:
            r.chain = "pending"
        device = s.get(TrustedDevice, signer.device_id)
        assert device is not None
        known = set(
            s.execute(
                select(ImportedBundle.seq).where(ImportedBundle.device_id == signer.device_id)
            ).scalars()
        )
        top = max(known | {manifest.seq})
        gap_rows = {
            g.seq: g
            for g in s.execute(
                select(SequenceGap).where(SequenceGap.device_id == signer.device_id)
            ).scalars()
        }
        for seq in range(1, top):
            if seq in known or seq == manifest.seq:
                continue
            if seq not in gap_rows:
                s.add(
                    SequenceGap(
                        device_id=signer.device_id, seq=seq, detected_at=utc_now(), status="pending"
                    )
                )
            r.gaps.append(seq)
        if manifest.seq in gap_rows:
            gap_rows[manifest.seq].status = "filled"
        if manifest.seq >= device.last_seq:
            device.last_seq = manifest.seq
            device.last_hash = bundle_hash
        s.flush()

    def _alarm(self, kind: str, known_hash: str) -> None:
        assert self.signer is not None
        assert self.manifest is not None
        self.alarm = BundleAlarm(
            kind=kind,
            device_id=self.signer.device_id,
            seq=self.manifest.seq,
            bundle_id=self.manifest.bundle_id,
            bundle_hash=self.bundle_hash,
            known_hash=known_hash,
            raised_at=utc_now(),
        )
        raise FieldkitError(
            ErrorCode.BUNDLE_FORK if kind == "fork" else ErrorCode.BUNDLE_EQUIVOCATION,
            path=self.report.path,
            seq=self.manifest.seq,
            label=self.signer.label,
        )

    # -- members --

    def _member_error(self, member: str, exc: FieldkitError) -> FieldkitError:
        return FieldkitError(
            ErrorCode.BUNDLE_MEMBER_INVALID,
            path=self.report.path,
            member=member,
            reason=exc.message(i18n.current()),
        )

    def on_record(self, entry: RecordEntry, doc: dict[str, Any]) -> None:
        self.pending_records.append((entry, doc))
        if len(self.pending_records) >= RECORD_BATCH:
            self._store_records()

    def _store_records(self) -> None:
        """Store the records read so far in one batch (same result as one at a time, in order)."""
        from fieldkit.storage.records import ImportBatchError

        assert self.signer is not None
        assert self.manifest is not None
        batch, self.pending_records = self.pending_records, []
        if not batch:
            return
        try:
            outcomes = self.store.import_versions(
                self.s, [doc for _entry, doc in batch], self.signer.device_id
            )
        except ImportBatchError as exc:
            raise self._member_error(batch[exc.index][0].member, exc.error) from None
        for (entry, _doc), outcome in zip(batch, outcomes, strict=True):
            if outcome == "new":
                self.report.records_new += 1
            elif outcome == "same":
                self.report.records_same += 1
            else:
                self.report.conflicts.append({"record_id": entry.id, "revision": entry.revision})
                self.s.add(
                    ImportConflict(
                        bundle_id=self.manifest.bundle_id,
                        record_id=entry.id,
                        revision=entry.revision,
                        detected_at=utc_now(),
                    )
                )

    def on_evidence(self, entry: EvidenceEntry, doc: dict[str, Any]) -> None:
        self._store_records()
        self.evidence_docs.append((entry, doc))

    def on_audit(self, entry: AuditEntry, entries: list[Any]) -> None:
        self._store_records()
        assert self.signer is not None
        try:
            result = AuditLog.import_foreign(self.s, self.signer.device_id, entries)
        except FieldkitError as exc:
            raise self._member_error(entry.member, exc) from None
        self.report.audit_entries = result.added

    def on_custody(self, entry: CustodyEntry, events: list[Any]) -> None:
        self._store_records()
        self.custody = events

    def open_object(self, entry: ObjectEntry) -> ObjectSink:
        self._store_records()
        if self.dry_run:
            return NullObjectSink()
        sink = _QuarantineFile(self.vault.quarantine_dir)
        self.quarantine[entry.sha256] = sink
        return sink

    # -- the end --

    def finish(self) -> None:
        from fieldkit.services.evidence import EvidenceService

        self._store_records()
        assert self.signer is not None
        assert self.manifest is not None
        service = EvidenceService(self.vault)
        described: set[str] = set()
        for entry, doc in self.evidence_docs:
            sha = doc.get("sha256")
            size = doc.get("size")
            if not isinstance(sha, str) or sha not in {o.sha256 for o in self.manifest.objects}:
                raise FieldkitError(
                    ErrorCode.BUNDLE_MEMBER_INVALID,
                    path=self.report.path,
                    member=entry.member,
                    reason=TranslatableText(N_("the item's file is not in the bundle")),
                )
            described.add(sha)
            if self.dry_run:
                continue
            if not isinstance(size, int) or isinstance(size, bool):
                raise FieldkitError(
                    ErrorCode.BUNDLE_MEMBER_INVALID,
                    path=self.report.path,
                    member=entry.member,
                    reason=TranslatableText(N_("the item's size is malformed")),
                )
            try:
                with self.quarantine[sha].open() as source:
                    service.import_item(self.s, doc, source, sha, size)
            except FieldkitError as exc:
                raise self._member_error(entry.member, exc) from None
        for obj in self.manifest.objects:
            if obj.sha256 not in described:
                raise FieldkitError(
                    ErrorCode.BUNDLE_MEMBER_INVALID,
                    path=self.report.path,
                    member=obj.member,
                    reason=TranslatableText(N_("no evidence item describes this file")),
                )
        if self.custody and not self.dry_run:
            try:
                with self.s.begin_nested():
                    self.report.custody_events = service.import_custody(self.s, self.custody)
            except FieldkitError as exc:
                raise self._member_error("custody.json", exc) from None
            except IntegrityError:
                raise FieldkitError(
                    ErrorCode.BUNDLE_MEMBER_INVALID,
                    path=self.report.path,
                    member="custody.json",
                    reason=TranslatableText(N_("an event names an evidence item that is not here")),
                ) from None
        self.s.add(
            ImportedBundle(
                bundle_id=self.manifest.bundle_id,
                device_id=self.signer.device_id,
                seq=self.manifest.seq,
                bundle_hash=self.bundle_hash,
                prev_hash=self.manifest.prev,
                change_from=self.manifest.change_from,
                change_through=self.manifest.change_through,
                imported_at=utc_now(),
                status="flagged" if self.flagged else "imported",
                chain=self.report.chain or "pending",
                records=len(self.manifest.records),
                objects=len(self.manifest.objects),
                conflicts=len(self.report.conflicts),
            )
        )
        self.s.flush()

    def cleanup(self) -> None:
        for sink in self.quarantine.values():
            sink.delete()


def _process(
    vault: Vault,
    path: Path,
    *,
    dry_run: bool,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
) -> BundleReport:
    require_role(vault, Role.COORDINATOR)
    path = Path(path)
    report = BundleReport(path=display_name(str(path), 200))
    with vault.session() as s:
        identities = trust.org_identities(s)
    importer: _Importer | None = None
    try:
        with vault.session() as s:
            importer = _Importer(vault, s, report, dry_run=dry_run)

            def find_signer(key_id: str) -> Signer | None:
                report.key_id = key_id
                return trust.signer_for_key(s, key_id)

            try:
                result = read_bundle(
                    path,
                    identities=identities,
                    find_signer=find_signer,
                    visitor=importer,
                    progress=progress,
                    cancel=cancel,
                )
                check_cancel(cancel)
                importer.finish()
                check_cancel(cancel)
            except OSError as exc:
                # the quarantine or the evidence store could not be written
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise FieldkitError(ErrorCode.DISK_FULL, path=str(vault.path)) from None
                raise FieldkitError(
                    ErrorCode.FILE_NOT_WRITABLE,
                    path=str(vault.quarantine_dir),
                    reason=os_reason(exc),
                ) from None
            report.payload_bytes = result.payload_bytes
            report.encrypted_bytes = result.encrypted_bytes
            if dry_run:
                raise _DryRun()
        report.ok = report.imported = True
        report.status = "flagged" if importer.flagged else "imported"
    except _DryRun:
        report.ok = True
        report.status = "verified"
    except _AlreadyImported:
        report.ok = True
        report.status = "already_imported"
        report.chain = None
    except FieldkitError as exc:
        # in the language the program runs in (the command line and the desktop set it)
        report.refusal = {"code": exc.code.value, "message": exc.message(i18n.current())}
        if not dry_run:
            _record_refusal(vault, path, exc, importer, report)
        raise _Refused(report, exc) from None
    finally:
        if importer is not None:
            importer.cleanup()
    return report


class _Refused(Exception):
    def __init__(self, report: BundleReport, error: FieldkitError) -> None:
        super().__init__(error.code.value)
        self.report = report
        self.error = error


def _record_refusal(
    vault: Vault, path: Path, exc: FieldkitError, importer: _Importer | None, report: BundleReport
) -> None:
    """What must survive the rolled-back import: alarms and held bundles."""
    if (
        exc.code in (ErrorCode.BUNDLE_EQUIVOCATION, ErrorCode.BUNDLE_FORK)
        and importer is not None
        and importer.alarm
    ):
        alarm = importer.alarm
        with vault.session() as s:
            s.add(
                BundleAlarm(
                    kind=alarm.kind,
                    device_id=alarm.device_id,
                    seq=alarm.seq,
                    bundle_id=alarm.bundle_id,
                    bundle_hash=alarm.bundle_hash,
                    known_hash=alarm.known_hash,
                    raised_at=alarm.raised_at,
                )
            )
        return
    if exc.code in (ErrorCode.BUNDLE_UNKNOWN_SIGNER, ErrorCode.BUNDLE_REVOKED_SIGNER):
        held = _hold_copy(vault, path)
        with vault.session() as s:
            if held is not None:
                again = s.execute(
                    select(QuarantinedBundle).where(QuarantinedBundle.held_file == held)
                ).scalar_one_or_none()
                if again is not None:
                    # the same file refused again: one entry, with the latest reason and time
                    again.reason = exc.code.value
                    again.received_at = utc_now()
                    return
            s.add(
                QuarantinedBundle(
                    reason=exc.code.value,
                    key_id=str(report.key_id or exc.params.get("key_id", ""))[:16],
                    device_id=report.device_id,
                    seq=report.seq,
                    bundle_id=report.bundle_id,
                    file_name=display_name(path.name, 300),
                    held_file=held,
                    received_at=utc_now(),
                )
            )


def _hold_copy(vault: Vault, path: Path) -> str | None:
    """Keep the (still age-encrypted) bundle for review after an in-person enrolment.

    The copy is named by the SHA-256 of its bytes (``<hex>.fkb``): the same file held twice is
    kept once, and a later successful import of the same file resolves it."""
    target_dir = vault.quarantine_dir / HELD_DIR
    temp = target_dir / (secrets.token_hex(16) + PARTIAL_SUFFIX)
    try:
        make_private_dir(target_dir)
        digest = hashlib.sha256()
        with open_regular_file(str(path)) as src:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
            with os.fdopen(fd, "wb") as dst:
                while block := src.read(READ_BLOCK):
                    digest.update(block)
                    dst.write(block)
                dst.flush()
                os.fsync(dst.fileno())
        name = digest.hexdigest() + BUNDLE_SUFFIX
        os.replace(temp, target_dir / name)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
        return None
    return name


_HELD_NAME = re.compile(r"([0-9a-f]{64})\.fkb")


def _file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open_regular_file(str(path)) as fh:
            while block := fh.read(READ_BLOCK):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _held_path(vault: Vault, held_file: str) -> Path:
    return vault.quarantine_dir / HELD_DIR / held_file


def _remove_held_files(vault: Vault, names: Iterable[str]) -> None:
    """Delete held copies no held entry refers to any more."""
    with vault.session() as s:
        still = set(
            s.execute(
                select(QuarantinedBundle.held_file).where(QuarantinedBundle.held_file.is_not(None))
            ).scalars()
        )
    for name in set(names) - still:
        if _HELD_NAME.fullmatch(name) or re.fullmatch(r"[0-9a-f]{32}\.fkb", name):
            with contextlib.suppress(OSError):
                _held_path(vault, name).unlink()


def _resolve_held(vault: Vault, path: Path, report: BundleReport) -> int:
    """After a successful import: the held entries of this very bundle (same bundle id, or the
    same file by its SHA-256) are resolved; they leave the held list and their copies go."""
    if not report.key_id:
        return 0
    file_hash: str | None = None
    names: list[str] = []
    resolved = 0
    with vault.session() as s:
        rows = (
            s.execute(select(QuarantinedBundle).where(QuarantinedBundle.key_id == report.key_id))
            .scalars()
            .all()
        )
        for row in rows:
            same = row.bundle_id is not None and row.bundle_id == report.bundle_id
            match = _HELD_NAME.fullmatch(row.held_file or "")
            if not same and match is not None:
                if file_hash is None:
                    file_hash = _file_sha256(path) or ""
                same = match.group(1) == file_hash
            if same:
                if row.held_file:
                    names.append(row.held_file)
                s.delete(row)
                resolved += 1
    if names:
        _remove_held_files(vault, names)
    return resolved


def import_bundle(
    vault: Vault,
    path: Path,
    *,
    receipt_dir: Path | None = None,
    write_receipt: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> BundleReport:
    """Import one bundle in one transaction; raises FieldkitError when it is refused."""
    try:
        report = _process(vault, path, dry_run=False, progress=progress, cancel=cancel)
    except _Refused as refused:
        raise refused.error from None
    report.held_resolved = _resolve_held(vault, Path(path), report)
    if write_receipt and report.device_id is not None:
        out_dir = Path(receipt_dir) if receipt_dir is not None else Path(path).parent
        report.receipt = str(write_device_receipt(vault, report.device_id, out_dir))
    return report


def verify_bundle(
    vault: Vault,
    path: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> BundleReport:
    """Run every check of an import, then roll back; the report says what an import would do."""
    try:
        return _process(vault, path, dry_run=True, progress=progress, cancel=cancel)
    except _Refused as refused:
        if refused.error.code == ErrorCode.CANCELLED:
            raise refused.error from None
        return refused.report


def quarantine_cleanup(vault: Vault) -> int:
    """Start-up: remove staging files an interrupted import left behind (they are ciphertext
    under keys that died with that process). Held bundles stay."""
    removed = 0
    directory = vault.quarantine_dir
    if not directory.is_dir():
        return 0
    for entry in directory.iterdir():
        if entry.is_file() and not entry.is_symlink() and entry.name.endswith(QUARANTINE_SUFFIX):
            with contextlib.suppress(OSError):
                entry.unlink()
                removed += 1
    return removed


# --- receipts ------------------------------------------------------------------------------------


def acknowledged_through(bundles: Iterable[ImportedBundle]) -> int:
    """The highest change number covered without a hole by the bundles imported so far."""
    mark = 0
    for row in sorted(bundles, key=lambda b: (b.change_from, b.change_through)):
        if row.change_from <= mark:
            mark = max(mark, row.change_through)
    return mark


def receipt_name(device_id: str, seq: int) -> str:
    return f"receipt-{device_id[:8]}-{seq}.json"


def write_device_receipt(vault: Vault, device_id: str, out_dir: Path) -> Path:
    """A receipt signed by the organisation for everything imported from ``device_id``."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        key = trust.org_signing_key(s)
        org = trust.org_info(vault)
        rows = list(
            s.execute(
                select(ImportedBundle)
                .where(ImportedBundle.device_id == device_id)
                .order_by(ImportedBundle.seq)
            ).scalars()
        )
    if not rows:
        raise FieldkitError(ErrorCode.TRUST_UNKNOWN_DEVICE, device=device_id)
    receipt_id = str(uuid.uuid4())
    mark = acknowledged_through(rows)
    body = {
        "format": RECEIPT_FORMAT,
        "receipt_id": receipt_id,
        "org_id": org.org_id,
        "org_key_id": org.key_id,
        "device_id": device_id,
        "issued_at": utc_now(),
        "acknowledged_through": mark,
        "bundles": [
            {"bundle_id": r.bundle_id, "seq": r.seq, "sha256": r.bundle_hash} for r in rows
        ],
    }
    data = canonical_dumps(body)
    signature = sign(
        key,
        data,
        trusted_comment=f"{RECEIPT_FORMAT} receipt={receipt_id} device={device_id} through={mark}",
        untrusted_comment="fieldkit receipt signed by the organisation key",
    )
    out = Path(out_dir) / receipt_name(device_id, rows[-1].seq)
    try:
        atomic_write_bytes(out, data)
        atomic_write_bytes(out.with_name(out.name + ".minisig"), signature.file_bytes())
    except OSError as exc:
        raise FieldkitError(
            ErrorCode.FILE_NOT_WRITABLE, path=str(out), reason=os_reason(exc)
        ) from None
    return out


def _read_limited(path: Path, limit: int, *, shown: str | None = None) -> bytes:
    try:
        with open_regular_file(str(path)) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        reason = (
            TranslatableText(NOT_REGULAR) if isinstance(exc, IsADirectoryError) else os_reason(exc)
        )
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE, path=shown or str(path), reason=reason
        ) from None
    if len(data) > limit:
        raise FieldkitError(ErrorCode.NOT_A_RECEIPT, path=shown or display_name(str(path), 200))
    return data


def _t(text: str) -> TranslatableText:
    return TranslatableText(text)


def apply_receipt(vault: Vault, path: Path) -> ReceiptResult:
    """Monitor: check a receipt against the organisation key and mark what it acknowledges."""
    require_role(vault, Role.MONITOR)
    path = Path(path)
    if path.name.endswith(".json.minisig"):
        path = path.with_name(path.name[: -len(".minisig")])  # the signature file was given
    shown = display_name(str(path), 200)

    def bad(reason: str) -> FieldkitError:
        return FieldkitError(ErrorCode.RECEIPT_INVALID, path=shown, reason=_t(reason))

    data = _read_limited(path, MAX_RECEIPT_BYTES, shown=shown)
    # What the file is comes first (bounded, strict parse): another file given by mistake, such
    # as the organisation card, is "not a receipt", not a missing signature.
    try:
        doc = strict_loads(data, max_bytes=MAX_RECEIPT_BYTES, max_depth=8, allow_floats=False)
    except StrictJSONError:
        raise FieldkitError(ErrorCode.NOT_A_RECEIPT, path=shown) from None
    if not isinstance(doc, dict) or doc.get("format") != RECEIPT_FORMAT:
        raise FieldkitError(ErrorCode.NOT_A_RECEIPT, path=shown)
    sig_path = path.with_name(path.name + ".minisig")
    try:
        sig_bytes = _read_limited(sig_path, 4096)
    except FieldkitError:
        raise bad(
            N_("its signature file (the same name ending in .minisig) is missing or unreadable")
        ) from None
    with vault.session() as s:
        org_key: MinisignPublicKey = trust.enrolment(s).signing_key
    try:
        signature = MinisignSignature.parse(sig_bytes)
    except MinisignError:
        raise bad(N_("its signature file is malformed")) from None
    try:
        verify(org_key, signature, data)
    except MinisignError:
        raise FieldkitError(ErrorCode.RECEIPT_SIGNATURE_INVALID, path=shown) from None
    expected = {
        "format",
        "receipt_id",
        "org_id",
        "org_key_id",
        "device_id",
        "issued_at",
        "acknowledged_through",
        "bundles",
    }
    if set(doc) != expected:
        raise bad(N_("unexpected fields"))
    if doc["device_id"] != vault.device_id:
        raise bad(N_("it is for another device"))
    mark = doc["acknowledged_through"]
    bundles = doc["bundles"]
    if not isinstance(mark, int) or isinstance(mark, bool) or mark < 0:
        raise bad(N_("acknowledged_through is malformed"))
    if not isinstance(bundles, list):
        raise bad(N_("bundles is malformed"))
    with vault.session() as s:
        exported = {b.bundle_id: b for b in s.execute(select(ExportedBundle)).scalars()}
        acknowledged: list[ExportedBundle] = []
        for item in bundles:
            if not isinstance(item, Mapping) or set(item) != {"bundle_id", "seq", "sha256"}:
                raise bad(N_("a bundle entry is malformed"))
            row = exported.get(str(item["bundle_id"]))
            if row is None or row.seq != item["seq"] or row.bundle_hash != item["sha256"]:
                raise bad(N_("it names a bundle this device did not write"))
            acknowledged.append(row)
        covered = max((b.change_through for b in acknowledged), default=0)
        if mark > covered:
            raise bad(N_("it acknowledges changes that were never exported"))
        state = s.get(ExportState, 1)
        assert state is not None
        for row in acknowledged:
            row.acknowledged = True
        if mark > state.acknowledged_through:
            state.acknowledged_through = mark
            audit_marks = [b.audit_through for b in acknowledged if b.change_through <= mark]
            if audit_marks:
                state.audit_acknowledged_through = max(
                    state.audit_acknowledged_through, max(audit_marks)
                )
        state.last_receipt_id = str(doc["receipt_id"])[:36]
        return ReceiptResult(
            receipt_id=str(doc["receipt_id"]),
            acknowledged_through=state.acknowledged_through,
            bundles=sorted(b.seq for b in acknowledged),
        )


# --- purge (monitor) -----------------------------------------------------------------------------


def purge_acknowledged(vault: Vault) -> PurgeResult:
    """Crypto-erase evidence originals the organisation acknowledged; metadata and custody stay."""
    require_role(vault, Role.MONITOR)
    from fieldkit.domain.evidence import ItemState
    from fieldkit.services.evidence import EvidenceService

    with vault.session() as s:
        state = s.get(ExportState, 1)
        assert state is not None
        mark = state.acknowledged_through
        ids = list(
            s.execute(
                select(EvidenceItemRow.id).where(
                    EvidenceItemRow.state == ItemState.STORED.value,
                    EvidenceItemRow.change_seq <= mark,
                )
            ).scalars()
        )
    service = EvidenceService(vault)
    purged = []
    for item_id in ids:
        service.purge(item_id, reason="purged after acknowledgement")
        purged.append(item_id)
    return PurgeResult(purged=purged, acknowledged_through=mark)


# --- listings ------------------------------------------------------------------------------------


def _held_dict(q: QuarantinedBundle) -> dict[str, Any]:
    return {
        "id": q.id,
        "reason": q.reason,
        "key_id": q.key_id,
        "file_name": q.file_name,
        "device_id": q.device_id,
        "seq": q.seq,
        "bundle_id": q.bundle_id,
        "held_file": q.held_file is not None,
        "received_at": q.received_at,
    }


def list_quarantined(vault: Vault) -> list[dict[str, Any]]:
    """Held bundles still waiting for review (resolved ones are gone from the list)."""
    with vault.session() as s:
        return [
            _held_dict(q)
            for q in s.execute(select(QuarantinedBundle).order_by(QuarantinedBundle.id)).scalars()
        ]


def held_reason_text(reason: str) -> str:
    """A held bundle's reason code as a short sentence in the current language."""
    text = HELD_REASONS.get(reason)
    return i18n._(text) if text is not None else reason


def discard_held(vault: Vault, held_id: int) -> dict[str, Any]:
    """Delete a held bundle's entry and its encrypted copy (coordinator). Nothing is imported."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = s.get(QuarantinedBundle, held_id)
        if row is None:
            raise FieldkitError(ErrorCode.HELD_BUNDLE_NOT_FOUND, id=held_id)
        info = _held_dict(row)
        name = row.held_file
        s.delete(row)
    if name:
        _remove_held_files(vault, [name])
    return info


def import_held(
    vault: Vault,
    held_id: int,
    *,
    receipt_dir: Path | None,
    write_receipt: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> BundleReport:
    """Import the kept copy of a held bundle (after its device was enrolled in person).

    On success the held entry is resolved; a refusal leaves it listed. The receipt goes to
    ``receipt_dir`` (needed when ``write_receipt``: the copy lives inside the profile)."""
    require_role(vault, Role.COORDINATOR)
    with vault.session() as s:
        row = s.get(QuarantinedBundle, held_id)
        if row is None:
            raise FieldkitError(ErrorCode.HELD_BUNDLE_NOT_FOUND, id=held_id)
        name = row.held_file
    if not name:
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE,
            path=f"held/{held_id}",
            reason=TranslatableText(N_("no copy of this bundle was kept")),
        )
    if write_receipt and receipt_dir is None:
        raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="--receipt-dir")
    source = _held_path(vault, name)
    try:
        report = _process(vault, source, dry_run=False, progress=progress, cancel=cancel)
    except _Refused as refused:
        raise refused.error from None
    report.path = f"held/{held_id}"
    report.held_resolved = _resolve_held(vault, source, report)
    if write_receipt and report.device_id is not None and receipt_dir is not None:
        report.receipt = str(write_device_receipt(vault, report.device_id, Path(receipt_dir)))
    return report


def list_alarms(vault: Vault) -> list[dict[str, Any]]:
    with vault.session() as s:
        return [
            {
                "kind": a.kind,
                "device_id": a.device_id,
                "seq": a.seq,
                "bundle_id": a.bundle_id,
                "bundle_hash": a.bundle_hash,
                "known_hash": a.known_hash,
                "raised_at": a.raised_at,
            }
            for a in s.execute(select(BundleAlarm).order_by(BundleAlarm.id)).scalars()
        ]
