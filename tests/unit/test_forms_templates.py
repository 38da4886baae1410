"""Form templates: shipped ones load and are complete; broken ones name file and field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.forms import (
    BODY_MAP_FIELDS,
    FieldType,
    all_templates,
    consent_fields,
    load_template,
    load_template_file,
    parse_template,
)
from fieldkit.domain.vocabularies import load_vocabulary

FORM_IDS = ["case", "facility", "interview", "person", "recommendation", "visit"]


def _label(en: str) -> dict[str, str]:
    return {"en": en, "uk": f"{en} (uk)", "ru": f"{en} (ru)"}


def minimal_template() -> dict[str, Any]:
    return {
        "id": "mini",
        "version": 1,
        "record_type": "visit",
        "title_field": "title",
        "label": _label("Mini"),
        "sections": [
            {
                "id": "main",
                "label": _label("Main"),
                "fields": [
                    {"id": "title", "type": "text", "label": _label("Title"), "required": True},
                    {
                        "id": "kind",
                        "type": "choice",
                        "label": _label("Kind"),
                        "vocabulary": "visit_kinds",
                    },
                    {
                        "id": "note",
                        "type": "text",
                        "label": _label("Note"),
                        "show_if": {"field": "kind", "equals": "thematic"},
                    },
                    {
                        "id": "rooms",
                        "type": "group",
                        "label": _label("Rooms"),
                        "repeatable": True,
                        "fields": [
                            {
                                "id": "area",
                                "type": "number",
                                "label": _label("Area"),
                                "number_kind": "decimal",
                                "min": 0,
                            },
                            {
                                "id": "people",
                                "type": "number",
                                "label": _label("People"),
                                "number_kind": "int",
                            },
                            {
                                "id": "per_person",
                                "type": "computed",
                                "label": _label("Per person"),
                                "formula": "area_per_person",
                                "inputs": {"floor_area": "area", "occupants": "people"},
                            },
                        ],
                    },
                ],
            }
        ],
    }


def write(tmp_path: Path, doc: dict[str, Any], name: str = "mini.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def broken(tmp_path: Path, doc: dict[str, Any]) -> FieldkitError:
    with pytest.raises(FieldkitError) as info:
        load_template_file(write(tmp_path, doc))
    assert info.value.code == ErrorCode.TEMPLATE_INVALID
    assert info.value.params["file"] == "mini.json"
    return info.value


def fields_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = doc["sections"][0]["fields"]
    return fields


# --- the shipped templates -----------------------------------------------------------------------


def test_all_shipped_templates_load_with_matching_ids() -> None:
    templates = all_templates()
    assert [t.id for t in templates] == FORM_IDS
    for tpl in templates:
        assert tpl.record_type == tpl.id
        assert tpl.version >= 1
        assert tpl.field(tpl.title_field).type in (FieldType.TEXT, FieldType.CHOICE)


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_label_and_help_is_in_three_languages(form_id: str) -> None:
    tpl = load_template(form_id)
    for section in tpl.sections:
        assert section.label.en
        assert section.label.uk
        assert section.label.ru
    for path, f in tpl.walk():
        for text in (f.label, f.help):
            if text is None:
                continue
            for language in ("en", "uk", "ru"):
                assert text.get(language).strip(), (path, language)
            # A Ukrainian or Russian label identical to the English one is a missed translation.
            if any(c.isalpha() for c in text.en) and len(text.en) > 3:
                assert text.uk != text.en, path
                assert text.ru != text.en, path


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_choice_vocabulary_exists_and_options_are_labelled(form_id: str) -> None:
    tpl = load_template(form_id)
    for path, f in tpl.walk():
        if f.type in (FieldType.CHOICE, FieldType.MULTICHOICE):
            assert f.vocabulary, path
            vocab = load_vocabulary(f.vocabulary)
            assert len(vocab) > 0


def test_visit_follows_sections_a_to_s_with_setting_blocks() -> None:
    tpl = load_template("visit")
    letters = [s.id.split("_")[0] for s in tpl.sections if not s.id.startswith("x_")]
    assert letters == [chr(c) for c in range(ord("a"), ord("s") + 1)]
    add_ons = {s.id: s.show_if for s in tpl.sections if s.id.startswith("x_")}
    assert set(add_ons) == {"x_police", "x_care", "x_migrant", "x_military"}
    for condition in add_ons.values():
        assert condition is not None
        assert condition.field == "facility_type"
    for key in ("cpt_minimum", "cpt_minimum_reasons", "cpt_desirable", "echr_space_tier"):
        assert tpl.field(f"areas.{key}").formula == key
    assert tpl.field("areas.over_places").formula == "over_places"
    assert tpl.field("areas.area_per_person").formula == "space_per_person"
    old = load_template("visit", 1)  # records filled with version 1 keep their formulas
    assert old.field("areas.cpt_flag").formula == "cpt_space_flag"
    assert old.field("areas.area_per_person").formula == "area_per_person"
    assert tpl.field("occupancy_percent").formula == "occupancy_percent"
    assert tpl.field("visit_duration_minutes").formula == "visit_duration_minutes"
    assert tpl.field("admission_delay_minutes").formula == "admission_delay_minutes"
    # Private interviews refer to interviewees by code only.
    interviewees = tpl.field("interviewees")
    assert [f.id for f in interviewees.sub_fields][0] == "code"
    assert tpl.field("interviewees.code").format == "code"
    assert all(f.type != FieldType.PERSON_REF for f in interviewees.sub_fields)


def test_case_has_acts_involvements_disappearance_and_pace_blocks() -> None:
    tpl = load_template("case")
    assert tpl.field("acts").is_repeatable
    assert tpl.field("acts.victim").type == FieldType.PERSON_REF
    assert tpl.field("acts.involvements.degree").vocabulary == "involvement_degrees"
    for letter in "abcde":
        criterion = tpl.field(f"pp_criterion_{letter}")
        assert criterion.type == FieldType.GROUP
        assert not criterion.is_repeatable
        assert tpl.field(f"pp_criterion_{letter}.result").vocabulary == "criterion_results"
    assert tpl.field("pp_excl_violence").type == FieldType.YESNO
    assert tpl.field("pp_excl_terrorism").type == FieldType.YESNO
    ed = tpl.section_of("ed_missing_person")
    assert ed.show_if is not None
    assert ed.show_if.values() == ["enforced_disappearance"]


def test_interview_has_consent_body_map_and_follow_up() -> None:
    tpl = load_template("interview")
    assert tpl.field("consent").type == FieldType.CONSENT
    assert tpl.field("consent").required
    assert tpl.field("injuries").type == FieldType.BODY_MAP
    assert tpl.field("consent.withdrawals.scope").vocabulary == "consent_scopes"
    assert tpl.field("injuries.view").vocabulary == "body_views"
    assert tpl.field("follow_up.next_contact").allow_future


def test_recommendation_follow_up_is_repeatable_with_status_and_response() -> None:
    tpl = load_template("recommendation")
    follow = tpl.field("follow_up")
    assert follow.is_repeatable
    assert {f.id for f in follow.sub_fields} >= {"visit", "date", "status", "authority_response"}
    assert tpl.field("follow_up.visit").targets == ["visit"]


def test_built_in_structures_have_labels_and_known_vocabularies() -> None:
    for f in [*BODY_MAP_FIELDS, *consent_fields("consent_scopes")]:
        for sub in [f, *f.sub_fields]:
            assert sub.label.uk
            assert sub.label.ru
            if sub.vocabulary:
                load_vocabulary(sub.vocabulary)


def test_unknown_template_and_version() -> None:
    with pytest.raises(FieldkitError) as info:
        load_template("nope")
    assert info.value.code == ErrorCode.TEMPLATE_UNKNOWN
    with pytest.raises(FieldkitError) as info:
        load_template("../visit")
    assert info.value.code == ErrorCode.TEMPLATE_UNKNOWN
    with pytest.raises(FieldkitError) as info:
        load_template("visit", 99)
    assert info.value.code == ErrorCode.TEMPLATE_UNKNOWN
    assert load_template("visit", 1).version == 1


def test_organisation_template_loads_from_a_file(tmp_path: Path) -> None:
    tpl = load_template_file(write(tmp_path, minimal_template()))
    assert tpl.id == "mini"
    assert tpl.field("rooms.per_person").formula == "area_per_person"


# --- broken templates: one test per rule ---------------------------------------------------------


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "mini.json"
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(FieldkitError) as info:
        load_template_file(path)
    assert info.value.code == ErrorCode.JSON_INVALID


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(FieldkitError) as info:
        load_template_file(tmp_path / "missing.json")
    assert info.value.code == ErrorCode.FILE_NOT_READABLE


def test_unknown_field_type(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[1]["type"] = "slider"
    err = broken(tmp_path, doc)
    assert err.params["field"] == "main.kind.type"
    assert "unknown field type 'slider'" in err.params["reason"]


def test_duplicate_field_id(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc).append(copy.deepcopy(fields_of(doc)[1]))
    err = broken(tmp_path, doc)
    assert err.params["field"] == "kind"
    assert "duplicate field id" in err.params["reason"]


def test_duplicate_field_id_across_sections(tmp_path: Path) -> None:
    doc = minimal_template()
    doc["sections"].append(
        {"id": "more", "label": _label("More"), "fields": [copy.deepcopy(fields_of(doc)[0])]}
    )
    err = broken(tmp_path, doc)
    assert err.params["field"] == "title"


def test_duplicate_field_id_inside_group(tmp_path: Path) -> None:
    doc = minimal_template()
    group = fields_of(doc)[3]["fields"]
    group.append(copy.deepcopy(group[0]))
    err = broken(tmp_path, doc)
    assert err.params["field"] == "rooms.area"


def test_show_if_pointing_to_missing_field(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[2]["show_if"] = {"field": "colour", "equals": "red"}
    err = broken(tmp_path, doc)
    assert err.params["field"] == "note.show_if"
    assert "missing field 'colour'" in err.params["reason"]


def test_show_if_value_not_in_vocabulary(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[2]["show_if"] = {"field": "kind", "in": ["thematic", "weekly"]}
    err = broken(tmp_path, doc)
    assert "'weekly' is not in vocabulary visit_kinds" in err.params["reason"]


def test_show_if_needs_exactly_one_operator(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[2]["show_if"] = {"field": "kind"}
    err = broken(tmp_path, doc)
    assert "exactly one" in err.params["reason"]


def test_vocabulary_not_found(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[1]["vocabulary"] = "weather"
    err = broken(tmp_path, doc)
    assert err.params["field"] == "kind.vocabulary"
    assert "vocabulary 'weather' not found" in err.params["reason"]


def test_choice_without_vocabulary(tmp_path: Path) -> None:
    doc = minimal_template()
    del fields_of(doc)[1]["vocabulary"]
    err = broken(tmp_path, doc)
    assert err.params["field"] == "kind"
    assert "needs a vocabulary" in err.params["reason"]


def test_missing_label_language(tmp_path: Path) -> None:
    doc = minimal_template()
    del fields_of(doc)[0]["label"]["uk"]
    err = broken(tmp_path, doc)
    assert err.params["field"] == "main.title.label.uk"
    assert err.params["reason"] == "missing label language 'uk'"


def test_blank_label(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[0]["label"]["ru"] = "   "
    err = broken(tmp_path, doc)
    assert err.params["field"].startswith("main.title.label")


def test_attribute_not_for_type(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[0]["vocabulary"] = "visit_kinds"
    err = broken(tmp_path, doc)
    assert err.params["field"] == "title"
    assert "'vocabulary' does not apply to type text" in err.params["reason"]


def test_unknown_attribute(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[0]["colour"] = "red"
    err = broken(tmp_path, doc)
    assert err.params["field"] == "main.title.colour"
    assert "unknown attribute" in err.params["reason"]


def test_unknown_formula(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[3]["fields"][2]["formula"] = "magic"
    err = broken(tmp_path, doc)
    assert err.params["field"] == "rooms.per_person.formula"


def test_computed_input_missing_or_wrong_type(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[3]["fields"][2]["inputs"] = {"floor_area": "area"}
    err = broken(tmp_path, doc)
    assert "needs input 'occupants'" in err.params["reason"]
    doc = minimal_template()
    fields_of(doc)[3]["fields"][2]["inputs"] = {"floor_area": "area", "occupants": "nothing"}
    err = broken(tmp_path, doc)
    assert err.params["field"] == "rooms.per_person.inputs.occupants"
    doc = minimal_template()
    fields_of(doc)[3]["fields"][1]["type"] = "text"
    del fields_of(doc)[3]["fields"][1]["number_kind"]
    err = broken(tmp_path, doc)
    assert "must be of type number" in err.params["reason"]


def test_group_without_fields_and_bad_item_bounds(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[3]["fields"] = []
    err = broken(tmp_path, doc)
    assert err.params["field"] == "rooms"
    doc = minimal_template()
    fields_of(doc)[3]["min_items"] = 3
    fields_of(doc)[3]["max_items"] = 2
    assert "min_items" in broken(tmp_path, doc).params["reason"]


def test_number_min_above_max(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[3]["fields"][0]["max"] = -1
    assert broken(tmp_path, doc).params["reason"] == "min is greater than max"


def test_record_ref_needs_known_targets(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc).append({"id": "link", "type": "record_ref", "label": _label("Link")})
    assert "needs 'targets'" in broken(tmp_path, doc).params["reason"]
    fields_of(doc)[-1]["targets"] = ["invoice"]
    assert "unknown record type 'invoice'" in broken(tmp_path, doc).params["reason"]


def test_title_field_and_index_must_exist(tmp_path: Path) -> None:
    doc = minimal_template()
    doc["title_field"] = "name"
    assert broken(tmp_path, doc).params["field"] == "title_field"
    doc = minimal_template()
    doc["index"] = {"date_from": "title"}
    err = broken(tmp_path, doc)
    assert err.params["field"] == "index.date_from"


def test_id_must_match_file_name_and_record_type_known(tmp_path: Path) -> None:
    doc = minimal_template()
    with pytest.raises(FieldkitError) as info:
        load_template_file(write(tmp_path, doc, name="other.json"))
    assert info.value.params["field"] == "id"
    doc["record_type"] = "invoice"
    assert broken(tmp_path, doc).params["field"] == "record_type"


def test_message_names_file_field_and_reason(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc)[1]["vocabulary"] = "weather"
    message = broken(tmp_path, doc).message()
    assert "mini.json" in message
    assert "kind.vocabulary" in message
    assert "weather" in message


def test_parse_template_accepts_bytes_and_checks_id() -> None:
    raw = json.dumps(minimal_template()).encode()
    assert parse_template(raw, "x.json").id == "mini"
    with pytest.raises(FieldkitError):
        parse_template(raw, "x.json", expected_id="visit")


def test_not_before_must_name_a_sibling_of_the_same_type(tmp_path: Path) -> None:
    doc = minimal_template()
    fields_of(doc).append(
        {"id": "start", "type": "date", "label": _label("Start"), "not_before": "finish"}
    )
    err = broken(tmp_path, doc)
    assert err.params["field"] == "start.not_before"
    assert "missing field 'finish'" in err.params["reason"]
    fields_of(doc)[-1]["not_before"] = "title"
    assert "another date field" in broken(tmp_path, doc).params["reason"]
    fields_of(doc)[0]["not_before"] = "start"
    fields_of(doc)[-1]["not_before"] = None
    assert "does not apply to type text" in broken(tmp_path, doc).params["reason"]


def test_broken_vocabulary_is_reported_when_the_template_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fieldkit.domain.vocabularies as vocabularies

    shipped = Path(str(vocabularies._folder()))
    folder = tmp_path / "vocabularies"
    folder.mkdir()
    (folder / "visit_kinds.json").write_text(
        (shipped / "visit_kinds.json").read_text(encoding="utf-8").replace('"uk"', '"ua"', 1),
        encoding="utf-8",
    )
    monkeypatch.setattr(vocabularies, "_folder", lambda: folder)
    vocabularies.load_vocabulary.cache_clear()
    try:
        err = broken(tmp_path, minimal_template())
    finally:
        vocabularies.load_vocabulary.cache_clear()
    assert err.params["field"] == "kind.vocabulary"
    assert "visit_kinds.json" in err.params["reason"]


def test_archived_versions_still_validate_old_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fieldkit.domain.forms as forms
    from fieldkit.domain.errors import RecordValidationError
    from fieldkit.domain.validation import validate_record

    old = minimal_template()
    new = copy.deepcopy(old)
    new["version"] = 2
    fields_of(new)[0]["id"] = "heading"  # version 2 renamed a field
    new["title_field"] = "heading"
    folder = tmp_path / "forms"
    folder.mkdir()
    write(folder, new, "mini.json")
    write(folder, old, "mini@1.json")
    monkeypatch.setattr(forms, "_forms_folder", lambda: folder)
    forms.load_template.cache_clear()
    try:
        assert forms.template_ids() == ["mini"]
        assert forms.load_template("mini").version == 2
        assert forms.load_template("mini", 1).version == 1
        assert validate_record("mini", {"title": "old record"}, version=1) == {
            "title": "old record"
        }
        with pytest.raises(RecordValidationError):
            validate_record("mini", {"title": "old record"})  # unknown in version 2
        write(folder, new, "mini@3.json")  # a file whose version disagrees with its name
        with pytest.raises(FieldkitError) as info:
            forms.load_template("mini", 3)
        assert info.value.params["field"] == "version"
    finally:
        forms.load_template.cache_clear()
