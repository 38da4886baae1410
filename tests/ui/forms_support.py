"""A form template that uses every field type, for the form renderer tests."""

from __future__ import annotations

import json
from typing import Any

from fieldkit.domain.forms import FormTemplate, parse_template


def _l(en: str, uk: str | None = None) -> dict[str, str]:
    return {"en": en, "uk": uk or f"{en} (uk)", "ru": f"{en} (ru)"}


def _f(id_: str, type_: str, **attrs: Any) -> dict[str, Any]:
    return {"id": id_, "type": type_, "label": _l(id_.replace("_", " ").capitalize()), **attrs}


ALL_TYPES: dict[str, Any] = {
    "id": "all_types",
    "version": 1,
    "record_type": "visit",
    "title_field": "code",
    "label": _l("Every field type", "Усі типи полів"),
    "sections": [
        {
            "id": "basics",
            "label": _l("Basics", "Основне"),
            "fields": [
                _f("code", "text", required=True, format="code", sensitivity=["ID"]),
                _f("notes", "longtext", max_length=2000, sensitivity=["SENS"]),
                _f("present", "number", number_kind="int", min=0, max=5000, unit="persons"),
                _f("capacity", "number", number_kind="int", min=1, max=5000),
                _f("occupancy", "computed", formula="occupancy_percent",
                   inputs={"present": "present", "capacity": "capacity"}, unit="%"),
                _f("visit_date", "date"),
                _f("start", "datetime"),
                _f("end", "datetime"),
                _f("duration", "computed", formula="visit_duration_minutes",
                   inputs={"start": "start", "end": "end"}),
                _f("at", "time"),
                _f("kind", "choice", vocabulary="injury_types"),
                _f("views", "multichoice", vocabulary="body_views"),
                _f("in_custody", "yesno"),
                _f("custody_place", "text", show_if={"field": "in_custody", "equals": True},
                   required=True),
                _f("person", "person_ref"),
                _f("facility", "facility_ref"),
                _f("cases", "record_ref", targets=["case"], multiple=True),
                _f("photos", "evidence_link", multiple=True),
            ],
        },
        {
            "id": "rooms",
            "label": _l("Rooms", "Приміщення"),
            "fields": [
                _f("areas", "group", repeatable=True, max_items=5, fields=[
                    _f("name", "text", required=True),
                    _f("floor_area", "number", number_kind="decimal", min=0, max=10000,
                       unit="m²"),
                    _f("occupants", "number", number_kind="int", min=0, max=500),
                    _f("per_person", "computed", formula="area_per_person",
                       inputs={"floor_area": "floor_area", "occupants": "occupants"},
                       unit="m²"),
                    _f("cpt", "computed", formula="cpt_space_flag",
                       inputs={"floor_area": "floor_area", "occupants": "occupants"}),
                ]),
                _f("contact", "group", fields=[
                    _f("phone_allowed", "yesno"),
                    _f("phone_notes", "text", show_if={"field": "phone_allowed",
                                                         "equals": False}),
                ]),
            ],
        },
        {
            "id": "person_section",
            "label": _l("Interview", "Інтерв'ю"),
            "fields": [
                _f("injuries", "body_map"),
                _f("consent", "consent"),
            ],
        },
    ],
}


def all_types_template() -> FormTemplate:
    return parse_template(json.dumps(ALL_TYPES).encode(), "all_types.json",
                          expected_id="all_types")
