"""Links between records: those derived from reference fields (owned by the record that holds the
reference) and explicit ones (a person to a case with a role), and the checks of references."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldkit.domain.errors import ValidationIssue
from fieldkit.domain.forms import RECORD_TYPES, FieldDef, FieldType, FormTemplate, children
from fieldkit.i18n import N_
from fieldkit.storage.audit import AuditLog, utc_now
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.tables.records import RecordLinkRow, RecordRow

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
class Referrer:
    """A live record whose data refers to another record."""

    id: str
    type: str
    title: str


@dataclass(frozen=True)
class LinkView:
    from_id: str
    to_id: str
    kind: str
    role: str
    source: str
    created_at: str


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


_Known = dict[str, tuple[str, bool]]  # record id -> (type, deleted)


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


def _oriented(
    record_id: str, record_type: str, target: str, target_type: str, role: str
) -> tuple[str, str, str, str]:
    """(from, to, kind, role) with person↔case always from the person to the case."""
    if record_type == "case" and target_type == "person":
        return target, record_id, "person_case", role
    return record_id, target, f"{record_type}_{target_type}", role


def derive_links(
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


def add_explicit_link(
    session: Session, from_id: str, to_id: str, kind: str, role: str = ""
) -> LinkView:
    """An explicit link between two records already checked by the caller, audited."""
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


def remove_explicit_link(
    session: Session, from_id: str, to_id: str, kind: str, role: str = ""
) -> bool:
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
