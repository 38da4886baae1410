"""The records repository for one device: reads, saves, deletions and links, in the caller's
session."""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.domain.errors import ErrorCode, FieldkitError, RecordValidationError, ValidationIssue
from fieldkit.domain.forms import FormTemplate
from fieldkit.domain.records import RECORD_TYPE_NAMES, IndexFields, record_type_name
from fieldkit.i18n import _
from fieldkit.storage.audit import AuditItem, AuditLog, sha256_hex, utc_now
from fieldkit.storage.changes import next_change_seq
from fieldkit.storage.records.conflicts import ConflictView, list_conflicts
from fieldkit.storage.records.heads import (
    _HEAD_COLUMNS,
    _SUMMARY_COLUMNS,
    RecordSummary,
    RecordView,
    _flush_head,
    _head_values,
    _paged_in,
    _still_current,
    _summary,
    _view,
)
from fieldkit.storage.records.importing import ImportBatchError, ImportOutcome, import_versions
from fieldkit.storage.records.links import (
    LINK_KINDS,
    LinkView,
    Referrer,
    _AnyRef,
    _derived_link,
    _evidence_targets,
    _lookup_evidence,
    _lookup_types,
    _ref_issues,
    _ref_targets,
    _refs,
    _wanted_links,
    add_explicit_link,
    derive_links,
    remove_explicit_link,
)
from fieldkit.storage.records.versions import (
    RecordVersionView,
    _canonical_id,
    _int_version,
    _reserve_change_seqs,
    _version_view,
    load_template,
    version_document,
)
from fieldkit.storage.search import Order, RecordFilters, SearchIndex
from fieldkit.storage.tables.records import (
    RecordConflictRow,
    RecordLinkRow,
    RecordRow,
    RecordVersionRow,
)
from fieldkit.storage.tables.sealed import seal_rows


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
        stmt = _paged_in(session, select(RecordRow), filters, offset, limit, order)
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
        stmt = _paged_in(session, select(*_SUMMARY_COLUMNS), filters, offset, limit, order)
        # Columns, not entities: the Core path, without the ORM's per-statement set-up.
        return [_summary(row) for row in session.connection().execute(stmt)]

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
        return list_conflicts(session, unresolved_only=unresolved_only)

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
        dialect = session.get_bind().dialect
        session.execute(insert(RecordRow), seal_rows(dialect, RecordRow, heads))
        new_rows = session.execute(
            select(RecordRow.id, RecordRow.num).where(
                RecordRow.change_seq >= first_seq,
                RecordRow.change_seq < first_seq + len(prepared),
            )
        )
        nums = {record_id: num for record_id, num in new_rows}
        session.execute(insert(RecordVersionRow), seal_rows(dialect, RecordVersionRow, versions))
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
        always: bool = False,
        action: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> RecordView:
        """Save the next revision; STALE_REVISION when the record moved past ``expected``.

        ``always``: a new revision even when nothing changed (a conflict decision must supersede
        every version of the disputed revision); ``action``/``details``: its audit entry.
        """
        row = self._editable(session, record_id, expected_revision)
        template = load_template(row.template_id)
        self._check_refs(session, template, data, row.id)
        keep_confidential = bool(row.confidential) if confidential is None else confidential
        if (
            not always
            and json.loads(row.data) == data
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
        return self._write(
            session,
            row,
            doc,
            template,
            action=action or "record.update",
            origin="local",
            extra_details=details,
        )

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
        derive_links(session, row.id, row.type, template, doc["data"], bool(doc["deleted"]))

    # --- links -----------------------------------------------------------------------------

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
        return add_explicit_link(session, from_id, to_id, kind, role)

    def unlink(self, session: Session, from_id: str, to_id: str, kind: str, role: str = "") -> bool:
        return remove_explicit_link(session, from_id, to_id, kind, role)

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
        """Store many received versions at once (see :func:`importing.import_versions`)."""
        return import_versions(session, docs, origin_device)
