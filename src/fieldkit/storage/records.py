"""The records repository: heads, every saved version, tombstones, links, conflicts.

Every save of a record writes, in the caller's one transaction: the new head row, an immutable
version row holding the canonical JSON of the version document and its SHA-256, the full-text
index, the links derived from its reference fields, and an audit entry carrying the same hash.
Deletion saves a tombstone version (``deleted: true``); the history stays.

The version document (what is hashed, carried in bundles and compared on import)::

    {"id", "type", "revision", "template_id", "template_version", "origin_device",
     "created_at", "updated_at", "confidential", "deleted", "data"}

Data passed to :meth:`RecordStore.create` and :meth:`RecordStore.save` must already be validated and
normalised (``fieldkit.domain.validation.validate_record``); the store checks what only the database
knows: that referenced records exist and have the right type, and that nobody saved in between.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast

from sqlalchemy import Select, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from fieldkit.crypto.canonical_json import CanonicalJSONError, canonical_dumps
from fieldkit.domain.common import date_bounds
from fieldkit.domain.errors import (
    ErrorCode,
    FieldkitError,
    RecordValidationError,
    ValidationIssue,
)
from fieldkit.domain.forms import RECORD_TYPES, FieldDef, FieldType, FormTemplate, children
from fieldkit.domain.forms import load_template as _load_template
from fieldkit.domain.records import (
    RECORD_TYPE_NAMES,
    IndexFields,
    index_fields,
    record_type_name,
)
from fieldkit.domain.validation import validate_record
from fieldkit.i18n import N_, _
from fieldkit.storage.audit import AuditItem, AuditLog, sha256_hex, utc_now
from fieldkit.storage.changes import current_change_seq, next_change_seq, next_change_seqs
from fieldkit.storage.search import Order, RecordFilters, SearchIndex
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.tables.profile import ChangeCounter
from fieldkit.storage.tables.records import (
    RecordConflictRow,
    RecordLinkRow,
    RecordRow,
    RecordVersionRow,
)

DOC_KEYS = frozenset(
    {
        "id",
        "type",
        "revision",
        "template_id",
        "template_version",
        "origin_device",
        "created_at",
        "updated_at",
        "confidential",
        "deleted",
        "data",
    }
)
MAX_PAGE = 1000
ImportOutcome = Literal["new", "same", "conflict"]

# Links between record types, oriented so that one pair always has one kind (person -> case).
LINK_KINDS = (
    "person_case",
    "interview_person",
    "interview_case",
    "interview_visit",
    "visit_facility",
    "recommendation_visit",
    "recommendation_facility",
    "evidence_case",
    "evidence_interview",
    "evidence_visit",
    "evidence_person",
)
_REF_TARGET = {FieldType.PERSON_REF: ("person",), FieldType.FACILITY_REF: ("facility",)}


@dataclass(frozen=True)
class RecordView:
    """A record's current state. ``data`` is the validated, normalised form data."""

    id: str
    type: str
    revision: int
    template_id: str
    template_version: str
    origin_device: str
    created_at: str
    updated_at: str
    confidential: bool
    deleted: bool
    title: str
    status: str | None
    facility_id: str | None
    date_from: str | None
    date_to: str | None
    content_hash: str
    change_seq: int
    data: Mapping[str, Any]


@dataclass(frozen=True)
class RecordSummary:
    """What a list shows of a record: the head's columns, without its data (nothing parsed)."""

    id: str
    type: str
    title: str
    status: str | None
    revision: int
    updated_at: str
    created_at: str
    facility_id: str | None
    date_from: str | None
    date_to: str | None
    confidential: bool
    deleted: bool


_SUMMARY_COLUMNS = (
    RecordRow.id,
    RecordRow.type,
    RecordRow.title,
    RecordRow.status,
    RecordRow.revision,
    RecordRow.updated_at,
    RecordRow.created_at,
    RecordRow.facility_id,
    RecordRow.date_from,
    RecordRow.date_to,
    RecordRow.confidential,
    RecordRow.deleted,
)


@dataclass(frozen=True)
class Referrer:
    """A live record whose data refers to another record."""

    id: str
    type: str
    title: str


@dataclass(frozen=True)
class RecordVersionView:
    """One saved version exactly as stored: the document, its canonical bytes and their hash."""

    record_id: str
    revision: int
    content_hash: str
    deleted: bool
    saved_at: str
    saved_by_device: str
    origin: str
    change_seq: int
    canonical: bytes
    in_conflict: bool

    @property
    def doc(self) -> dict[str, Any]:
        value = json.loads(self.canonical)
        assert isinstance(value, dict)
        return value


@dataclass(frozen=True)
class LinkView:
    from_id: str
    to_id: str
    kind: str
    role: str
    source: str
    created_at: str


@dataclass(frozen=True)
class ConflictView:
    record_id: str
    revision: int
    local_hash: str
    other_hash: str
    other_device: str
    detected_at: str
    resolved: bool


def load_template(form_id: str, version: int | None = None) -> FormTemplate:
    return _load_template(form_id, version)


def version_document(
    *,
    record_id: str,
    type_: str,
    revision: int,
    template: FormTemplate,
    origin_device: str,
    created_at: str,
    updated_at: str,
    confidential: bool,
    deleted: bool,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "id": record_id,
        "type": type_,
        "revision": revision,
        "template_id": template.id,
        "template_version": template.version,
        "origin_device": origin_device,
        "created_at": created_at,
        "updated_at": updated_at,
        "confidential": confidential,
        "deleted": deleted,
        "data": dict(data),
    }


def _head_values(
    doc: Mapping[str, Any], template: FormTemplate, content_hash: str, change_seq: int
) -> tuple[dict[str, Any], IndexFields]:
    """The head row's columns (all but ``id`` and ``num``) for a version document."""
    fields = index_fields(template.id, doc["data"], template=template)
    date_from = _iso(fields.date_from)
    values = {
        "type": doc["type"],
        "revision": doc["revision"],
        "template_id": doc["template_id"],
        "template_version": str(doc["template_version"]),
        "origin_device": doc["origin_device"],
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
        "confidential": bool(doc["confidential"]),
        "deleted": bool(doc["deleted"]),
        "title": fields.title,
        "status": fields.status,
        "facility_id": fields.facility_id,
        "date_from": date_from,
        "date_to": _iso(fields.date_to) or _end_of(template, doc["data"]) or date_from,
        "data": json.dumps(doc["data"], ensure_ascii=False, separators=(",", ":")),
        "content_hash": content_hash,
        "change_seq": change_seq,
    }
    return values, fields


def _end_of(template: FormTemplate, data: Mapping[str, Any]) -> str | None:
    """The last day the start date covers, for a record with no end date (2026-03 -> 03-31)."""
    name = template.index.date_from
    value = data.get(name) if name else None
    if isinstance(value, Mapping) and isinstance(value.get("value"), str):
        try:
            return date_bounds(value["value"])[1].isoformat()
        except ValueError:
            return None
    return None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _view(row: RecordRow) -> RecordView:
    return RecordView(
        id=row.id,
        type=row.type,
        revision=row.revision,
        template_id=row.template_id,
        template_version=row.template_version,
        origin_device=row.origin_device,
        created_at=row.created_at,
        updated_at=row.updated_at,
        confidential=bool(row.confidential),
        deleted=bool(row.deleted),
        title=row.title,
        status=row.status,
        facility_id=row.facility_id,
        date_from=row.date_from,
        date_to=row.date_to,
        content_hash=row.content_hash,
        change_seq=row.change_seq,
        data=json.loads(row.data),
    )


def _summary(row: Any) -> RecordSummary:
    return RecordSummary(
        id=row.id,
        type=row.type,
        title=row.title,
        status=row.status,
        revision=row.revision,
        updated_at=row.updated_at,
        created_at=row.created_at,
        facility_id=row.facility_id,
        date_from=row.date_from,
        date_to=row.date_to,
        confidential=bool(row.confidential),
        deleted=bool(row.deleted),
    )


def _version_view(row: RecordVersionRow, in_conflict: bool = False) -> RecordVersionView:
    return RecordVersionView(
        record_id=row.record_id,
        revision=row.revision,
        content_hash=row.content_hash,
        deleted=bool(row.deleted),
        saved_at=row.saved_at,
        saved_by_device=row.saved_by_device,
        origin=row.origin,
        change_seq=row.change_seq,
        canonical=bytes(row.doc),
        in_conflict=in_conflict,
    )


_NESTED = frozenset({FieldType.GROUP, FieldType.BODY_MAP, FieldType.CONSENT})


def iter_refs(
    fields: Sequence[FieldDef], data: Mapping[str, Any], prefix: str = ""
) -> Iterator[tuple[str, FieldDef, str, Mapping[str, Any]]]:
    """Every reference in ``data``: (field path, field, referenced id, the enclosing object)."""
    for f in fields:
        value = data.get(f.id)
        if value is None:
            continue
        path = f"{prefix}{f.id}"
        if f.type in _NESTED:
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                if isinstance(item, Mapping):
                    sub = f"{path}[{i}]." if isinstance(value, list) else f"{path}."
                    yield from iter_refs(children(f), item, sub)
        elif f.type in _REF_TARGET or f.type in (FieldType.RECORD_REF, FieldType.EVIDENCE_LINK):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, str):
                        yield f"{path}[{i}]", f, item, data
            elif isinstance(value, str):
                yield path, f, value, data


# The role a person plays when a template field refers to them (codes of the event_roles
# vocabulary); a group may also carry its own "role" or "relationship" choice next to the reference.
_ROLE_OF_FIELD = {
    "victim": "victim_direct",
    "ed_missing_person": "victim_direct",
    "pp_person": "victim_direct",
    "perpetrator": "perpetrator",
    "ed_submitter": "source",
    "intervening_party": "intervening_party",
    "interviewee": "source",
    "guardian": "related_person",
}


def _role_in(scope: Mapping[str, Any], ref_field: FieldDef) -> str:
    """The role of a referenced person, from the group's own choice or from the field's meaning."""
    if ref_field.type != FieldType.PERSON_REF:
        return ""
    for key in ("role", "relationship"):
        value = scope.get(key)
        if isinstance(value, str) and key != ref_field.id:
            return value
    return _ROLE_OF_FIELD.get(ref_field.id, "")


class RecordStore:
    """Repository of records for one device. Every method works in the caller's session."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id

    # --- reading ---------------------------------------------------------------------------

    def _head(self, session: Session, record_id: str) -> RecordRow:
        row = session.execute(
            select(RecordRow).where(RecordRow.id == record_id)
        ).scalar_one_or_none()
        if row is None:
            raise FieldkitError(ErrorCode.RECORD_NOT_FOUND, id=record_id)
        return row

    def get(self, session: Session, record_id: str, *, include_deleted: bool = True) -> RecordView:
        row = self._head(session, _canonical_id(record_id))
        if row.deleted and not include_deleted:
            raise FieldkitError(ErrorCode.RECORD_DELETED, id=row.id)
        return _view(row)

    def exists(self, session: Session, record_id: str) -> bool:
        found = session.execute(select(RecordRow.num).where(RecordRow.id == record_id)).first()
        return found is not None

    def history(self, session: Session, record_id: str) -> builtins.list[RecordVersionView]:
        record_id = _canonical_id(record_id)
        self._head(session, record_id)
        conflicted = {
            (r.revision, h)
            for r in session.execute(
                select(RecordConflictRow).where(RecordConflictRow.record_id == record_id)
            ).scalars()
            for h in (r.local_hash, r.other_hash)
        }
        rows = session.execute(
            select(RecordVersionRow)
            .where(RecordVersionRow.record_id == record_id)
            .order_by(RecordVersionRow.revision, RecordVersionRow.change_seq)
        ).scalars()
        return [_version_view(r, (r.revision, r.content_hash) in conflicted) for r in rows]

    def list(
        self,
        session: Session,
        filters: RecordFilters | None = None,
        *,
        offset: int = 0,
        limit: int = 50,
        order: Order = "updated_desc",
    ) -> builtins.list[RecordView]:
        """A page of full records (data parsed); for lists use :meth:`list_summaries`."""
        stmt = _paged(select(RecordRow), filters, offset, limit, order)
        return [_view(r) for r in session.execute(stmt).scalars()]

    def list_summaries(
        self,
        session: Session,
        filters: RecordFilters | None = None,
        *,
        offset: int = 0,
        limit: int = 50,
        order: Order = "updated_desc",
    ) -> builtins.list[RecordSummary]:
        """A page of what lists show, read from the head's columns only (``data`` is not read)."""
        stmt = _paged(select(*_SUMMARY_COLUMNS), filters, offset, limit, order)
        return [_summary(row) for row in session.execute(stmt)]

    def count(self, session: Session, filters: RecordFilters | None = None) -> int:
        stmt = (filters or RecordFilters()).apply(select(func.count()).select_from(RecordRow))
        return int(session.execute(stmt).scalar_one())

    def versions_since(self, session: Session, change_seq: int) -> Iterator[RecordVersionView]:
        """Every version saved or imported after ``change_seq``, in change order (for bundles)."""
        rows = session.execute(
            select(RecordVersionRow)
            .where(RecordVersionRow.change_seq > change_seq)
            .order_by(RecordVersionRow.change_seq)
            .execution_options(yield_per=500)
        ).scalars()
        for row in rows:
            yield _version_view(row)

    def summaries_of(self, session: Session, record_ids: Sequence[str]) -> dict[str, RecordSummary]:
        """The list rows of the given records that exist here (deleted ones included), by id."""
        found: dict[str, RecordSummary] = {}
        pending = sorted(set(record_ids))
        for start in range(0, len(pending), 500):
            chunk = pending[start : start + 500]
            for row in session.execute(select(*_SUMMARY_COLUMNS).where(RecordRow.id.in_(chunk))):
                found[row.id] = _summary(row)
        return found

    def referrers(self, session: Session, record_id: str) -> builtins.list[Referrer]:
        """Live records whose data refers to ``record_id`` (from their derived links)."""
        owners = (
            select(RecordLinkRow.owner_id)
            .where(
                RecordLinkRow.source == "derived",
                RecordLinkRow.deleted.is_(False),
                RecordLinkRow.owner_id != record_id,
                (RecordLinkRow.to_id == record_id) | (RecordLinkRow.from_id == record_id),
            )
            .distinct()
        )
        rows = session.execute(
            select(RecordRow.id, RecordRow.type, RecordRow.title)
            .where(RecordRow.id.in_(owners), RecordRow.deleted.is_(False))
            .order_by(RecordRow.type, RecordRow.id)
        )
        return [Referrer(rid, type_, title) for rid, type_, title in rows]

    def links(self, session: Session, record_id: str) -> builtins.list[LinkView]:
        """Live links from or to a record."""
        rows = session.execute(
            select(RecordLinkRow)
            .where(
                (RecordLinkRow.from_id == record_id) | (RecordLinkRow.to_id == record_id),
                RecordLinkRow.deleted.is_(False),
            )
            .order_by(RecordLinkRow.kind, RecordLinkRow.id)
        ).scalars()
        return [LinkView(r.from_id, r.to_id, r.kind, r.role, r.source, r.created_at) for r in rows]

    def conflicts(
        self, session: Session, *, unresolved_only: bool = True
    ) -> builtins.list[ConflictView]:
        stmt = select(RecordConflictRow).order_by(RecordConflictRow.id)
        if unresolved_only:
            stmt = stmt.where(RecordConflictRow.resolved.is_(False))
        return [
            ConflictView(
                r.record_id,
                r.revision,
                r.local_hash,
                r.other_hash,
                r.other_device,
                r.detected_at,
                bool(r.resolved),
            )
            for r in session.execute(stmt).scalars()
        ]

    # --- writing ---------------------------------------------------------------------------

    def create(
        self,
        session: Session,
        form_id: str,
        data: Mapping[str, Any],
        *,
        confidential: bool = False,
        record_id: str | None = None,
    ) -> RecordView:
        """Save revision 1 of a new record (``data`` already validated)."""
        template = load_template(form_id)
        record_id = _canonical_id(record_id) if record_id else str(uuid.uuid4())
        if self.exists(session, record_id):
            raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail=f"record {record_id} exists")
        self._check_refs(session, template, data, record_id)
        now = utc_now()
        doc = version_document(
            record_id=record_id,
            type_=template.record_type,
            revision=1,
            template=template,
            origin_device=self.device_id,
            created_at=now,
            updated_at=now,
            confidential=confidential,
            deleted=False,
            data=data,
        )
        row = RecordRow(id=record_id, num=None)
        return self._write(session, row, doc, template, action="record.create", origin="local")

    def create_many(
        self,
        session: Session,
        items: Sequence[tuple[str, Mapping[str, Any], bool]],
    ) -> builtins.list[str]:
        """Save many new records at once: (form id, validated data, confidential) each.

        The same rows as :meth:`create` (head, version, index, links, audit entry) with a few
        statements per batch instead of a dozen per record; for bulk entry, migration tools and the
        benchmark. A record may refer to one earlier in the same batch. Returns the new ids.
        """
        if not items:
            return []
        prepared: builtins.list[tuple[str, FormTemplate, Mapping[str, Any], bool]] = [
            (str(uuid.uuid4()), load_template(form_id), data, confidential)
            for form_id, data, confidential in items
        ]
        refs = [_refs(template, data) for _id, template, data, _conf in prepared]
        targets: set[str] = set()
        evidence_ids: set[str] = set()
        for item_refs in refs:
            targets |= _ref_targets(item_refs)
            evidence_ids |= _evidence_targets(item_refs)
        known = _lookup_types(session, targets)
        evidence = _lookup_evidence(session, evidence_ids)
        for index, (record_id, template, _data, _conf) in enumerate(prepared):
            issues = _ref_issues(refs[index], record_id, known, evidence)
            if issues:
                for issue in issues:
                    issue.field = f"[{index}].{issue.field}"
                raise RecordValidationError(issues)
            known[record_id] = (template.record_type, False)
        first_seq = _reserve_change_seqs(session, len(prepared))
        now = utc_now()
        heads: builtins.list[dict[str, Any]] = []
        versions: builtins.list[dict[str, Any]] = []
        texts: builtins.list[tuple[str, str, str]] = []
        links: builtins.list[dict[str, Any]] = []
        audit: builtins.list[AuditItem] = []
        for offset, (record_id, template, data, confidential) in enumerate(prepared):
            doc = version_document(
                record_id=record_id,
                type_=template.record_type,
                revision=1,
                template=template,
                origin_device=self.device_id,
                created_at=now,
                updated_at=now,
                confidential=confidential,
                deleted=False,
                data=data,
            )
            canonical = canonical_dumps(doc)
            content_hash = sha256_hex(canonical)
            change_seq = first_seq + offset
            row = RecordRow(id=record_id)
            fields = self._apply_head(row, doc, template, content_hash, change_seq)
            heads.append({c.key: getattr(row, c.key) for c in _HEAD_COLUMNS})
            versions.append(
                {
                    "record_id": record_id,
                    "revision": 1,
                    "doc": canonical,
                    "content_hash": content_hash,
                    "deleted": False,
                    "saved_at": now,
                    "saved_by_device": self.device_id,
                    "change_seq": change_seq,
                    "origin": "local",
                }
            )
            texts.append((record_id, fields.title, fields.text))
            for key in _wanted_links(record_id, template.record_type, refs[offset], known):
                links.append(_derived_link(key, record_id, now))
            audit.append(
                AuditItem(
                    "record.create",
                    "record",
                    record_id,
                    1,
                    content_hash,
                    {"type": template.record_type},
                )
            )
        session.execute(insert(RecordRow), heads)
        new_rows = session.execute(
            select(RecordRow.id, RecordRow.num).where(
                RecordRow.change_seq >= first_seq,
                RecordRow.change_seq < first_seq + len(prepared),
            )
        )
        nums = {record_id: num for record_id, num in new_rows}
        session.execute(insert(RecordVersionRow), versions)
        SearchIndex.put_many(session, [(nums[rid], title, body) for rid, title, body in texts])
        if links:
            session.execute(insert(RecordLinkRow), links)
        AuditLog.append_many(session, audit)
        return [record_id for record_id, _t, _d, _c in prepared]

    def save(
        self,
        session: Session,
        record_id: str,
        data: Mapping[str, Any],
        expected_revision: int,
        *,
        confidential: bool | None = None,
    ) -> RecordView:
        """Save the next revision; STALE_REVISION when the record moved past ``expected``."""
        row = self._editable(session, record_id, expected_revision)
        template = load_template(row.template_id)
        self._check_refs(session, template, data, row.id)
        keep_confidential = bool(row.confidential) if confidential is None else confidential
        if (
            json.loads(row.data) == data
            and keep_confidential == bool(row.confidential)
            and str(template.version) == row.template_version
        ):
            return _view(row)  # nothing changed: no new revision
        doc = version_document(
            record_id=row.id,
            type_=row.type,
            revision=row.revision + 1,
            template=template,
            origin_device=row.origin_device,
            created_at=row.created_at,
            updated_at=utc_now(),
            confidential=keep_confidential,
            deleted=False,
            data=data,
        )
        return self._write(session, row, doc, template, action="record.update", origin="local")

    def delete(
        self, session: Session, record_id: str, expected_revision: int, *, force: bool = False
    ) -> RecordView:
        """Save a tombstone version; the record leaves lists and search, its history stays.

        Refused with RECORD_IN_USE while live records refer to it (a facility named by a visit, a
        person by an interview), unless ``force``: those records would keep a reference to a
        deleted record, and their next save would ask for it to be changed.
        """
        row = self._editable(session, record_id, expected_revision)
        referrers = self.referrers(session, row.id)
        if referrers and not force:
            raise FieldkitError(
                ErrorCode.RECORD_IN_USE,
                id=row.id,
                count=len(referrers),
                examples=", ".join(
                    f"{_(RECORD_TYPE_NAMES.get(r.type, r.type))} {r.id}" for r in referrers[:3]
                )
                + (", …" if len(referrers) > 3 else ""),
            )
        template = load_template(row.template_id, _int_version(row.template_version))
        doc = version_document(
            record_id=row.id,
            type_=row.type,
            revision=row.revision + 1,
            template=template,
            origin_device=row.origin_device,
            created_at=row.created_at,
            updated_at=utc_now(),
            confidential=bool(row.confidential),
            deleted=True,
            data=json.loads(row.data),
        )
        return self._write(
            session,
            row,
            doc,
            template,
            action="record.delete",
            origin="local",
            extra_details={"referred_by": len(referrers)} if referrers else None,
        )

    def _editable(self, session: Session, record_id: str, expected_revision: int) -> RecordRow:
        row = self._head(session, _canonical_id(record_id))
        if row.deleted:
            raise FieldkitError(ErrorCode.RECORD_DELETED, id=row.id)
        if row.revision != expected_revision:
            raise FieldkitError(
                ErrorCode.STALE_REVISION, id=row.id, current=row.revision, edited=expected_revision
            )
        return row

    def _write(
        self,
        session: Session,
        row: RecordRow,
        doc: dict[str, Any],
        template: FormTemplate,
        *,
        action: str,
        origin: str = "local",
        saved_by: str | None = None,
        extra_details: Mapping[str, Any] | None = None,
    ) -> RecordView:
        """Head, version, index, links and audit entry for one new version, in one transaction."""
        canonical = canonical_dumps(doc)
        content_hash = sha256_hex(canonical)
        change_seq = next_change_seq(session)  # from here this transaction holds the write lock
        read_revision = _still_current(session, row)
        fields = self._apply_head(row, doc, template, content_hash, change_seq)
        if row.num is None:
            session.add(row)
        _flush_head(session, row.id, read_revision)
        self._reindex(session, row, doc, template, fields)
        self._add_version(
            session,
            doc,
            canonical,
            content_hash,
            change_seq,
            action,
            origin,
            saved_by,
            extra_details,
        )
        return _view(row)

    def _add_version(
        self,
        session: Session,
        doc: Mapping[str, Any],
        canonical: bytes,
        content_hash: str,
        change_seq: int,
        action: str,
        origin: str,
        saved_by: str | None,
        extra_details: Mapping[str, Any] | None = None,
    ) -> None:
        """The immutable version row and its audit entry (same hash)."""
        session.add(
            RecordVersionRow(
                record_id=doc["id"],
                revision=doc["revision"],
                doc=canonical,
                content_hash=content_hash,
                deleted=doc["deleted"],
                saved_at=utc_now(),
                saved_by_device=saved_by or self.device_id,
                change_seq=change_seq,
                origin=origin,
            )
        )
        details: dict[str, Any] = {"type": doc["type"], **(extra_details or {})}
        if origin == "imported" and saved_by:
            details["from_device"] = saved_by
        AuditLog.append(
            session,
            action,
            "record",
            doc["id"],
            revision=doc["revision"],
            content_hash=content_hash,
            details=details,
        )
        session.flush()

    @staticmethod
    def _apply_head(
        row: RecordRow,
        doc: Mapping[str, Any],
        template: FormTemplate,
        content_hash: str,
        change_seq: int,
    ) -> IndexFields:
        values, fields = _head_values(doc, template, content_hash, change_seq)
        for key, value in values.items():
            setattr(row, key, value)
        return fields

    def _reindex(
        self,
        session: Session,
        row: RecordRow,
        doc: Mapping[str, Any],
        template: FormTemplate,
        fields: IndexFields,
    ) -> None:
        if doc["deleted"]:
            SearchIndex.remove(session, row.num)
        else:
            SearchIndex.put(session, row.num, fields.title, fields.text)
        self._derive_links(session, row.id, row.type, template, doc["data"], bool(doc["deleted"]))

    # --- links -----------------------------------------------------------------------------

    def _derive_links(
        self,
        session: Session,
        record_id: str,
        record_type: str,
        template: FormTemplate,
        data: Mapping[str, Any],
        deleted: bool,
    ) -> None:
        wanted: set[tuple[str, str, str, str]] = set()
        if not deleted:
            refs = _refs(template, data)
            wanted = _wanted_links(
                record_id, record_type, refs, _lookup_types(session, _ref_targets(refs))
            )
        existing = {
            (r.from_id, r.to_id, r.kind, r.role): r
            for r in session.execute(
                select(RecordLinkRow).where(
                    RecordLinkRow.source == "derived", RecordLinkRow.owner_id == record_id
                )
            ).scalars()
        }
        for key, link in existing.items():
            if key not in wanted and not link.deleted:
                link.deleted = True
        now = utc_now()
        for key in wanted:
            found = existing.get(key)
            if found is None:
                session.add(RecordLinkRow(**_derived_link(key, record_id, now)))
            elif found.deleted:
                found.deleted = False

    def _check_refs(
        self, session: Session, template: FormTemplate, data: Mapping[str, Any], own_id: str
    ) -> None:
        issues = self.reference_issues(session, _refs(template, data), own_id)
        if issues:
            raise RecordValidationError(issues)

    @staticmethod
    def reference_issues(
        session: Session, refs: Sequence[_AnyRef], own_id: str | None = None
    ) -> builtins.list[ValidationIssue]:
        """References that point nowhere: to a record that does not exist, is deleted or has the
        wrong type, or to an evidence item that is not in this profile. ``refs`` are
        (path, field, id, ...) as :func:`iter_refs` or the validator's ``FoundRef`` give them."""
        return _ref_issues(
            refs,
            own_id or "",
            _lookup_types(session, _ref_targets(refs)),
            _lookup_evidence(session, _evidence_targets(refs)),
        )

    def link(
        self,
        session: Session,
        from_id: str,
        to_id: str,
        kind: str,
        role: str = "",
        *,
        check_records: bool = True,
    ) -> LinkView:
        """An explicit link (a person to a case with a role; evidence to a case), audited."""
        if kind not in LINK_KINDS:
            raise FieldkitError(ErrorCode.INVALID_ARGUMENT, detail=f"link kind {kind}")
        if check_records:
            from_type, to_type = kind.split("_", 1)
            for rid, expected in ((from_id, from_type), (to_id, to_type)):
                if expected == "evidence":
                    continue
                view = self.get(session, rid, include_deleted=False)
                if view.type != expected:
                    raise FieldkitError(
                        ErrorCode.RECORD_WRONG_TYPE,
                        id=view.id,
                        actual=record_type_name(view.type),
                        expected=record_type_name(expected),
                    )
        existing = session.execute(
            select(RecordLinkRow).where(
                RecordLinkRow.from_id == from_id,
                RecordLinkRow.to_id == to_id,
                RecordLinkRow.kind == kind,
                RecordLinkRow.role == role,
                RecordLinkRow.owner_id == "",
            )
        ).scalar_one_or_none()
        if existing is not None and not existing.deleted:
            return LinkView(from_id, to_id, kind, role, existing.source, existing.created_at)
        now = utc_now()
        if existing is None:
            existing = RecordLinkRow(
                from_id=from_id,
                to_id=to_id,
                kind=kind,
                role=role,
                source="explicit",
                owner_id="",
                created_at=now,
                deleted=False,
            )
            session.add(existing)
        else:
            existing.deleted = False
        AuditLog.append(
            session,
            "record.link",
            "link",
            from_id,
            details={"to": to_id, "kind": kind, "role": role},
        )
        session.flush()
        return LinkView(from_id, to_id, kind, role, existing.source, existing.created_at)

    def unlink(self, session: Session, from_id: str, to_id: str, kind: str, role: str = "") -> bool:
        result = session.execute(
            update(RecordLinkRow)
            .where(
                RecordLinkRow.from_id == from_id,
                RecordLinkRow.to_id == to_id,
                RecordLinkRow.kind == kind,
                RecordLinkRow.role == role,
                RecordLinkRow.owner_id == "",
                RecordLinkRow.deleted.is_(False),
            )
            .values(deleted=True)
        )
        changed = bool(getattr(result, "rowcount", 0))
        if changed:
            AuditLog.append(
                session,
                "record.unlink",
                "link",
                from_id,
                details={"to": to_id, "kind": kind, "role": role},
            )
        return changed

    # --- import (bundles) ------------------------------------------------------------------

    def import_version(
        self, session: Session, doc: Mapping[str, Any], origin_device: str
    ) -> ImportOutcome:
        """Store a version received from another device.

        "same" when this exact version is already here; "conflict" when this revision is here with
        other content (both are kept and the pair is listed in ``record_conflicts``); otherwise
        "new", and the head moves when the version is newer than what is here.
        """
        try:
            return self.import_versions(session, [doc], origin_device)[0]
        except ImportBatchError as exc:
            raise exc.error from None

    def import_versions(
        self, session: Session, docs: Sequence[Mapping[str, Any]], origin_device: str
    ) -> builtins.list[ImportOutcome]:
        """Store many received versions at once, with the same result as :meth:`import_version`
        on each in order (rows, change numbers, conflicts, links, index and audit entries), in a
        few statements per batch. A document that is refused raises :class:`ImportBatchError`
        naming its position; nothing of the batch is kept by a caller that rolls back.
        """
        checked: builtins.list[tuple[dict[str, Any], FormTemplate, bytes, str]] = []
        for index, doc in enumerate(docs):
            try:
                clean, template, canonical = _checked_document(doc)
            except FieldkitError as exc:
                raise ImportBatchError(index, exc) from None
            checked.append((clean, template, canonical, sha256_hex(canonical)))
        if not checked:
            return []
        next_change_seqs(session, 0)  # the write lock: what is read below stays current
        session.flush()
        ids = sorted({c[0]["id"] for c in checked})
        heads: dict[str, Any] = {}  # record id -> (num, id, type, revision, content_hash)
        present: dict[tuple[str, int], builtins.list[str]] = {}
        links: dict[str, dict[tuple[str, str, str, str], _LinkState]] = {}
        with session.no_autoflush:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for row in session.execute(
                    select(
                        RecordRow.num,
                        RecordRow.id,
                        RecordRow.type,
                        RecordRow.revision,
                        RecordRow.content_hash,
                    ).where(RecordRow.id.in_(chunk))
                ):
                    heads[row.id] = row
                for record_id, revision, content_hash in session.execute(
                    select(
                        RecordVersionRow.record_id,
                        RecordVersionRow.revision,
                        RecordVersionRow.content_hash,
                    )
                    .where(RecordVersionRow.record_id.in_(chunk))
                    .order_by(RecordVersionRow.id)
                ):
                    present.setdefault((record_id, revision), []).append(content_hash)
                for link in session.execute(
                    select(
                        RecordLinkRow.id,
                        RecordLinkRow.owner_id,
                        RecordLinkRow.from_id,
                        RecordLinkRow.to_id,
                        RecordLinkRow.kind,
                        RecordLinkRow.role,
                        RecordLinkRow.deleted,
                    )
                    .where(RecordLinkRow.source == "derived", RecordLinkRow.owner_id.in_(chunk))
                    .order_by(RecordLinkRow.id)
                ):
                    links.setdefault(link.owner_id, {})[
                        (link.from_id, link.to_id, link.kind, link.role)
                    ] = _LinkState(link.id, bool(link.deleted), bool(link.deleted))
        # each record's head as the batch so far leaves it
        state: dict[str, _HeadState] = {
            rid: _HeadState(row.type, row.revision, row.content_hash) for rid, row in heads.items()
        }
        refs_of = [
            builtins.list(iter_refs(_ref_fields(t), c["data"])) if not c["deleted"] else []
            for c, t, _b, _h in checked
        ]
        targets: set[str] = set()
        for item_refs in refs_of:
            targets |= _ref_targets(item_refs)
        known: _Known = _lookup_types(session, targets - set(state))
        for rid, head_state in state.items():
            known[rid] = (head_state.type, False)
        outcomes: builtins.list[ImportOutcome] = []
        versions: builtins.list[tuple[int, str]] = []  # (document index, audit action)
        conflicts: builtins.list[dict[str, Any]] = []
        new_links: builtins.list[tuple[str, tuple[str, str, str, str]]] = []
        moved: dict[str, int] = {}  # record id -> index of the document its head now holds
        first_seen: builtins.list[str] = []
        now = utc_now()
        for index, (clean, _template, _canonical, content_hash) in enumerate(checked):
            record_id = clean["id"]
            revision = clean["revision"]
            here = present.setdefault((record_id, revision), [])
            if content_hash in here:
                outcomes.append("same")
                continue
            earlier = builtins.list(here)
            head = state.get(record_id)
            if head is not None and head.type != clean["type"]:
                raise ImportBatchError(
                    index,
                    FieldkitError(
                        ErrorCode.RECORD_INVALID,
                        id=record_id,
                        reason=_(N_("its type differs from the stored record")),
                    ),
                )
            here.append(content_hash)
            if earlier:
                conflicts.append(
                    {
                        "record_id": record_id,
                        "revision": revision,
                        "local_hash": head.content_hash
                        if head is not None and head.revision == revision
                        else earlier[0],
                        "other_hash": content_hash,
                        "other_device": origin_device,
                        "detected_at": now,
                        "resolved": False,
                    }
                )
                versions.append((index, "record.conflict"))
                outcomes.append("conflict")
                continue
            versions.append((index, "record.import"))
            outcomes.append("new")
            if head is not None and revision <= head.revision:
                continue  # an older revision arriving late: history only, the head stays
            if head is None:
                first_seen.append(record_id)
            state[record_id] = _HeadState(clean["type"], revision, content_hash)
            known[record_id] = (clean["type"], False)
            moved[record_id] = index
            wanted: set[tuple[str, str, str, str]] = set()
            if not clean["deleted"]:
                wanted = _wanted_links(record_id, clean["type"], refs_of[index], known)
            owned = links.setdefault(record_id, {})
            for key, link_state in owned.items():
                if key not in wanted and not link_state.deleted:
                    link_state.deleted = True
            for key in wanted:
                found = owned.get(key)
                if found is None:
                    owned[key] = _LinkState(None, False, False)
                    new_links.append((record_id, key))
                elif found.deleted:
                    found.deleted = False
        count = len(versions)
        if not count:
            return outcomes
        seqs = next_change_seqs(session, count)
        seq_of = {index: seqs[n] for n, (index, _action) in enumerate(versions)}
        # heads: new ones inserted in the order they first arrived (so their numbers are the same
        # as one at a time), existing ones updated to where the batch leaves them
        head_values: dict[str, dict[str, Any]] = {}
        fields_of: dict[str, IndexFields] = {}
        for record_id, index in moved.items():
            clean, template, _canonical, content_hash = checked[index]
            values, fields_of[record_id] = _head_values(
                clean, template, content_hash, seq_of[index]
            )
            head_values[record_id] = {"id": record_id, **values}
        inserts = [head_values[rid] for rid in first_seen]
        if inserts:
            session.execute(insert(_table(RecordRow)), inserts)
        updates = [
            {"b_num": heads[rid].num, **{f"v_{k}": v for k, v in values.items()}}
            for rid, values in head_values.items()
            if rid in heads
        ]
        if updates:
            table = _table(RecordRow)
            session.execute(
                update(table)
                .where(table.c.num == bindparam("b_num"))
                .values({c.key: bindparam(f"v_{c.key}") for c in _HEAD_COLUMNS}),
                updates,
            )
        nums = {rid: head.num for rid, head in heads.items()}
        if first_seen:
            for start in range(0, len(first_seen), 500):
                chunk = first_seen[start : start + 500]
                for inserted in session.execute(
                    select(RecordRow.id, RecordRow.num).where(RecordRow.id.in_(chunk))
                ):
                    nums[inserted.id] = inserted.num
        # search: the text of every moved head, or none for a tombstone
        moved_nums = [nums[rid] for rid in moved]
        SearchIndex.remove_many(session, moved_nums)
        SearchIndex.put_many(
            session,
            [
                (nums[rid], fields_of[rid].title, fields_of[rid].text)
                for rid, index in moved.items()
                if not checked[index][0]["deleted"]
            ],
        )
        # derived links: flags changed on rows that were here, new rows in the order they arose
        changed = [
            {"b_id": ls.row_id, "b_deleted": ls.deleted}
            for owned in links.values()
            for ls in owned.values()
            if ls.row_id is not None and ls.deleted != ls.was_deleted
        ]
        if changed:
            links_table = _table(RecordLinkRow)
            session.execute(
                update(links_table)
                .where(links_table.c.id == bindparam("b_id"))
                .values(deleted=bindparam("b_deleted")),
                changed,
            )
        if new_links:
            session.execute(
                insert(_table(RecordLinkRow)),
                [
                    {**_derived_link(key, owner, now), "deleted": links[owner][key].deleted}
                    for owner, key in new_links
                ],
            )
        if conflicts:
            session.execute(insert(_table(RecordConflictRow)), conflicts)
        version_rows: builtins.list[dict[str, Any]] = []
        audit: builtins.list[AuditItem] = []
        for index, action in versions:
            clean, _template, canonical, content_hash = checked[index]
            version_rows.append(
                {
                    "record_id": clean["id"],
                    "revision": clean["revision"],
                    "doc": canonical,
                    "content_hash": content_hash,
                    "deleted": clean["deleted"],
                    "saved_at": now,
                    "saved_by_device": origin_device,
                    "change_seq": seq_of[index],
                    "origin": "imported",
                }
            )
            audit.append(
                AuditItem(
                    action,
                    "record",
                    clean["id"],
                    clean["revision"],
                    content_hash,
                    {"type": clean["type"], "from_device": origin_device},
                )
            )
        session.execute(insert(_table(RecordVersionRow)), version_rows)
        AuditLog.append_many(session, audit)
        # rows written above bypassed the session: objects it holds of them are read again
        for obj in builtins.list(session.identity_map.values()):
            if (isinstance(obj, RecordRow) and obj.id in moved) or (
                isinstance(obj, RecordLinkRow) and obj.owner_id in moved
            ):
                session.expire(obj)
        return outcomes


class ImportBatchError(FieldkitError):
    """A document of a batch was refused: its position in the batch (``index``) and the reason
    (``error``). It carries the reason's code and message, so a caller that does not look at the
    position still reports the refusal plainly."""

    def __init__(self, index: int, error: FieldkitError) -> None:
        super().__init__(error.code, **error.params)
        self.index = index
        self.error = error


@dataclass
class _HeadState:
    type: str
    revision: int
    content_hash: str


@dataclass
class _LinkState:
    row_id: int | None  # None: a row this batch adds
    was_deleted: bool
    deleted: bool


_Known = dict[str, tuple[str, bool]]  # record id -> (type, deleted)


_HEAD_COLUMNS = [c for c in RecordRow.__table__.columns if c.key != "num"]


def _table(model: type[Any]) -> Table:
    """A model's table, for Core executemany (no ORM objects for rows written in bulk)."""
    return cast(Table, model.__table__)


_ORDERS: dict[str, tuple[Any, ...]] = {
    "updated_desc": (RecordRow.updated_at.desc(), RecordRow.id.desc()),
    "updated_asc": (RecordRow.updated_at, RecordRow.id),
    "created_desc": (RecordRow.created_at.desc(), RecordRow.id.desc()),
    "title": (RecordRow.title, RecordRow.id),
}


def _paged(
    stmt: Select[*tuple[Any, ...]],
    filters: RecordFilters | None,
    offset: int,
    limit: int,
    order: str,
) -> Select[*tuple[Any, ...]]:
    """``stmt`` filtered, ordered and cut to one page; the paging values are checked first."""
    if offset < 0:
        raise FieldkitError(
            ErrorCode.INVALID_ARGUMENT,
            detail=_("the offset must be 0 or more (got {value})").format(value=offset),
        )
    if not 1 <= limit <= MAX_PAGE:
        raise FieldkitError(
            ErrorCode.INVALID_ARGUMENT,
            detail=_("the limit must be between 1 and {most} (got {value})").format(
                most=MAX_PAGE, value=limit
            ),
        )
    ordering = _ORDERS.get(order)
    if ordering is None:
        raise FieldkitError(
            ErrorCode.INVALID_ARGUMENT,
            detail=_("unknown order '{order}' (choose one of: {choices})").format(
                order=str(order)[:40], choices=", ".join(_ORDERS)
            ),
        )
    stmt = stmt.where(*(filters or RecordFilters()).conditions())
    return stmt.order_by(*ordering).offset(offset).limit(limit)


def _reserve_change_seqs(session: Session, count: int) -> int:
    """Take ``count`` consecutive change numbers at once; returns the first."""
    session.execute(
        update(ChangeCounter).where(ChangeCounter.id == 1).values(value=ChangeCounter.value + count)
    )
    return current_change_seq(session) - count + 1


_Ref = tuple[str, FieldDef, str, Mapping[str, Any]]
# Anything that starts with (path, field, target): a _Ref or a validation FoundRef.
_AnyRef = Sequence[Any]


def _refs(template: FormTemplate, data: Mapping[str, Any]) -> builtins.list[_Ref]:
    return list(iter_refs(template.fields, data))


_REF_TYPES = frozenset({*_REF_TARGET, FieldType.RECORD_REF, FieldType.EVIDENCE_LINK})
_REF_FIELDS: dict[tuple[str, int], builtins.list[FieldDef]] = {}


def _holds_refs(f: FieldDef) -> bool:
    if f.type in _REF_TYPES:
        return True
    return f.type in _NESTED and any(_holds_refs(c) for c in children(f))


def _ref_fields(template: FormTemplate) -> builtins.list[FieldDef]:
    """The template's top-level fields that are or hold references, in order (templates are
    immutable, so this is worked out once per template version): :func:`iter_refs` over them
    gives what it gives over all the fields, without walking the others."""
    key = (template.id, template.version)
    found = _REF_FIELDS.get(key)
    if found is None:
        found = _REF_FIELDS[key] = [f for f in template.fields if _holds_refs(f)]
    return found


def _ref_targets(refs: Sequence[_AnyRef]) -> set[str]:
    return {str(r[2]) for r in refs if r[1].type != FieldType.EVIDENCE_LINK}


def _evidence_targets(refs: Sequence[_AnyRef]) -> set[str]:
    return {str(r[2]) for r in refs if r[1].type == FieldType.EVIDENCE_LINK}


def _lookup_evidence(session: Session, ids: set[str]) -> set[str]:
    """The evidence items among ``ids`` that this profile holds (stored or purged: a purged
    item keeps its identity and custody log, so a reference to it stays meaningful)."""
    found: set[str] = set()
    pending = sorted(ids)
    for start in range(0, len(pending), 500):
        chunk = pending[start : start + 500]
        found.update(
            session.execute(
                select(EvidenceItemRow.id).where(EvidenceItemRow.id.in_(chunk))
            ).scalars()
        )
    return found


def _lookup_types(session: Session, ids: set[str]) -> _Known:
    """Type and deletion state of the records among ``ids`` that exist here."""
    known: _Known = {}
    pending = sorted(ids)
    for start in range(0, len(pending), 500):
        chunk = pending[start : start + 500]
        rows = session.execute(
            select(RecordRow.id, RecordRow.type, RecordRow.deleted).where(RecordRow.id.in_(chunk))
        )
        for record_id, type_, deleted in rows:
            known[record_id] = (type_, bool(deleted))
    return known


def _ref_issues(
    refs: Sequence[_AnyRef], own_id: str, known: _Known, evidence: set[str]
) -> builtins.list[ValidationIssue]:
    """References that point nowhere, to a deleted record, or to a record of the wrong type."""
    issues: builtins.list[ValidationIssue] = []
    for ref in refs:
        path, f, target = str(ref[0]), ref[1], str(ref[2])
        if f.type == FieldType.EVIDENCE_LINK:
            if target not in evidence:
                issues.append(
                    ValidationIssue(
                        path, N_("refers to an evidence item that is not in this profile")
                    )
                )
            continue
        allowed = _REF_TARGET.get(f.type) or tuple(f.targets or RECORD_TYPES)
        found = known.get(target)
        if target == own_id:
            issues.append(ValidationIssue(path, N_("cannot refer to the record itself")))
        elif found is None:
            issues.append(ValidationIssue(path, N_("refers to a record that does not exist")))
        elif found[1]:
            issues.append(ValidationIssue(path, N_("refers to a deleted record")))
        elif found[0] not in allowed:
            issues.append(ValidationIssue(path, N_("refers to a record of the wrong type")))
    return issues


def _wanted_links(
    record_id: str, record_type: str, refs: Sequence[_Ref], known: _Known
) -> set[tuple[str, str, str, str]]:
    """The links a record's reference fields imply, as (from, to, kind, role)."""
    wanted: set[tuple[str, str, str, str]] = set()
    for _path, f, target, scope in refs:
        if f.type == FieldType.EVIDENCE_LINK:
            target_type: str | None = "evidence"
        elif target in known:
            target_type = known[target][0]
        else:
            # An imported record may refer to one that has not arrived yet.
            allowed = _REF_TARGET.get(f.type) or tuple(f.targets or ())
            target_type = allowed[0] if len(allowed) == 1 else None
        if target_type is not None:
            wanted.add(_oriented(record_id, record_type, target, target_type, _role_in(scope, f)))
    return wanted


def _derived_link(key: tuple[str, str, str, str], owner: str, now: str) -> dict[str, Any]:
    from_id, to_id, kind, role = key
    return {
        "from_id": from_id,
        "to_id": to_id,
        "kind": kind,
        "role": role,
        "source": "derived",
        "owner_id": owner,
        "created_at": now,
        "deleted": False,
    }


def _still_current(session: Session, row: RecordRow) -> int | None:
    """The revision the caller read, after checking (under the write lock) that nobody saved
    the record since: reads before a transaction's first write see no lock, so a save racing
    with another writer is caught here and not by the earlier revision check alone."""
    if row.num is None:
        return None
    with session.no_autoflush:
        current = session.execute(
            select(RecordRow.revision).where(RecordRow.num == row.num)
        ).scalar_one()
    if current != row.revision:
        raise FieldkitError(
            ErrorCode.STALE_REVISION, id=row.id, current=current, edited=row.revision
        )
    return row.revision


def _flush_head(session: Session, record_id: str, read_revision: int | None) -> None:
    """Write the head; the UPDATE is conditional on the revision read (version_id_col)."""
    try:
        session.flush()
    except StaleDataError:
        raise FieldkitError(
            ErrorCode.STALE_REVISION,
            id=record_id,
            current="?",
            edited=read_revision if read_revision is not None else "?",
        ) from None


def _oriented(
    record_id: str, record_type: str, target: str, target_type: str, role: str
) -> tuple[str, str, str, str]:
    """(from, to, kind, role) with person↔case always from the person to the case."""
    if record_type == "case" and target_type == "person":
        return target, record_id, "person_case", role
    return record_id, target, f"{record_type}_{target_type}", role


def _canonical_id(value: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise FieldkitError(ErrorCode.RECORD_NOT_FOUND, id=str(value)[:64]) from None


def _int_version(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _checked_document(doc: Mapping[str, Any]) -> tuple[dict[str, Any], FormTemplate, bytes]:
    """Check the shape of a version document from another device and validate its data."""
    raw_id = doc.get("id") if isinstance(doc, Mapping) else None
    shown = raw_id if isinstance(raw_id, str) and len(raw_id) <= 64 else "?"

    def bad(reason: str) -> FieldkitError:
        return FieldkitError(ErrorCode.RECORD_INVALID, id=shown, reason=_(reason))

    if not isinstance(doc, Mapping) or set(doc) != DOC_KEYS:
        raise bad(N_("the version document has missing or unexpected fields"))
    try:
        if (
            str(uuid.UUID(str(doc["id"]))) != doc["id"]
            or str(uuid.UUID(str(doc["origin_device"]))) != doc["origin_device"]
        ):
            raise bad(N_("an id is not a canonical UUID"))
    except ValueError:
        raise bad(N_("an id is not a UUID")) from None
    revision = doc["revision"]
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 1:
        raise bad(N_("the revision is not a positive integer"))
    if doc["type"] not in RECORD_TYPES:
        raise bad(N_("unknown record type"))
    for name in ("created_at", "updated_at"):
        value = doc[name]
        if not isinstance(value, str) or not 10 <= len(value) <= 40:
            raise bad(N_("a time is not valid"))
    for name in ("confidential", "deleted"):
        if not isinstance(doc[name], bool):
            raise bad(N_("a flag is not true or false"))
    version = doc["template_version"]
    if (
        not isinstance(version, int)
        or isinstance(version, bool)
        or not isinstance(doc["template_id"], str)
    ):
        raise bad(N_("the template is not named correctly"))
    if not isinstance(doc["data"], Mapping):
        raise bad(N_("data is not an object"))
    template = load_template(doc["template_id"], version)
    if template.record_type != doc["type"]:
        raise bad(N_("the template does not match the record type"))
    normalised = validate_record(template.id, dict(doc["data"]), template=template)
    if normalised != doc["data"]:
        raise bad(N_("the data is not in its normalised form"))
    clean = dict(doc)
    clean["data"] = dict(doc["data"])
    try:
        canonical = canonical_dumps(clean)
    except CanonicalJSONError as exc:
        raise bad(str(exc)) from None
    return clean, template, canonical
