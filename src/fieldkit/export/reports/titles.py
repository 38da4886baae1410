"""Records' titles as a report prints them: as entered, in the report's language where the record
holds a name per language (a facility's ``name_uk``, ``name_ru``, ``name_en``), and "" where the
disclosure policy withholds the field (the caller then prints a code)."""

from __future__ import annotations

from fieldkit.domain.disclosure import DisclosurePolicy, Subject, field_facts
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import FieldType
from fieldkit.export.reports.common import clean
from fieldkit.export.reports.data import RecordView
from fieldkit.export.reports.people import template_for


def title_of(record: RecordView, policy: DisclosurePolicy, subject: Subject | None = None) -> str:
    """A record's title as entered (not yet redacted), or "" when the policy withholds it."""
    try:
        template = template_for(record)
        f = template.field(template.title_field)
    except (FieldkitError, KeyError):
        return ""
    facts = field_facts(template.record_type, f)
    if policy.field(subject or Subject((), record.confidential), facts).withheld:
        return ""
    value = record.data.get(f.id)
    if f.type == FieldType.CHOICE and value:
        return clean(value)
    return clean(value) if isinstance(value, str) else ""


def facility_title(record: RecordView, policy: DisclosurePolicy, lang: str) -> str:
    """A facility's name in the report's language when one was recorded (``name_uk``,
    ``name_ru``, ``name_en``), else its official name; "" when the policy withholds it."""
    try:
        template = template_for(record)
        f = template.field(f"name_{lang}")
    except (FieldkitError, KeyError):
        return title_of(record, policy)
    value = record.data.get(f.id)
    if isinstance(value, str) and value.strip():
        facts = field_facts(template.record_type, f)
        if not policy.field(Subject((), record.confidential), facts).withheld:
            return clean(value)
    return title_of(record, policy)
