"""Record use cases: enter, revise, delete, read, list and link records; cases by title.

Each call is one unit of work: data is validated against its form template before anything is
written, then the version, its audit entry, the search index and the derived links are written in
one transaction. Invalid input raises ``RecordValidationError`` naming every field at fault and
leaves the profile as it was. Results are frozen views, never database rows.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from fieldkit.domain.errors import (
    ErrorCode,
    FieldkitError,
    RecordValidationError,
    ValidationIssue,
)
from fieldkit.domain.forms import FormTemplate, load_template
from fieldkit.domain.records import compute, record_type_name, record_warnings
from fieldkit.domain.validation import check_record
from fieldkit.i18n import _
from fieldkit.services.roles import require_writable
from fieldkit.storage.records import (
    LINK_KINDS,
    ConflictView,
    LinkView,
    RecordStore,
    RecordSummary,
    RecordVersionView,
    RecordView,
    Referrer,
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
    "RecordSummary",
    "RecordVersionView",
    "RecordView",
    "Referrer",
    "record_type_name",
]


@dataclass(frozen=True)
class ConflictVersions:
    """Both sides of a conflict, as entered data (``others``: device id and data per version)."""

    record_id: str
    revision: int
    template_id: str
    head_revision: int
    local: dict[str, Any]
    others: builtins.list[tuple[str, dict[str, Any]]]
    local_hash: str


def canonical_hash(doc: Mapping[str, Any]) -> str:
    import hashlib

    from fieldkit.crypto.canonical_json import canonical_dumps

    return hashlib.sha256(canonical_dumps(dict(doc))).hexdigest()


class RecordService:
    """Records of every form type, for the command line and the desktop program."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._store = RecordStore(vault.device_id)

    def add(
        self, form_id: str, data: Mapping[str, Any], *, confidential: bool = False
    ) -> RecordView:
        """Validate and save a new record (revision 1).

        Field problems and references that point nowhere are reported together, in one
        RecordValidationError, so a file is corrected in one round.
        """
        require_writable(self._vault)
        with self._vault.session() as s:
            normalised = self._checked(s, form_id, data, None)
            return self._store.create(s, form_id, normalised, confidential=confidential)

    def _checked(
        self,
        session: Session,
        form_id: str,
        data: Mapping[str, Any],
        own_id: str | None,
        version: int | None = None,
    ) -> dict[str, Any]:
        result = check_record(form_id, dict(data), version=version)
        issues = [*result.issues, *self._store.reference_issues(session, result.refs, own_id)]
        if issues:
            raise RecordValidationError(issues)
        return result.data

    def update(
        self,
        record_id: str,
        data: Mapping[str, Any],
        expected_revision: int,
        *,
        confidential: bool | None = None,
    ) -> RecordView:
        """Save the next revision of a record; STALE_REVISION if it changed since it was read."""
        require_writable(self._vault)
        with self._vault.session() as s:
            current = self._store.get(s, record_id, include_deleted=False)
            normalised = self._checked(s, current.template_id, data, current.id)
            return self._store.save(
                s, current.id, normalised, expected_revision, confidential=confidential
            )

    def conflict(self, record_id: str, revision: int) -> ConflictVersions:
        """Both sides of an open conflict: the version held here and the received one(s)."""
        from fieldkit.storage.records.conflicts import conflict_documents

        with self._vault.session() as s:
            head = self._store.get(s, record_id)
            local, others = conflict_documents(s, head.id, revision)
        return ConflictVersions(
            record_id=head.id,
            revision=revision,
            template_id=head.template_id,
            head_revision=head.revision,
            local=dict(local.get("data") or {}),
            others=[(device, dict(doc.get("data") or {})) for device, doc in others],
            local_hash=head.content_hash if head.revision == revision else "",
        )

    def resolve_conflict(
        self,
        record_id: str,
        revision: int,
        data: Mapping[str, Any],
        *,
        decision: str,
        fields: Mapping[str, str] | None = None,
    ) -> RecordView:
        """Decide a conflict: ``data`` (one side, or fields of both) becomes the next revision,
        which supersedes every version of ``revision`` here and wherever the next bundle goes.

        ``decision`` is "local", "other" or "merged"; ``fields`` says, for a merge, which side
        each differing field was taken from. The decision is in the audit log (sides and
        hashes, never content).
        """
        from fieldkit.storage.records.conflicts import conflict_documents, mark_resolved

        if decision not in ("local", "other", "merged"):
            raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail="decision")
        with self._vault.session() as s:
            head = self._store.get(s, record_id, include_deleted=False)
            local, others = conflict_documents(s, head.id, revision)
            normalised = self._checked(s, head.template_id, data, head.id)
            details: dict[str, Any] = {
                "conflict_revision": revision,
                "decision": decision,
                "versions": sorted(
                    {canonical_hash(local)} | {canonical_hash(doc) for _d, doc in others}
                ),
            }
            if fields:
                details["fields"] = {k: v for k, v in sorted(fields.items())}
            view = self._store.save(
                s,
                head.id,
                normalised,
                head.revision,
                always=True,
                action="record.conflict_resolved",
                details=details,
            )
            mark_resolved(s, head.id, revision)
            return view

    def delete(self, record_id: str, expected_revision: int, *, force: bool = False) -> RecordView:
        """Delete by saving a tombstone; the history stays.

        RECORD_IN_USE while live records refer to it (see :meth:`referrers`), unless ``force``.
        """
        require_writable(self._vault)
        with self._vault.session() as s:
            return self._store.delete(s, record_id, expected_revision, force=force)

    def referrers(self, record_id: str) -> builtins.list[Referrer]:
        """Live records whose data refers to this record (a visit naming a facility, ...)."""
        with self._vault.session() as s:
            record = self._store.get(s, record_id)
            return self._store.referrers(s, record.id)

    def get(self, record_id: str) -> RecordView:
        with self._vault.session() as s:
            return self._store.get(s, record_id)

    def history(self, record_id: str) -> builtins.list[RecordVersionView]:
        with self._vault.session() as s:
            return self._store.history(s, record_id)

    def computed(self, record: RecordView) -> dict[str, Any]:
        """Values derived from the data (occupancy, m² per person, delays), never stored, with the
        formulas of the template version the record was filled with."""
        template = record_template(record)
        return compute(record.template_id, dict(record.data), template=template)

    def warnings(self, record: RecordView) -> builtins.list[ValidationIssue]:
        """Values that are allowed but look wrong (a floor area far from length × width)."""
        template = record_template(record)
        return record_warnings(record.template_id, dict(record.data), template=template)

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

    def list_summaries(
        self,
        filters: RecordFilters | None = None,
        *,
        offset: int = 0,
        limit: int = 50,
        order: Order = "updated_desc",
    ) -> builtins.list[RecordSummary]:
        """A page of list rows (id, type, title, status, revision, dates, flags) without the data;
        what the desktop list and `record list` show. Much cheaper than :meth:`list`."""
        # By title a hub sorts the opened titles first: two statements, one transaction.
        unit = self._vault.session if order == "title" else self._vault.reading
        with unit() as s:
            return self._store.list_summaries(s, filters, offset=offset, limit=limit, order=order)

    def count(self, filters: RecordFilters | None = None) -> int:
        with self._vault.reading() as s:
            return self._store.count(s, filters)

    def links(self, record_id: str) -> builtins.list[LinkView]:
        with self._vault.session() as s:
            record = self._store.get(s, record_id)
            return self._store.links(s, record.id)

    def summaries_of(self, record_ids: Sequence[str]) -> dict[str, RecordSummary]:
        """List rows (title, type, deleted, ...) of the given records, by id; unknown ids are
        left out. For showing what a record's links point at."""
        with self._vault.session() as s:
            return self._store.summaries_of(s, record_ids)

    def link_person(self, person_id: str, case_id: str, role: str = "") -> LinkView:
        """Link a person to a case with a role (victim, witness, perpetrator, source, ...)."""
        require_writable(self._vault)
        role = self._checked_role(role)
        with self._vault.session() as s:
            person = self._store.get(s, person_id, include_deleted=False)
            case = self._store.get(s, case_id, include_deleted=False)
            _expect_type(person, "person")
            _expect_type(case, "case")
            return self._store.link(s, person.id, case.id, "person_case", role)

    def unlink_person(self, person_id: str, case_id: str, role: str = "") -> bool:
        require_writable(self._vault)
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
                detail=_("unknown role '{role}' (choose one of: {choices})").format(
                    role=role[:40], choices=", ".join(sorted(codes))
                ),
            )
        return role


def record_template(record: RecordView) -> FormTemplate:
    """The template version a record was filled with (the current one if it is unknown here)."""
    version = record.template_version
    if isinstance(version, str) and version.isdigit():
        try:
            return load_template(record.template_id, int(version))
        except FieldkitError:
            pass
    return load_template(record.template_id)


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
    ) -> builtins.list[RecordView]:
        filters = RecordFilters(types=(self.FORM_ID,), status=status)
        return self._records.list(filters, offset=offset, limit=limit)

    def list_summaries(
        self, *, offset: int = 0, limit: int = 50, status: str | None = None
    ) -> builtins.list[RecordSummary]:
        filters = RecordFilters(types=(self.FORM_ID,), status=status)
        return self._records.list_summaries(filters, offset=offset, limit=limit)

    def count(self, *, status: str | None = None) -> int:
        return self._records.count(RecordFilters(types=(self.FORM_ID,), status=status))

    def get(self, case_id: str) -> RecordView:
        record = self._records.get(case_id)
        _expect_type(record, self.FORM_ID)
        return record


def _expect_type(record: RecordView, expected: str) -> None:
    """RECORD_WRONG_TYPE naming what the record is (a person id given where a case is wanted)."""
    if record.type != expected:
        raise FieldkitError(
            ErrorCode.RECORD_WRONG_TYPE,
            id=record.id,
            actual=record_type_name(record.type),
            expected=record_type_name(expected),
        )
