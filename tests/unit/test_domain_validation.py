"""Entered data against its template: samples validate; every rule has a negative test."""

from __future__ import annotations

import copy
import json
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fieldkit.domain.errors import ErrorCode, RecordValidationError
from fieldkit.domain.validation import issues_for, validate_record
from fieldkit.i18n import current, set_language

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Reasons are translated into the current language; these tests read them in English."""
    previous = current().language
    set_language("en")
    yield
    set_language(previous)


TODAY = date(2024, 12, 31)
SAMPLE_FORMS = [
    ("facility.json", "facility"),
    ("person.json", "person"),
    ("recommendation.json", "recommendation"),
    ("case_uk.json", "case"),
    ("case_ru.json", "case"),
    ("interview_uk.json", "interview"),
    ("interview_ru.json", "interview"),
    ("visit_uk.json", "visit"),
    ("visit_ru.json", "visit"),
]


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return data


def issues(form: str, data: Any) -> dict[str, str]:
    return {i.field: i.reason for i in issues_for(form, data, today=TODAY)}


def one_issue(form: str, data: Any) -> tuple[str, str]:
    found = issues(form, data)
    assert len(found) == 1, found
    return next(iter(found.items()))


@pytest.mark.parametrize(("name", "form"), SAMPLE_FORMS)
def test_samples_validate_and_are_stable(name: str, form: str) -> None:
    data = sample(name)
    out = validate_record(form, data, today=TODAY)
    # Normalised output validates again to itself (idempotent), so stored data can be re-edited.
    assert validate_record(form, out, today=TODAY) == out


def test_samples_hold_ukrainian_and_russian_text() -> None:
    assert "Слідчий" in sample("facility.json")["official_name"]
    assert "Уголовное" in sample("case_ru.json")["title"]


def test_normalisation_nfc_strip_and_dates() -> None:
    data = sample("facility.json")
    decomposed = unicodedata.normalize("NFD", "  Ізолятор й ї  ")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    data["common_name"] = decomposed
    out = validate_record("facility", data, today=TODAY)
    assert out["common_name"] == "Ізолятор й ї"
    assert unicodedata.is_normalized("NFC", out["common_name"])

    person = sample("person.json")
    person["date_of_death"] = None  # empty values are dropped, even when hidden
    person["name"] = "   "
    out = validate_record("person", person, today=TODAY)
    assert "name" not in out
    assert "date_of_death" not in out
    assert out["date_of_birth"] == {"value": "1987", "precision": "month_unknown"}
    assert out["addresses"][0]["start"] == {"value": "2023-05", "precision": "day_unknown"}


def test_datetime_and_time_and_ids_are_normalised() -> None:
    data = sample("visit_ru.json")
    data["facility"] = data["facility"].upper()
    out = validate_record("visit", data, today=TODAY)
    assert out["arrived_at_gate"] == "2024-05-14T22:10+03:00"
    assert out["facility"] == data["facility"].lower()
    interview = sample("interview_uk.json")
    interview["start_time"] = " 09:05 "
    assert validate_record("interview", interview, today=TODAY)["start_time"] == "09:05"


# --- structure ----------------------------------------------------------------------------------


def test_record_must_be_an_object() -> None:
    assert one_issue("facility", ["not", "an", "object"]) == ("record", "must be an object")


def test_unknown_key_is_named() -> None:
    data = sample("facility.json")
    data["colour"] = "blue"
    assert one_issue("facility", data) == ("colour", "unknown field 'colour'")


def test_unknown_key_inside_group_item_is_named() -> None:
    data = sample("visit_uk.json")
    data["areas"][1]["smell"] = "bad"
    assert one_issue("visit", data) == ("areas[1].smell", "unknown field 'smell'")


def test_required_fields() -> None:
    data = sample("facility.json")
    del data["official_name"]
    data["facility_type"] = "  "
    found = issues("facility", data)
    assert found == {"official_name": "required", "facility_type": "required"}


def test_required_inside_group() -> None:
    data = sample("visit_uk.json")
    del data["areas"][2]["label"]
    assert one_issue("visit", data) == ("areas[2].label", "required")


def test_group_minimum_items_and_blank_rows() -> None:
    data = sample("visit_ru.json")
    data["team"] = [{"member": "", "role": None}]  # a row added and left blank
    assert one_issue("visit", data) == ("team", "required")
    data["team"] = []
    assert one_issue("visit", data) == ("team", "required")
    data = sample("interview_uk.json")
    data["referrals"] = [{"organisation": " ", "outcome": ""}]  # optional group, blank row
    assert "referrals" not in validate_record("interview", data, today=TODAY)


def test_group_item_limits(tmp_path: Path) -> None:
    from fieldkit.domain.forms import load_template_file
    from tests.unit.test_forms_templates import minimal_template, write

    doc = minimal_template()
    doc["sections"][0]["fields"][3].update(min_items=2, max_items=3)
    tpl = load_template_file(write(tmp_path, doc))
    room = {"area": 10, "people": 1}
    found = issues_for("mini", {"title": "t", "rooms": [room]}, template=tpl, today=TODAY)
    assert [(i.field, i.reason) for i in found] == [("rooms", "needs at least 2 entries")]
    found = issues_for("mini", {"title": "t", "rooms": [room] * 4}, template=tpl, today=TODAY)
    assert [(i.field, i.reason) for i in found] == [("rooms", "allows at most 3 entries")]
    assert issues_for("mini", {"title": "t", "rooms": [room] * 2}, template=tpl, today=TODAY) == []


def test_group_must_be_a_list_of_objects() -> None:
    data = sample("visit_ru.json")
    data["areas"] = {"label": "x"}
    assert one_issue("visit", data) == ("areas", "must be a list")
    data["areas"] = ["cell 4"]
    assert one_issue("visit", data) == ("areas[0]", "must be an object")


def test_every_issue_is_reported_at_once() -> None:
    data = sample("visit_uk.json")
    data["areas"][2]["floor_area_m2"] = 20000
    data["areas"][0]["area_type"] = "balcony"
    data["total_present"] = -1
    del data["visit_date"]
    with pytest.raises(RecordValidationError) as info:
        validate_record("visit", data, today=TODAY)
    found = {i.field: i.reason for i in info.value.issues}
    assert found == {
        "areas[2].floor_area_m2": "must be a number between 0 and 10000",
        "areas[0].area_type": "'balcony' is not in vocabulary area_types",
        "total_present": "must be a number between 0 and 100000",
        "visit_date": "required",
    }
    assert info.value.code == ErrorCode.VALIDATION_FAILED
    assert "areas[2].floor_area_m2: must be a number between 0 and 10000" in info.value.message()


# --- types --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("12", "must be a number"),
        (True, "must be a number"),
        (float("nan"), "must be a number"),
        (12.5, "must be a whole number"),
        (-3, "must be a number between 0 and 100000"),
        (100001, "must be a number between 0 and 100000"),
    ],
)
def test_numbers(value: Any, reason: str) -> None:
    data = sample("facility.json")
    data["capacity"] = value
    assert one_issue("facility", data) == ("capacity", reason)


def test_one_sided_number_bounds(tmp_path: Path) -> None:
    from fieldkit.domain.forms import load_template_file
    from tests.unit.test_forms_templates import minimal_template, write

    doc = minimal_template()
    people = doc["sections"][0]["fields"][3]["fields"][1]
    people["max"] = 50
    tpl = load_template_file(write(tmp_path, doc))
    data: dict[str, Any] = {"title": "t", "rooms": [{"area": -1, "people": 51}]}
    found = {i.field: i.reason for i in issues_for("mini", data, template=tpl, today=TODAY)}
    assert found == {
        "rooms[0].area": "must be at least 0",
        "rooms[0].people": "must be at most 50",
    }


def test_integral_float_is_accepted_for_int() -> None:
    data = sample("facility.json")
    data["capacity"] = 420.0
    out = validate_record("facility", data, today=TODAY)
    assert out["capacity"] == 420
    assert isinstance(out["capacity"], int)


def test_text_rules() -> None:
    data = sample("facility.json")
    data["official_name"] = 42
    assert one_issue("facility", data) == ("official_name", "must be text")
    data["official_name"] = "line one\nline two"
    assert one_issue("facility", data) == ("official_name", "must be a single line")
    data["official_name"] = "bell\x07"
    assert one_issue("facility", data) == ("official_name", "contains control characters")
    data["official_name"] = "x" * 301
    assert one_issue("facility", data) == ("official_name", "must be at most 300 characters")
    data = sample("facility.json")
    data["buildings"] = "перший рядок\r\nдругий рядок"
    assert validate_record("facility", data, today=TODAY)["buildings"] == (
        "перший рядок\nдругий рядок"
    )


def test_pseudonym_code_rejects_names() -> None:
    data = sample("person.json")
    data["pseudonym"] = "Іван Петренко"
    field, reason = one_issue("person", data)
    assert field == "pseudonym"
    assert "pseudonym code like W-017" in reason
    visit = sample("visit_uk.json")
    visit["interviewees"][0]["code"] = "John"
    field, _ = one_issue("visit", visit)
    assert field == "interviewees[0].code"


def test_choice_vocabulary_membership() -> None:
    data = sample("facility.json")
    data["facility_type"] = "xyz"
    assert one_issue("facility", data) == (
        "facility_type",
        "'xyz' is not in vocabulary facility_types",
    )
    data["facility_type"] = ["sizo"]
    assert one_issue("facility", data) == (
        "facility_type",
        "must be a code from vocabulary facility_types",
    )


def test_multichoice_membership_duplicates_and_type() -> None:
    data = sample("facility.json")
    data["categories_held"] = ["pre_trial", "tourists"]
    assert one_issue("facility", data) == (
        "categories_held[1]",
        "'tourists' is not in vocabulary detainee_categories",
    )
    data["categories_held"] = ["pre_trial", "pre_trial"]
    assert one_issue("facility", data) == ("categories_held[1]", "'pre_trial' is chosen twice")
    data["categories_held"] = "pre_trial"
    field, reason = one_issue("facility", data)
    assert field == "categories_held"
    assert "must be a list of codes" in reason


def test_yesno_must_be_boolean() -> None:
    data = sample("facility.json")
    data["unofficial"] = "no"
    assert one_issue("facility", data) == ("unofficial", "must be yes or no (true or false)")


def test_references_must_be_ids() -> None:
    data = sample("recommendation.json")
    data["facility"] = "СІЗО 3"
    assert one_issue("recommendation", data) == ("facility", "must be a record id (UUID)")
    data = sample("visit_uk.json")
    data["recommendations"] = [data["recommendations"][0], data["recommendations"][0]]
    assert one_issue("visit", data) == ("recommendations[1]", "is listed twice")
    data["recommendations"] = "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b"
    assert one_issue("visit", data) == ("recommendations", "must be a list of record ids")
    data = sample("recommendation.json")
    data["facility"] = [data["facility"]]
    assert one_issue("recommendation", data) == (
        "facility",
        "must be a single record id, not a list",
    )


def test_datetime_needs_offset_and_time_shape() -> None:
    data = sample("visit_ru.json")
    data["admitted_at"] = "2024-05-14T22:15"
    field, reason = one_issue("visit", data)
    assert field == "admitted_at"
    assert "UTC offset" in reason
    data["admitted_at"] = "yesterday evening"
    field, reason = one_issue("visit", data)
    assert "date and time like" in reason
    interview = sample("interview_uk.json")
    interview["end_time"] = "25:00"
    assert one_issue("interview", interview) == ("end_time", "must be a time like 14:30")


def test_datetime_in_the_future() -> None:
    data = sample("visit_ru.json")
    data["left_at"] = "2025-02-01T10:00+02:00"
    assert one_issue("visit", data) == ("left_at", "date and time is in the future")


# --- dates with precision -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"value": "2024-03", "precision": "exact"}, "date must be YYYY-MM-DD for precision exact"),
        (
            {"value": "2024-03-05", "precision": "day_unknown"},
            "date must be YYYY-MM for precision day_unknown",
        ),
        (
            {"value": "2024-03", "precision": "month_unknown"},
            "date must be YYYY for precision month_unknown",
        ),
        ({"value": "2024-02-30", "precision": "exact"}, "'2024-02-30' is not a real date"),
        (
            {"value": "2024-13", "precision": "day_unknown"},
            "'2024-13' is not a real date (month 13)",
        ),
        ("05.03.2024", "date must be YYYY-MM-DD, YYYY-MM or YYYY"),
        ("1700", "year must be 1800 or later"),
        ({"value": "2025-03-01", "precision": "exact"}, "date is in the future"),
        (20240305, "must be a date"),
    ],
)
def test_date_rules(value: Any, reason: str) -> None:
    data = sample("recommendation.json")
    data["issued_on"] = value
    assert one_issue("recommendation", data) == ("issued_on", reason)


def test_date_precision_value_and_unknown_key() -> None:
    data = sample("recommendation.json")
    data["issued_on"] = {"value": "2024-03-05", "precision": "roughly"}
    field, reason = one_issue("recommendation", data)
    assert field == "issued_on.precision"
    assert "exact, estimated, day_unknown, month_unknown" in reason
    data["issued_on"] = {"value": "2024-03-05", "precision": "exact", "note": "x"}
    assert one_issue("recommendation", data) == ("issued_on.note", "unknown field 'note'")
    data["issued_on"] = {"precision": "exact"}
    assert one_issue("recommendation", data) == ("issued_on.value", "required")


def test_estimated_dates_take_any_shape_and_tomorrow_is_tolerated() -> None:
    data = sample("recommendation.json")
    for value in ("2024-03-05", "2024-03", "2024"):
        data["issued_on"] = {"value": value, "precision": "estimated"}
        assert validate_record("recommendation", data, today=TODAY)["issued_on"]["value"] == value
    # Time zones: a date one day ahead of the device's UTC date is not an error.
    del data["response_due"]
    data["issued_on"] = "2025-01-01"
    validate_record("recommendation", data, today=TODAY)
    # Fields meant for the future (next hearing, response due) accept it.
    data["response_due"] = "2030-06"
    assert validate_record("recommendation", data, today=TODAY)["response_due"] == {
        "value": "2030-06",
        "precision": "day_unknown",
    }


# --- conditional fields -------------------------------------------------------------------------


def test_hidden_conditional_field_must_be_empty() -> None:
    data = sample("visit_uk.json")
    data["protocol_number"] = "17"  # protocol_drawn_up is false
    assert one_issue("visit", data) == (
        "protocol_number",
        "must be empty: it only applies when protocol_drawn_up is true",
    )


def test_hidden_section_fields_must_be_empty() -> None:
    data = sample("visit_uk.json")  # a SIZO: the police block is hidden
    data["max_custody_hours"] = 70
    field, reason = one_issue("visit", data)
    assert field == "max_custody_hours"
    assert reason.startswith("must be empty: it only applies when facility_type is police_station")


def test_visible_section_enforces_its_required_fields() -> None:
    data = sample("case_uk.json")
    data["case_type"] = "enforced_disappearance"
    found = issues("case", data)
    assert found == {
        "ed_missing_person": "required",
        "ed_date": "required",
        "ed_place": "required",
    }


def test_hidden_required_field_is_not_required() -> None:
    data = sample("interview_uk.json")
    data["interpreter_present"] = False
    validate_record("interview", data, today=TODAY)  # interpreter.name_or_code not needed
    data["interpreter_present"] = True
    data["interpreter"] = {"languages": ["ru"]}
    assert one_issue("interview", data) == ("interpreter.name_or_code", "required")


def test_conditional_inside_group_uses_the_sibling() -> None:
    data = sample("visit_uk.json")
    data["registers"][2]["irregularities"] = "no register at all"  # present is false
    assert one_issue("visit", data) == (
        "registers[2].irregularities",
        "must be empty: it only applies when present is true",
    )


def test_conditional_on_act_type_in_list() -> None:
    data = sample("case_uk.json")
    data["acts"][1]["detention_type"] = "administrative"  # act 1 is torture, not detention
    field, _ = one_issue("case", data)
    assert field == "acts[1].detention_type"


# --- computed fields ----------------------------------------------------------------------------


def test_computed_fields_are_not_accepted_from_input() -> None:
    data = sample("visit_uk.json")
    data["occupancy_percent"] = 50
    data["areas"][0]["cpt_minimum"] = "meets"
    found = issues("visit", data)
    assert found == {
        "occupancy_percent": "is computed and cannot be entered",
        "areas[0].cpt_minimum": "is computed and cannot be entered",
    }


# --- body map and consent -----------------------------------------------------------------------


def test_body_map_entries() -> None:
    data = sample("interview_uk.json")
    data["injuries"][0]["x"] = 1.5
    data["injuries"][1]["injury_type"] = "tattoo"
    del data["injuries"][1]["view"]
    found = issues("interview", data)
    assert found == {
        "injuries[0].x": "must be a number between 0 and 1",
        "injuries[1].injury_type": "'tattoo' is not in vocabulary injury_types",
        "injuries[1].view": "required",
    }


def test_consent_scopes_statuses_and_conditions() -> None:
    data = sample("interview_uk.json")
    data["consent"]["scopes"][5] = {"scope": "share_prosecution", "status": "conditional"}
    assert one_issue("interview", data) == ("consent.scopes[5].conditions", "required")
    data = sample("interview_uk.json")
    data["consent"]["scopes"][0]["status"] = "maybe"
    assert one_issue("interview", data) == (
        "consent.scopes[0].status",
        "'maybe' is not in vocabulary consent_statuses",
    )
    data = sample("interview_uk.json")
    data["consent"]["scopes"][1]["conditions"] = "only on Fridays"  # status granted
    field, reason = one_issue("interview", data)
    assert field == "consent.scopes[1].conditions"
    assert reason.startswith("must be empty")


def test_consent_duplicates_and_orphan_withdrawals() -> None:
    data = sample("interview_uk.json")
    data["consent"]["scopes"].append({"scope": "interview", "status": "declined"})
    assert one_issue("interview", data) == (
        "consent.scopes[7].scope",
        "scope 'interview' is listed twice",
    )
    data = sample("interview_uk.json")
    data["consent"]["withdrawals"][0]["scope"] = "video_recording"
    field, reason = one_issue("interview", data)
    assert field == "consent.withdrawals[0].scope"
    assert "no consent entry" in reason


def test_consent_is_required_for_an_interview() -> None:
    data = sample("interview_uk.json")
    del data["consent"]
    assert one_issue("interview", data) == ("consent", "required")


def test_issues_for_returns_empty_list_for_valid_data() -> None:
    assert issues_for("person", sample("person.json"), today=TODAY) == []


def test_input_is_not_modified() -> None:
    data = sample("visit_uk.json")
    before = copy.deepcopy(data)
    validate_record("visit", data, today=TODAY)
    assert data == before


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("uk", "«balcony» немає у словнику area_types"),
        ("ru", "«balcony» нет в словаре area_types"),
    ],
)
def test_reasons_follow_the_interface_language(language: str, expected: str) -> None:
    data = sample("visit_uk.json")
    data["areas"][0]["area_type"] = "balcony"
    data["team"] = []
    set_language(language)
    found = issues("visit", data)
    assert found["areas[0].area_type"] == expected
    assert found["team"] in ("обов’язкове поле", "обязательное поле")


def test_dates_in_the_wrong_order() -> None:
    data = sample("visit_uk.json")
    data["left_at"] = "2024-03-05T09:30:00+02:00"  # before admission at 09:47
    assert one_issue("visit", data) == ("left_at", "must not be before admitted_at")
    data = sample("case_uk.json")
    data["final_date"] = "2024-02"
    assert one_issue("case", data) == ("final_date", "must not be before initial_date")
    data["final_date"] = {"value": "2024", "precision": "estimated"}  # overlaps: fine
    validate_record("case", data, today=TODAY)
    data = sample("interview_uk.json")
    data["detention_places"][0]["date_to"] = "2024-03-01"
    assert one_issue("interview", data) == (
        "detention_places[0].date_to",
        "must not be before date_from",
    )


def test_date_order_across_time_zones() -> None:
    data = sample("visit_ru.json")
    # 22:20 in Kyiv (+02:00) is 23:20 in Moscow (+03:00): after arrival at 22:10 +03:00.
    data["admitted_at"] = "2024-05-14T22:20+02:00"
    validate_record("visit", data, today=TODAY)
    data["admitted_at"] = "2024-05-14T20:05+01:00"  # 22:05 +03:00, before arrival
    assert one_issue("visit", data) == ("admitted_at", "must not be before arrived_at_gate")
