"""A record as a person reads it on the command line (`record show`, `case show`) and as JSON."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fieldkit import i18n
from fieldkit.cli.common import emit
from fieldkit.domain.errors import (
    FieldkitError,
    ValidationIssue,
)
from fieldkit.domain.forms import (
    FieldDef,
    FieldType,
    FormTemplate,
    children,
    load_template,
)
from fieldkit.domain.formulas import FORMULAS, describe_computed
from fieldkit.domain.living_space import FORMULA_NAMES as LIVING_SPACE_WORDS
from fieldkit.domain.records import RECORD_TYPE_NAMES
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.i18n import N_, _
from fieldkit.services.records import (
    LinkView,
    RecordService,
    RecordSummary,
    RecordVersionView,
    RecordView,
)

DATE_PRECISIONS = {
    "estimated": N_("estimated"),
    "day_unknown": N_("day unknown"),
    "month_unknown": N_("month unknown"),
}
UNITS = {"min": N_("min"), "h": N_("h"), "m": N_("m"), "cm": N_("cm"), "m²": N_("m²")}


def record_doc(record: RecordView, *, with_data: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": record.id,
        "type": record.type,
        "title": record.title,
        "revision": record.revision,
        "template_id": record.template_id,
        "template_version": record.template_version,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "origin_device": record.origin_device,
        "confidential": record.confidential,
        "deleted": record.deleted,
        "status": record.status,
        "facility_id": record.facility_id,
        "date_from": record.date_from,
        "date_to": record.date_to,
        "content_hash": record.content_hash,
    }
    if with_data:
        doc["data"] = dict(record.data)
    return doc


def version_doc(version: RecordVersionView) -> dict[str, Any]:
    return {
        "revision": version.revision,
        "content_hash": version.content_hash,
        "deleted": version.deleted,
        "saved_at": version.saved_at,
        "saved_by_device": version.saved_by_device,
        "origin": version.origin,
        "in_conflict": version.in_conflict,
        "document": version.doc,
    }


def link_doc(link: LinkView) -> dict[str, Any]:
    return {
        "from": link.from_id,
        "to": link.to_id,
        "kind": link.kind,
        "role": link.role,
        "source": link.source,
    }


def when_text(stamp: str) -> str:
    """A stored UTC time shortened for people: 2026-11-21 12:15 UTC."""
    return f"{stamp[:10]} {stamp[11:16]} UTC" if len(stamp) >= 16 else stamp


def title_of(record: RecordView) -> str:
    return record.title or _("(no title)")


def type_name(record_type: str) -> str:
    return _(RECORD_TYPE_NAMES.get(record_type, record_type))


def summary_line(record: RecordView | RecordSummary) -> str:
    flags = ""
    if record.confidential:
        flags += " " + _("[confidential]")
    if record.deleted:
        flags += " " + _("[deleted]")
    return _("{id}  {type:<14} rev {revision:<3} {updated}  {title}{flags}").format(
        id=record.id,
        type=type_name(record.type),
        revision=record.revision,
        updated=when_text(record.updated_at),
        title=record.title or _("(no title)"),
        flags=flags,
    )


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _number(value: float | int, unit: str | None) -> str:
    """A number as written in the current language (4.5 / 4,5), at most two decimals, no
    grouping (a number may be a year or a code), with its unit translated."""
    if isinstance(value, float):
        from babel.numbers import format_decimal

        text = format_decimal(round(value, 2), format="0.##", locale=i18n.current().language)
    else:
        text = str(value)
    if not unit:
        return text
    unit_text = _(UNITS[unit]) if unit in UNITS else unit
    return f"{text} {unit_text}"


_RECORD_REFS = (FieldType.PERSON_REF, FieldType.FACILITY_REF, FieldType.RECORD_REF)


class _Show:
    """A record's data as labelled lines in the current language (template labels, vocabulary
    labels with their codes in brackets, computed values in place)."""

    def __init__(
        self,
        language: str,
        computed: Mapping[str, Any],
        records: Mapping[str, RecordSummary] | None = None,
    ) -> None:
        self.language = language
        self.computed = computed
        self.records = records or {}

    def ref(self, record_id: Any) -> str:
        """A referenced record's id with its title (a person's is the pseudonym code)."""
        found = self.records.get(record_id) if isinstance(record_id, str) else None
        if found is None:
            return str(record_id)
        text = f"{record_id} ({found.title or _('(no title)')})"
        return text + " " + _("[deleted]") if found.deleted else text

    def term(self, vocabulary: str | None, code: Any) -> str:
        if not isinstance(code, str) or not vocabulary:
            return str(code)
        try:
            found = load_vocabulary(vocabulary).get(code)
        except FieldkitError:
            found = None
        return f"{found.label(self.language)} ({code})" if found is not None else code

    def value(self, f: FieldDef | None, value: Any) -> str:
        if isinstance(value, bool):
            return _yes_no(value)
        if f is not None and f.type == FieldType.CHOICE:
            return self.term(f.vocabulary, value)
        if f is not None and f.type == FieldType.MULTICHOICE and isinstance(value, list):
            return ", ".join(self.term(f.vocabulary, v) for v in value)
        if f is not None and f.type in _RECORD_REFS:
            return ", ".join(self.ref(v) for v in (value if isinstance(value, list) else [value]))
        if isinstance(value, Mapping) and "value" in value and set(value) <= {"value", "precision"}:
            precision = value.get("precision")
            shown = str(value["value"])
            if isinstance(precision, str) and precision in DATE_PRECISIONS:
                shown += f" ({_(DATE_PRECISIONS[precision])})"
            return shown
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _number(value, f.unit if f is not None else None)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    def computed_value(
        self, f: FieldDef, value: Any, scope: Mapping[str, Any] | None = None
    ) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool):
            return _yes_no(value)
        formula = FORMULAS.get(f.formula or "")
        if formula is not None and formula.name in LIVING_SPACE_WORDS and scope is not None:
            inputs = {name: scope.get(source) for name, source in (f.inputs or {}).items()}
            words = describe_computed(
                formula.name, value, inputs, i18n.current(), lambda x: _number(x, None)
            )
            if words is not None:
                codes = ", ".join(value) if isinstance(value, list) else str(value)
                return f"{words[0]} ({codes})" if codes and codes != words[0] else words[0]
        if isinstance(value, int | float):
            return _number(value, f.unit)
        return str(value)

    def lines(
        self, fields: Sequence[FieldDef], data: Mapping[str, Any], indent: str, path: str
    ) -> Iterator[str]:
        known = {f.id: f for f in fields}
        for f in fields:
            here = f"{path}{f.id}"
            if f.type == FieldType.COMPUTED:
                if here in self.computed:
                    label = f.label.get(self.language)
                    shown = self.computed_value(f, self.computed[here], data)
                    yield f"{indent}{label}: {shown}"
                continue
            if f.id in data:
                yield from self.field(f, data[f.id], indent, here)
        for key, value in data.items():
            if key not in known:  # not in the template (an older or unknown form): raw key
                yield from self.field(None, value, indent, f"{path}{key}", key)

    def field(
        self, f: FieldDef | None, value: Any, indent: str, path: str, key: str = ""
    ) -> Iterator[str]:
        label = f.label.get(self.language) if f is not None else key
        sub = children(f) if f is not None else []
        if f is not None and f.type == FieldType.CONSENT and isinstance(value, Mapping):
            yield f"{indent}{label}:"
            yield from self.consent(sub, value, indent + "  ")
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            yield f"{indent}{label}:"
            for i, item in enumerate(value):
                yield f"{indent}  #{i + 1}"
                yield from self.lines(sub, item, indent + "    ", f"{path}[{i}].")
        elif isinstance(value, Mapping) and not (
            "value" in value and set(value) <= {"value", "precision"}
        ):
            yield f"{indent}{label}:"
            yield from self.lines(sub, value, indent + "  ", f"{path}.")
        else:
            text = self.value(f, value)
            lines = text.splitlines() or [""]
            yield f"{indent}{label}: {lines[0]}"
            for more in lines[1:]:
                yield f"{indent}  {more}"

    def consent(
        self, fields: Sequence[FieldDef], value: Mapping[str, Any], indent: str
    ) -> Iterator[str]:
        """One line per scope (the scopes list needs no heading of its own), then the changes."""
        by_id = {f.id: f for f in fields}
        scope_fields = {f.id: f for f in children(by_id["scopes"])} if "scopes" in by_id else {}
        for entry in value.get("scopes", []):
            if not isinstance(entry, Mapping):
                continue
            scope = self.value(scope_fields.get("scope"), entry.get("scope"))
            status = self.value(scope_fields.get("status"), entry.get("status"))
            line = f"{indent}{scope}: {status}"
            if entry.get("date") is not None:
                line += f", {self.value(scope_fields.get('date'), entry['date'])}"
            yield line
            if entry.get("conditions"):
                label = scope_fields["conditions"].label.get(self.language)
                yield f"{indent}  {label}: {entry['conditions']}"
        withdrawals = value.get("withdrawals")
        if withdrawals and "withdrawals" in by_id:
            yield from self.field(by_id["withdrawals"], withdrawals, indent, "withdrawals")


def _template_for(record: RecordView) -> FormTemplate | None:
    try:
        version = int(record.template_version) if record.template_version.isdigit() else None
        return load_template(record.template_id, version)
    except FieldkitError:
        return None


def _link_line(
    record_id: str, link: LinkView, language: str, others: Mapping[str, RecordSummary]
) -> str:
    outgoing = link.from_id == record_id
    other = link.to_id if outgoing else link.from_id
    from_type, _sep, to_type = link.kind.partition("_")
    other_type = to_type if outgoing else from_type
    what = _("evidence item") if other_type == "evidence" else type_name(other_type)
    role = ""
    if link.role:
        try:
            found = load_vocabulary("event_roles").get(link.role)
        except FieldkitError:
            found = None
        role = f" — {found.label(language)} ({link.role})" if found else f" — {link.role}"
    arrow = "→" if outgoing else "←"
    line = f"  {arrow} {what} {other}{role}"
    target = others.get(other)
    if target is not None:
        line += f"  {target.title or _('(no title)')}"
        if target.deleted:
            line += " " + _("[deleted]")
    elif other_type != "evidence":
        line += " " + _("[not in this profile]")
    return line


def show_record(args: argparse.Namespace, service: RecordService, record_id: str) -> int:
    record = service.get(record_id)
    links = service.links(record.id)
    history = service.history(record.id) if args.history else []
    computed: dict[str, Any] = {}
    warnings: list[ValidationIssue] = []
    if not record.deleted:
        try:
            computed = service.computed(record)
            warnings = service.warnings(record)
        except (FieldkitError, ValueError, TypeError, KeyError, ZeroDivisionError):
            computed = {}
    data: dict[str, Any] = {
        "ok": True,
        "record": record_doc(record),
        "computed": computed,
        "warnings": warning_docs(warnings),
        "links": [link_doc(link) for link in links],
    }
    if args.history:
        data["history"] = [version_doc(v) for v in history]
    language = i18n.current().language
    template = _template_for(record)
    template_name = template.label.get(language) if template else record.template_id
    lines = [
        _("{type} {id}").format(type=type_name(record.type).capitalize(), id=record.id),
        _("Title:     {title}").format(title=title_of(record)),
        _("Revision:  {revision}   created {created}, last saved {updated}").format(
            revision=record.revision,
            created=when_text(record.created_at),
            updated=when_text(record.updated_at),
        ),
        _("Template:  {name} ({template}, version {version})").format(
            name=template_name, template=record.template_id, version=record.template_version
        ),
    ]
    if record.confidential:
        lines.append(_("Confidential: yes"))
    if record.deleted:
        lines.append(_("This record was deleted; its history is kept."))
    lines.append("")
    others = service.summaries_of(
        [lk.to_id if lk.from_id == record.id else lk.from_id for lk in links]
    )
    shown = _Show(language, computed, others)
    lines.extend(shown.lines(template.fields if template else [], record.data, "  ", ""))
    if warnings:
        lines.append("")
        lines.append(_("Warnings (the record is saved; check these values):"))
        lines.extend(f"  {w.field}: {w.reason}" for w in warnings)
    if links:
        lines.append("")
        lines.append(_("Links (→ this record refers to; ← refers to this record):"))
        lines.extend(_link_line(record.id, link, language, others) for link in links)
    if args.history:
        lines.append("")
        lines.append(_("History:"))
        for version in history:
            what = _("deleted") if version.deleted else _("saved")
            extra = ""
            if version.origin == "imported":
                extra += " " + _("(received from device {device})").format(
                    device=version.saved_by_device
                )
            if version.in_conflict:
                extra += " " + _("[CONFLICT]")
            lines.append(
                _("  rev {revision:<3} {what} {when}  sha256 {hash}{extra}").format(
                    revision=version.revision,
                    what=what,
                    when=when_text(version.saved_at),
                    hash=version.content_hash[:16],
                    extra=extra,
                )
            )
    emit(args, data, lines)
    return 0


def warning_docs(warnings: Sequence[ValidationIssue]) -> list[dict[str, str]]:
    return [{"field": w.field, "reason": w.reason} for w in warnings]
