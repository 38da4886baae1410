"""Computed values: occupancy, m² per person, the CPT flag of template version 1, visit duration and
admission delay (the living-space standards of version 2 on: test_living_space.py)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain.forms import Sensitivity, load_template
from fieldkit.domain.formulas import (
    area_per_person,
    cpt_required_area,
    cpt_space_flag,
    minutes_between,
    occupancy_percent,
)
from fieldkit.domain.records import compute, index_fields, redact, with_computed
from fieldkit.domain.validation import validate_record

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TODAY = date(2024, 12, 31)


def sample(name: str, form: str) -> dict[str, Any]:
    raw = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return validate_record(form, raw, today=TODAY)


def test_occupancy_percent() -> None:
    assert occupancy_percent(512, 420) == 121.9
    assert occupancy_percent(0, 420) == 0.0
    assert occupancy_percent(10, 0) is None
    assert occupancy_percent(None, 420) is None
    assert occupancy_percent(10, None) is None
    assert occupancy_percent(True, 10) is None
    assert occupancy_percent(-1, 10) is None


def test_area_per_person() -> None:
    assert area_per_person(11.2, 6) == 1.87
    assert area_per_person(8, 2) == 4.0
    assert area_per_person(8, 0) is None
    assert area_per_person(None, 2) is None
    assert area_per_person(8, None) is None


def test_cpt_required_area_is_six_plus_four_per_additional_person() -> None:
    assert cpt_required_area(1) == 6
    assert cpt_required_area(2) == 10
    assert cpt_required_area(4) == 18


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"floor_area": 6.0, "occupants": 1}, False),  # exactly the single-cell minimum
        ({"floor_area": 5.9, "occupants": 1}, True),
        ({"floor_area": 10.0, "occupants": 2}, False),  # 6 + 4
        ({"floor_area": 9.5, "occupants": 2}, True),  # 4.75 m² each, but below 6 + 4
        ({"floor_area": 18.0, "occupants": 4}, False),
        ({"floor_area": 17.9, "occupants": 4}, True),
        ({"floor_area": 7.0, "occupants": 1, "length": 3.5, "width": 1.9}, True),  # < 2 m walls
        ({"floor_area": 7.0, "occupants": 1, "length": 3.5, "width": 2.0}, False),
        ({"floor_area": 7.0, "occupants": 1, "height": 2.4}, True),  # < 2.5 m ceiling
        ({"floor_area": 7.0, "occupants": 1, "height": 2.5}, False),
        ({"floor_area": None, "occupants": 1}, None),
        ({"floor_area": 7.0, "occupants": 0}, None),  # empty room: no space check
        ({"floor_area": 7.0, "occupants": 0, "width": 1.5}, True),  # but the walls still fail
        ({"floor_area": 7.0, "occupants": None, "height": 3.0}, None),
        ({}, None),
    ],
)
def test_cpt_space_flag(kwargs: dict[str, Any], expected: bool | None) -> None:
    assert cpt_space_flag(**kwargs) is expected


@given(
    area=st.floats(min_value=0, max_value=1000, allow_nan=False),
    occupants=st.integers(min_value=1, max_value=200),
)
def test_cpt_flag_agrees_with_the_standard(area: float, occupants: int) -> None:
    flag = cpt_space_flag(floor_area=area, occupants=occupants)
    assert flag is (area < 6 + 4 * (occupants - 1))


@given(
    area=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    occupants=st.one_of(st.none(), st.integers(), st.floats()),
    height=st.one_of(st.none(), st.floats()),
)
def test_formulas_never_raise(area: Any, occupants: Any, height: Any) -> None:
    cpt_space_flag(floor_area=area, occupants=occupants, height=height)
    area_per_person(area, occupants)
    occupancy_percent(occupants, area)


def test_minutes_between() -> None:
    assert minutes_between("2024-03-05T09:05+02:00", "2024-03-05T09:47+02:00") == 42
    # Offsets are honoured: 10:00 UTC is 12:00 in Kyiv.
    assert minutes_between("2024-03-05T10:00+00:00", "2024-03-05T12:30+02:00") == 30
    assert minutes_between("2024-03-05T22:10+03:00", "2024-03-06T01:05+03:00") == 175
    assert minutes_between("2024-03-05T10:00+02:00", "2024-03-05T09:00+02:00") is None
    assert minutes_between(None, "2024-03-05T09:00+02:00") is None
    assert minutes_between("2024-03-05T09:00", "2024-03-05T10:00") is None  # no offset
    assert minutes_between("garbage", "2024-03-05T10:00+02:00") is None


def test_compute_on_the_visit_sample() -> None:
    data = sample("visit_uk.json", "visit")
    values = compute("visit", data)
    assert values["admission_delay_minutes"] == 42
    assert values["visit_duration_minutes"] == 453
    assert values["occupancy_percent"] == 121.9
    assert values["areas[0].area_per_person"] == 1.87
    assert values["areas[0].cpt_minimum"] == "below"  # 11.2 m² for 6 persons, needs 24 m²
    assert values["areas[0].cpt_desirable"] == "below"  # and 26 m² under 6 + 4
    # 4.7 m² single cell, 1.8 m wide, 2.4 m high
    assert values["areas[1].cpt_minimum"] == "below"
    assert values["areas[1].cpt_minimum_reasons"] == ["area", "wall", "ceiling"]
    assert values["areas[2].area_per_person"] is None  # empty yard: no crash, no value
    assert values["areas[2].cpt_minimum"] == "not_applicable"  # a yard is not accommodation
    # records filled with visit template version 1 keep its flag
    old = compute("visit", data, template=load_template("visit", 1))
    assert old["areas[0].cpt_flag"] is True
    assert old["areas[2].cpt_flag"] is None


def test_compute_handles_missing_values() -> None:
    data = sample("visit_ru.json", "visit")
    del data["official_capacity"], data["left_at"]
    values = compute("visit", data)
    assert values["occupancy_percent"] is None
    assert values["visit_duration_minutes"] is None
    assert values["admission_delay_minutes"] == 5


def test_with_computed_fills_a_copy() -> None:
    data = sample("visit_uk.json", "visit")
    filled = with_computed("visit", data)
    assert filled["occupancy_percent"] == 121.9
    assert filled["areas"][0]["area_per_person"] == 1.87
    assert "area_per_person" not in filled["areas"][2]  # None is left out
    assert "occupancy_percent" not in data  # the input is untouched


def test_index_fields_for_each_form() -> None:
    visit = index_fields("visit", sample("visit_uk.json", "visit"))
    assert visit.title == "В-2024-031"
    assert visit.facility_id == "3f2b8c9a-6d1e-4f7a-8b2c-5e9d0a1b2c3d"
    assert (visit.date_from, visit.date_to) == ("2024-03-05", "2024-03-05")
    assert "туберкульозу" in visit.text
    assert "Камера 12, корпус Б" in visit.text

    case = index_fields("case", sample("case_uk.json", "case"))
    assert case.status == "active"
    # The final date is known only to the month: the range runs to the month's last day.
    assert (case.date_from, case.date_to) == ("2024-03-02", "2024-03-31")
    assert "Сокіл" in case.text  # text from nested groups is searchable

    ru = index_fields("case", sample("case_ru.json", "case"))
    assert (ru.date_from, ru.date_to) == ("2022-01-01", None)

    interview = index_fields("interview", sample("interview_uk.json", "interview"))
    assert interview.title == "W-017"
    assert "кийком" in interview.text  # body-map notes are searchable too
    assert interview.facility_id is None

    person = index_fields("person", sample("person.json", "person"))
    assert person.title == "W-017"  # the pseudonym, never the name

    rec = index_fields("recommendation", sample("recommendation.json", "recommendation"))
    assert rec.status == "partially"
    assert rec.date_from == "2024-03-05"

    facility = index_fields("facility", sample("facility.json", "facility"))
    assert facility.status == "operational"
    assert facility.title == "Слідчий ізолятор № 3"


def test_redact_drops_tagged_fields_at_every_depth() -> None:
    interview = sample("interview_uk.json", "interview")
    public = redact("interview", interview)
    assert public["interviewee_code"] == "W-017"  # the pseudonym stays
    for key in ("narrative", "interviewee", "injuries", "risks", "ill_treatment", "fears"):
        assert key in interview
        assert key not in public
    assert public["detention_places"][0]["place"]  # untagged sub-fields stay
    assert public["consent"] == interview["consent"]

    case = sample("case_uk.json", "case")
    only_r = redact("case", case, {Sensitivity.R})
    assert "description" in only_r  # ID/SENS kept when only R is hidden
    involvement = only_r["acts"][1]["involvements"][0]
    assert "description" not in involvement  # perpetrator description is restricted
    assert involvement["perpetrator_types"] == ["police"]
    assert "victim" in only_r["acts"][0]
    assert "victim" not in redact("case", case, {Sensitivity.ID})["acts"][0]


def test_redact_drops_unknown_keys_and_does_not_touch_the_input() -> None:
    person = sample("person.json", "person")
    person_with_extra = {**person, "smuggled": "secret"}
    out = redact("person", person_with_extra, set())
    assert "smuggled" not in out
    assert out == person
    out["addresses"][0]["address"] = "changed"
    assert person["addresses"][0]["address"] != "changed"


@given(day=st.dates(min_value=date(1800, 1, 1), max_value=date(2100, 12, 31)))
def test_date_precision_shapes_and_bounds(day: date) -> None:
    from fieldkit.domain.common import DatePrecision, PreciseDate, check_date_shape

    full, month, year = day.isoformat(), day.isoformat()[:7], day.isoformat()[:4]
    assert PreciseDate(value=full, precision=DatePrecision.EXACT).earliest == day
    by_month = PreciseDate(value=month, precision=DatePrecision.DAY_UNKNOWN)
    assert by_month.earliest <= day <= by_month.latest
    assert by_month.earliest.day == 1
    by_year = PreciseDate(value=year, precision=DatePrecision.MONTH_UNKNOWN)
    assert by_year.earliest <= day <= by_year.latest
    for value in (full, month, year):
        check_date_shape(value, DatePrecision.ESTIMATED)
    with pytest.raises(ValueError, match="for precision exact"):
        check_date_shape(month, DatePrecision.EXACT)
