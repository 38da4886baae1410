"""Purging evidence: crypto-erasure of originals; the start-up clean-up."""

from __future__ import annotations

from sqlalchemy import select

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.evidence import CustodyAction, EvidenceItem, ItemState
from fieldkit.services.evidence.core import EvidenceBase, _purpose_code
from fieldkit.services.roles import require_writable
from fieldkit.storage.audit import AuditLog
from fieldkit.storage.changes import next_change_seq
from fieldkit.storage.custody import utc_now
from fieldkit.storage.evidence import CleanupReport, EvidenceStore
from fieldkit.storage.tables.evidence import EvidencePreviewRow
from fieldkit.storage.vault import Vault


def startup_cleanup(vault: Vault) -> CleanupReport:
    """Called by ``open_profile``: removes what an interrupted intake or purge left behind."""
    return EvidenceStore(vault).cleanup()


class PurgeMixin(EvidenceBase):
    """Crypto-erasure of an item's original."""

    def purge(self, item_id: str, *, reason: str | None = None) -> EvidenceItem:
        """Crypto-erase an item: destroy its key, delete its file and previews.

        ``reason`` is a :class:`CustodyPurpose` code (the program's own reasons) or text a person
        typed, kept as typed.

        The item's identity (id, SHA-256, size, type, links) and its custody log stay, so the
        history shows what existed and when it was destroyed; embedded metadata is cleared.
        """
        require_writable(self.vault)
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
