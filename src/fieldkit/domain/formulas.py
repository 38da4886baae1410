"""Computed values of the forms: occupancy, living space per person and its standards, visit times.

The living-space formulas of the current visit template (``space_per_person``, ``cpt_minimum``,
``cpt_minimum_reasons``, ``cpt_desirable``, ``echr_space_tier``, ``over_places``,
``vehicle_space``) come from :mod:`fieldkit.domain.living_space`. ``area_per_person`` and
``cpt_space_flag`` below are kept unchanged for records filled with visit template version 1.

Each formula takes named inputs (already-validated field values) and returns a number, a flag or
None. Missing, zero or inconsistent inputs give None; a formula never raises on entered data.

CPT living-space standards (CPT/Inf (2015) 44): 6 m² for a single-occupancy cell, plus 4 m² for
each additional person in a multiple-occupancy cell, not counting the sanitary annex; at least 2 m
between the walls and at least 2.5 m from floor to ceiling.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fieldkit.domain import living_space
from fieldkit.i18n import N_, Translator

CPT_SINGLE_M2 = 6.0
CPT_ADDITIONAL_M2 = 4.0
CPT_MIN_WALL_DISTANCE_M = 2.0
CPT_MIN_CEILING_HEIGHT_M = 2.5


def _number(value: Any) -> float | None:
    # Infinity and NaN are not measurements; treating them as missing keeps every formula total.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


def occupancy_percent(present: Any = None, capacity: Any = None) -> float | None:
    """Persons present as a percentage of the official capacity, one decimal."""
    n, cap = _number(present), _number(capacity)
    if n is None or cap is None or cap <= 0 or n < 0:
        return None
    return round(n * 100.0 / cap, 1)


def area_per_person(floor_area: Any = None, occupants: Any = None) -> float | None:
    """Floor area (without the sanitary annex) divided by the occupants on the day, two decimals."""
    area, n = _number(floor_area), _number(occupants)
    if area is None or n is None or n <= 0 or area < 0:
        return None
    return round(area / n, 2)


def cpt_required_area(occupants: int) -> float:
    """The CPT minimum floor area for ``occupants``: 6 m² plus 4 m² per additional person."""
    return CPT_SINGLE_M2 + CPT_ADDITIONAL_M2 * max(occupants - 1, 0)


def cpt_space_flag(
    floor_area: Any = None,
    occupants: Any = None,
    length: Any = None,
    width: Any = None,
    height: Any = None,
) -> bool | None:
    """True when the room falls below a CPT minimum; False when every check passes.

    None when the space check cannot be made (no area or no occupants) and no other check fails.
    """
    area, n = _number(floor_area), _number(occupants)
    failed = False
    space_known = False
    if area is not None and n is not None and n >= 1 and area >= 0:
        space_known = True
        if area < cpt_required_area(int(n)):
            failed = True
    length_m, width_m = _number(length), _number(width)
    walls = [v for v in (length_m, width_m) if v is not None and v > 0]
    if walls and min(walls) < CPT_MIN_WALL_DISTANCE_M:
        failed = True
    height_m = _number(height)
    if height_m is not None and 0 < height_m < CPT_MIN_CEILING_HEIGHT_M:
        failed = True
    if failed:
        return True
    return False if space_known else None


def minutes_between(start: Any = None, end: Any = None) -> int | None:
    """Whole minutes from ``start`` to ``end`` (ISO 8601 with offset); None if missing/negative."""
    a, b = _moment(start), _moment(end)
    if a is None or b is None or b < a:
        return None
    return int((b - a).total_seconds() // 60)


def _day_of(value: Any) -> date | None:
    """An exact day from a date-with-precision value (or an ISO string); None otherwise."""
    if isinstance(value, Mapping):
        if value.get("precision", "exact") != "exact":
            return None
        value = value.get("value")
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def add_months(day: date, months: int) -> date:
    """The same day number ``months`` later, or the last day of that month when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def echr_deadline(decision: Any = None, served: Any = None) -> str | None:
    """The last day for an application to the ECtHR: four months from the final domestic decision
    (Art. 35 § 1 as amended by Protocol No. 15), counted from the day it was served when that is
    entered. The period ends on the same day number four months later, or the last day of a
    shorter month, and is not extended for a weekend or holiday. ISO date, or None."""
    start = _day_of(served) or _day_of(decision)
    if start is None:
        return None
    return add_months(start, 4).isoformat()


@dataclass(frozen=True)
class Formula:
    name: str
    function: Callable[..., Any]
    inputs: tuple[str, ...]
    required_inputs: tuple[str, ...]
    input_kind: str  # "number" or "datetime": the kind of every input not in input_kinds
    result: str  # "decimal", "int", "flag", "term" (a code) or "terms" (a list of codes)
    input_kinds: Mapping[str, str] = field(default_factory=dict)  # "choice", "yesno", ...

    def kind_of(self, name: str) -> str:
        """The kind of field input ``name`` must be fed from."""
        return self.input_kinds.get(name, self.input_kind)


def _space(name: str, function: Callable[..., Any], result: str) -> Formula:
    return Formula(
        name,
        function,
        living_space.SPACE_INPUTS,
        ("area_type", "floor_area", "length", "width", "occupants"),
        "number",
        result,
        living_space.SPACE_INPUT_KINDS,
    )


FORMULAS: Mapping[str, Formula] = {
    f.name: f
    for f in (
        Formula(
            "occupancy_percent",
            occupancy_percent,
            ("present", "capacity"),
            ("present", "capacity"),
            "number",
            "decimal",
        ),
        Formula(
            "area_per_person",
            area_per_person,
            ("floor_area", "occupants"),
            ("floor_area", "occupants"),
            "number",
            "decimal",
        ),
        Formula(
            "cpt_space_flag",
            cpt_space_flag,
            ("floor_area", "occupants", "length", "width", "height"),
            ("floor_area", "occupants"),
            "number",
            "flag",
        ),
        Formula(
            "space_per_person",
            living_space.space_per_person,
            ("floor_area", "occupants", "length", "width"),
            ("floor_area", "occupants", "length", "width"),
            "number",
            "decimal",
        ),
        _space("cpt_minimum", living_space.cpt_minimum, "term"),
        _space("cpt_minimum_reasons", living_space.cpt_minimum_reasons, "terms"),
        _space("cpt_desirable", living_space.cpt_desirable, "term"),
        _space("echr_space_tier", living_space.echr_space_tier, "term"),
        _space("over_places", living_space.over_places, "int"),
        _space("vehicle_space", living_space.vehicle_space, "term"),
        Formula(
            "echr_deadline",
            echr_deadline,
            ("decision", "served"),
            ("decision",),
            "date",
            "date",
        ),
        Formula(
            "visit_duration_minutes",
            minutes_between,
            ("start", "end"),
            ("start", "end"),
            "datetime",
            "int",
        ),
        Formula(
            "admission_delay_minutes",
            minutes_between,
            ("start", "end"),
            ("start", "end"),
            "datetime",
            "int",
        ),
    )
}


def describe_computed(
    formula_name: str,
    value: Any,
    inputs: Mapping[str, Any],
    translate: Translator,
    number: Callable[[float], str],
) -> tuple[str, str | None] | None:
    """Words and a tone ("bad", "warn", "good" or None) for a computed value that is not a plain
    number; None when the caller shows it as a number (or the value is missing)."""
    if value is None:
        return None
    if formula_name == "cpt_space_flag":  # visit template version 1
        if value:
            return translate.gettext(N_("Below the CPT minimum")), "bad"
        return translate.gettext(N_("Meets the CPT minimum")), "good"
    text = living_space.describe(formula_name, value, inputs, translate, number)
    if text is None:
        return None
    return text, living_space.tone(formula_name, value)
