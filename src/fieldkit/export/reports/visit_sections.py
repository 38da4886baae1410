"""Parts of the visit report written for the Ombudsperson's NPM practice.

- the *visit at a glance* after the cover: legal basis, team, dates (several days), whether the
  visit was announced, areas refused or not visited, and the summary of immediate observations;
- findings by OPCAT theme, every theme of the vocabulary listed, "not examined" for the ones the
  visit did not look at, so silence is not read as "no problem";
- recommendations made at this visit apart from the follow-up of earlier ones, with human
  numbers: the visit's reference and the recommendation's place (НПМ-2026-241/1).

Each builder takes what it needs from the report's :class:`RenderContext`; the visit report's
disclosure policy applies through it (``ctx.text`` redacts, ``value_text`` prints codes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reportlab.platypus import CondPageBreak, Flowable

from fieldkit.domain.forms import FormTemplate
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.export.reports.common import fields_table, grid_table, heading, para
from fieldkit.export.reports.data import RecordView
from fieldkit.export.reports.render import RenderContext
from fieldkit.export.reports.styles import Styles

# OPCAT articles an NPM visit rests on (mandate, visits, access); printed with the mandate chosen.
LEGAL_BASIS_ARTICLES = "OPCAT Art. 4, 19, 20"


def _field_text(
    template: FormTemplate, data: Mapping[str, Any], ctx: RenderContext, fid: str
) -> str:
    try:
        f = template.field(fid)
    except KeyError:
        return ""
    return ctx.value_text(f, data.get(fid), data) if fid in data else ""


def at_a_glance(
    template: FormTemplate, data: Mapping[str, Any], ctx: RenderContext, s: Styles
) -> list[Flowable]:
    """Legal basis, team, dates, announcement, areas not seen and the immediate observations."""
    _ = ctx._
    rows: list[tuple[str, Flowable | str]] = []
    mandate = _field_text(template, data, ctx, "mandate")
    rows.append((_("Legal basis"), "; ".join(x for x in (mandate, LEGAL_BASIS_ARTICLES) if x)))
    team = data.get("team")
    if isinstance(team, list) and team and "team" in {f.id for f in template.fields}:
        group = template.field("team")
        by_id = {f.id: f for f in group.sub_fields}
        members = []
        for member in team:
            if not isinstance(member, Mapping):
                continue
            parts = [ctx.text(member.get("member", ""))]
            for key in ("role", "sex"):
                if key in by_id and key in member:
                    parts.append(ctx.value_text(by_id[key], member[key], member))
            members.append(", ".join(p for p in parts if p))
        rows.append((_("Team"), "\n".join(members)))
    first = _field_text(template, data, ctx, "visit_date")
    last = _field_text(template, data, ctx, "visit_date_to")
    rows.append((_("Dates of the visit"), f"{first} – {last}" if last else first))
    announced = _field_text(template, data, ctx, "announced")
    if announced:
        rows.append((_("Notice of the visit"), announced))
    not_seen = _areas_not_seen(template, data, ctx)
    if not_seen:
        rows.append((_("Areas refused or not visited"), not_seen))
    out: list[Flowable] = [
        CondPageBreak(150),
        heading(_("The visit at a glance"), s.h1, "glance"),
        fields_table([(k, v) for k, v in rows if v], s),
    ]
    summary = data.get("immediate_observations")
    if isinstance(summary, str) and summary.strip():
        out.append(heading(_("Summary of key findings and immediate observations"), s.h3))
        out.append(para(ctx.text(summary), s.body))
    return out


def _areas_not_seen(template: FormTemplate, data: Mapping[str, Any], ctx: RenderContext) -> str:
    areas = data.get("areas")
    if not isinstance(areas, list):
        return ""
    try:
        access = template.field("areas.access")
    except KeyError:
        return ""
    lines = []
    for area in areas:
        if isinstance(area, Mapping) and area.get("access") in ("refused", "not_visited"):
            label = ctx.text(area.get("label", ""))
            lines.append(f"{label}: {ctx.value_text(access, area['access'], area)}")
    return "\n".join(lines)


def themes_section(
    template: FormTemplate,
    data: Mapping[str, Any],
    ctx: RenderContext,
    s: Styles,
    recommendation_number: Mapping[str, str],
) -> list[Flowable]:
    """Findings by OPCAT theme; every theme appears, "Not examined" where the visit was silent."""
    try:
        group = template.field("theme_findings")
    except KeyError:
        return []  # visit template version 1: one findings field, printed with the form
    _ = ctx._
    entries = [e for e in data.get("theme_findings") or [] if isinstance(e, Mapping)]
    by_id = {f.id: f for f in group.sub_fields}
    vocabulary = load_vocabulary(by_id["theme"].vocabulary or "recommendation_themes")
    rows: list[list[Flowable | str]] = []
    for term in vocabulary:
        found = [e for e in entries if e.get("theme") == term.code]
        if not found or all(e.get("not_examined") for e in found):
            rows.append([term.label(ctx.lang), _("Not examined"), "", ""])
            continue
        for entry in found:
            recs = entry.get("recommendations") or []
            rows.append(
                [
                    term.label(ctx.lang),
                    ctx.text(entry.get("finding", "")),
                    ctx.text(entry.get("areas", "")),
                    ", ".join(recommendation_number.get(r, ctx.record_label(r)) for r in recs),
                ]
            )
    return [
        CondPageBreak(150),
        heading(_("Findings by theme"), s.h1, "themes"),
        grid_table(
            [_("Theme"), _("Finding"), _("Areas"), _("Recommendations")],
            rows,
            s,
            [0.2, 0.48, 0.16, 0.16],
        ),
    ]


def split_recommendations(
    visit: RecordView, recommendations: Sequence[RecordView]
) -> tuple[list[RecordView], list[RecordView]]:
    """(made at this visit, earlier ones followed up at it)."""
    new = [r for r in recommendations if r.data.get("origin_visit") == visit.id]
    earlier = [r for r in recommendations if r.data.get("origin_visit") != visit.id]
    return new, earlier


def recommendation_numbers(
    visit: RecordView, new: Sequence[RecordView], text: Callable[[object], str]
) -> dict[str, str]:
    """Human numbers for the recommendations made at this visit: the visit's reference, a slash,
    the place in the list (НПМ-2026-241/1); without a reference, just the place. ``text`` is the
    report's redaction (a name typed into the reference is replaced there too)."""
    reference = visit.data.get("reference")
    prefix = f"{text(reference)}/" if isinstance(reference, str) and reference else ""

    def issued(record: RecordView) -> str:
        value = record.data.get("issued_on")
        return str(value.get("value", "")) if isinstance(value, Mapping) else str(value or "")

    ordered = sorted(new, key=lambda r: (issued(r), r.created_at, r.id))
    return {r.id: f"{prefix}{n}" for n, r in enumerate(ordered, start=1)}
