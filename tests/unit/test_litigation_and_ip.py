"""The litigation block (ECtHR four-month deadline), the Istanbul Protocol evaluation, dated
ill-treatment episodes, a person's legal status, and the visit's access and reprisal fields."""

from __future__ import annotations

from typing import Any

import pytest

from fieldkit.domain.formulas import add_months, echr_deadline
from fieldkit.domain.records import compute, index_fields
from fieldkit.domain.validation import issues_for, validate_record
from tests.storage.test_records_samples import interview_data

FACILITY = "0b7d1f60-0000-4000-8000-000000000001"


@pytest.mark.parametrize(
    ("decision", "served", "deadline"),
    [
        ("2026-03-15", None, "2026-07-15"),
        ("2026-10-31", None, "2027-02-28"),  # no 31 February: the last day of the month
        ("2027-10-31", None, "2028-02-29"),
        ("2026-01-10", "2026-02-02", "2026-06-02"),  # served later: counted from service
        ({"value": "2026-03", "precision": "day_unknown"}, None, None),  # no exact day, no date
        (None, None, None),
    ],
)
def test_four_months_from_the_final_decision(decision: Any, served: Any, deadline: Any) -> None:
    assert echr_deadline(_exact(decision), _exact(served)) == deadline


def _exact(value: Any) -> Any:
    return {"value": value, "precision": "exact"} if isinstance(value, str) else value


def test_add_months_keeps_the_day_or_takes_the_month_end() -> None:
    from datetime import date

    assert add_months(date(2026, 8, 31), 4) == date(2026, 12, 31)
    assert add_months(date(2026, 9, 30), 4) == date(2027, 1, 30)


def test_case_litigation_block_validates_and_computes() -> None:
    data = validate_record(
        "case",
        {
            "title": "CANARY-CASE-7",
            "case_type": "torture_allegation",
            "monitoring_status": "active",
            "country_code": "ua",
            "territory_control": "occupied",
            "respondent_state": "ru",
            "articles_relied_on": ["echr_3_substantive", "echr_3_procedural", "echr_13"],
            "investigation_complaints": [
                {"body": "dbr", "filed_on": "2026-02-01", "erdr_number": "62026000000000123",
                 "erdr_date": "2026-02-03", "outcome": "investigation_ongoing"}
            ],
            "final_decision_date": "2026-05-20",
            "rule39_requests": [{"requested_on": "2026-06-01", "outcome": "granted"}],
            "other_procedures": [{"body": "hrc", "reference": "CANARY-1"}],
            "proceedings": [
                {"charges": [{"code": "kk_ua", "article": "111-1", "part": "1"}],
                 "instance": "appeal"}
            ],
        },
    )  # fmt: skip
    assert compute("case", data)["echr_deadline"] == "2026-09-20"


def test_an_opinion_on_consistency_needs_a_health_professional() -> None:
    base: dict[str, Any] = {
        **interview_data(FACILITY),
        "ip_examiner_type": "lay_monitor",
        "ip_overall_opinion": "highly_consistent",
    }
    found = {i.field: i.reason for i in issues_for("interview", base)}
    assert "ip_overall_opinion" in found  # hidden for a lay monitor, so it must stay empty
    base["ip_examiner_type"] = "forensic_doctor"
    base["ip_examiner_qualification"] = "CANARY-QUAL"
    base["injuries"] = [
        {"view": "front", "x": 0.4, "y": 0.8, "injury_type": "bruise",
         "examined_by": "lay_monitor", "consistency": "typical"}
    ]  # fmt: skip
    found = {i.field: i.reason for i in issues_for("interview", base)}
    assert list(found) == ["injuries[0].consistency"]
    base["injuries"][0]["examined_by"] = "health_professional"
    base["ill_treatment"] = [
        {"description": "CANARY-EPISODE", "date": {"value": "2026-03", "precision": "day_unknown"},
         "time": "22:30", "facility": FACILITY, "place": "CANARY-ROOM"}
    ]  # fmt: skip
    base["medical_documents"] = [{"document_type": "forensic_examination", "date": "2026-03-20"}]
    base["interviewer_sex"] = "female"
    base["sex_choice_offered"] = True
    assert issues_for("interview", base) == []


def test_visit_spans_several_days_and_records_access_and_reprisal_checks() -> None:
    data = validate_record(
        "visit",
        {
            "reference": "CANARY-V-3",
            "facility": FACILITY,
            "facility_type": "sizo",
            "visit_kind": "regular",
            "visit_mode": "on_site",
            "announced": "unannounced",
            "visit_date": "2026-11-18",
            "visit_date_to": "2026-11-20",
            "team": [{"member": "M-003", "role": "head", "sex": "female"}],
            "areas": [{"label": "CANARY-DIZO", "area_type": "isolation_cell", "access": "refused"}],
            "theme_findings": [{"theme": "outside_contact", "not_examined": True}],
            "interviewees": [
                {"code": "D-204", "check_outcome": "no_reprisal", "checked_on": "2026-11-20"}
            ],
        },
    )
    found = index_fields("visit", data)
    assert (found.date_from, found.date_to) == ("2026-11-18", "2026-11-20")
    one_day = dict(data)
    del one_day["visit_date_to"]
    assert index_fields("visit", one_day).date_to == "2026-11-18"
    early = dict(data, visit_date_to={"value": "2026-11-17", "precision": "exact"})
    assert any(i.field == "visit_date_to" for i in issues_for("visit", early))


def test_person_legal_status_and_lawyer() -> None:
    data = validate_record(
        "person",
        {
            "pseudonym": "W-017",
            "procedural_status": "accused",
            "place_of_detention": FACILITY,
            "lawyer": {
                "code": "L-004",
                "appointment": "free_legal_aid",
                "first_access": "2026-03-02",
            },
        },
    )
    assert data["lawyer"]["appointment"] == "free_legal_aid"
