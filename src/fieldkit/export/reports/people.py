"""Persons in reports: their codes, names and references as the records hold them.

Whether a name, a code or anything about a person may appear is the disclosure policy's decision
(``fieldkit.domain.disclosure``; OPCAT Art. 21(2): no personal data published without the express
consent of the person concerned); this module only finds them in the records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fieldkit.domain.common import is_empty
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import (
    FieldDef,
    FieldType,
    FormTemplate,
    Sensitivity,
    children,
    load_template,
)
from fieldkit.export.reports.data import RecordView


def is_identifying(f: FieldDef) -> bool:
    """A field tagged ID whose value is itself identifying (not a reference printed as a code)."""
    return Sensitivity.ID in f.sensitivity and f.type != FieldType.PERSON_REF


def template_for(record: RecordView) -> FormTemplate:
    """The template a record was filled with, or the current one when that version is gone."""
    version = int(record.template_version) if record.template_version.isdigit() else None
    try:
        return load_template(record.type, version)
    except FieldkitError:
        return load_template(record.type)


def code_field(template: FormTemplate) -> FieldDef | None:
    """The pseudonym/code field of a template: a text field with format "code", else by name."""
    for f in template.fields:
        if f.type == FieldType.TEXT and f.format == "code" and not is_identifying(f):
            return f
    for f in template.fields:
        if f.id in ("pseudonym", "code", "reference") and not is_identifying(f):
            return f
    return None


def record_code(record: RecordView) -> str:
    """A record's printable code (``W-017``), else a short form of its id."""
    try:
        f = code_field(template_for(record))
    except FieldkitError:
        f = None
    if f is not None:
        value = record.data.get(f.id)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return short_id(record.id)


def short_id(record_id: str) -> str:
    return record_id.split("-")[0][:8] if record_id else "?"


def name_fields(template: FormTemplate) -> list[FieldDef]:
    """Top-level text fields tagged ID whose id speaks of a name: what a "real name" is."""
    return [
        f
        for f in template.fields
        if f.type == FieldType.TEXT and is_identifying(f) and "name" in f.id
    ]


def person_refs(template: FormTemplate, data: Mapping[str, Any]) -> Iterator[tuple[str, FieldDef]]:
    """Every person reference in a record's data with the field that makes it."""
    yield from _refs(template.fields, data)


def _refs(fields: Sequence[FieldDef], data: Mapping[str, Any]) -> Iterator[tuple[str, FieldDef]]:
    for f in fields:
        value = data.get(f.id)
        if is_empty(value):
            continue
        if f.type == FieldType.PERSON_REF:
            for item in value if isinstance(value, list) else [value]:
                ref = item.get("id") if isinstance(item, Mapping) else item
                if ref:
                    yield str(ref), f
        elif f.type == FieldType.GROUP:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, Mapping):
                    yield from _refs(children(f), item)


def interviewee_field(template: FormTemplate) -> FieldDef | None:
    refs = [f for f in template.fields if f.type == FieldType.PERSON_REF]
    for f in refs:
        if "interviewee" in f.id or f.id in ("person", "source", "subject"):
            return f
    return refs[0] if refs else None


def real_name(person: RecordView) -> str:
    try:
        fields = name_fields(template_for(person))
    except FieldkitError:
        return ""
    for f in fields:
        value = person.data.get(f.id)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def all_names(person: RecordView) -> list[str]:
    """Every identifying name-like text of a person (name, other names) as entered."""
    try:
        fields = name_fields(template_for(person))
    except FieldkitError:
        return []
    out = []
    for f in fields:
        value = person.data.get(f.id)
        if isinstance(value, str) and value.strip():
            out.append(value.strip())
    return out


def index_date(record: RecordView) -> str:
    """The date a record is listed by: its form's start date, else when it was created."""
    try:
        template = template_for(record)
    except FieldkitError:
        return record.created_at
    field_id = template.index.date_from
    value = record.data.get(field_id) if field_id else None
    if isinstance(value, dict):
        return str(value.get("value", "")) or record.created_at
    if isinstance(value, str):
        return value
    return record.created_at


def by_date(records: Sequence[RecordView]) -> list[RecordView]:
    """Records in the order a report lists them: by date, then by pseudonym code."""
    return sorted(records, key=lambda record: (index_date(record), record_code(record)))


def by_code(records: Sequence[RecordView]) -> list[RecordView]:
    """Persons in the order a report lists them: by pseudonym code."""
    return sorted(records, key=lambda r: (record_code(r), r.id))
