"""The custody log of evidence: its events and their verification."""

from __future__ import annotations

from sqlalchemy import select

from fieldkit.domain.errors import N_
from fieldkit.domain.evidence import CustodyEvent, ItemState
from fieldkit.i18n import _
from fieldkit.services.evidence.core import EvidenceBase
from fieldkit.storage.custody import CustodyLog, CustodyProblem
from fieldkit.storage.evidence import EvidenceStore
from fieldkit.storage.tables.evidence import CustodyEventRow, EvidenceItemRow
from fieldkit.storage.vault import Vault


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


class CustodyMixin(EvidenceBase):
    """Each item's custody events and the verification of the whole log."""

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
