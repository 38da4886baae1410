"""Adding evidence: a file streamed into the encrypted store, its description, links and custody."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from fieldkit.crypto.stream import CHUNK_SIZE, StreamError
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.evidence import (
    PREVIEWABLE_TYPES,
    CopyRole,
    CustodyAction,
    EvidenceInput,
    EvidenceItem,
    EvidenceLinks,
    ItemState,
    ItemType,
    MediaReport,
    PreviewStatus,
    SensitiveFlag,
    VerificationStatus,
    item_type_for,
    sniff_media_type,
)
from fieldkit.domain.oserrors import NOT_REGULAR_FILE, os_reason
from fieldkit.domain.progress import CancelToken, ProgressFn
from fieldkit.services import media_worker
from fieldkit.services.evidence.core import _json_text, _purpose_code
from fieldkit.services.evidence.links import LinksMixin
from fieldkit.services.roles import require_writable
from fieldkit.storage.audit import AuditLog
from fieldkit.storage.changes import next_change_seq
from fieldkit.storage.custody import CustodyLog, utc_now
from fieldkit.storage.evidence import SealedFile
from fieldkit.storage.tables.evidence import EvidenceItemRow, EvidencePreviewRow

_SNIFF_BYTES = 512
_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff"})


@dataclass(frozen=True)
class AddResult:
    """The outcome of adding one file: ``status`` is "added" or "duplicate"."""

    source: str
    status: str
    item: EvidenceItem
    preview: MediaReport | None = None


class IntakeMixin(LinksMixin):
    """Adding files and exact working copies."""

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
        require_writable(self.vault)
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
        require_writable(self.vault)
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
