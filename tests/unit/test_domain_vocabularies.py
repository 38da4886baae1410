"""Vocabularies: complete, labelled in three languages, HURIDOCS codes well-formed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.vocabularies import (
    all_vocabularies,
    all_vocabulary_ids,
    load_vocabulary,
    parse_vocabulary,
)

REQUIRED = [
    "facility_types",
    "act_types",
    "violence_methods",
    "rights",
    "consent_scopes",
    "event_roles",
    "perpetrator_types",
    "victim_status",
    "date_types",
    "violation_status",
    "monitoring_status",
    "obstruction_types",
    "register_types",
    "area_types",
    "injury_types",
    "body_regions",
    "recommendation_themes",
    "priority",
    "implementation_status",
    "authority_response_types",
    "visit_kinds",
    "visit_modes",
    "visit_announced",
    "team_roles",
    "interview_location_types",
    "source_connection",
    "reliability",
    "case_types",
    "subordinate_authorities",
    "control_status",
]


def test_required_vocabularies_are_shipped() -> None:
    ids = set(all_vocabulary_ids())
    assert set(REQUIRED) <= ids


@pytest.mark.parametrize("vocab_id", all_vocabulary_ids())
def test_every_term_is_labelled_in_three_languages(vocab_id: str) -> None:
    vocab = load_vocabulary(vocab_id)
    assert vocab.title.uk
    assert vocab.title.ru
    for term in vocab:
        for language in ("en", "uk", "ru"):
            assert term.label(language).strip(), (vocab_id, term.code, language)
        if term.huridocs_code is not None:
            assert len(term.huridocs_code) == 12
            assert term.huridocs_code.isdigit()


def test_term_api_used_by_other_areas() -> None:
    vocab = load_vocabulary("act_types")
    torture = vocab.term("torture")
    assert torture.code == "torture"
    assert torture.huridocs_code == "020111110000"
    assert torture.label("uk") == "Катування"
    assert torture.label("ru") == "Пытки"
    assert torture.label("xx") == "Torture"  # unknown language falls back to English
    assert "torture" in vocab
    assert "tea" not in vocab
    assert vocab.label("tea", "uk") == "tea"
    with pytest.raises(FieldkitError) as info:
        vocab.term("tea")
    assert info.value.code == ErrorCode.NOT_FOUND


def test_huridocs_codes_of_key_terms() -> None:
    acts = load_vocabulary("act_types")
    assert acts.term("disappearance").huridocs_code == "030103000000"
    assert acts.term("death_in_custody").huridocs_code == "010106010000"
    assert acts.term("denial_legal_assistance").huridocs_code == "350109000000"
    assert acts.term("forced_confession").huridocs_code is None  # project term, coded apart
    assert load_vocabulary("violence_methods").term("electric_shock").huridocs_code == (
        "030800000000"
    )
    assert load_vocabulary("rights").term("freedom_from_torture").huridocs_code == "011100000000"
    assert load_vocabulary("perpetrator_types").term("police").huridocs_code == "010104000000"
    assert load_vocabulary("date_types").term("day_unknown").huridocs_code == "020000000000"


def test_russian_labels_avoid_the_known_openevsys_errors() -> None:
    status = load_vocabulary("violation_status")
    assert status.term("likely").label("ru") == "Вероятно"
    assert status.term("unlikely").label("ru") == "Маловероятно"
    assert status.term("confirmed_violation").label("ru").startswith("Подтверждено")
    assert status.term("likely").label("uk") == "Імовірно"
    facilities = load_vocabulary("facility_types")
    assert facilities.term("pow_camp").label("ru") == "Лагерь для военнопленных"
    degrees = load_vocabulary("involvement_degrees")
    assert "Согласился" not in degrees.term("present").label("ru")
    dignity = load_vocabulary("act_types").term("denial_dignity").label("ru")
    assert "достоинства" in dignity


def test_places_of_deprivation_of_liberty_are_not_narrowed_to_custody() -> None:
    """OPCAT Art. 4 covers care homes; the Russian wording must not say "under guard" only."""
    facilities = load_vocabulary("facility_types")
    assert "несвободы" in facilities.title.ru
    for code in ("social_care_home", "older_persons_home", "children_institution"):
        assert code in facilities
    for term in facilities:
        assert "под стражей" not in term.label("ru")


def test_codes_are_unique_slugs_everywhere() -> None:
    for vocab in all_vocabularies():
        codes = vocab.codes()
        assert len(codes) == len(set(codes))
        assert all(c.replace("_", "").isalnum() and c == c.lower() for c in codes)


def _vocab(**override: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "colours",
        "version": 1,
        "title": {"en": "Colours", "uk": "Кольори", "ru": "Цвета"},
        "terms": [
            {"code": "red", "labels": {"en": "Red", "uk": "Червоний", "ru": "Красный"}},
            {"code": "blue", "labels": {"en": "Blue", "uk": "Синій", "ru": "Синий"}},
        ],
    }
    doc.update(override)
    return doc


def _parse(doc: dict[str, Any]) -> Any:
    return parse_vocabulary(json.dumps(doc).encode(), "colours.json")


def test_broken_vocabularies_name_file_and_field() -> None:
    assert len(_parse(_vocab())) == 2
    doc = _vocab()
    del doc["terms"][1]["labels"]["uk"]
    with pytest.raises(FieldkitError) as info:
        _parse(doc)
    assert info.value.code == ErrorCode.TEMPLATE_INVALID
    assert info.value.params["file"] == "colours.json"
    assert info.value.params["field"] == "terms[1] (blue).labels.uk"
    doc = _vocab()
    doc["terms"][1]["code"] = "red"
    with pytest.raises(FieldkitError) as info:
        _parse(doc)
    assert "duplicate code 'red'" in info.value.params["reason"]
    doc = _vocab()
    doc["terms"][0]["huridocs_code"] = "0201"
    with pytest.raises(FieldkitError):
        _parse(doc)
    doc = _vocab()
    doc["terms"][0]["parent"] = "green"
    with pytest.raises(FieldkitError) as info:
        _parse(doc)
    assert "unknown parent" in info.value.params["reason"]
    with pytest.raises(FieldkitError) as info:
        parse_vocabulary(json.dumps(_vocab(id="shades")).encode(), "colours.json")
    assert info.value.params["field"] == "id"
    with pytest.raises(FieldkitError) as info:
        parse_vocabulary(b"\xff\xfe", "colours.json")
    assert info.value.code == ErrorCode.JSON_INVALID


def test_unknown_vocabulary() -> None:
    for name in ("weather", "../forms/visit", ""):
        with pytest.raises(FieldkitError) as info:
            load_vocabulary(name)
        assert info.value.code == ErrorCode.NOT_FOUND
