"""Bundle import and verify (coordinator): the checks of :mod:`fieldkit.export.bundle_read`, in
one pass. Records are stored in batches as they are read; each evidence original is decrypted,
hashed and encrypted under its own key straight into the evidence store as it streams (a
``.partial`` file, published when its item takes it); everything is applied in one database
transaction. Any failure rolls it back and discards every file of the import. Verify runs the same
pipeline and rolls back on purpose."""

from __future__ import annotations

import contextlib
import errno
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldkit import i18n
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.bundle_format import display_name
from fieldkit.export.bundle_read import (
    NullObjectSink,
    ObjectSink,
    Signer,
    read_bundle,
    read_bundle_stream,
)
from fieldkit.export.manifest import (
    AuditEntry,
    CustodyEntry,
    EvidenceEntry,
    Manifest,
    ObjectEntry,
    RecordEntry,
)
from fieldkit.services import trust
from fieldkit.services.roles import require_role
from fieldkit.storage import locks
from fieldkit.storage.audit import AuditLog, utc_now
from fieldkit.storage.evidence import FileStore, PendingFile, SealedFile
from fieldkit.storage.tables.bundles import (
    BundleAlarm,
    ImportConflict,
    ImportedBundle,
    QuarantinedBundle,
    TrustedDevice,
)
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.vault import Vault

if TYPE_CHECKING:
    from fieldkit.services.evidence import EvidenceService
    from fieldkit.storage.records import RecordStore
from fieldkit.services.bundles.binding import FOREIGN_CLAIM_ALARM, SignerBinding
from fieldkit.services.bundles.common import QUARANTINE_SUFFIX, BundleReport
from fieldkit.services.bundles.held import (
    _held_path,
    _hold_copy,
    _remove_held_files,
    _resolve_held,
    make_room,
)
from fieldkit.services.bundles.receipts import write_device_receipt
from fieldkit.services.bundles.sequence import check_jump, update_gaps

# --- import and verify (coordinator) -------------------------------------------------------------


class _AlreadyImported(Exception):
    pass


class _DryRun(Exception):
    pass


class _StoreSink:
    """One object written straight into the evidence store as it streams (one pass): hashed
    by the reader, encrypted under the file's own key into ``<name>.partial``. The item that
    takes it publishes it; an import that fails discards it."""

    def __init__(self, files: FileStore, entry: ObjectEntry) -> None:
        self.sha256 = entry.sha256
        self.pending: PendingFile = files.begin(entry.size, hashed=False)
        self.sealed: SealedFile | None = None
        self.taken_by: str | None = None  # the first item that took the file

    def write(self, data: bytes) -> int:
        return self.pending.write(data)

    def commit(self) -> None:
        self.sealed = self.pending.seal(self.sha256)  # the reader verified this hash

    def abort(self) -> None:
        self.pending.discard()


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
        self.objects: dict[str, _StoreSink] = {}
        self._locks = contextlib.ExitStack()
        self._evidence: EvidenceService | None = None
        self.committed = False
        self.evidence_docs: list[tuple[EvidenceEntry, dict[str, Any]]] = []
        self.pending_records: list[tuple[RecordEntry, dict[str, Any]]] = []
        self.custody: list[dict[str, Any]] = []
        self.signer: Signer | None = None
        self.manifest: Manifest | None = None
        self.bundle_hash = ""
        self.flagged = False
        self.alarm: BundleAlarm | None = None
        self.held_reason: ErrorCode | None = None
        self.on_head: Callable[[], None] | None = None  # the signed head verified (sync)
        self.binding: SignerBinding | None = None

    # -- checks that need the database --

    def on_signed(self, signer: Signer, manifest: Manifest, bundle_hash: str) -> None:
        if self.on_head is not None:
            self.on_head()
        self.signer, self.manifest, self.bundle_hash = signer, manifest, bundle_hash
        self.binding = SignerBinding(self.s, signer.device_id, self.report.path, signer.label)
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
            # every object is written once, into the evidence store, as it streams
            needed = sum(o.size for o in manifest.objects) + 64 * 1024 * 1024
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
        check_jump(s, signer.device_id, manifest.seq, path=r.path, label=signer.label)
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
        r.gaps = [list(g) for g in update_gaps(s, signer.device_id, manifest.seq)]
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
        assert self.binding is not None
        self.binding.check_records([(entry.member, doc) for entry, doc in batch])
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
        assert self.binding is not None
        self.binding.check_evidence(entry.member, doc)
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
        assert self.binding is not None
        self.binding.check_custody(entry.member, events)
        self.custody = events

    def open_object(self, entry: ObjectEntry) -> ObjectSink:
        self._store_records()
        if self.dry_run:
            return NullObjectSink()
        service = self.evidence_service()
        if not self.objects:
            # held until the rows commit: a start-up clean-up elsewhere must not take the files
            self._locks.enter_context(service.store.files.writer_lock())
        sink = _StoreSink(service.store.files, entry)
        self.objects[entry.sha256] = sink
        return sink

    def evidence_service(self) -> EvidenceService:
        if self._evidence is None:
            from fieldkit.services.evidence import EvidenceService

            self._evidence = EvidenceService(self.vault)
        return self._evidence

    # -- the end --

    def finish(self) -> None:
        self._store_records()
        assert self.signer is not None
        assert self.manifest is not None
        service = self.evidence_service()
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
                self._import_item(service, doc, self.objects[sha], size)
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
                    self.report.custody_events = service.import_custody(
                        self.s, self.custody, from_device=self.signer.device_id
                    )
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

    def _import_item(
        self, service: EvidenceService, doc: dict[str, Any], sink: _StoreSink, size: int
    ) -> None:
        assert sink.sealed is not None
        if sink.taken_by is None:
            if service.import_sealed_item(self.s, doc, sink.sealed):
                sink.taken_by = str(doc["id"])
                sink.pending.publish()  # renamed into its place; the row commits with the rest
            return
        # a second item with the same file has its own copy under its own key (rare)
        first = self.s.get(EvidenceItemRow, sink.taken_by)
        assert first is not None
        with service.store.open_row(first) as source:
            service.import_item(self.s, doc, source, sink.sha256, size)

    def cleanup(self) -> None:
        """Files of an import that did not commit are discarded, published or not; after a
        commit only those no item took."""
        try:
            for sink in self.objects.values():
                if not self.committed or sink.taken_by is None:
                    sink.pending.discard()
        finally:
            self._locks.close()


@dataclass(frozen=True)
class StreamSource:
    """A bundle arriving over the network (the sync server), read as it arrives."""

    raw: BinaryIO
    size: int
    shown: str
    check_signer: Callable[[Signer], None]  # refuses a signer other than the sender
    on_head: Callable[[], None]  # the signed head verified
    before_commit: Callable[[], None]  # the whole file arrived and matches


def _process(
    vault: Vault,
    path: Path | None,
    *,
    dry_run: bool,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
    stream: StreamSource | None = None,
) -> BundleReport:
    require_role(vault, Role.COORDINATOR)
    path = Path(path) if path is not None else None
    shown = stream.shown if stream is not None else display_name(str(path), 200)
    report = BundleReport(path=shown)
    with vault.session() as s:
        identities = trust.org_identities(s)
    importer: _Importer | None = None
    try:
        with vault.session() as s:
            if not dry_run:
                # On a hub, one import at a time: a bundle imported from two desktops at once is
                # found already imported by the second, once the first has committed.
                locks.hold(s, locks.HubLock.BUNDLE_IMPORT)
            importer = _Importer(vault, s, report, dry_run=dry_run)

            def find_signer(key_id: str) -> Signer | None:
                report.key_id = key_id
                signer = trust.signer_for_key(s, key_id)
                if signer is not None and stream is not None:
                    stream.check_signer(signer)
                return signer

            try:
                if stream is not None:
                    importer.on_head = stream.on_head
                    result = read_bundle_stream(
                        stream.raw,
                        stream.size,
                        shown,
                        identities=identities,
                        find_signer=find_signer,
                        visitor=importer,
                        progress=progress,
                        cancel=cancel,
                    )
                else:
                    assert path is not None
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
                if stream is not None:
                    stream.before_commit()
            except OSError as exc:
                # the evidence store could not be written
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise FieldkitError(ErrorCode.DISK_FULL, path=str(vault.path)) from None
                raise FieldkitError(
                    ErrorCode.FILE_NOT_WRITABLE,
                    path=str(vault.store_dir),
                    reason=os_reason(exc),
                ) from None
            report.payload_bytes = result.payload_bytes
            report.encrypted_bytes = result.encrypted_bytes
            if dry_run:
                raise _DryRun()
        importer.committed = True
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
    vault: Vault,
    path: Path | None,
    exc: FieldkitError,
    importer: _Importer | None,
    report: BundleReport,
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
    if (
        exc.code == ErrorCode.BUNDLE_FOREIGN_CLAIM
        and importer is not None
        and importer.signer is not None
        and importer.manifest is not None
    ):
        # an enrolled device that claims another's records is a device in the wrong hands
        with vault.session() as s:
            s.add(
                BundleAlarm(
                    kind=FOREIGN_CLAIM_ALARM,
                    device_id=importer.signer.device_id,
                    seq=importer.manifest.seq,
                    bundle_id=importer.manifest.bundle_id,
                    bundle_hash=importer.bundle_hash,
                    known_hash="",
                    raised_at=utc_now(),
                )
            )
        return
    if path is None:
        return  # over the network only enrolled, active senders get this far; nothing to hold
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
            dropped = make_room(vault, s)
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
        if dropped:
            _remove_held_files(vault, dropped)


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


def import_stream(
    vault: Vault,
    raw: BinaryIO,
    size: int,
    shown: str,
    *,
    check_signer: Callable[[Signer], None],
    on_head: Callable[[], None],
    before_commit: Callable[[], None],
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> BundleReport:
    """Import a bundle as it arrives (the sync server): the same checks and the same one
    transaction as :func:`import_bundle`; no receipt file is written (the server answers
    with the receipt)."""
    source = StreamSource(raw, size, shown, check_signer, on_head, before_commit)
    try:
        return _process(vault, None, dry_run=False, progress=progress, cancel=cancel, stream=source)
    except _Refused as refused:
        raise refused.error from None


def imported_bundle_device(vault: Vault, bundle_id: str) -> str | None:
    """The device whose bundle ``bundle_id`` was imported, or None."""
    with vault.session() as s:
        row = s.get(ImportedBundle, bundle_id)
        return row.device_id if row is not None else None


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
