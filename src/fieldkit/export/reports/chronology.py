"""The case file's chronology: every dated fact of the case, its interviews and visits, and its
evidence, merged in date order — the statement of facts of an application is chronological.

The entries come from the templates, so any form version works: each date field (and each
computed date, such as the ECtHR deadline) gives an entry named by its item and field labels; the
entry's details are the labels of the same item's untagged choice fields and facility references.
Fields tagged ID, SENS or R never appear here, and records or evidence the audience may not have
are left out, so the chronology discloses nothing the rest of the file withholds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.platypus import CondPageBreak, Flowable

from fieldkit.domain.common import date_bounds
from fieldkit.domain.forms import FieldDef, FieldType, FormTemplate
from fieldkit.domain.formulas import FORMULAS
from fieldkit.export.reports.common import fmt_timestamp, grid_table, heading, para
from fieldkit.export.reports.render import RenderContext, item_heading


@dataclass(frozen=True)
class Entry:
    """One dated fact: sortable day, printed date, what, details and where it is recorded."""

    day: str
    when: str
    what: str
    details: str
    source: str


def _sortable(value: Any) -> str | None:
    raw = value.get("value") if isinstance(value, Mapping) else value
    if not isinstance(raw, str):
        return None
    try:
        return date_bounds(raw)[0].isoformat()
    except ValueError:
        return None


def _details(fields: Sequence[FieldDef], item: Mapping[str, Any], ctx: RenderContext) -> str:
    parts: list[str] = []
    for f in fields:
        if f.sensitivity or f.id not in item:
            continue
        if f.type in (FieldType.CHOICE, FieldType.MULTICHOICE, FieldType.FACILITY_REF):
            text = ctx.value_text(f, item.get(f.id), item)
            if text:
                parts.append(text)
    return "; ".join(parts)


def _internal(ctx: RenderContext) -> bool:
    return not ctx.policy.outside


def _dated(
    fields: Sequence[FieldDef],
    item: Mapping[str, Any],
    ctx: RenderContext,
    prefix: str,
) -> Iterator[tuple[str, str, str, str]]:
    """(day, printed date, what, details) for every date in one scope, groups included."""
    # Inside a group item the details say which act, body or facility; at the top of a record
    # they would only repeat the record's type and status.
    details = _details(fields, item, ctx) if prefix else ""
    for f in fields:
        label = f.label.get(ctx.lang)
        what = f"{prefix}: {label}" if prefix else label
        if f.type == FieldType.DATE and not f.sensitivity and f.id in item:
            day = _sortable(item[f.id])
            if day is not None:
                yield day, ctx.date(item[f.id]), what, details
        elif f.type == FieldType.COMPUTED and FORMULAS.get(f.formula or "") is not None:
            if FORMULAS[f.formula or ""].result == "date":
                value = ctx.computed_value(f, item)
                day = _sortable(value)
                if day is not None:
                    yield day, ctx.date(value), what, details
        elif f.type == FieldType.GROUP and (not f.sensitivity or _internal(ctx)):
            # A tagged group (ill-treatment episodes) gives its untagged dates and places only
            # to the organisation's own file.
            value = item.get(f.id)
            rows = (
                value if isinstance(value, list) else [value] if isinstance(value, Mapping) else []
            )
            for n, row in enumerate(rows, start=1):
                if isinstance(row, Mapping):
                    head = item_heading(f, ctx.lang) + (f" {n}" if f.is_repeatable else "")
                    yield from _dated(f.sub_fields, row, ctx, head)


def record_entries(
    template: FormTemplate, data: Mapping[str, Any], ctx: RenderContext, source: str
) -> list[Entry]:
    """The chronology entries of one record."""
    return [
        Entry(day, when, what, details, source)
        for day, when, what, details in _dated(template.fields, data, ctx, "")
    ]


def evidence_entry(
    number: str, received_at: str, captured_at: str, ctx: RenderContext
) -> list[Entry]:
    """When an evidence item was made (if known) and when it entered the evidence store."""
    out: list[Entry] = []
    for moment, what in (
        (captured_at, ctx._("Evidence item captured")),
        (received_at, ctx._("Evidence item received into the store")),
    ):
        if moment:
            out.append(Entry(str(moment)[:10], fmt_timestamp(moment, ctx.lang), what, "", number))
    return out


def chronology_section(
    entries: Sequence[Entry], ctx: RenderContext, note: Callable[[str], Flowable]
) -> list[Flowable]:
    """The chronology heading and table (or a note when nothing is dated)."""
    s = ctx.styles
    out: list[Flowable] = [CondPageBreak(150), heading(ctx._("Chronology"), s.h1, "chronology")]
    if not entries:
        return [*out, note(ctx._("Nothing in this file is dated yet."))]
    ordered = sorted(entries, key=lambda e: (e.day, e.source, e.what))
    rows: list[list[Flowable | str]] = [[e.when, e.what, e.details, e.source] for e in ordered]
    out.append(
        para(
            ctx._(
                "Every dated fact of this file in date order: acts, places of detention, "
                "episodes, proceedings, complaints, actions taken and evidence."
            ),
            s.note,
        )
    )
    out.append(
        grid_table(
            [ctx._("Date"), ctx._("Event"), ctx._("Details"), ctx._("Recorded in")],
            rows,
            s,
            [0.17, 0.33, 0.3, 0.2],
        )
    )
    return out
