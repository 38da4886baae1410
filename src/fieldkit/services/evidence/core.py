"""What every part of the evidence service shares: the profile, the item model, custody events."""

from __future__ import annotations

import functools
import io
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldkit import i18n
from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.crypto.stream import StreamError
from fieldkit.domain.errors import ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.evidence import (
    CUSTODY_PURPOSE_LABELS,
    LEGACY_PURPOSES,
    CopyRole,
    CustodyAction,
    CustodyEvent,
    CustodyPurpose,
    EvidenceItem,
    EvidenceLinks,
    ItemState,
    ItemType,
    LinkKind,
    ObtainedHow,
    PreviewStatus,
    SensitiveFlag,
    VerificationStatus,
)
from fieldkit.i18n import _
from fieldkit.storage.custody import CustodyLog
from fieldkit.storage.evidence import EvidenceStore
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.tables.records import RecordLinkRow
from fieldkit.storage.vault import Vault

if TYPE_CHECKING:
    from fieldkit.storage.records import RecordStore


DOC_FORMAT = "fieldkit-evidence/1"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
_LINK_FIELDS = {
    LinkKind.CASE: "case_id",
    LinkKind.INTERVIEW: "interview_id",
    LinkKind.VISIT: "visit_id",
}


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return canonical_dumps(value).decode("utf-8")


def _from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class EvidenceBase:
    """The profile, its evidence store and the acting person; the item model."""

    def __init__(self, vault: Vault, *, actor: str | None = None) -> None:
        self.vault = vault
        self.store = EvidenceStore(vault)
        self.actor = actor or vault.role.value

    def _records(self) -> RecordStore:
        # Imported when needed: the records storage pulls in the form machinery.
        from fieldkit.storage.records import RecordStore

        return RecordStore(self.vault.device_id)

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

    def _doc(self, session: Session, row: EvidenceItemRow) -> dict[str, Any]:
        item = self._item(session, row)
        doc = item.model_dump(mode="json", exclude={"preview_status", "change_seq", "state"})
        doc["format"] = DOC_FORMAT
        return doc

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


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


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
