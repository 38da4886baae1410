"""Record use cases: enter, revise, delete, read, list and link records; cases by title.

Each call is one unit of work: data is validated against its form template before anything is
written, then the version, its audit entry, the search index and the derived links are written in
one transaction. Invalid input raises ``RecordValidationError`` naming every field at fault and
leaves the profile as it was. Results are frozen views, never database rows.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.forms import load_template
from fieldkit.domain.records import compute
from fieldkit.domain.validation import validate_record
from fieldkit.storage.records import (
    LINK_KINDS,
    ConflictView,
    LinkView,
    RecordStore,
    RecordVersionView,
    RecordView,
)
from fieldkit.storage.search import Order, RecordFilters
from fieldkit.storage.vault import Vault

__all__ = [
    "LINK_KINDS",
    "CaseService",
    "ConflictView",
    "LinkView",
    "RecordFilters",
    "RecordService",
    "RecordVersionView",
    "RecordView",
]


class RecordService:
    """Records of every form type, for the command line and the desktop program."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._store = RecordStore(vault.device_id)

    def add(
        self, form_id: str, data: Mapping[str, Any], *, confidential: bool = False
    ) -> RecordView:
        """Validate and save a new record (revision 1)."""
        normalised = validate_record(form_id, dict(data))
        with self._vault.session() as s:
            return self._store.create(s, form_id, normalised, confidential=confidential)

    def update(
        self,
        record_id: str,
        data: Mapping[str, Any],
        expected_revision: int,
        *,
        confidential: bool | None = None,
    ) -> RecordView:
        """Save the next revision of a record; STALE_REVISION if it changed since it was read."""
        with self._vault.session() as s:
            current = self._store.get(s, record_id, include_deleted=False)
            normalised = validate_record(current.template_id, dict(data))
            return self._store.save(
                s, current.id, normalised, expected_revision, confidential=confidential
            )

    def delete(self, record_id: str, expected_revision: int) -> RecordView:
        """Delete by saving a tombstone; the history stays."""
        with self._vault.session() as s:
            return self._store.delete(s, record_id, expected_revision)

    def get(self, record_id: str) -> RecordView:
        with self._vault.session() as s:
            return self._store.get(s, record_id)

    def history(self, record_id: str) -> builtins.list[RecordVersionView]:
        with self._vault.session() as s:
            return self._store.history(s, record_id)

    def computed(self, record: RecordView) -> dict[str, Any]:
        """Values derived from the data (occupancy, m² per person, delays), never stored."""
        return compute(record.template_id, dict(record.data))

    def list(
        self,
        filters: RecordFilters | None = None,
        *,
        offset: int = 0,
        limit: int = 50,
        order: Order = "updated_desc",
    ) -> builtins.list[RecordView]:
        with self._vault.session() as s:
            return self._store.list(s, filters, offset=offset, limit=limit, order=order)

    def count(self, filters: RecordFilters | None = None) -> int:
        with self._vault.session() as s:
            return self._store.count(s, filters)

    def links(self, record_id: str) -> builtins.list[LinkView]:
        with self._vault.session() as s:
            record = self._store.get(s, record_id)
            return self._store.links(s, record.id)

    def link_person(self, person_id: str, case_id: str, role: str = "") -> LinkView:
        """Link a person to a case with a role (victim, witness, perpetrator, source, ...)."""
        role = self._checked_role(role)
        with self._vault.session() as s:
            person = self._store.get(s, person_id, include_deleted=False)
            case = self._store.get(s, case_id, include_deleted=False)
            return self._store.link(s, person.id, case.id, "person_case", role)

    def unlink_person(self, person_id: str, case_id: str, role: str = "") -> bool:
        role = self._checked_role(role) if role else ""
        with self._vault.session() as s:
            person = self._store.get(s, person_id)
            case = self._store.get(s, case_id)
            return self._store.unlink(s, person.id, case.id, "person_case", role)

    def conflicts(self) -> builtins.list[ConflictView]:
        with self._vault.session() as s:
            return self._store.conflicts(s)

    @staticmethod
    def _checked_role(role: str) -> str:
        from fieldkit.domain.vocabularies import load_vocabulary

        role = role.strip()
        if not role:
            return ""
        codes = {term.code for term in load_vocabulary("event_roles").terms}
        if role not in codes:
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT,
                detail=f"role '{role[:40]}' (choose one of: {', '.join(sorted(codes))})",
            )
        return role


class CaseService:
    """Cases: the quick way in, by title alone."""

    FORM_ID = "case"

    def __init__(self, vault: Vault) -> None:
        self._records = RecordService(vault)

    def add(
        self,
        title: str,
        *,
        confidential: bool = False,
        case_type: str = "other",
        monitoring_status: str = "active",
        extra: Mapping[str, Any] | None = None,
    ) -> RecordView:
        """A case with its title; the type and monitoring status have everyday defaults."""
        template = load_template(self.FORM_ID)
        data: dict[str, Any] = {
            "case_type": case_type,
            "monitoring_status": monitoring_status,
            **dict(extra or {}),
        }
        data[template.title_field] = title
        return self._records.add(self.FORM_ID, data, confidential=confidential)

    def list(
        self, *, offset: int = 0, limit: int = 50, status: str | None = None
    ) -> list[RecordView]:
        filters = RecordFilters(types=(self.FORM_ID,), status=status)
        return self._records.list(filters, offset=offset, limit=limit)

    def count(self, *, status: str | None = None) -> int:
        return self._records.count(RecordFilters(types=(self.FORM_ID,), status=status))

    def get(self, case_id: str) -> RecordView:
        record = self._records.get(case_id)
        if record.type != self.FORM_ID:
            raise FieldkitError(ErrorCode.RECORD_NOT_FOUND, id=record.id)
        return record
