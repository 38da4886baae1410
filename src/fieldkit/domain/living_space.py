"""Living space of an inspected area as the standards compute it (docs/forms.md cites each rule).

One assessment (:func:`assess`) gives every living-space value of an area; the formulas in
:mod:`fieldkit.domain.formulas` each return one part of it, so the values can never disagree.

- **Accommodation** (``cell``, ``dormitory``, ``isolation_cell``): CPT/Inf (2015) 44 — the
  *minimum* is 6 m² for single occupancy and 4 m² per person in multiple occupancy with a fully
  partitioned sanitary annex, at least 2 m between the walls and 2.5 m floor to ceiling; the
  *desirable* standard is 6 m² plus 4 m² per additional person. The ECtHR space tiers of
  Muršić v. Croatia [GC] apply to the personal space per person.
- **Police cells** (``police_cell``): the CPT's police-cell standard of about 7 m² for one person
  (2nd General Report, CPT/Inf (92) 3 § 43); 4 m² per person in multiple occupancy as for cells.
- **Wards** (``ward``, health and social care): the CPT's cell minimum as the floor; the Muršić
  tiers are not applied (the Court weighs conditions in care settings as a whole).
- **Vehicles** (``transport_vehicle``): not accommodation; their own rule — a compartment of
  0.8 m² or less per person is unsuitable for transporting anyone, however short the journey.
- Every other type (yards, kitchens, showers, visiting and interview rooms…) is not accommodation
  and the living-space standards do not apply to it.

The floor area is the one entered (without the sanitary annex) or, when it is missing, length ×
width. Missing inputs give None; nothing here raises on entered data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from fieldkit.i18n import N_, Translator

MEETS: Final = "meets"
BELOW: Final = "below"
NOT_APPLICABLE: Final = "not_applicable"

REASON_AREA: Final = "area"
REASON_WALL: Final = "wall"
REASON_CEILING: Final = "ceiling"
REASON_ANNEX: Final = "annex_unpartitioned"

TIER_UNDER_3: Final = "under_3"
TIER_3_TO_4: Final = "3_to_4"
TIER_OVER_4: Final = "over_4"

VEHICLE_UNSUITABLE: Final = "unsuitable"
VEHICLE_ABOVE_THRESHOLD: Final = "above_threshold"

# How far a floor area may differ from length × width before the form warns (10 %).
AREA_MISMATCH_TOLERANCE: Final = 0.10
VEHICLE_UNSUITABLE_M2: Final = 0.8
_EPSILON: Final = 1e-9


@dataclass(frozen=True)
class SpaceRule:
    """The numbers of one standard (all in metres and square metres)."""

    key: str
    single_m2: float
    per_person_m2: float
    desirable_first_m2: float
    desirable_additional_m2: float
    min_wall_m: float
    min_ceiling_m: float
    echr_tiers: bool


CPT_CELL: Final = SpaceRule("cpt_cell", 6.0, 4.0, 6.0, 4.0, 2.0, 2.5, True)
CPT_POLICE_CELL: Final = SpaceRule("cpt_police_cell", 7.0, 4.0, 7.0, 4.0, 2.0, 2.5, True)
CPT_WARD: Final = SpaceRule("cpt_ward", 6.0, 4.0, 6.0, 4.0, 2.0, 2.5, False)

RULES: Final[Mapping[str, SpaceRule]] = {
    "cell": CPT_CELL,
    "dormitory": CPT_CELL,
    "isolation_cell": CPT_CELL,
    "police_cell": CPT_POLICE_CELL,
    "ward": CPT_WARD,
}
VEHICLE_TYPES: Final = frozenset({"transport_vehicle"})

# Labels of the computed values, translated where they are shown (reports.po, ui.po).
RESULT_LABELS: Final[Mapping[str, str]] = {
    MEETS: N_("Meets the CPT minimum"),
    BELOW: N_("Below the CPT minimum"),
    NOT_APPLICABLE: N_("Not applicable (not accommodation)"),
}
DESIRABLE_LABELS: Final[Mapping[str, str]] = {
    MEETS: N_("Meets the CPT desirable standard"),
    BELOW: N_("Below the CPT desirable standard"),
    NOT_APPLICABLE: N_("Not applicable (not accommodation)"),
}
REASON_LABELS: Final[Mapping[str, str]] = {
    REASON_AREA: N_("floor area"),
    REASON_WALL: N_("less than 2 m between the walls"),
    REASON_CEILING: N_("less than 2.5 m from floor to ceiling"),
    REASON_ANNEX: N_("sanitary annex not fully partitioned in a shared room"),
}
TIER_LABELS: Final[Mapping[str, str]] = {
    TIER_UNDER_3: N_("Under 3 m² per person: strong presumption of a violation of Article 3"),
    TIER_3_TO_4: N_("3 to 4 m² per person: a weighty factor under Article 3"),
    TIER_OVER_4: N_("Over 4 m² per person: space alone raises no issue under Article 3"),
    NOT_APPLICABLE: N_("Not applicable"),
}
VEHICLE_LABELS: Final[Mapping[str, str]] = {
    VEHICLE_UNSUITABLE: N_("Unsuitable for any journey (0.8 m² or less per person)"),
    VEHICLE_ABOVE_THRESHOLD: N_("Above the CPT's unsuitability threshold"),
    NOT_APPLICABLE: N_("Not applicable (not a vehicle)"),
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _positive(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None


def living_area(floor_area: Any = None, length: Any = None, width: Any = None) -> float | None:
    """The floor area entered, or length × width when it is missing."""
    area = _number(floor_area)
    if area is not None and area >= 0:
        return area
    length_m, width_m = _positive(length), _positive(width)
    if length_m is None or width_m is None:
        return None
    return length_m * width_m


def derived_area(
    floor_area: Any = None, length: Any = None, width: Any = None
) -> tuple[float, float, float] | None:
    """(length, width, length × width) when the floor area is not entered but both walls are:
    the area the assessment then uses, to be shown as worked out rather than entered."""
    area = _number(floor_area)
    if area is not None and area >= 0:
        return None
    length_m, width_m = _positive(length), _positive(width)
    if length_m is None or width_m is None:
        return None
    return length_m, width_m, round(length_m * width_m, 2)


def explain_derived_area(
    inputs: Mapping[str, Any], translate: Translate, number: FormatNumber
) -> str | None:
    """ "floor area from length × width: 4.2 m × 3.1 m = 13.02 m²", or None when entered."""
    found = derived_area(inputs.get("floor_area"), inputs.get("length"), inputs.get("width"))
    if found is None:
        return None
    length_m, width_m, area = found
    return translate.gettext(
        N_("floor area from length × width: {length} m × {width} m = {area} m²")
    ).format(length=number(length_m), width=number(width_m), area=number(area))


def area_mismatch(floor_area: Any = None, length: Any = None, width: Any = None) -> float | None:
    """How far (as a fraction) the floor area differs from length × width, when above 10 %."""
    area = _number(floor_area)
    length_m, width_m = _positive(length), _positive(width)
    if area is None or area < 0 or length_m is None or width_m is None:
        return None
    product = length_m * width_m
    difference = abs(area - product) / product
    return difference if difference > AREA_MISMATCH_TOLERANCE + _EPSILON else None


def _occupants(value: Any) -> int | None:
    number = _number(value)
    if number is None or number < 0 or not number.is_integer():
        return None
    return int(number)


@dataclass(frozen=True)
class SpaceAssessment:
    """Every living-space value of one area. None: cannot be said from what is entered."""

    area_type: str | None
    rule: SpaceRule | None
    area_m2: float | None
    occupants: int | None
    area_per_person: float | None
    minimum: str | None
    reasons: tuple[str, ...] | None
    desirable: str | None
    echr_tier: str | None
    over_places: int | None
    vehicle: str | None
    minimum_required_m2: float | None
    desirable_required_m2: float | None
    max_occupants: int | None

    @property
    def applies(self) -> bool:
        return self.rule is not None


def minimum_required(rule: SpaceRule, occupants: int) -> float:
    """The floor area the CPT minimum asks of ``occupants`` persons under ``rule``."""
    if occupants <= 1:
        return rule.single_m2
    return rule.per_person_m2 * occupants


def desirable_required(rule: SpaceRule, occupants: int) -> float:
    return rule.desirable_first_m2 + rule.desirable_additional_m2 * max(occupants - 1, 0)


def max_occupants(rule: SpaceRule, area: float) -> int:
    """How many persons the area can hold under the minimum (0: not even one)."""
    if area + _EPSILON < rule.single_m2:
        return 0
    return max(1, math.floor(area / rule.per_person_m2 + _EPSILON))


def _tier(per_person: float) -> str:
    if per_person + _EPSILON < 3.0:
        return TIER_UNDER_3
    if per_person <= 4.0 + _EPSILON:
        return TIER_3_TO_4
    return TIER_OVER_4


def _annex_unpartitioned(sanitary_annex: Any, annex_partitioned: Any, toilet_in_room: Any) -> bool:
    if sanitary_annex is True and annex_partitioned is False:
        return True
    # A toilet in the room with no annex at all is not partitioned either.
    return toilet_in_room is True and sanitary_annex is False


def assess(
    area_type: Any = None,
    floor_area: Any = None,
    length: Any = None,
    width: Any = None,
    height: Any = None,
    occupants: Any = None,
    places: Any = None,
    sanitary_annex: Any = None,
    annex_partitioned: Any = None,
    toilet_in_room: Any = None,
) -> SpaceAssessment:
    """Assess one area against the rule for its type (module docstring)."""
    kind = area_type if isinstance(area_type, str) else None
    rule = RULES.get(kind) if kind else None
    area = living_area(floor_area, length, width)
    n = _occupants(occupants)
    per_person = round(area / n, 2) if area is not None and n else None
    vehicle: str | None = None
    if kind in VEHICLE_TYPES and per_person is not None:
        unsuitable = per_person <= VEHICLE_UNSUITABLE_M2 + _EPSILON
        vehicle = VEHICLE_UNSUITABLE if unsuitable else VEHICLE_ABOVE_THRESHOLD
    if rule is None:
        applicable = NOT_APPLICABLE if kind is not None else None
        return SpaceAssessment(
            kind, None, area, n, per_person, applicable, () if applicable else None, applicable,
            applicable, None, vehicle, None, None, None,
        )  # fmt: skip
    reasons: list[str] = []
    space_known = area is not None and n is not None and n >= 1
    minimum_m2 = minimum_required(rule, n) if n else None
    desirable_m2 = desirable_required(rule, n) if n else None
    if space_known and minimum_m2 is not None and area is not None and area + _EPSILON < minimum_m2:
        reasons.append(REASON_AREA)
    walls = [v for v in (_positive(length), _positive(width)) if v is not None]
    if walls and min(walls) + _EPSILON < rule.min_wall_m:
        reasons.append(REASON_WALL)
    height_m = _positive(height)
    if height_m is not None and height_m + _EPSILON < rule.min_ceiling_m:
        reasons.append(REASON_CEILING)
    if (
        n is not None
        and n >= 2
        and _annex_unpartitioned(sanitary_annex, annex_partitioned, toilet_in_room)
    ):
        reasons.append(REASON_ANNEX)
    if reasons:
        minimum: str | None = BELOW
    else:
        minimum = MEETS if space_known else None
    desirable: str | None = None
    if minimum == BELOW:
        desirable = BELOW
    elif space_known and area is not None and desirable_m2 is not None:
        desirable = BELOW if area + _EPSILON < desirable_m2 else MEETS
    tier: str | None = NOT_APPLICABLE
    if rule.echr_tiers:
        tier = _tier(per_person) if per_person is not None else None
    n_places = _occupants(places)
    over = max(n - n_places, 0) if n is not None and n_places is not None else None
    return SpaceAssessment(
        kind,
        rule,
        area,
        n,
        per_person,
        minimum,
        tuple(reasons) if (reasons or minimum is not None) else None,
        desirable,
        tier,
        over,
        vehicle,
        minimum_m2,
        desirable_m2,
        max_occupants(rule, area) if area is not None else None,
    )


# --- formulas (one value of the assessment each) ------------------------------------------------

SPACE_INPUTS: Final = (
    "area_type",
    "floor_area",
    "length",
    "width",
    "height",
    "occupants",
    "places",
    "sanitary_annex",
    "annex_partitioned",
    "toilet_in_room",
)
SPACE_INPUT_KINDS: Final[Mapping[str, str]] = {
    "area_type": "choice",
    "sanitary_annex": "yesno",
    "annex_partitioned": "yesno",
    "toilet_in_room": "yesno",
}


def space_per_person(
    floor_area: Any = None, occupants: Any = None, length: Any = None, width: Any = None
) -> float | None:
    """Floor area (or length × width) per occupant, two decimals."""
    area = living_area(floor_area, length, width)
    n = _occupants(occupants)
    if area is None or not n:
        return None
    return round(area / n, 2)


def cpt_minimum(**inputs: Any) -> str | None:
    return assess(**inputs).minimum


def cpt_minimum_reasons(**inputs: Any) -> list[str] | None:
    reasons = assess(**inputs).reasons
    return list(reasons) if reasons is not None else None


def cpt_desirable(**inputs: Any) -> str | None:
    return assess(**inputs).desirable


def echr_space_tier(**inputs: Any) -> str | None:
    return assess(**inputs).echr_tier


def over_places(**inputs: Any) -> int | None:
    return assess(**inputs).over_places


def vehicle_space(**inputs: Any) -> str | None:
    return assess(**inputs).vehicle


FORMULA_NAMES: Final = frozenset(
    {
        "cpt_minimum",
        "cpt_minimum_reasons",
        "cpt_desirable",
        "echr_space_tier",
        "over_places",
        "vehicle_space",
    }
)


# --- words for the values ---------------------------------------------------------------------


Translate = Translator
FormatNumber = Callable[[float], str]


def explain_minimum(assessment: SpaceAssessment, translate: Translate, number: FormatNumber) -> str:
    """The CPT-minimum verdict in words: which checks failed and what area would be needed."""
    if assessment.minimum is None:
        return ""
    text = translate.gettext(RESULT_LABELS[assessment.minimum])
    if assessment.minimum == NOT_APPLICABLE or assessment.rule is None:
        return text
    details: list[str] = []
    for reason in assessment.reasons or ():
        if reason == REASON_AREA and assessment.minimum_required_m2 is not None:
            persons = assessment.occupants or 1
            details.append(
                translate.ngettext(
                    "floor area: {persons} person needs at least {required} m²",
                    "floor area: {persons} persons need at least {required} m²",
                    persons,
                ).format(persons=persons, required=number(assessment.minimum_required_m2))
            )
        else:
            details.append(translate.gettext(REASON_LABELS[reason]))
    if assessment.max_occupants is not None and REASON_AREA in (assessment.reasons or ()):
        details.append(
            translate.ngettext(
                "the room holds at most {count} person under the minimum",
                "the room holds at most {count} persons under the minimum",
                assessment.max_occupants,
            ).format(count=assessment.max_occupants)
        )
    return f"{text}: {'; '.join(details)}" if details else text


def explain_desirable(
    assessment: SpaceAssessment, translate: Translate, number: FormatNumber
) -> str:
    if assessment.desirable is None:
        return ""
    text = translate.gettext(DESIRABLE_LABELS[assessment.desirable])
    if assessment.desirable == BELOW and assessment.desirable_required_m2 is not None:
        text += " " + translate.gettext("({required} m² needed)").format(
            required=number(assessment.desirable_required_m2)
        )
    return text


def explain_over_places(value: int, translate: Translate) -> str:
    if value <= 0:
        return translate.gettext("No more occupants than places or beds")
    return translate.ngettext(
        "{count} occupant more than places or beds",
        "{count} occupants more than places or beds",
        value,
    ).format(count=value)


def tone(formula: str, value: Any) -> str | None:
    """ "bad", "warn", "good" or None: how a display colours the value of ``formula``."""
    if formula in ("cpt_minimum", "cpt_desirable"):
        return {BELOW: "bad", MEETS: "good"}.get(value) if isinstance(value, str) else None
    if formula == "echr_space_tier":
        return {TIER_UNDER_3: "bad", TIER_3_TO_4: "warn", TIER_OVER_4: "good"}.get(str(value))
    if formula == "over_places" and isinstance(value, int):
        return "bad" if value > 0 else "good"
    if formula == "cpt_minimum_reasons" and isinstance(value, list):
        return "bad" if value else None
    if formula == "vehicle_space":
        return "bad" if value == VEHICLE_UNSUITABLE else None
    return None


def describe(
    formula: str,
    value: Any,
    inputs: Mapping[str, Any],
    translate: Translate,
    number: FormatNumber,
) -> str | None:
    """The words for one living-space value, or None when ``formula`` is not one of these."""
    if formula == "cpt_minimum":
        return explain_minimum(assess(**inputs), translate, number)
    if formula == "cpt_desirable":
        return explain_desirable(assess(**inputs), translate, number)
    if formula == "cpt_minimum_reasons" and isinstance(value, list):
        if not value:
            return translate.gettext("none")
        return "; ".join(translate.gettext(REASON_LABELS[r]) for r in value if r in REASON_LABELS)
    if formula == "echr_space_tier" and isinstance(value, str):
        return translate.gettext(TIER_LABELS.get(value, value))
    if formula == "over_places" and isinstance(value, int):
        return explain_over_places(value, translate)
    if formula == "vehicle_space" and isinstance(value, str):
        return translate.gettext(VEHICLE_LABELS.get(value, value))
    return None
