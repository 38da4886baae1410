"""A facility's history across visits: each recommendation's status as seen at each visit.

A recommendation names the visit it came from (a record reference to a visit at its top level) and
keeps follow-up entries (a repeatable group whose items refer to a visit and carry a status from the
same vocabulary as the recommendation's own status). The table has one row per recommendation and
one column per visit, oldest first, and a last column with the status now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.platypus import Flowable, Paragraph

from fieldkit.domain.common import is_empty
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.forms import FieldDef, FieldType, FormTemplate, children
from fieldkit.export.reports.common import clean, grid_table, markup, para
from fieldkit.export.reports.data import RecordView
from fieldkit.export.reports.people import record_code, template_for
from fieldkit.export.reports.render import RenderContext
from fieldkit.export.reports.titles import title_of

VISITS_PER_TABLE = 6
_TEXT_LIMIT = 220


def _ref(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return "" if value is None else str(value)


def _is_visit_ref(f: FieldDef) -> bool:
    return f.type == FieldType.RECORD_REF and "visit" in (f.targets or [])


def status_field(template: FormTemplate) -> FieldDef | None:
    if template.index.status:
        try:
            return template.field(template.index.status)
        except KeyError:
            return None
    return next(
        (f for f in template.fields if f.type == FieldType.CHOICE and "status" in f.id), None
    )


def origin_visit(record: RecordView) -> str:
    """The visit a recommendation was made at, or "" when it has none."""
    try:
        template = template_for(record)
    except FieldkitError:
        return ""
    for f in template.fields:
        if _is_visit_ref(f) and not f.is_multiple:
            ref = _ref(record.data.get(f.id))
            if ref:
                return ref
    return ""


@dataclass(frozen=True)
class Timeline:
    issued_at: str  # visit id
    by_visit: Mapping[str, str]  # visit id -> status code seen at that visit
    current: str  # status code now
    vocabulary: str | None


def timeline(record: RecordView) -> Timeline:
    template = template_for(record)
    status = status_field(template)
    vocabulary = status.vocabulary if status else None
    by_visit: dict[str, str] = {}
    for f in template.fields:
        if f.type != FieldType.GROUP:
            continue
        subs = children(f)
        visit_ref = next((sub for sub in subs if _is_visit_ref(sub)), None)
        sub_status = next(
            (
                sub
                for sub in subs
                if sub.type == FieldType.CHOICE
                and (sub.vocabulary == vocabulary or "status" in sub.id)
            ),
            None,
        )
        if visit_ref is None or sub_status is None:
            continue
        items = record.data.get(f.id)
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, Mapping):
                continue
            visit_id = _ref(item.get(visit_ref.id))
            code = item.get(sub_status.id)
            if visit_id and not is_empty(code):
                by_visit[visit_id] = str(code)
                vocabulary = vocabulary or sub_status.vocabulary
    current = str(record.data.get(status.id) or "") if status else ""
    return Timeline(origin_visit(record), by_visit, current, vocabulary)


def recommendation_text(record: RecordView) -> str:
    """The recommendation's text (its first long-text field), shortened for a table cell."""
    try:
        template = template_for(record)
    except FieldkitError:
        return ""
    candidates = [f for f in template.fields if f.type == FieldType.LONGTEXT]
    candidates.append(template.field(template.title_field))
    for f in candidates:
        value = record.data.get(f.id)
        if isinstance(value, str) and value.strip():
            text = clean(value.strip())
            return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"
    return ""


def visit_date(visit: RecordView, ctx: RenderContext) -> tuple[str, str]:
    """(sortable date, printable date) of a visit from its template's index date."""
    try:
        template = template_for(visit)
    except FieldkitError:
        return "", ""
    if not template.index.date_from:
        return visit.created_at, ""
    f = template.field(template.index.date_from)
    value = visit.data.get(f.id)
    sortable = value.get("value", "") if isinstance(value, Mapping) else str(value or "")
    return str(sortable), ctx.value_text(f, value, visit.data)


def history_block(
    visits: Sequence[RecordView],
    recommendations: Sequence[RecordView],
    ctx: RenderContext,
    current_visit: str = "",
) -> list[Flowable]:
    """The recommendations x visits table (split into chunks of visits so columns stay legible)."""
    _ = ctx.translator.gettext
    s = ctx.styles
    if not recommendations:
        return [para(_("No recommendations have been recorded for this facility."), s.note)]
    dated = sorted(
        ((visit_date(v, ctx), v) for v in visits), key=lambda pair: (pair[0][0], pair[1].id)
    )
    timelines = {rec.id: timeline(rec) for rec in recommendations}
    out: list[Flowable] = []
    chunks = [dated[i : i + VISITS_PER_TABLE] for i in range(0, len(dated), VISITS_PER_TABLE)]
    for chunk_index, chunk in enumerate(chunks or [[]]):
        last = chunk_index == len(chunks) - 1 or not chunks
        header = [_("Recommendation")]
        for (_sortable, shown), visit in chunk:
            mark = " *" if visit.id == current_visit else ""
            header.append(f"{shown or ctx.redact(record_code(visit))}{mark}")
        if last:
            header.append(_("Status now"))
        rows: list[list[Flowable | str]] = []
        for rec in recommendations:
            line = timelines[rec.id]
            cells: list[Flowable | str] = [
                Paragraph(
                    # By its title (never a piece of its id), then its text.
                    f"<b>{markup(ctx.redact(title_of(rec, ctx.policy)))}</b> "
                    f"{markup(ctx.redact(recommendation_text(rec)))}",
                    s.cell,
                )
            ]
            for _pair, visit in chunk:
                code = line.by_visit.get(visit.id)
                if code:
                    cells.append(ctx.term(line.vocabulary, code))
                elif line.issued_at == visit.id:
                    cells.append(_("made at this visit"))
                else:
                    cells.append("—")
            if last:
                cells.append(
                    Paragraph(
                        f"<b>{markup(ctx.term(line.vocabulary, line.current))}</b>"
                        if line.current
                        else "—",
                        s.cell,
                    )
                )
            rows.append(cells)
        columns = len(header)
        first = 0.34 if columns > 2 else 0.6
        widths = [first, *([(1 - first) / (columns - 1)] * (columns - 1))]
        out.append(grid_table(header, rows, s, widths))
    if current_visit:
        out.append(para(_("* this visit"), s.note))
    return out
