"""The visit report's table of areas inspected, as the living-space standards compute them.

For records filled with the visit template from version 2 on (the areas carry ``cpt_minimum``):
one row per area with its floor area, occupants and places, m² per person, the CPT minimum with
the checks that failed and the area the occupants would need, the CPT desirable standard and the
ECtHR space tier; a vehicle shows the CPT's vehicle rule instead. Version-1 records keep their
own table (visit_report.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.platypus import CondPageBreak, Flowable, Paragraph

from fieldkit.domain import living_space
from fieldkit.domain.forms import FieldDef, FieldType
from fieldkit.export.reports.common import grid_table, heading, markup, para
from fieldkit.export.reports.render import RenderContext, unit_label
from fieldkit.export.reports.styles import Styles


def _computed(subs: Sequence[FieldDef], formula: str) -> FieldDef | None:
    return next((x for x in subs if x.type == FieldType.COMPUTED and x.formula == formula), None)


def has_living_space(subs: Sequence[FieldDef]) -> bool:
    """Whether an areas group computes the living-space standards (template version 2 on)."""
    return _computed(subs, "cpt_minimum") is not None


def _inputs(f: FieldDef, item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: item.get(source) for name, source in (f.inputs or {}).items()}


def living_space_summary(
    subs: Sequence[FieldDef],
    items: Sequence[Any],
    ctx: RenderContext,
    s: Styles,
) -> list[Flowable]:
    """The table and a count of the areas below each standard; empty when nothing to show."""
    minimum = _computed(subs, "cpt_minimum")
    if minimum is None:
        return []
    desirable = _computed(subs, "cpt_desirable")
    tier = _computed(subs, "echr_space_tier")
    over = _computed(subs, "over_places")
    vehicle = _computed(subs, "vehicle_space")
    per_person = _computed(subs, "space_per_person")
    by_id = {x.id: x for x in subs}
    feeds = minimum.inputs or {}
    name_field = next((x for x in subs if x.type == FieldType.TEXT), None)
    type_field = by_id.get(feeds.get("area_type", ""))
    rows: list[list[Flowable | str]] = []
    below_minimum = below_desirable = under_3 = crowded = 0
    for n, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            continue
        found = living_space.assess(**_inputs(minimum, item))
        below_minimum += int(found.minimum == living_space.BELOW)
        below_desirable += int(found.desirable == living_space.BELOW)
        under_3 += int(found.echr_tier == living_space.TIER_UNDER_3)
        crowded += int((found.over_places or 0) > 0)
        area_text = "—"
        if found.area_m2 is not None:
            area_text = ctx.number(round(found.area_m2, 2), unit_label("m²", ctx.lang))
            derived = living_space.derived_area(
                item.get(feeds.get("floor_area", "")),
                item.get(feeds.get("length", "")),
                item.get(feeds.get("width", "")),
            )
            if derived is not None:  # worked out from the walls, not entered
                metre = unit_label("m", ctx.lang)
                area_text += (
                    f"\n({ctx.number(derived[0], metre)} × {ctx.number(derived[1], metre)})"
                )
        occupants = "—" if found.occupants is None else str(found.occupants)
        places = item.get(feeds.get("places", ""))
        if isinstance(places, int) and not isinstance(places, bool):
            occupants += f" / {places}"
        if over is not None and (found.over_places or 0) > 0:
            occupants += "\n" + ctx.computed_text(over, item)
        verdict_field = minimum
        if (
            found.rule is None
            and vehicle is not None
            and found.vehicle
            not in (
                None,
                living_space.NOT_APPLICABLE,
            )
        ):
            verdict_field = vehicle
        verdict = ctx.computed_text(verdict_field, item) or "—"
        bad = ctx.computed_tone(verdict_field, item) == "bad"
        further: list[str] = []
        if found.rule is not None:
            if desirable is not None:
                further.append(ctx.computed_text(desirable, item))
            if tier is not None and found.echr_tier not in (None, living_space.NOT_APPLICABLE):
                further.append(ctx.computed_text(tier, item))
        label = ctx.value_text(name_field, item.get(name_field.id)) if name_field else ""
        if type_field is not None:
            label += "\n" + ctx.value_text(type_field, item.get(type_field.id))
        rows.append(
            [
                str(n),
                label,
                area_text,
                occupants,
                ctx.computed_text(per_person, item) if per_person else "",
                Paragraph(markup(verdict), s.flag if bad else s.cell),
                "\n".join(t for t in further if t) or "—",
            ]
        )
    if not rows:
        return []
    return [
        CondPageBreak(120),
        heading(ctx._("Conditions of detention: areas inspected"), s.h2, "conditions"),
        grid_table(
            [
                "#",
                ctx._("Area"),
                ctx._("Floor area"),
                ctx._("Occupants / places"),
                ctx._("m² per person"),
                ctx._("CPT minimum standard"),
                ctx._("CPT desirable standard; ECtHR"),
            ],
            rows,
            s,
            [0.04, 0.17, 0.1, 0.11, 0.1, 0.26, 0.22],
        ),
        para(living_space_note(ctx, below_minimum, below_desirable, under_3, crowded), s.note),
    ]


def living_space_note(
    ctx: RenderContext, below_minimum: int, below_desirable: int, under_3: int, crowded: int
) -> str:
    """One sentence per count, under the table."""
    t = ctx.translator
    parts = [
        t.ngettext(
            "{count} area falls below the CPT minimum.",
            "{count} areas fall below the CPT minimum.",
            below_minimum,
        ).format(count=below_minimum),
        t.ngettext(
            "{count} area falls below the CPT desirable standard.",
            "{count} areas fall below the CPT desirable standard.",
            below_desirable,
        ).format(count=below_desirable),
        t.ngettext(
            "In {count} area each person has less than 3 m² (Muršić v. Croatia [GC]).",
            "In {count} areas each person has less than 3 m² (Muršić v. Croatia [GC]).",
            under_3,
        ).format(count=under_3),
        t.ngettext(
            "{count} area holds more persons than places or beds.",
            "{count} areas hold more persons than places or beds.",
            crowded,
        ).format(count=crowded),
        t.gettext(
            "The standards apply to accommodation only (cells, dormitories, police cells, wards); "
            "yards, kitchens, showers, visiting and interview rooms are not assessed, and vehicles "
            "have their own rule."
        ),
    ]
    return " ".join(parts)
