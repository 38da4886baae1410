"""Realistic sample records (Ukrainian text, pseudonym codes) shared by the records tests.

The samples are functions so that each test gets its own copy; the tests in this module check that
every sample is valid as it stands.
"""

from __future__ import annotations

from typing import Any

from fieldkit.domain.validation import validate_record


def facility_data() -> dict[str, Any]:
    return {
        "official_name": "Ізолятор тимчасового тримання №1 ГУНП в Харківській області",
        "facility_type": "temporary_holding",
        "oblast": "kharkiv",
        "capacity": 40,
        "notes": "Підвальне приміщення, вентиляція відсутня.",
    }


def person_data(code: str = "W-017") -> dict[str, Any]:
    return {"pseudonym": code, "sex": "male", "date_of_birth": "1984"}


def visit_data(facility_id: str) -> dict[str, Any]:
    return {
        "reference": "V-2026-014",
        "facility": facility_id,
        "facility_type": "temporary_holding",
        "visit_kind": "ad_hoc",
        "visit_mode": "on_site",
        "announced": "unannounced",
        "visit_date": "2026-03-12",
        "arrived_at_gate": "2026-03-12T09:05:00+02:00",
        "admitted_at": "2026-03-12T09:50:00+02:00",
        "left_at": "2026-03-12T15:20:00+02:00",
        "team": [
            {"member": "M-03", "role": "head"},
            {"member": "M-11", "role": "health_professional"},
        ],
        "official_capacity": 40,
        "total_present": 52,
        "areas": [
            {
                "label": "Камера №4",
                "area_type": "cell",
                "length_m": 4,
                "width_m": 3,
                "floor_area_m2": 12,
                "sanitary_annex": True,
                "annex_partitioned": False,
                "places": 4,
                "occupants": 6,
                "natural_light": "poor",
                "ventilation": "absent",
                "damp": True,
                "notes": "Сирість, пліснява на стінах, світло вмикається вночі.",
            },
            {
                "label": "Камера №7",
                "area_type": "cell",
                "floor_area_m2": 9,
                "places": 2,
                "occupants": 2,
                "natural_light": "adequate",
            },
        ],
        "immediate_observations": "Затримані скаржаться на відсутність прогулянок понад тиждень.",
        "findings": "Переповненість камер, порушення норм площі на одну особу.",
    }


def interview_data(person_id: str, case_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "interviewee_code": "W-017",
        "interviewee": person_id,
        "connection": "victim",
        "interview_date": "2026-03-14",
        "location_type": "ngo_office",
        "mode": "in_person",
        "languages": ["uk"],
        "explained_purpose": True,
        "explained_use": True,
        "explained_right_to_stop": True,
        "consent": {
            "scopes": [
                {"scope": "interview", "status": "granted", "date": "2026-03-14"},
                {"scope": "injury_photographs", "status": "granted", "date": "2026-03-14"},
                {
                    "scope": "publication_with_name",
                    "status": "declined",
                    "date": "2026-03-14",
                },
            ],
            "withdrawals": [],
        },
        "consent_form": "oral_recorded",
        "narrative": (
            "Опитаного затримали 2 березня біля блокпосту. У відділі поліції його били "
            "гумовими кийками по ногах і погрожували родині. Катування тривали дві доби."
        ),
        "ill_treatment": [
            {
                "description": "Удари кийками по стопах (фаланга), погрози.",
                "methods": ["falanga", "beating"],
            }
        ],
        "injuries": [
            {
                "view": "front",
                "x": 0.42,
                "y": 0.81,
                "injury_type": "bruise",
                "region": "lower_leg",
                "side": "left",
                "size_cm": 6,
                "colour": "жовто-зелений",
                "reported_cause": "удар гумовим кийком",
                "examined_by": "lay_monitor",
            }
        ],
    }
    if case_id is not None:
        data["cases"] = [case_id]
    return data


def test_every_sample_is_valid() -> None:
    pid = "3f9a4d1c-8a0c-4b7e-9a1e-6f2b5c7d8e90"
    for form_id, data in [
        ("facility", facility_data()),
        ("person", person_data()),
        ("visit", visit_data(pid)),
        ("interview", interview_data(pid, pid)),
    ]:
        normalised = validate_record(form_id, data)
        assert normalised, form_id
