"""Applying a verified bundle to one open session (coordinator): records in batches, evidence
originals streamed straight into the evidence store, custody and audit entries. Used by
:mod:`fieldkit.services.bundles.importer`, which owns the transaction and the refusals."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldkit import i18n
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.export.bundle_read import (
    NullObjectSink,
    ObjectSink,
    Signer,
)
from fieldkit.export.manifest import (
    AuditEntry,
    CustodyEntry,
    EvidenceEntry,
    Manifest,
    ObjectEntry,
    RecordEntry,
)
from fieldkit.storage.audit import AuditLog, utc_now
from fieldkit.storage.evidence import FileStore, PendingFile, SealedFile
from fieldkit.storage.tables.bundles import (
    BundleAlarm,
    ImportConflict,
    ImportedBundle,
    TrustedDevice,
)
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.tables.records import RecordRow
from fieldkit.storage.vault import Vault

if TYPE_CHECKING:
    from fieldkit.services.evidence import EvidenceService
    from fieldkit.storage.records import RecordStore
from fieldkit.services.bundles.binding import SignerBinding
from fieldkit.services.bundles.common import BundleReport
from fieldkit.services.bundles.sequence import check_jump, update_gaps


class _AlreadyImported(Exception):
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
        # records here before this bundle (their new versions are "updated"), and records that
        # arrived with it (all their versions are "new", however many the bundle carries)
        self.here_before: set[str] = set()
        self.arrived: set[str] = set()
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
        asked = sorted({entry.id for entry, _doc in batch} - self.here_before - self.arrived)
        for start in range(0, len(asked), 500):
            self.here_before.update(
                self.s.execute(
                    select(RecordRow.id).where(RecordRow.id.in_(asked[start : start + 500]))
                ).scalars()
            )
        try:
            outcomes = self.store.import_versions(
                self.s, [doc for _entry, doc in batch], self.signer.device_id
            )
        except ImportBatchError as exc:
            raise self._member_error(batch[exc.index][0].member, exc.error) from None
        for (entry, _doc), outcome in zip(batch, outcomes, strict=True):
            if outcome == "new" and entry.id in self.here_before:
                self.report.records_updated += 1  # a new version of a record already here
            elif outcome == "new":
                self.report.records_new += 1
                self.arrived.add(entry.id)
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
