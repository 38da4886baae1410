"""Render any record's form data through its template, in the report's language.

Field labels and vocabulary terms come from the form templates and vocabularies (they carry their
own English, Ukrainian and Russian labels); entered content is printed exactly as entered, with the
names of persons not shown replaced. Whether a field appears is the disclosure policy's decision
(``fieldkit.domain.disclosure``) for the report's audience and the persons the record concerns;
the report then says that something was withheld and why, never what.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from babel.numbers import format_decimal
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from fieldkit.domain.common import ConsentRecord, ConsentStatus, is_empty
from fieldkit.domain.disclosure import Audience, Decision, DisclosurePolicy, Subject, field_facts
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import FieldDef, FieldType, FormTemplate, children
from fieldkit.domain.formulas import FORMULAS, describe_computed
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.export.reports.body_diagram import body_diagram, mark_is_drawn
from fieldkit.export.reports.common import (
    DOTTED_DATE_LANGUAGES,
    clean,
    fields_table,
    fmt_date,
    fmt_timestamp,
    grid_table,
    long_text,
    markup,
    para,
)
from fieldkit.export.reports.styles import Styles
from fieldkit.i18n import N_, Translator

PRECISION_NOTES = {
    "estimated": N_("approximate"),
    "day_unknown": N_("day unknown"),
    "month_unknown": N_("month and day unknown"),
}

# Sub-field types that fit in one table cell; a repeatable group of only these becomes a table.
_SHORT_TYPES = frozenset(
    {
        FieldType.TEXT,
        FieldType.NUMBER,
        FieldType.DATE,
        FieldType.DATETIME,
        FieldType.TIME,
        FieldType.CHOICE,
        FieldType.MULTICHOICE,
        FieldType.YESNO,
        FieldType.PERSON_REF,
        FieldType.FACILITY_REF,
        FieldType.RECORD_REF,
        FieldType.EVIDENCE_LINK,
        FieldType.COMPUTED,
    }
)
_MAX_TABLE_COLUMNS = 7


@dataclass
class RenderContext:
    """What rendering needs beyond the data: language, styles and how to name linked things."""

    translator: Translator
    styles: Styles
    person_label: Callable[[str], str]
    record_label: Callable[[str], str]
    facility_label: Callable[[str], str]
    evidence_label: Callable[[str], str]
    # Replaces the known names of persons shown by pseudonym with their codes in entered text.
    redact: Callable[[str], str] = field(default=lambda text: text)
    # Decides, per field, what the report's audience may see.
    policy: DisclosurePolicy = field(
        default_factory=lambda: DisclosurePolicy(Audience.ORGANISATION)
    )

    @property
    def lang(self) -> str:
        return self.translator.language

    def _(self, message: str) -> str:
        return self.translator.gettext(message)

    # --- values ---------------------------------------------------------------------------------

    def text(self, value: Any) -> str:
        """Entered text as printed: cleaned, with withheld names replaced by codes."""
        return self.redact(clean(value))

    def term(self, vocabulary: str | None, code: Any) -> str:
        if not vocabulary:
            return clean(code)
        try:
            return load_vocabulary(vocabulary).label(str(code), self.lang)
        except FieldkitError:
            return clean(code)

    def number(self, value: Any, unit: str | None = None) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return clean(value)
        if isinstance(value, float) and not math.isfinite(value):
            return clean(value)
        text = format_decimal(value, format="#,##0.##", locale=_babel_locale(self.lang))
        return f"{text}\u00a0{unit}" if unit else text

    def date(self, value: Any) -> str:
        if isinstance(value, Mapping):
            text = fmt_date(clean(value.get("value", "")), self.lang)
            precision = str(value.get("precision", "exact"))
            note = PRECISION_NOTES.get(precision)
            return f"{text} ({self._(note)})" if note and text else text
        return fmt_date(clean(value), self.lang)

    def yes_no(self, value: Any) -> str:
        if value is True:
            return self._("Yes")
        if value is False:
            return self._("No")
        return clean(value)

    def value_text(self, f: FieldDef, value: Any, scope: Mapping[str, Any] | None = None) -> str:
        """One field value as printable text (not for groups, body maps or consent)."""
        kind = f.type
        if kind == FieldType.COMPUTED:
            return self.computed_text(f, scope or {})
        if is_empty(value):
            return ""
        if kind == FieldType.CHOICE:
            return self.term(f.vocabulary, value)
        if kind == FieldType.MULTICHOICE:
            items = value if isinstance(value, list) else [value]
            return "; ".join(self.term(f.vocabulary, v) for v in items)
        if kind == FieldType.YESNO:
            return self.yes_no(value)
        if kind == FieldType.NUMBER:
            return self.number(value, unit_label(f.unit, self.lang))
        if kind == FieldType.DATE:
            return self.date(value)
        if kind == FieldType.DATETIME:
            return fmt_local_datetime(value, self.lang)
        if kind in (
            FieldType.PERSON_REF,
            FieldType.FACILITY_REF,
            FieldType.RECORD_REF,
            FieldType.EVIDENCE_LINK,
        ):
            resolve = {
                FieldType.PERSON_REF: self.person_label,
                FieldType.FACILITY_REF: self.facility_label,
                FieldType.RECORD_REF: self.record_label,
                FieldType.EVIDENCE_LINK: self.evidence_label,
            }[kind]
            items = value if isinstance(value, list) else [value]
            return "; ".join(self.redact(resolve(_ref_id(v))) for v in items if _ref_id(v))
        if isinstance(value, list):
            return "; ".join(self.text(v) for v in value)
        return self.text(value)

    def computed_value(self, f: FieldDef, scope: Mapping[str, Any]) -> Any:
        formula = FORMULAS.get(f.formula or "")
        if formula is None:
            return None
        args = {name: scope.get(source) for name, source in (f.inputs or {}).items()}
        try:
            return formula.function(**args)
        except (TypeError, ValueError, ArithmeticError):
            return None

    def computed_tone(self, f: FieldDef, scope: Mapping[str, Any]) -> str | None:
        """ "bad", "warn", "good" or None: how the computed value should be set."""
        value = self.computed_value(f, scope)
        args = {name: scope.get(source) for name, source in (f.inputs or {}).items()}
        words = describe_computed(f.formula or "", value, args, self.translator, self.number)
        return words[1] if words is not None else None

    def computed_text(self, f: FieldDef, scope: Mapping[str, Any]) -> str:
        formula = FORMULAS.get(f.formula or "")
        value = self.computed_value(f, scope)
        if value is None or formula is None:
            return ""
        args = {name: scope.get(source) for name, source in (f.inputs or {}).items()}
        words = describe_computed(formula.name, value, args, self.translator, self.number)
        if words is not None:
            return words[0]
        if formula.result == "date":
            return self.date(value)
        if formula.result == "int" and f.formula and f.formula.endswith("_minutes"):
            return format_minutes(int(value), self.translator)
        return self.number(value, unit_label(f.unit, self.lang))


def _babel_locale(lang: str) -> str:
    return {"en": "en_GB", "uk": "uk_UA", "ru": "ru_RU"}.get(lang, "en_GB")


# Units as the form templates write them, in each report language.
UNIT_LABELS: dict[str, dict[str, str]] = {
    "m": {"en": "m", "uk": "м", "ru": "м"},
    "m²": {"en": "m²", "uk": "м²", "ru": "м²"},
    "m2": {"en": "m²", "uk": "м²", "ru": "м²"},
    "cm": {"en": "cm", "uk": "см", "ru": "см"},
    "h": {"en": "h", "uk": "год", "ru": "ч"},
    "min": {"en": "min", "uk": "хв", "ru": "мин"},
    "%": {"en": "%", "uk": "%", "ru": "%"},
    "percent": {"en": "%", "uk": "%", "ru": "%"},
    "°C": {"en": "°C", "uk": "°C", "ru": "°C"},
}


def unit_label(unit: str | None, lang: str) -> str | None:
    if unit is None:
        return None
    return UNIT_LABELS.get(unit, {}).get(lang, unit)


def _ref_id(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or value.get("to_id") or "")
    return "" if value is None else str(value)


def format_minutes(minutes: int, translator: Translator) -> str:
    _ = translator.gettext
    hours, rest = divmod(minutes, 60)
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=rest)
    return _("{minutes} min").format(minutes=rest)


def item_heading(f: FieldDef, lang: str) -> str:
    """The heading of one item of a repeatable group: its singular label when it has one."""
    return (f.item_label or f.label).get(lang)


def fmt_local_datetime(value: Any, lang: str = "en") -> str:
    """A stored datetime (ISO 8601 with offset) in the time it was entered with:
    ``YYYY-MM-DD HH:MM (+03:00)``, or ``DD.MM.YYYY HH:MM (+03:00)`` in uk/ru."""
    from datetime import datetime

    text = str(value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return clean(text)
    offset = moment.strftime("%z")
    pattern = "%d.%m.%Y %H:%M" if lang in DOTTED_DATE_LANGUAGES else "%Y-%m-%d %H:%M"
    shown = moment.strftime(pattern)
    if offset:
        shown += f" ({offset[:3]}:{offset[3:]})"
    return shown


# --- records --------------------------------------------------------------------------------------


def render_record(
    template: FormTemplate,
    data: Mapping[str, Any],
    ctx: RenderContext,
    *,
    subject: Subject | None = None,
    skip: frozenset[str] = frozenset(),
    section_style: Any = None,
) -> list[Flowable]:
    """Every filled-in field of ``data`` the policy lets through, section by section.

    ``subject``: the persons the record concerns and its confidentiality flag. Entered text is
    printed with the names of persons not shown replaced (``ctx.redact``). A closing note counts
    what was withheld, with the reasons.
    """
    fields = _FieldGate(template.record_type, subject or Subject(), ctx.policy)
    out: list[Flowable] = []
    style = section_style or ctx.styles.h3
    for section in template.sections:
        block: list[Flowable] = []
        rows: list[tuple[str, Flowable | str]] = []
        for f in section.fields:
            if f.id in skip:
                continue
            value = data.get(f.id)
            if f.type != FieldType.COMPUTED and is_empty(value):
                continue
            if fields.withholds(f):
                continue
            label = f.label.get(ctx.lang)
            if f.type in _SHORT_TYPES:
                text = ctx.value_text(f, value, data)
                if text:
                    rows.append((label, text))
                continue
            _flush_rows(rows, block, ctx)
            block.extend(_render_complex(f, value, ctx, fields))
        _flush_rows(rows, block, ctx)
        if block:
            out.append(Paragraph(markup(section.label.get(ctx.lang)), style))
            out.extend(block)
    out.extend(fields.note(ctx))
    return out


def _flush_rows(
    rows: list[tuple[str, Flowable | str]], block: list[Flowable], ctx: RenderContext
) -> None:
    if rows:
        block.append(fields_table(list(rows), ctx.styles))
        rows.clear()


class _FieldGate:
    """The policy's decision for each field of one record, and the count of what it withheld."""

    def __init__(self, template_id: str, subject: Subject, policy: DisclosurePolicy) -> None:
        self.template_id = template_id
        self.subject = subject
        self.policy = policy
        self.withheld: dict[str, int] = {}
        self._reasons: dict[str, Decision] = {}

    def decide(self, f: FieldDef, parent: FieldDef | None = None) -> Decision:
        return self.policy.field(self.subject, field_facts(self.template_id, f, parent))

    def withholds(self, f: FieldDef, parent: FieldDef | None = None, count: int = 1) -> bool:
        decision = self.decide(f, parent)
        if not decision.withheld:
            return False
        key = decision.reason.message
        self.withheld[key] = self.withheld.get(key, 0) + count
        self._reasons.setdefault(key, decision)
        return True

    def note(self, ctx: RenderContext) -> list[Flowable]:
        total = sum(self.withheld.values())
        if not total:
            return []
        reasons = "; ".join(self._reasons[key].reason.text(ctx.translator) for key in self.withheld)
        return [
            para(
                ctx.translator.ngettext(
                    "{count} entry was withheld: {reasons}.",
                    "{count} entries were withheld: {reasons}.",
                    total,
                ).format(count=total, reasons=reasons),
                ctx.styles.note,
            )
        ]


def _render_complex(
    f: FieldDef, value: Any, ctx: RenderContext, fields: _FieldGate
) -> list[Flowable]:
    label = f.label.get(ctx.lang)
    s = ctx.styles
    if f.type == FieldType.LONGTEXT:
        return [Paragraph(markup(label), s.label), *long_text(ctx.text(value), s.body)]
    if f.type == FieldType.BODY_MAP:
        marks = value if isinstance(value, list) else []
        return [Paragraph(markup(label), s.label), *injury_block(marks, ctx)]
    if f.type == FieldType.CONSENT:
        return [Paragraph(markup(label), s.label), *consent_block(f, value, ctx)]
    if f.type == FieldType.GROUP:
        items = value if isinstance(value, list) else [value]
        items = [i for i in items if isinstance(i, Mapping) and not _all_empty(i)]
        if not items:
            return []
        return [
            Paragraph(markup(label), s.label),
            *group_block(f, items, ctx, fields),
        ]
    return [fields_table([(label, ctx.value_text(f, value))], s)]


def _all_empty(item: Mapping[str, Any]) -> bool:
    return all(is_empty(v) for v in item.values())


def group_block(
    f: FieldDef, items: Sequence[Mapping[str, Any]], ctx: RenderContext, fields: _FieldGate
) -> list[Flowable]:
    """A repeatable group: a table when its filled sub-fields are short, else one block each."""
    subs = []
    for sub in children(f):
        filled = sum(1 for item in items if not is_empty(item.get(sub.id)))
        if sub.type == FieldType.COMPUTED:
            if not any(ctx.computed_text(sub, item) for item in items):
                continue
        elif not filled:
            continue
        if fields.withholds(sub, f, count=max(filled, 1)):
            continue
        subs.append(sub)
    out: list[Flowable] = []
    if subs and all(sub.type in _SHORT_TYPES for sub in subs) and len(subs) <= _MAX_TABLE_COLUMNS:
        header = ["#", *(sub.label.get(ctx.lang) for sub in subs)]
        rows = [
            [str(n), *(ctx.value_text(sub, item.get(sub.id), item) for sub in subs)]
            for n, item in enumerate(items, start=1)
        ]
        first = 0.05
        widths = [first, *([(1 - first) / len(subs)] * len(subs))]
        out.append(grid_table(header, rows, ctx.styles, widths))
    else:
        for n, item in enumerate(items, start=1):
            rows_: list[tuple[str, Flowable | str]] = []
            tail: list[Flowable] = []
            for sub in subs:
                value = item.get(sub.id)
                if sub.type in _SHORT_TYPES:
                    text = ctx.value_text(sub, value, item)
                    if text:
                        rows_.append((sub.label.get(ctx.lang), text))
                elif not is_empty(value):
                    tail.extend(_render_complex(sub, value, ctx, fields))
            block: list[Flowable] = [
                Paragraph(markup(f"{item_heading(f, ctx.lang)} {n}"), ctx.styles.label)
            ]
            if rows_:
                block.append(fields_table(rows_, ctx.styles))
            out.append(KeepTogether(block) if not tail else block[0])
            if tail:
                out.extend(block[1:])
                out.extend(tail)
            out.append(Spacer(1, 4))
    return out


# --- consent ------------------------------------------------------------------------------------


def consent_record(value: Any) -> ConsentRecord | None:
    if not isinstance(value, Mapping):
        return None
    try:
        return ConsentRecord.model_validate(dict(value))
    except ValueError:
        return None


def consent_block(f: FieldDef, value: Any, ctx: RenderContext) -> list[Flowable]:
    """Consent per scope as it stands now (withdrawals applied), then the change log."""
    record = consent_record(value)
    if record is None:
        return [para(ctx._("The consent record could not be read."), ctx.styles.flag)]
    vocabulary = f.vocabulary or "consent_scopes"
    scopes: list[str] = []
    for entry in record.scopes:
        if entry.scope not in scopes:
            scopes.append(entry.scope)
    for change in record.withdrawals:
        if change.scope not in scopes:
            scopes.append(change.scope)
    rows: list[list[Flowable | str]] = []
    for scope in scopes:
        status = record.effective_status(scope)
        latest = next((e for e in reversed(record.scopes) if e.scope == scope), None)
        conditions = ctx.text(latest.conditions) if latest and latest.conditions else ""
        status_text = ctx.term("consent_statuses", status.value) if status else ""
        cell: Flowable | str = status_text
        if status == ConsentStatus.DECLINED:
            cell = Paragraph(markup(status_text), ctx.styles.cell_bold)
        rows.append([ctx.term(vocabulary, scope), cell, conditions])
    out: list[Flowable] = []
    if rows:
        out.append(
            grid_table(
                [ctx._("Scope"), ctx._("Decision now"), ctx._("Conditions")],
                rows,
                ctx.styles,
                [0.45, 0.17, 0.38],
            )
        )
    if record.withdrawals:
        changes = [
            [
                ctx.date(w.date.model_dump()),
                ctx.term(vocabulary, w.scope),
                ctx.term("consent_statuses", w.new_status.value)
                if w.new_status
                else ctx._("withdrawn"),
                ctx.text(w.how_received or ""),
            ]
            for w in record.withdrawals
        ]
        out.append(Spacer(1, 3))
        out.append(
            grid_table(
                [ctx._("Changed on"), ctx._("Scope"), ctx._("New decision"), ctx._("How received")],
                changes,
                ctx.styles,
                [0.18, 0.37, 0.18, 0.27],
            )
        )
    return out


# --- injuries -----------------------------------------------------------------------------------


def injury_block(marks: Sequence[Any], ctx: RenderContext) -> list[Flowable]:
    """The body diagram with numbered marks and the legend that explains each number."""
    entries = [m for m in marks if isinstance(m, Mapping)]
    if not entries:
        return []
    out: list[Flowable] = []
    if any(mark_is_drawn(m) for m in entries):
        drawing = body_diagram(
            entries,
            view_label=lambda view: ctx.term("body_views", view),
            side_letters=(ctx._("R"), ctx._("L")),
        )
        drawing.hAlign = "CENTER"
        out.append(drawing)
        out.append(
            para(
                ctx._(
                    "R and L are the person's right and left. Marks show where injuries were "
                    "observed; the numbers refer to the table below."
                ),
                ctx.styles.note,
            )
        )
    rows: list[list[Flowable | str]] = []
    for number, mark in enumerate(entries, start=1):
        place = "; ".join(
            t
            for t in (
                ctx.term("body_views", mark.get("view")) if mark.get("view") else "",
                ctx.term("body_regions", mark.get("region")) if mark.get("region") else "",
                ctx.term("body_sides", mark.get("side")) if mark.get("side") else "",
            )
            if t
        )
        if mark.get("view") and not mark_is_drawn(mark):
            place += " " + ctx._("(not drawn)")
        look = "; ".join(
            t
            for t in (
                ctx.number(mark["size_cm"], unit_label("cm", ctx.lang))
                if not is_empty(mark.get("size_cm"))
                else "",
                ctx.text(mark.get("shape") or ""),
                ctx.text(mark.get("colour") or ""),
            )
            if t
        )
        cause = "; ".join(
            t
            for t in (
                ctx.text(mark.get("reported_cause") or ""),
                ctx.date(mark.get("reported_date")) if mark.get("reported_date") else "",
            )
            if t
        )
        observed = (
            ctx.term("examiner_types", mark.get("examined_by")) if mark.get("examined_by") else ""
        )
        photos = mark.get("photos") or []
        if photos:
            observed = "; ".join(
                t
                for t in (
                    observed,
                    ctx._("photos: {list}").format(
                        list=", ".join(ctx.evidence_label(_ref_id(p)) for p in photos)
                    ),
                )
                if t
            )
        rows.append(
            [
                Paragraph(f"<b>{number}</b>", ctx.styles.cell),
                place,
                ctx.term("injury_types", mark.get("injury_type")),
                look,
                cause,
                observed,
            ]
        )
        if mark.get("notes"):
            rows.append(
                ["", Paragraph(markup(ctx.text(mark["notes"])), ctx.styles.cell), "", "", "", ""]
            )
    table = grid_table(
        [
            ctx._("No."),
            ctx._("Where"),
            ctx._("Injury"),
            ctx._("Size, shape, colour"),
            ctx._("Cause and date as reported"),
            ctx._("Observed by, photos"),
        ],
        rows,
        ctx.styles,
        [0.05, 0.19, 0.16, 0.18, 0.22, 0.20],
    )
    # Notes rows span the whole width after the number column.
    for index, row in enumerate(rows, start=1):
        if row[0] == "":
            table.setStyle([("SPAN", (1, index), (-1, index))])
    out.append(table)
    out.append(
        para(
            ctx._(
                "Observations by monitors who are not health professionals are descriptions, "
                "not medical opinions."
            ),
            ctx.styles.note,
        )
    )
    return out


__all__ = [
    "RenderContext",
    "consent_block",
    "consent_record",
    "fmt_local_datetime",
    "fmt_timestamp",
    "format_minutes",
    "group_block",
    "injury_block",
    "render_record",
]
