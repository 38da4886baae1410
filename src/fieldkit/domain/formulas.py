"""Computed values of the forms: occupancy, living space per person and the CPT flag, visit times.

Each formula takes named inputs (already-validated field values) and returns a number, a flag or
None. Missing, zero or inconsistent inputs give None; a formula never raises on entered data.

CPT living-space standards (CPT/Inf (2015) 44): 6 m² for a single-occupancy cell, plus 4 m² for
each additional person in a multiple-occupancy cell, not counting the sanitary annex; at least 2 m
between the walls and at least 2.5 m from floor to ceiling.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


@dataclass(frozen=True)
class Formula:
    name: str
    function: Callable[..., Any]
    inputs: tuple[str, ...]
    required_inputs: tuple[str, ...]
    input_kind: str  # "number" or "datetime"
    result: str  # "decimal", "int" or "flag"


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
