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
                _f(
                    "occupancy",
                    "computed",
                    formula="occupancy_percent",
                    inputs={"present": "present", "capacity": "capacity"},
                    unit="%",
                ),
                _f("visit_date", "date"),
                _f("start", "datetime"),
                _f("end", "datetime"),
                _f(
                    "duration",
                    "computed",
                    formula="visit_duration_minutes",
                    inputs={"start": "start", "end": "end"},
                ),
                _f("at", "time"),
                _f("kind", "choice", vocabulary="injury_types"),
                _f("views", "multichoice", vocabulary="body_views"),
                _f("in_custody", "yesno"),
                _f(
                    "custody_place",
                    "text",
                    show_if={"field": "in_custody", "equals": True},
                    required=True,
                ),
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
                _f(
                    "areas",
                    "group",
                    repeatable=True,
                    max_items=5,
                    fields=[
                        _f("name", "text", required=True),
                        _f(
                            "floor_area",
                            "number",
                            number_kind="decimal",
                            min=0,
                            max=10000,
                            unit="m²",
                        ),
                        _f("occupants", "number", number_kind="int", min=0, max=500),
                        _f(
                            "per_person",
                            "computed",
                            formula="area_per_person",
                            inputs={"floor_area": "floor_area", "occupants": "occupants"},
                            unit="m²",
                        ),
                        _f(
                            "cpt",
                            "computed",
                            formula="cpt_space_flag",
                            inputs={"floor_area": "floor_area", "occupants": "occupants"},
                        ),
                    ],
                ),
                _f(
                    "contact",
                    "group",
                    fields=[
                        _f("phone_allowed", "yesno"),
                        _f(
                            "phone_notes",
                            "text",
                            show_if={"field": "phone_allowed", "equals": False},
                        ),
                    ],
                ),
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
    return parse_template(json.dumps(ALL_TYPES).encode(), "all_types.json", expected_id="all_types")


REF_ID = "0b7e3c1e-0000-4000-8000-0000000000aa"
REF_ID_2 = "0b7e3c1e-0000-4000-8000-0000000000bb"


def ref_options(_fdef: Any) -> list[tuple[str, str]]:
    return [(REF_ID, "W-017"), (REF_ID_2, "W-018")]


def sample_value(fdef: Any) -> Any:
    """A plausible value for one field (None for computed fields)."""
    from fieldkit.domain.forms import BODY_MAP_FIELDS, FieldType
    from fieldkit.domain.vocabularies import load_vocabulary

    def codes(vocabulary: str) -> list[str]:
        return [t.code for t in load_vocabulary(vocabulary) if not t.deprecated]

    t = fdef.type
    if t == FieldType.TEXT:
        return "W-017" if fdef.format == "code" else "Some text"
    if t == FieldType.LONGTEXT:
        return "Line one\nLine two"
    if t == FieldType.NUMBER:
        low = fdef.min if fdef.min is not None else 0
        high = fdef.max if fdef.max is not None else low + 10
        middle = (low + high) / 2
        return int(middle) if fdef.kind == "int" else round(middle, 1) + 0.5 * (middle < high)
    if t == FieldType.DATE:
        return {"value": "2024-03-05", "precision": "exact"}
    if t == FieldType.DATETIME:
        return "2024-03-05T10:15+02:00"
    if t == FieldType.TIME:
        return "09:30"
    if t == FieldType.CHOICE:
        return codes(fdef.vocabulary)[0]
    if t == FieldType.MULTICHOICE:
        return codes(fdef.vocabulary)[:2]
    if t == FieldType.YESNO:
        return True
    if t in (
        FieldType.PERSON_REF,
        FieldType.FACILITY_REF,
        FieldType.RECORD_REF,
        FieldType.EVIDENCE_LINK,
    ):
        return [REF_ID, REF_ID_2] if fdef.is_multiple else REF_ID
    if t == FieldType.GROUP:
        row = sample_scope(fdef.sub_fields)
        return [row, sample_scope(fdef.sub_fields)] if fdef.is_repeatable else row
    if t == FieldType.BODY_MAP:
        mark = sample_scope([f for f in BODY_MAP_FIELDS if f.id not in ("view", "x", "y")])
        return [{"view": "front", "x": 0.25, "y": 0.5, **mark}]
    if t == FieldType.CONSENT:
        return {
            "scopes": [
                {
                    "scope": codes(fdef.vocabulary or "consent_scopes")[0],
                    "status": "granted",
                    "date": {"value": "2024-03-05", "precision": "exact"},
                }
            ]
        }
    return None


def sample_scope(fields: list[Any], outer: dict[str, Any] | None = None) -> dict[str, Any]:
    """Values for every field of a scope whose condition (if any) the values satisfy."""
    from fieldkit.domain.validation import condition_holds

    out: dict[str, Any] = {}
    for fdef in fields:
        if fdef.show_if is None:
            value = sample_value(fdef)
            if value is not None:
                out[fdef.id] = value
    for fdef in fields:
        if fdef.show_if is not None:
            scope = {**(outer or {}), **out}
            if condition_holds(fdef.show_if, scope.get(fdef.show_if.field)):
                value = sample_value(fdef)
                if value is not None:
                    out[fdef.id] = value
    return out


def sample_record(template: Any) -> dict[str, Any]:
    """Data that fills every field of a template that is on show with these values."""
    from fieldkit.domain.validation import condition_holds

    data = sample_scope(template.fields)
    for section in template.sections:
        if section.show_if is not None and not condition_holds(
            section.show_if, data.get(section.show_if.field)
        ):
            for fdef in section.fields:
                data.pop(fdef.id, None)
    return data
