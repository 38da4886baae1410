"""Reading evidence: items, descriptions and their changes, originals, previews."""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from sqlalchemy import select

from fieldkit.domain.evidence import (
    CustodyAction,
    EvidenceItem,
    EvidenceUpdate,
    ItemState,
    LinkKind,
)
from fieldkit.services.evidence.core import (
    EvidenceBase,
    _column_value,
    _purpose_code,
    _TamperMapping,
)
from fieldkit.services.roles import require_writable
from fieldkit.storage.audit import AuditLog
from fieldkit.storage.changes import next_change_seq
from fieldkit.storage.custody import utc_now
from fieldkit.storage.tables.evidence import EvidenceItemRow, EvidencePreviewRow
from fieldkit.storage.tables.records import RecordLinkRow


class ReadingMixin(EvidenceBase):
    """Items, their descriptions and contents, as the screens and the CLI read them."""

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
        require_writable(self.vault)
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
