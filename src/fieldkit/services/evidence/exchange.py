"""Evidence in bundles: what an export carries and how a received item is stored."""

from __future__ import annotations

import contextlib
import errno
import io
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.evidence import (
    DESCRIPTIVE_FIELDS,
    CustodyAction,
    CustodyEvent,
    EvidenceItem,
    EvidenceLinks,
    EvidenceUpdate,
    ItemState,
    LinkKind,
    PreviewStatus,
    description_bound_problems,
)
from fieldkit.domain.progress import CancelToken, ProgressFn
from fieldkit.i18n import _
from fieldkit.services.evidence.core import (
    _LINK_FIELDS,
    DOC_FORMAT,
    EvidenceBase,
    _column_value,
    _is_uuid,
    _json_text,
    _TamperMapping,
)
from fieldkit.storage.audit import AuditLog
from fieldkit.storage.changes import next_change_seq
from fieldkit.storage.custody import CustodyLog, event_doc
from fieldkit.storage.evidence import SealedFile
from fieldkit.storage.tables.evidence import EvidenceItemRow


class ExchangeMixin(EvidenceBase):
    """The bundle writer's and the importer's side of evidence."""

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

    def import_item(
        self,
        session: Session,
        meta_doc: Mapping[str, Any],
        source: BinaryIO | None,
        expected_sha256: str,
        size: int,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        sealed_file: SealedFile | None = None,
    ) -> str:
        """Store an item received in a bundle inside the importer's transaction; returns its id.

        The source is re-encrypted under a fresh key while hashed; a size or hash mismatch leaves
        nothing behind and raises EVIDENCE_TAMPERED. An item already here with the same hash is a
        no-op. With ``sealed_file`` (the importer wrote the bytes into the store as they arrived,
        one pass) no source is read: that file becomes the item's. If the importer's transaction
        later rolls back, the stored file becomes an orphan that the start-up clean-up removes.
        """
        item_id = str(meta_doc.get("id", ""))
        try:
            item_id = str(uuid.UUID(item_id))
        except ValueError:
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT, detail=TranslatableText(N_("malformed evidence id"))
            ) from None
        too_long = description_bound_problems(meta_doc)
        if too_long:
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT,
                detail=_("evidence {id}: {fields} longer than allowed").format(
                    id=item_id, fields=", ".join(too_long)
                ),
            )
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
        if sealed_file is not None:
            sealed = sealed_file
        else:
            assert source is not None
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

    def import_sealed_item(
        self, session: Session, meta_doc: Mapping[str, Any], sealed: SealedFile
    ) -> bool:
        """:meth:`import_item` with the file already written into the store as the bundle
        streamed; True when the item took the file (False: the item was already here, and the
        caller discards the file)."""
        item_id = str(meta_doc.get("id", ""))
        with contextlib.suppress(ValueError):
            item_id = str(uuid.UUID(item_id))
        taken = session.get(EvidenceItemRow, item_id) is None
        self.import_item(session, meta_doc, None, sealed.sha256, sealed.size, sealed_file=sealed)
        return taken

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
