"""Evidence use cases: add, list, show, verify, export, purge, custody; and the bundle hooks.

Every call is one unit of work. Slow calls take ``progress`` and ``cancel``; a cancel undoes the
partial work (the partial file is removed, no row is written) and raises CANCELLED.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import json
import os
import stat
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit import i18n
from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.crypto.stream import CHUNK_SIZE, IO_BATCH, StreamAuthError, StreamError
from fieldkit.domain.common import ConsentRecord, ConsentStatus
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.evidence import (
    CUSTODY_PURPOSE_LABELS,
    DESCRIPTIVE_FIELDS,
    LEGACY_PURPOSES,
    PREVIEWABLE_TYPES,
    CopyRole,
    CustodyAction,
    CustodyEvent,
    CustodyPurpose,
    EvidenceInput,
    EvidenceItem,
    EvidenceLinks,
    EvidenceUpdate,
    ItemState,
    ItemType,
    LinkKind,
    MediaReport,
    ObtainedHow,
    PreviewStatus,
    SensitiveFlag,
    VerificationStatus,
    VerifyResult,
    item_type_for,
    sniff_media_type,
)
from fieldkit.domain.oserrors import NOT_REGULAR_FILE, os_reason
from fieldkit.domain.progress import CancelToken, ProgressFn
from fieldkit.domain.records import record_type_name
from fieldkit.i18n import _
from fieldkit.services import media_worker
from fieldkit.storage.audit import AuditLog
from fieldkit.storage.changes import next_change_seq
from fieldkit.storage.custody import CustodyLog, CustodyProblem, event_doc, utc_now
from fieldkit.storage.evidence import CleanupReport, EvidenceStore, SealedFile
from fieldkit.storage.fsutil import FILE_MODE, fsync_dir
from fieldkit.storage.tables.evidence import (
    CustodyEventRow,
    EvidenceItemRow,
    EvidencePreviewRow,
)
from fieldkit.storage.tables.records import RecordLinkRow
from fieldkit.storage.vault import Vault

if TYPE_CHECKING:
    from fieldkit.storage.records import RecordStore

DOC_FORMAT = "fieldkit-evidence/1"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
_SNIFF_BYTES = 512
_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff"})
_LINK_FIELDS = {
    LinkKind.CASE: "case_id",
    LinkKind.INTERVIEW: "interview_id",
    LinkKind.VISIT: "visit_id",
}


@dataclass(frozen=True)
class AddResult:
    """The outcome of adding one file: ``status`` is "added" or "duplicate"."""

    source: str
    status: str
    item: EvidenceItem
    preview: MediaReport | None = None


@dataclass(frozen=True)
class ExportResult:
    item_id: str
    path: str
    sha256: str
    size: int


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return canonical_dumps(value).decode("utf-8")


def _from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def startup_cleanup(vault: Vault) -> CleanupReport:
    """Called by ``open_profile``: removes what an interrupted intake or purge left behind."""
    return EvidenceStore(vault).cleanup()


def quick_check(vault: Vault) -> list[str]:
    """For ``fieldkit check``: every stored file present with its size, every custody chain intact.

    Cheap (no file is decrypted); ``evidence verify`` re-hashes the contents.
    """
    store = EvidenceStore(vault)
    problems: list[str] = []
    with vault.session() as session:
        rows = session.execute(
            select(EvidenceItemRow).where(EvidenceItemRow.state == ItemState.STORED.value)
        ).scalars()
        for row in rows:
            status = store.file_status(row)
            if status == "missing":
                problems.append(_("evidence {id}: the stored file is missing").format(id=row.id))
            elif status == "size":
                problems.append(
                    _("evidence {id}: the stored file has the wrong size").format(id=row.id)
                )
        orphaned = session.execute(
            select(EvidenceItemRow.id).where(
                ~select(CustodyEventRow.id)
                .where(CustodyEventRow.item_id == EvidenceItemRow.id)
                .exists()
            )
        ).scalars()
        for item_id in orphaned:
            problems.append(
                _("evidence {id}: its custody log is empty (events were removed)").format(
                    id=item_id
                )
            )
        for problem in CustodyLog.verify(session, local_device=vault.device_id):
            problems.append(
                _("evidence {id}: custody event {seq}: {reason}").format(
                    id=problem.item_id, seq=problem.seq, reason=_(problem.reason)
                )
            )
    return problems


class EvidenceService:
    """Evidence of one unlocked profile."""

    def __init__(self, vault: Vault, *, actor: str | None = None) -> None:
        self.vault = vault
        self.store = EvidenceStore(vault)
        self.actor = actor or vault.role.value

    def _records(self) -> RecordStore:
        # Imported when needed: the records storage pulls in the form machinery.
        from fieldkit.storage.records import RecordStore

        return RecordStore(self.vault.device_id)

    # -- adding -----------------------------------------------------------------------------

    def add(
        self,
        path: Path | str,
        *,
        case_id: str | None = None,
        interview_id: str | None = None,
        visit_id: str | None = None,
        person_ids: Sequence[str] = (),
        info: EvidenceInput | None = None,
        allow_duplicate: bool = False,
        make_preview: bool = True,
        purpose: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> AddResult:
        """Store a file as a new evidence item in one streaming pass, with its custody event."""
        path = Path(path)
        info = info or EvidenceInput()
        links = EvidenceLinks(
            case_id=case_id,
            interview_id=interview_id,
            visit_id=visit_id,
            person_ids=tuple(person_ids),
        )
        with self.vault.session() as session:
            self._check_links(session, links)
            if info.parent_id is not None:
                self.store.get_row(session, info.parent_id)
        with _open_source(path) as (source, size):
            head = source.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
            media_type = sniff_media_type(head, path.name)
            with self.store.files.writer_lock():
                sealed = self.store.files.write(
                    source, total=size, progress=progress, cancel=cancel, source_name=str(path)
                )
                committing: list[str] = []
                try:
                    return self._finish_add(
                        path,
                        sealed,
                        media_type,
                        links,
                        info,
                        allow_duplicate,
                        make_preview,
                        purpose,
                        committing,
                        cancel,
                    )
                except BaseException:
                    # Before the commit began the file is surely unreferenced; after that (an
                    # interrupt during or just after the commit) it may belong to a committed row,
                    # so it is left to the start-up clean-up, which removes it only if it has none.
                    if not committing or not self._row_exists(committing[0]):
                        self.store.files.delete(sealed.storage_name)
                    raise

    def working_copy(
        self,
        item_id: str,
        *,
        purpose: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> EvidenceItem:
        """An exact working copy of an item (same bytes, own key and file), parent recorded.

        The original is decrypted and re-encrypted in one stream; the copy's hash must equal the
        original's recorded SHA-256. Both items get a "copied" custody event.
        """
        with self.vault.session() as session:
            parent = self.store.get_row(session, item_id)
            links = self._links_of(session, [item_id])[item_id]
            info = EvidenceInput(
                item_type=ItemType(parent.item_type),
                title=parent.title,
                description=parent.description,
                creator=parent.creator,
                collected_by=parent.collected_by,
                collected_at=parent.collected_at,
                content_created_at=parent.content_created_at,
                capture_device=parent.capture_device,
                copy_role=CopyRole.WORKING,
                parent_id=parent.id,
                transformation="exact_copy",
                confidential=parent.confidential,
                sensitive_flags=tuple(SensitiveFlag(f) for f in json.loads(parent.sensitive_flags)),
            )
        with self.store.open_row(parent) as reader, self.store.files.writer_lock():
            try:
                sealed = self.store.files.write(
                    cast(BinaryIO, reader),
                    total=parent.size,
                    progress=progress,
                    cancel=cancel,
                    stage="copying",
                )
            except StreamError as exc:
                raise FieldkitError(
                    ErrorCode.EVIDENCE_TAMPERED, id=item_id, reason=TranslatableText(exc.reason)
                ) from exc
            if sealed.sha256 != parent.sha256:
                self.store.files.delete(sealed.storage_name)
                raise FieldkitError(
                    ErrorCode.EVIDENCE_TAMPERED,
                    id=item_id,
                    reason=TranslatableText(N_("the content does not match the recorded SHA-256")),
                )
            committing: list[str] = []
            try:
                return self._finish_add(
                    Path(parent.original_name),
                    sealed,
                    parent.media_type,
                    links,
                    info,
                    True,
                    False,
                    purpose,
                    committing,
                    cancel,
                ).item
            except BaseException:
                if not committing or not self._row_exists(committing[0]):
                    self.store.files.delete(sealed.storage_name)
                raise

    def _row_exists(self, item_id: str) -> bool:
        """Whether an item row is committed; True when that cannot be told (keep the file)."""
        try:
            with self.vault.session() as session:
                return session.get(EvidenceItemRow, item_id) is not None
        except Exception:
            return True

    def _finish_add(
        self,
        path: Path,
        sealed: SealedFile,
        media_type: str,
        links: EvidenceLinks,
        info: EvidenceInput,
        allow_duplicate: bool,
        make_preview: bool,
        purpose: str | None,
        committing: list[str],
        cancel: CancelToken | None,
    ) -> AddResult:
        if not allow_duplicate:
            with self.vault.session() as session:
                existing = self.store.find_duplicate(session, sealed.sha256)
                if existing is not None:
                    self.store.files.delete(sealed.storage_name)
                    item = self._item(session, self.store.get_row(session, existing))
                    return AddResult(str(path), "duplicate", item)
        item_id = str(uuid.uuid4())
        report: MediaReport | None = None
        thumbnail: bytes | None = None
        preview: bytes | None = None
        claims_image = path.suffix.lower() in _IMAGE_SUFFIXES
        if make_preview and (media_type in PREVIEWABLE_TYPES or claims_image):
            # A file whose name claims an image is decoded too (in the sandbox), so that a
            # disguised or broken "photo" is reported instead of silently listed as data.
            if cancel is not None:
                cancel.raise_if_cancelled()
            report, thumbnail, preview = self._analyse_sealed(sealed)
        metadata = dict(report.embedded_metadata) if report is not None else {}
        flags = set(info.sensitive_flags)
        if metadata:
            flags.add(SensitiveFlag.EMBEDDED_METADATA)
            if "gps" in metadata:
                flags.add(SensitiveFlag.GPS)
            if "serial_number" in metadata:
                flags.add(SensitiveFlag.DEVICE_SERIAL)
        now = utc_now()
        if cancel is not None:
            cancel.raise_if_cancelled()
        committing.append(item_id)
        with self.vault.session() as session:
            consent = self._inherited_consent(session, links.interview_id)
            if consent is not None and consent.get("limited"):
                flags.add(SensitiveFlag.CONSENT_LIMITED)
            camera = " ".join(
                v for v in (metadata.get("camera_make"), metadata.get("camera_model")) if v
            )
            row = EvidenceItemRow(
                id=item_id,
                item_type=(info.item_type or item_type_for(media_type)).value,
                title=info.title,
                description=info.description,
                creator=info.creator,
                collected_by=info.collected_by or self.actor,
                collected_at=info.collected_at or now,
                content_created_at=info.content_created_at or metadata.get("datetime_original"),
                place_created=info.place_created,
                place_collected=info.place_collected,
                obtained_from=info.obtained_from,
                obtained_how=info.obtained_how.value if info.obtained_how else None,
                capture_device=info.capture_device or camera or None,
                original_name=path.name,
                size=sealed.size,
                media_type=media_type,
                sha256=sealed.sha256,
                dedup_tag=self.store.dedup_tag(sealed.sha256),
                copy_role=info.copy_role.value,
                parent_id=info.parent_id,
                transformation=info.transformation,
                consent_limits=_json_text(consent),
                sensitive_flags=_json_text(sorted(f.value for f in flags)) or "[]",
                embedded_metadata=_json_text(metadata) if metadata else None,
                confidential=info.confidential,
                verification_status=VerificationStatus.UNVERIFIED.value,
                preview_status=(report.status if report else PreviewStatus.NONE).value,
                state=ItemState.STORED.value,
                origin_device=self.vault.device_id,
                created_at=now,
                updated_at=now,
                change_seq=next_change_seq(session),
                storage_name=sealed.storage_name,
                file_id=sealed.file_id,
                wrapped_dek=self.store.wrap_dek(item_id, sealed.storage_name, sealed.dek),
                sealed_size=sealed.sealed_size,
            )
            session.add(row)
            session.flush()
            for kind, image in (("thumbnail", thumbnail), ("preview", preview)):
                if image:
                    width, height = _jpeg_size(image)
                    session.add(
                        EvidencePreviewRow(
                            item_id=item_id,
                            kind=kind,
                            media_type="image/jpeg",
                            width=width,
                            height=height,
                            data=image,
                        )
                    )
            self._write_links(session, item_id, links)
            action = {
                CopyRole.ORIGINAL: CustodyAction.COLLECTED,
                CopyRole.WORKING: CustodyAction.COPIED,
                CopyRole.DERIVED: CustodyAction.DERIVATIVE_CREATED,
            }[info.copy_role]
            CustodyLog.append(
                session,
                item_id,
                action,
                device_id=self.vault.device_id,
                actor=self.actor,
                purpose=_purpose_code(purpose),
                hash_after=sealed.sha256,
                details={"size": sealed.size, "media_type": media_type},
            )
            if info.parent_id is not None:
                parent = self.store.get_row(session, info.parent_id)
                CustodyLog.append(
                    session,
                    parent.id,
                    CustodyAction.COPIED
                    if info.copy_role == CopyRole.WORKING
                    else CustodyAction.DERIVATIVE_CREATED,
                    device_id=self.vault.device_id,
                    actor=self.actor,
                    hash_before=parent.sha256,
                    hash_after=sealed.sha256,
                    details={"derived_item": item_id, "transformation": info.transformation},
                )
            AuditLog.append(
                session,
                "evidence.add",
                "evidence",
                item_id,
                content_hash=sealed.sha256,
                details={"size": sealed.size, "media_type": media_type},
            )
            item = self._item(session, row)
        return AddResult(str(path), "added", item, report)

    def _analyse_sealed(self, sealed: SealedFile) -> media_worker.MediaResult:
        from fieldkit.crypto.stream import StreamReader

        raw = self.store.files.open_raw(sealed.storage_name)
        with StreamReader(raw, sealed.dek, close_source=True) as reader:
            return media_worker.analyse_image(io.BufferedReader(reader, CHUNK_SIZE))

    def _check_links(self, session: Session, links: EvidenceLinks) -> None:
        wanted = [
            (links.case_id, "case"),
            (links.interview_id, "interview"),
            (links.visit_id, "visit"),
            *((pid, "person") for pid in links.person_ids),
        ]
        if not any(record_id for record_id, _ in wanted):
            return
        records = self._records()
        for record_id, expected in wanted:
            if record_id is None:
                continue
            view = records.get(session, record_id, include_deleted=False)
            if view.type != expected:
                raise FieldkitError(
                    ErrorCode.RECORD_WRONG_TYPE,
                    id=record_id,
                    actual=record_type_name(view.type),
                    expected=record_type_name(expected),
                )

    def _write_links(self, session: Session, item_id: str, links: EvidenceLinks) -> None:
        if links == EvidenceLinks():
            return
        records = self._records()
        for kind, field_name in _LINK_FIELDS.items():
            target = getattr(links, field_name)
            if target is not None:
                records.link(session, item_id, target, kind.value)
        for person_id in links.person_ids:
            records.link(session, item_id, person_id, LinkKind.PERSON.value)

    def _inherited_consent(
        self, session: Session, interview_id: str | None
    ) -> dict[str, Any] | None:
        """The consent decisions of the linked interview, per scope, after withdrawals."""
        if interview_id is None:
            return None
        data = self._records().get(session, interview_id).data
        consent = _find_consent(data)
        if consent is None:
            return {"interview_id": interview_id, "scopes": {}, "limited": False}
        scopes = sorted({entry.scope for entry in consent.scopes})
        statuses = {scope: consent.effective_status(scope) for scope in scopes}
        conditions = {
            entry.scope: entry.conditions
            for entry in consent.scopes
            if entry.conditions and statuses.get(entry.scope) == ConsentStatus.CONDITIONAL
        }
        return {
            "interview_id": interview_id,
            "scopes": {k: (v.value if v else None) for k, v in statuses.items()},
            "conditions": conditions,
            "limited": any(v != ConsentStatus.GRANTED for v in statuses.values()),
        }

    # -- reading ----------------------------------------------------------------------------

    def _links_of(self, session: Session, item_ids: Sequence[str]) -> dict[str, EvidenceLinks]:
        """The links of many items in one query (per 500 ids)."""
        found: dict[str, dict[str, Any]] = {i: {"person_ids": []} for i in item_ids}
        kinds = {k.value: f for k, f in _LINK_FIELDS.items()}
        ids = list(item_ids)
        for start in range(0, len(ids), 500):
            rows = session.execute(
                select(RecordLinkRow.from_id, RecordLinkRow.kind, RecordLinkRow.to_id)
                .where(
                    RecordLinkRow.from_id.in_(ids[start : start + 500]),
                    RecordLinkRow.deleted.is_(False),
                )
                .order_by(RecordLinkRow.id)
            ).all()
            for from_id, kind, to_id in rows:
                values = found[from_id]
                if kind == LinkKind.PERSON.value:
                    values["person_ids"].append(to_id)
                elif kind in kinds:
                    values[kinds[kind]] = to_id
        return {
            item_id: EvidenceLinks(**{**v, "person_ids": tuple(v["person_ids"])})
            for item_id, v in found.items()
        }

    def _items(self, session: Session, rows: Sequence[EvidenceItemRow]) -> list[EvidenceItem]:
        links = self._links_of(session, [r.id for r in rows])
        return [self._item(session, row, links[row.id]) for row in rows]

    def _item(
        self, session: Session, row: EvidenceItemRow, links: EvidenceLinks | None = None
    ) -> EvidenceItem:
        if links is None:
            links = self._links_of(session, [row.id])[row.id]
        return EvidenceItem(
            id=row.id,
            item_type=ItemType(row.item_type),
            title=row.title,
            description=row.description,
            creator=row.creator,
            collected_by=row.collected_by,
            collected_at=row.collected_at,
            content_created_at=row.content_created_at,
            place_created=row.place_created,
            place_collected=row.place_collected,
            obtained_from=row.obtained_from,
            obtained_how=ObtainedHow(row.obtained_how) if row.obtained_how else None,
            capture_device=row.capture_device,
            original_name=row.original_name,
            size=row.size,
            media_type=row.media_type,
            sha256=row.sha256,
            copy_role=CopyRole(row.copy_role),
            parent_id=row.parent_id,
            transformation=row.transformation,
            links=links,
            consent_limits=_from_json(row.consent_limits),
            sensitive_flags=tuple(SensitiveFlag(f) for f in json.loads(row.sensitive_flags)),
            embedded_metadata=_from_json(row.embedded_metadata),
            confidential=row.confidential,
            verification_status=VerificationStatus(row.verification_status),
            preview_status=PreviewStatus(row.preview_status),
            state=ItemState(row.state),
            origin_device=row.origin_device,
            created_at=row.created_at,
            updated_at=row.updated_at,
            change_seq=row.change_seq,
        )

    def get(self, item_id: str) -> EvidenceItem:
        with self.vault.session() as session:
            return self._item(session, self.store.get_row(session, item_id))

    def list_items(
        self,
        *,
        case_id: str | None = None,
        include_purged: bool = True,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[EvidenceItem]:
        with self.vault.session() as session:
            query = select(EvidenceItemRow)
            if case_id is not None:
                query = query.join(
                    RecordLinkRow,
                    (RecordLinkRow.from_id == EvidenceItemRow.id)
                    & (RecordLinkRow.kind == LinkKind.CASE.value)
                    & (RecordLinkRow.deleted.is_(False)),
                ).where(RecordLinkRow.to_id == case_id)
            if not include_purged:
                query = query.where(EvidenceItemRow.state == ItemState.STORED.value)
            query = query.order_by(EvidenceItemRow.created_at, EvidenceItemRow.id).offset(offset)
            if limit is not None:
                query = query.limit(limit)
            return self._items(session, list(session.execute(query).scalars()))

    def update(self, item_id: str, changes: EvidenceUpdate) -> EvidenceItem:
        """Change an item's description (never its file); audited with the changed field names."""
        fields = sorted(changes.model_fields_set)
        with self.vault.session() as session:
            row = self.store.get_row(session, item_id)
            if not fields:
                return self._item(session, row)
            for name in fields:
                setattr(row, name, _column_value(name, getattr(changes, name)))
            row.updated_at = utc_now()
            row.change_seq = next_change_seq(session)
            AuditLog.append(
                session, "evidence.update", "evidence", item_id, details={"fields": fields}
            )
            session.flush()
            return self._item(session, row)

    def open_original(self, item_id: str, *, viewed_purpose: str | None = None) -> BinaryIO:
        """The original bytes, decrypted as they are read (constant memory).

        Each chunk is authenticated before it is returned; a damaged file raises
        EVIDENCE_TAMPERED from ``read``. With ``viewed_purpose`` a "viewed" custody event is
        written first (the desktop program's viewer); bundle export logs its own event.
        """
        with self.vault.session() as session:
            row = self.store.get_row(session, item_id)
            if viewed_purpose is not None:
                self._custody(
                    session, row, CustodyAction.VIEWED, purpose=_purpose_code(viewed_purpose)
                )
        return cast(BinaryIO, _TamperMapping(self.store.open_row(row), item_id))

    def thumbnail(self, item_id: str) -> bytes | None:
        """The JPEG thumbnail (decrypted in memory, for QPixmap.loadFromData), if one was made."""
        with self.vault.session() as session:
            self.store.get_row(session, item_id)
            preview = session.get(EvidencePreviewRow, (item_id, "thumbnail"))
            return bytes(preview.data) if preview is not None else None

    def preview(self, item_id: str, *, purpose: str | None = None) -> bytes | None:
        """The larger JPEG preview for the viewer; showing it is a "viewed" custody event."""
        with self.vault.session() as session:
            row = self.store.get_row(session, item_id)
            found = session.get(EvidencePreviewRow, (item_id, "preview"))
            if found is None:
                return None
            self._custody(
                session,
                row,
                CustodyAction.VIEWED,
                purpose=_purpose_code(purpose),
                details={"what": "preview"},
            )
            return bytes(found.data)

    def metadata_doc(self, item_id: str) -> dict[str, Any]:
        """The exchange form of an item's description (for bundles): no storage details."""
        with self.vault.session() as session:
            return self._doc(session, self.store.get_row(session, item_id))

    def _doc(self, session: Session, row: EvidenceItemRow) -> dict[str, Any]:
        item = self._item(session, row)
        doc = item.model_dump(mode="json", exclude={"preview_status", "change_seq", "state"})
        doc["format"] = DOC_FORMAT
        return doc

    def items_since(self, session: Session, change_seq: int) -> Iterator[dict[str, Any]]:
        """Metadata documents of stored items changed after ``change_seq`` (for bundles)."""
        rows = session.execute(
            select(EvidenceItemRow)
            .where(
                EvidenceItemRow.change_seq > change_seq,
                EvidenceItemRow.state == ItemState.STORED.value,
            )
            .order_by(EvidenceItemRow.change_seq)
        ).scalars()
        for row in rows:
            yield self._doc(session, row)

    def custody_since(self, session: Session, change_seq: int) -> Iterator[dict[str, Any]]:
        """This device's custody events after ``change_seq``, in exchange form (for bundles)."""
        for event in CustodyLog.events_since(session, change_seq, local_only=True):
            yield event_doc(event)

    def open_for_bundle(self, session: Session, item_id: str) -> BinaryIO:
        """The original for a bundle writer inside its own session (no custody event)."""
        reader = _TamperMapping(self.store.open_row(self.store.get_row(session, item_id)), item_id)
        return cast(BinaryIO, reader)

    def record_bundle_export(
        self, session: Session, item_id: str, *, bundle_id: str, recipient: str | None = None
    ) -> CustodyEvent:
        row = self.store.get_row(session, item_id)
        return self._custody(
            session,
            row,
            CustodyAction.EXPORTED_IN_BUNDLE,
            hash_before=row.sha256,
            details={"bundle_id": bundle_id, "recipient": recipient},
        )

    # -- custody ----------------------------------------------------------------------------

    def _custody(
        self,
        session: Session,
        row: EvidenceItemRow,
        action: CustodyAction,
        *,
        purpose: str | None = None,
        hash_before: str | None = None,
        hash_after: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> CustodyEvent:
        return CustodyLog.append(
            session,
            row.id,
            action,
            device_id=self.vault.device_id,
            actor=self.actor,
            purpose=purpose,
            hash_before=hash_before,
            hash_after=hash_after,
            details=details,
        )

    def custody_events(self, item_id: str) -> list[CustodyEvent]:
        with self.vault.session() as session:
            self.store.get_row(session, item_id)
            return CustodyLog.events(session, item_id)

    def verify_custody(self, item_id: str | None = None) -> list[CustodyProblem]:
        """Every hash and link of the custody log (one item or all); empty when intact."""
        with self.vault.session() as session:
            if item_id is not None:
                self.store.get_row(session, item_id)
            problems = CustodyLog.verify(session, item_id, local_device=self.vault.device_id)
            query = select(EvidenceItemRow.id).where(
                ~select(CustodyEventRow.id)
                .where(CustodyEventRow.item_id == EvidenceItemRow.id)
                .exists()
            )
            if item_id is not None:
                query = query.where(EvidenceItemRow.id == item_id)
            for empty in session.execute(query).scalars():
                problems.append(
                    CustodyProblem(empty, self.vault.device_id, 0, N_("the custody log is empty"))
                )
            return problems

    # -- verify -----------------------------------------------------------------------------

    def verify(
        self,
        item_id: str | None = None,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> list[VerifyResult]:
        """Re-hash one item (or every stored item) from the store against its recorded SHA-256.

        Each result is logged in the item's custody: "hash_verified" or "integrity_failure".
        """
        with self.vault.session() as session:
            if item_id is not None:
                rows = [self.store.get_row(session, item_id)]
            else:
                rows = list(
                    session.execute(
                        select(EvidenceItemRow).order_by(
                            EvidenceItemRow.created_at, EvidenceItemRow.id
                        )
                    ).scalars()
                )
        total = sum(r.size for r in rows if r.state == ItemState.STORED.value)
        done = 0
        results: list[VerifyResult] = []
        for row in rows:
            if cancel is not None:
                cancel.raise_if_cancelled()
            result = self._verify_row(row, done, total, progress, cancel)
            done += row.size if row.state == ItemState.STORED.value else 0
            results.append(result)
            if result.status == "purged":
                continue
            with self.vault.session() as session:
                fresh = self.store.get_row(session, row.id)
                if result.ok:
                    self._custody(
                        session,
                        fresh,
                        CustodyAction.HASH_VERIFIED,
                        hash_before=fresh.sha256,
                        hash_after=result.actual_sha256,
                    )
                else:
                    self._custody(
                        session,
                        fresh,
                        CustodyAction.INTEGRITY_FAILURE,
                        hash_before=fresh.sha256,
                        hash_after=result.actual_sha256,
                        details={
                            k: v
                            for k, v in (
                                ("status", result.status),
                                ("detail", result.detail),
                                ("chunk", result.chunk),
                            )
                            if v is not None
                        },
                    )
                    AuditLog.append(
                        session,
                        "evidence.integrity_failure",
                        "evidence",
                        row.id,
                        content_hash=row.sha256,
                        details={"status": result.status},
                    )
        return results

    def _verify_row(
        self,
        row: EvidenceItemRow,
        done: int,
        total: int,
        progress: ProgressFn | None,
        cancel: CancelToken | None,
    ) -> VerifyResult:
        base = {"item_id": row.id, "expected_sha256": row.sha256}
        if row.state == ItemState.PURGED.value or row.wrapped_dek is None:
            return VerifyResult(ok=True, status="purged", **base)
        file_status = self.store.file_status(row)
        if file_status == "missing":
            return VerifyResult(
                ok=False, status="missing", detail=N_("the stored file is missing"), **base
            )
        digest = hashlib.sha256()
        size = 0
        try:
            with self.store.open_row(row) as reader:
                buffer = bytearray(CHUNK_SIZE * IO_BATCH)
                while n := reader.readinto(buffer):
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    digest.update(memoryview(buffer)[:n])
                    size += n
                    if progress is not None:
                        progress(done + size, total, "verifying")
        except StreamError as exc:
            chunk = exc.chunk if isinstance(exc, StreamAuthError) else None
            return VerifyResult(ok=False, status="tampered", detail=exc.reason, chunk=chunk, **base)
        except FieldkitError as exc:
            if exc.code in (ErrorCode.EVIDENCE_TAMPERED, ErrorCode.EVIDENCE_MISSING_FILE):
                return VerifyResult(
                    ok=False, status="tampered", detail=str(exc.params.get("reason")), **base
                )
            raise
        actual = digest.hexdigest()
        if actual != row.sha256 or size != row.size:
            return VerifyResult(
                ok=False,
                status="tampered",
                detail=N_("the content does not match the recorded SHA-256"),
                actual_sha256=actual,
                **base,
            )
        return VerifyResult(ok=True, status="ok", actual_sha256=actual, **base)

    # -- export and purge -------------------------------------------------------------------

    def export(
        self,
        item_id: str,
        destination: Path | str,
        *,
        purpose: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> ExportResult:
        """Write the original, byte for byte, to ``destination`` (which must not exist).

        The bytes are re-hashed while written; on any mismatch nothing is left at the
        destination and an integrity failure is logged. A custody event records the export.
        """
        destination = Path(destination)
        if destination.is_dir():
            with self.vault.session() as session:
                name = self.store.get_row(session, item_id).original_name
            destination = destination / _safe_name(name, item_id)
        if destination.exists() or destination.is_symlink():
            raise FieldkitError(ErrorCode.FILE_EXISTS, path=str(destination))
        with self.vault.session() as session:
            row = self.store.get_row(session, item_id)
        partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:8]}.partial")
        digest = hashlib.sha256()
        size = 0
        try:
            with self.store.open_row(row) as reader:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
                with open(fd, "wb", buffering=0) as sink:
                    buffer = bytearray(CHUNK_SIZE * IO_BATCH)
                    while n := reader.readinto(buffer):
                        if cancel is not None:
                            cancel.raise_if_cancelled()
                        block = memoryview(buffer)[:n]
                        digest.update(block)
                        sink.write(block)
                        size += n
                        if progress is not None:
                            progress(size, row.size, "exporting")
                    os.fsync(sink.fileno())
            actual = digest.hexdigest()
            if actual != row.sha256:
                raise _Mismatch(actual)
            _publish(partial, destination)
            with contextlib.suppress(OSError):
                fsync_dir(destination.parent)
        except (StreamError, _Mismatch) as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            detail = exc.reason if isinstance(exc, StreamError) else str(exc)
            failure: dict[str, Any] = {"during": "export", "detail": detail}
            if isinstance(exc, StreamAuthError):
                failure["chunk"] = exc.chunk
            with self.vault.session() as session:
                self._custody(
                    session,
                    self.store.get_row(session, item_id),
                    CustodyAction.INTEGRITY_FAILURE,
                    hash_before=row.sha256,
                    hash_after=exc.actual if isinstance(exc, _Mismatch) else None,
                    details=failure,
                )
            raise FieldkitError(
                ErrorCode.EVIDENCE_TAMPERED, id=item_id, reason=TranslatableText(detail)
            ) from exc
        except FileExistsError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise FieldkitError(ErrorCode.FILE_EXISTS, path=str(destination)) from exc
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise FieldkitError(ErrorCode.DISK_FULL, path=str(destination.parent)) from exc
            raise FieldkitError(
                ErrorCode.FILE_NOT_WRITABLE,
                path=str(destination),
                reason=os_reason(exc),
            ) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
        with self.vault.session() as session:
            fresh = self.store.get_row(session, item_id)
            self._custody(
                session,
                fresh,
                CustodyAction.EXPORTED,
                purpose=_purpose_code(purpose),
                hash_before=row.sha256,
                hash_after=actual,
                # Never the path: a home folder's name can identify the monitor, and custody
                # events travel in bundles and are printed in case files.
                details=_destination_details(destination),
            )
            AuditLog.append(
                session, "evidence.export", "evidence", item_id, content_hash=row.sha256
            )
        return ExportResult(item_id, str(destination), actual, size)

    def purge(self, item_id: str, *, reason: str | None = None) -> EvidenceItem:
        """Crypto-erase an item: destroy its key, delete its file and previews.

        ``reason`` is a :class:`CustodyPurpose` code (the program's own reasons) or text a person
        typed, kept as typed.

        The item's identity (id, SHA-256, size, type, links) and its custody log stay, so the
        history shows what existed and when it was destroyed; embedded metadata is cleared.
        """
        with self.vault.session() as session:
            row = self.store.get_row(session, item_id)
            if row.state == ItemState.PURGED.value:
                raise FieldkitError(ErrorCode.EVIDENCE_PURGED, id=item_id)
            row.wrapped_dek = None
            row.state = ItemState.PURGED.value
            row.embedded_metadata = None
            row.purged_at = utc_now()
            row.updated_at = row.purged_at
            row.change_seq = next_change_seq(session)
            for preview in session.execute(
                select(EvidencePreviewRow).where(EvidencePreviewRow.item_id == item_id)
            ).scalars():
                session.delete(preview)
            self._custody(
                session,
                row,
                CustodyAction.PURGED,
                purpose=_purpose_code(reason),
                hash_before=row.sha256,
            )
            AuditLog.append(session, "evidence.purge", "evidence", item_id, content_hash=row.sha256)
            storage_name = row.storage_name
        # The key is gone (committed); the file is now unreadable ciphertext. Delete it; if this
        # is interrupted, the start-up clean-up removes it.
        self.store.files.delete(storage_name)
        return self.get(item_id)

    # -- import (bundles) -------------------------------------------------------------------

    def import_item(
        self,
        session: Session,
        meta_doc: Mapping[str, Any],
        source: BinaryIO,
        expected_sha256: str,
        size: int,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> str:
        """Store an item received in a bundle inside the importer's transaction; returns its id.

        The source is re-encrypted under a fresh key while hashed; a size or hash mismatch leaves
        nothing behind and raises EVIDENCE_TAMPERED. An item already here with the same hash is a
        no-op. If the importer's transaction later rolls back, the stored file becomes an orphan
        that the start-up clean-up removes.
        """
        item_id = str(meta_doc.get("id", ""))
        try:
            item_id = str(uuid.UUID(item_id))
        except ValueError:
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT, detail=TranslatableText(N_("malformed evidence id"))
            ) from None
        existing = session.get(EvidenceItemRow, item_id)
        if existing is not None:
            if existing.sha256 != expected_sha256:
                raise FieldkitError(
                    ErrorCode.EVIDENCE_TAMPERED,
                    id=item_id,
                    reason=TranslatableText(N_("a different file with this id is already here")),
                )
            self._refresh_description(session, existing, meta_doc)
            return item_id
        if meta_doc.get("format") != DOC_FORMAT:
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT,
                detail=_("evidence {id}: unknown description format").format(id=item_id),
            )
        doc = EvidenceItem.model_validate(
            {
                **{k: v for k, v in meta_doc.items() if k != "format"},
                "preview_status": PreviewStatus.NONE.value,
                "change_seq": 0,
                "state": ItemState.STORED.value,
            }
        )
        for ref in (
            doc.parent_id,
            doc.origin_device,
            doc.links.case_id,
            doc.links.interview_id,
            doc.links.visit_id,
            *doc.links.person_ids,
        ):
            if ref is not None and not _is_uuid(ref):
                raise FieldkitError(
                    ErrorCode.INVALID_ARGUMENT,
                    detail=_("evidence {id}: malformed reference").format(id=item_id),
                )
        if doc.sha256 != expected_sha256 or doc.size != size:
            raise FieldkitError(
                ErrorCode.EVIDENCE_TAMPERED,
                id=item_id,
                reason=TranslatableText(N_("the bundle's manifest disagrees with the description")),
            )
        sealed = self.store.files.write(
            cast(BinaryIO, _Limited(source, size)), total=size, progress=progress, cancel=cancel
        )
        if sealed.size != size or sealed.sha256 != expected_sha256:
            self.store.files.delete(sealed.storage_name)
            raise FieldkitError(
                ErrorCode.EVIDENCE_TAMPERED,
                id=item_id,
                reason=TranslatableText(N_("the received bytes do not match their SHA-256")),
            )
        try:
            row = EvidenceItemRow(
                id=item_id,
                item_type=doc.item_type.value,
                title=doc.title,
                description=doc.description,
                creator=doc.creator,
                collected_by=doc.collected_by,
                collected_at=doc.collected_at,
                content_created_at=doc.content_created_at,
                place_created=doc.place_created,
                place_collected=doc.place_collected,
                obtained_from=doc.obtained_from,
                obtained_how=doc.obtained_how.value if doc.obtained_how else None,
                capture_device=doc.capture_device,
                original_name=doc.original_name,
                size=doc.size,
                media_type=doc.media_type,
                sha256=doc.sha256,
                dedup_tag=self.store.dedup_tag(doc.sha256),
                copy_role=doc.copy_role.value,
                parent_id=doc.parent_id
                if doc.parent_id and session.get(EvidenceItemRow, doc.parent_id)
                else None,
                transformation=doc.transformation,
                consent_limits=_json_text(doc.consent_limits),
                sensitive_flags=_json_text(sorted(f.value for f in doc.sensitive_flags)) or "[]",
                embedded_metadata=_json_text(doc.embedded_metadata),
                confidential=doc.confidential,
                verification_status=doc.verification_status.value,
                preview_status=PreviewStatus.NONE.value,
                state=ItemState.STORED.value,
                origin_device=doc.origin_device,
                created_at=doc.created_at,
                updated_at=doc.updated_at,
                change_seq=next_change_seq(session),
                storage_name=sealed.storage_name,
                file_id=sealed.file_id,
                wrapped_dek=self.store.wrap_dek(item_id, sealed.storage_name, sealed.dek),
                sealed_size=sealed.sealed_size,
            )
            session.add(row)
            session.flush()
            if doc.links != EvidenceLinks():
                records = self._records()
                for kind, field_name in _LINK_FIELDS.items():
                    target = getattr(doc.links, field_name)
                    if target is not None:
                        records.link(session, item_id, target, kind.value, check_records=False)
                for person_id in doc.links.person_ids:
                    records.link(
                        session, item_id, person_id, LinkKind.PERSON.value, check_records=False
                    )
            self._custody(
                session,
                row,
                CustodyAction.RECEIVED,
                hash_before=expected_sha256,
                hash_after=sealed.sha256,
                details={"from_device": doc.origin_device},
            )
            AuditLog.append(
                session, "evidence.import", "evidence", item_id, content_hash=sealed.sha256
            )
        except BaseException:
            self.store.files.delete(sealed.storage_name)
            raise
        return item_id

    def _refresh_description(
        self, session: Session, row: EvidenceItemRow, meta_doc: Mapping[str, Any]
    ) -> None:
        """A newer description of an item from the device that made it replaces the old one."""
        updated_at = meta_doc.get("updated_at")
        if (
            not isinstance(updated_at, str)
            or updated_at <= row.updated_at
            or meta_doc.get("origin_device") != row.origin_device
        ):
            return
        try:
            changes = EvidenceUpdate.model_validate(
                {name: meta_doc.get(name) for name in DESCRIPTIVE_FIELDS}
            )
        except ValueError as exc:
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT,
                detail=_("evidence {id}: malformed description").format(id=row.id),
            ) from exc
        for name in DESCRIPTIVE_FIELDS:
            value = getattr(changes, name)
            if name in ("item_type", "verification_status", "confidential") and value is None:
                continue
            setattr(row, name, _column_value(name, value))
        row.updated_at = updated_at
        row.change_seq = next_change_seq(session)
        AuditLog.append(session, "evidence.import_update", "evidence", row.id)

    def import_custody(
        self,
        session: Session,
        events: Sequence[Mapping[str, Any]],
        *,
        from_device: str | None = None,
    ) -> int:
        """Custody events of another device (from :meth:`custody_since` there).

        ``from_device`` is the bundle's verified signer: every event must be that device's.
        Events claiming this profile's own device are always refused.
        """
        return CustodyLog.import_events(
            session, events, local_device=self.vault.device_id, expected_device=from_device
        )


# -- helpers ----------------------------------------------------------------------------------


class _Mismatch(Exception):
    def __init__(self, actual: str) -> None:
        super().__init__("the content does not match the recorded SHA-256")
        self.actual = actual


class _Limited(io.RawIOBase):
    """Reads at most ``limit`` bytes and fails if the source has more or fewer."""

    def __init__(self, source: BinaryIO, limit: int) -> None:
        super().__init__()
        self._source = source
        self._left = limit
        self.name = "bundle member"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._left == 0:
            if self._source.read(1):
                raise OSError(errno.EFBIG, "more bytes than declared")
            return 0
        want = min(len(view), self._left)
        data = self._source.read(want)
        view[: len(data)] = data
        self._left -= len(data)
        if not data and self._left:
            raise OSError(errno.EIO, "fewer bytes than declared")
        return len(data)


class _TamperMapping(io.BufferedIOBase):
    """A reader that turns stream authentication failures into EVIDENCE_TAMPERED."""

    def __init__(self, inner: io.BufferedReader, item_id: str) -> None:
        super().__init__()
        self._inner = inner
        self._item_id = item_id

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return int(self._guard(lambda: self._inner.seek(offset, whence)))

    def tell(self) -> int:
        return self._inner.tell()

    def read(self, size: int | None = -1) -> bytes:
        return bytes(self._guard(lambda: self._inner.read(size)))

    def read1(self, size: int = -1) -> bytes:
        return bytes(self._guard(lambda: self._inner.read1(size)))

    def readinto(self, buffer: Any) -> int:
        return int(self._guard(lambda: self._inner.readinto(buffer)))

    def close(self) -> None:
        self._inner.close()
        super().close()

    def _guard(self, fn: Any) -> Any:
        try:
            return fn()
        except StreamError as exc:
            raise FieldkitError(
                ErrorCode.EVIDENCE_TAMPERED, id=self._item_id, reason=TranslatableText(exc.reason)
            ) from exc


@contextlib.contextmanager
def _open_source(path: Path) -> Iterator[tuple[io.BufferedReader[Any], int]]:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE, path=str(path), reason=os_reason(exc)
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FieldkitError(
                ErrorCode.FILE_NOT_READABLE,
                path=str(path),
                reason=TranslatableText(NOT_REGULAR_FILE),
            )
        handle = io.BufferedReader(io.FileIO(fd, "rb", closefd=False), CHUNK_SIZE)
    except BaseException:
        os.close(fd)
        raise
    try:
        with handle:
            yield handle, st.st_size
    finally:
        os.close(fd)


def _column_value(name: str, value: Any) -> Any:
    """An EvidenceUpdate/EvidenceItem field as stored in its column."""
    if name == "sensitive_flags":
        return _json_text(sorted(SensitiveFlag(f).value for f in (value or ())))
    if name == "confidential":
        return bool(value)
    if name in ("item_type", "verification_status") and value is None:
        raise FieldkitError(
            ErrorCode.INVALID_ARGUMENT, detail=_("{field} cannot be empty").format(field=name)
        )
    if hasattr(value, "value"):
        return value.value
    return value


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height from a JPEG made by the media worker (its SOF marker), else (0, 0)."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return (0, 0)
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return (width, height)
        i += 2 + length
    return (0, 0)


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _publish(partial: Path, destination: Path) -> None:
    """Give the finished file its name without ever replacing an existing file.

    A hard link fails if the name appeared meanwhile; FAT and exFAT USB sticks have no hard
    links, so there the name is checked and the file renamed (a narrow race, on removable media
    only).
    """
    try:
        os.link(partial, destination)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (
            errno.EPERM,
            errno.ENOTSUP,
            errno.EOPNOTSUPP,
            errno.EMLINK,
            errno.ENOSYS,
            errno.EXDEV,
        ):
            raise
        if destination.exists() or destination.is_symlink():
            raise FileExistsError(errno.EEXIST, "exists", str(destination)) from exc
        os.rename(partial, destination)
        return
    partial.unlink()


def _purpose_code(purpose: str | None) -> str | None:
    """A purpose as stored: language-neutral when it is one of the program's own.

    A caller may pass a :class:`CustodyPurpose` code, its label in any supported language (as a
    screen may have shown it) or an English phrase of an earlier version: all are stored as the
    code. Anything else is text a person typed and is kept as typed.
    """
    if purpose is None:
        return None
    return _purpose_codes().get(purpose.strip().casefold(), purpose)


@functools.cache
def _purpose_codes() -> dict[str, str]:
    codes: dict[str, str] = {k.casefold(): v.value for k, v in LEGACY_PURPOSES.items()}
    for language in i18n.SUPPORTED_LANGUAGES:
        translator = i18n.get_translator(language)
        for code, label in CUSTODY_PURPOSE_LABELS.items():
            codes[translator.gettext(label).casefold()] = str(code)
    codes.update({str(code): str(code) for code in CustodyPurpose})
    return codes


def _destination_details(destination: Path) -> dict[str, str]:
    """What the custody log keeps about an export's destination: the file name and the kind of
    drive when it can be told cheaply; never the folder."""
    details = {"file_name": destination.name}
    kind = _drive_kind(destination.parent)
    if kind is not None:
        details["destination"] = kind
    return details


def _drive_kind(folder: Path) -> str | None:
    """ "removable" or "local" for a folder on Linux (from sysfs), else None when unknown."""
    try:
        st = os.stat(folder)
        sys_dev = Path(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}")
        if not sys_dev.exists():
            return None  # tmpfs, network and other virtual file systems: no block device
        device = sys_dev.resolve()
    except (OSError, ValueError, AttributeError):
        return None
    if "/usb" in str(device) or "/mmc" in str(device):
        return "removable"
    for candidate in (device, device.parent):
        flag = candidate / "removable"
        try:
            if flag.is_file():
                return "removable" if flag.read_text().strip() == "1" else "local"
        except OSError:
            return None
    return None


def _safe_name(name: str, item_id: str) -> str:
    """A file name for an export: the original name without any path, else the item id."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*\x00')
    return cleaned[:200] or item_id


def _find_consent(data: Mapping[str, Any]) -> ConsentRecord | None:
    """The first consent field (a dict with a "scopes" list) in a record's data, if any."""
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            scopes = value.get("scopes")
            if isinstance(scopes, list) and all(
                isinstance(s, Mapping) and "scope" in s for s in scopes
            ):
                try:
                    return ConsentRecord.model_validate(
                        {"scopes": scopes, "withdrawals": value.get("withdrawals") or []}
                    )
                except ValueError:
                    return None
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None
