"""The form renderer: every field type, conditions, repeatable groups, computed values, messages."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCompleter, QLabel

from fieldkit import i18n
from fieldkit.domain.forms import FieldDef, FieldType, all_templates
from fieldkit.domain.validation import issues_for, validate_record
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.ui import dialogs
from fieldkit.ui.forms.fields import (
    ChoiceField,
    ComputedField,
    DateField,
    FormContext,
    MultiChoiceField,
    NumberField,
    RepeatableGroupField,
    parse_number,
)
from fieldkit.ui.forms.renderer import FormEditor
from tests.ui.forms_support import all_types_template, ref_options, sample_record

PERSON_1 = "0b7e3c1e-0000-4000-8000-000000000001"
PERSON_2 = "0b7e3c1e-0000-4000-8000-000000000002"
CASE_1 = "0b7e3c1e-0000-4000-8000-0000000000c1"
EVIDENCE_1 = "0b7e3c1e-0000-4000-8000-0000000000e1"


def _refs(fdef: FieldDef) -> list[tuple[str, str]]:
    if fdef.type == FieldType.EVIDENCE_LINK:
        return [(EVIDENCE_1, "photo-1.jpg")]
    if fdef.type == FieldType.RECORD_REF:
        return [(CASE_1, "Case of W-017")]
    return [(PERSON_1, "W-017"), (PERSON_2, "W-018")]


@pytest.fixture
def editor(qtbot: Any) -> FormEditor:
    widget = FormEditor(None, "all_types", template=all_types_template(), ref_provider=_refs)
    qtbot.addWidget(widget)
    widget.resize(1000, 900)
    return widget


def test_every_field_type_collects_valid_data(editor: FormEditor, qtbot: Any) -> None:
    qtbot.keyClicks(editor.editor("code").edit, "W-017")
    editor.editor("notes").edit.setPlainText("Spoke calmly.\nSecond line.")
    qtbot.keyClicks(editor.editor("present").edit, "120")
    qtbot.keyClicks(editor.editor("capacity").edit, "80")
    date = editor.editor("visit_date")
    qtbot.keyClicks(date.edit, "2024-03")
    editor.editor("start").set_value("2024-03-05T10:15+02:00")
    editor.editor("end").set_value("2024-03-05T13:40+02:00")
    qtbot.keyClicks(editor.editor("at").edit, "9:05")
    kind = editor.editor("kind")
    kind.combo.setCurrentIndex(kind.combo.findData("burn"))
    views = editor.editor("views").checklist
    views.item_for("back").setCheckState(Qt.CheckState.Checked)
    views.item_for("front").setCheckState(Qt.CheckState.Checked)
    editor.editor("in_custody").combo.setCurrentIndex(1)  # Yes
    qtbot.keyClicks(editor.editor("custody_place").edit, "SIZO 1")
    person = editor.editor("person").combo
    person.setCurrentIndex(person.findData(PERSON_2))
    facility = editor.editor("facility").combo
    facility.setCurrentIndex(facility.findData(PERSON_1))
    editor.editor("cases").checklist.item_for(CASE_1).setCheckState(Qt.CheckState.Checked)
    editor.editor("photos").checklist.item_for(EVIDENCE_1).setCheckState(Qt.CheckState.Checked)
    areas = editor.editor("areas")
    qtbot.mouseClick(areas.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(editor.editor("areas[0].name").edit, "Cell 4")
    qtbot.keyClicks(editor.editor("areas[0].floor_area").edit, "10,5")
    qtbot.keyClicks(editor.editor("areas[0].occupants").edit, "4")
    editor.editor("contact.phone_allowed").set_value(False)
    qtbot.keyClicks(editor.editor("contact.phone_notes").edit, "Only once a month")
    body = editor.editor("injuries")
    body.add_mark("back", 0.25, 0.5)
    body.details.editor("injury_type").set_value("bruise")
    consent = editor.editor("consent")
    consent.rows["interview"].status.setCurrentIndex(1)

    data = editor.value()
    assert data == {
        "code": "W-017",
        "notes": "Spoke calmly.\nSecond line.",
        "present": 120,
        "capacity": 80,
        "visit_date": {"value": "2024-03", "precision": "day_unknown"},
        "start": "2024-03-05T10:15+02:00",
        "end": "2024-03-05T13:40+02:00",
        "at": "09:05",
        "kind": "burn",
        "views": ["front", "back"],
        "in_custody": True,
        "custody_place": "SIZO 1",
        "person": PERSON_2,
        "facility": PERSON_1,
        "cases": [CASE_1],
        "photos": [EVIDENCE_1],
        "areas": [{"name": "Cell 4", "floor_area": 10.5, "occupants": 4}],
        "contact": {"phone_allowed": False, "phone_notes": "Only once a month"},
        "injuries": [{"view": "back", "x": 0.25, "y": 0.5, "injury_type": "bruise"}],
        "consent": {"scopes": [{"scope": "interview", "status": "granted"}]},
    }
    normalised = validate_record("all_types", data, template=editor.template)
    assert normalised["visit_date"] == {"value": "2024-03", "precision": "day_unknown"}
    assert editor.check()
    assert not editor.banner.isVisibleTo(editor)


def test_loading_data_shows_it_back(editor: FormEditor) -> None:
    data = {
        "code": "W-020",
        "present": 3,
        "visit_date": {"value": "2023", "precision": "estimated"},
        "start": "2024-01-02T08:00-05:00",
        "in_custody": False,
        "views": ["head"],
        "person": PERSON_1,
        "areas": [{"name": "A"}, {"name": "B", "occupants": 2}],
        "injuries": [{"view": "left", "x": 0.1, "y": 0.2, "injury_type": "scar"}],
        "consent": {
            "scopes": [{"scope": "photographs", "status": "conditional", "conditions": "no face"}],
            "withdrawals": [
                {"date": {"value": "2024-02-01", "precision": "exact"}, "scope": "photographs"}
            ],
        },
    }
    editor.set_value(data)
    assert editor.value() == data
    assert editor.editor("visit_date").precision.currentData() == "estimated"
    assert not editor.dirty  # loading is not an edit


def test_conditional_fields_follow_the_controlling_field(editor: FormEditor) -> None:
    assert not editor.is_shown("custody_place")
    editor.editor("in_custody").set_value(True)
    assert editor.is_shown("custody_place")
    editor.editor("custody_place").set_value("SIZO 1")
    assert editor.value()["custody_place"] == "SIZO 1"
    editor.editor("in_custody").set_value(False)
    assert not editor.is_shown("custody_place")
    # A hidden field's entry is not part of the data (the domain would refuse it).
    assert "custody_place" not in editor.value()
    assert not [i for i in editor.issues() if i.field == "custody_place"]
    # Inside a group the condition looks at the group's own field.
    assert not editor.is_shown("contact.phone_notes")
    editor.editor("contact.phone_allowed").set_value(False)
    assert editor.is_shown("contact.phone_notes")


def test_repeatable_group_add_remove_reorder(editor: FormEditor, qtbot: Any) -> None:
    areas = editor.editor("areas")
    assert isinstance(areas, RepeatableGroupField)
    for name in ("first", "second", "third"):
        qtbot.mouseClick(areas.add_button, Qt.MouseButton.LeftButton)
        areas.rows[-1].form.editor("name").set_value(name)
    assert [a["name"] for a in editor.value()["areas"]] == ["first", "second", "third"]
    assert editor.dirty
    qtbot.mouseClick(areas.rows[0].down, Qt.MouseButton.LeftButton)
    assert [a["name"] for a in editor.value()["areas"]] == ["second", "first", "third"]
    qtbot.mouseClick(areas.rows[2].up, Qt.MouseButton.LeftButton)
    assert [a["name"] for a in editor.value()["areas"]] == ["second", "third", "first"]
    qtbot.mouseClick(areas.rows[1].remove, Qt.MouseButton.LeftButton)
    assert [a["name"] for a in editor.value()["areas"]] == ["second", "first"]
    assert areas.rows[0].title.text() == "Areas · 1"
    assert not areas.rows[0].up.isEnabled()
    assert not areas.rows[-1].down.isEnabled()
    # max_items=5: the add button turns off when the group is full.
    for _ in range(3):
        qtbot.mouseClick(areas.add_button, Qt.MouseButton.LeftButton)
    assert len(areas.rows) == 5
    assert not areas.add_button.isEnabled()


def test_computed_values_update_live(editor: FormEditor, qtbot: Any) -> None:
    occupancy = editor.editor("occupancy")
    assert isinstance(occupancy, ComputedField)
    assert occupancy.display.text() == "—"
    qtbot.keyClicks(editor.editor("present").edit, "120")
    qtbot.keyClicks(editor.editor("capacity").edit, "80")
    assert occupancy.display.text() == "150 %"
    editor.editor("start").set_value("2024-03-05T10:15+02:00")
    editor.editor("end").set_value("2024-03-05T13:40+02:00")
    assert editor.editor("duration").display.text() == "3 h 25 min"
    areas = editor.editor("areas")
    areas.add_row({"name": "Cell 4", "floor_area": 10.5, "occupants": 4})
    editor.refresh()
    per_person = editor.editor("areas[0].per_person")
    cpt = editor.editor("areas[0].cpt")
    assert per_person.display.text() == "2.62 m²"
    assert cpt.flagged
    assert cpt.display.text() == "Below the CPT minimum"
    assert "b00020" in cpt.display.styleSheet()  # shown in red
    # 4 persons need 18 m²: with 20 m² the flag goes off, live.
    editor.editor("areas[0].floor_area").edit.setText("20")
    assert not cpt.flagged
    assert cpt.display.text() == "Meets the CPT minimum"
    # Computed values are never part of the entered data.
    assert "per_person" not in editor.value()["areas"][0]
    assert "occupancy" not in editor.value()


def test_validation_messages_appear_at_their_fields(editor: FormEditor, qtbot: Any) -> None:
    editor.editor("code").set_value("Ivan Petrenko")
    editor.editor("present").set_value("many")
    editor.editor("areas").add_row({"name": "ok"})
    editor.editor("areas").add_row({"floor_area": 3})
    body = editor.editor("injuries")
    body.add_mark("front", 0.5, 0.5)
    editor.editor("consent").rows["photographs"].status.setCurrentIndex(3)  # conditional
    assert not editor.check()

    code_row = editor.form_of("code").rows["code"]
    assert code_row.error.isVisibleTo(editor)
    assert "pseudonym code like W-017" in code_row.error.text()
    assert editor.form_of("present").rows["present"].error.text() == "Enter a number."
    second = editor.editor("areas").rows[1].form.rows["name"]
    assert second.error.text() == "This field is required."
    first = editor.editor("areas").rows[0].form.rows["name"]
    assert not first.error.isVisibleTo(editor)
    assert "Mark 1 · Injury type: This field is required." in body.error.text()
    assert 0 in body.canvas.error_marks
    consent = editor.editor("consent")
    assert "Conditions: This field is required." in consent.rows["photographs"].error.text()
    assert editor.banner.isVisibleTo(editor)
    assert "entries need attention" in editor.banner.text()
    basics_item = editor.nav.item(0)
    assert basics_item.text() == "Basics (2)"

    # Fixing an entry clears its message live (after a short pause in typing).
    editor.editor("code").edit.setText("W-017")
    qtbot.waitUntil(lambda: not code_row.error.isVisibleTo(editor), timeout=3000)
    assert second.error.isVisibleTo(editor)


def test_required_field_in_condition_only_when_shown(editor: FormEditor) -> None:
    editor.editor("code").set_value("W-001")
    assert editor.check()
    editor.editor("in_custody").set_value(True)
    assert not editor.check()
    row = editor.form_of("custody_place").rows["custody_place"]
    assert row.error.text() == "This field is required."


def test_searchable_choice_matches_anywhere_with_huridocs_tooltips(qtbot: Any) -> None:
    fdef = FieldDef(
        id="method",
        type=FieldType.CHOICE,
        label={"en": "Method", "uk": "Метод", "ru": "Метод"},
        vocabulary="violence_methods",
    )
    field = ChoiceField(fdef, FormContext())
    qtbot.addWidget(field)
    completer = field.combo.completer()
    assert completer.filterMode() == Qt.MatchFlag.MatchContains
    assert completer.caseSensitivity() == Qt.CaseSensitivity.CaseInsensitive
    assert completer.completionMode() == QCompleter.CompletionMode.PopupCompletion
    completer.setCompletionPrefix("soles")
    assert completer.currentCompletion() == "Falanga (beating of the soles of the feet)"
    index = field.combo.findData("falanga")
    assert field.combo.itemData(index, Qt.ItemDataRole.ToolTipRole) == (
        "HURIDOCS code: 030104000000"
    )
    field.combo.setCurrentIndex(index)
    assert field.value() == "falanga"
    assert "030104000000" in field.combo.toolTip()
    # Typing a label exactly (any case) picks its code; a label that is not listed is returned
    # as typed so that validation refuses it.
    field.combo.setEditText("BEATING")
    assert field.value() == "beating"
    field.combo.setEditText("something else")
    assert field.value() == "something else"


def test_labels_follow_the_language(qtbot: Any) -> None:
    i18n.set_language("uk")
    widget = FormEditor(None, "all_types", template=all_types_template(), ref_provider=_refs)
    qtbot.addWidget(widget)
    assert widget.nav.item(0).text() == "Основне"
    kind = widget.editor("kind")
    assert kind.combo.itemText(kind.combo.findData("bruise")) == (
        load_vocabulary("injury_types").label("bruise", "uk")
    )
    widget.editor("present").set_value(2.5)
    assert widget.editor("present").edit.text() == "2,5"
    assert parse_number("2,5", "decimal") == 2.5
    # An empty code field shows an example, never a bare code that looks filled in.
    assert widget.editor("code").edit.placeholderText() == "наприклад, W-017"
    assert widget.check_button.text() == "Перевірити заповнення"


def test_number_parsing() -> None:
    assert parse_number("", "int") is None
    assert parse_number(" 1 200 ", "int") == 1200
    assert parse_number("12.0", "int") == 12
    assert parse_number("12.5", "int") == 12.5  # validation says "whole number"
    assert parse_number("abc", "decimal") == "abc"
    assert parse_number("nan", "decimal") == "nan"


def test_date_precision_follows_the_shape_typed(qtbot: Any) -> None:
    fdef = FieldDef(id="d", type=FieldType.DATE, label={"en": "D", "uk": "D", "ru": "D"})
    field = DateField(fdef, FormContext())
    qtbot.addWidget(field)
    qtbot.keyClicks(field.edit, "2024")
    assert field.value() == {"value": "2024", "precision": "month_unknown"}
    qtbot.keyClicks(field.edit, "-05")
    assert field.value() == {"value": "2024-05", "precision": "day_unknown"}
    qtbot.keyClicks(field.edit, "-17")
    assert field.value() == {"value": "2024-05-17", "precision": "exact"}
    field.precision.setCurrentIndex(field.precision.findData("estimated"))
    field.edit.setText("2024")
    assert field.value() == {"value": "2024", "precision": "estimated"}


def test_multichoice_filter_hides_non_matching(qtbot: Any) -> None:
    fdef = FieldDef(
        id="m",
        type=FieldType.MULTICHOICE,
        label={"en": "M", "uk": "M", "ru": "M"},
        vocabulary="violence_methods",
    )
    field = MultiChoiceField(fdef, FormContext())
    qtbot.addWidget(field)
    field.checklist.filter.setText("beat")
    shown = [
        field.checklist.list.item(i).text()
        for i in range(field.checklist.list.count())
        if not field.checklist.list.item(i).isHidden()
    ]
    assert "Beating" in shown
    assert all("beat" in s.lower() for s in shown)


def test_number_field_shows_unit_and_range(qtbot: Any) -> None:
    fdef = FieldDef(
        id="n",
        type=FieldType.NUMBER,
        label={"en": "N", "uk": "N", "ru": "N"},
        number_kind="decimal",
        min=0,
        max=300,
        unit="cm",
    )
    field = NumberField(fdef, FormContext())
    qtbot.addWidget(field)
    assert field.findChild(QLabel, "unit_n").text() == "cm"
    assert field.edit.placeholderText() == "from 0 to 300"
    field.edit.setText("12,5")
    assert field.value() == 12.5


@pytest.mark.parametrize("template", all_templates(), ids=lambda t: t.id)
def test_every_shipped_template_renders(template: Any, qtbot: Any) -> None:
    widget = FormEditor(None, template.id, ref_provider=_refs)
    qtbot.addWidget(widget)
    assert widget.nav.count() == len(template.sections)
    assert widget.value() == {}
    # An empty form names exactly what the domain names.
    expected = {i.field for i in issues_for(template.id, {})}
    shown = {i.field for i in widget.issues()}
    assert shown == expected


def test_read_only_review_shows_but_does_not_edit(qtbot: Any) -> None:
    data = {
        "code": "W-017",
        "in_custody": True,
        "custody_place": "SIZO 1",
        "areas": [{"name": "Cell 4", "floor_area": 10.5, "occupants": 4}],
        "injuries": [{"view": "front", "x": 0.5, "y": 0.5, "injury_type": "bruise"}],
        "consent": {"scopes": [{"scope": "interview", "status": "granted"}]},
    }
    widget = FormEditor(
        None,
        "all_types",
        template=all_types_template(),
        ref_provider=_refs,
        initial=data,
        read_only=True,
    )
    qtbot.addWidget(widget)
    assert widget.value() == data
    assert not widget.save_button.isVisibleTo(widget)
    assert widget.status.text() == "Read-only"
    assert widget.editor("code").edit.isReadOnly()
    assert not widget.editor("in_custody").combo.isEnabled()
    assert not widget.editor("areas").add_button.isEnabled()
    assert not widget.editor("areas").rows[0].remove.isEnabled()
    assert widget.editor("areas[0].cpt").flagged  # computed values still show
    assert not widget.editor("consent").withdraw_button.isEnabled()
    assert widget.editor("injuries").canvas.read_only
    assert not widget.save()
    assert widget.maybe_leave()  # nothing to ask in review mode
    assert dialogs.asked() == []


def test_clear_on_lock_forgets_every_entry(editor: FormEditor) -> None:
    editor.editor("code").set_value("W-017")
    editor.editor("notes").set_value("private words")
    editor.editor("areas").add_row({"name": "Cell 4"})
    editor.editor("injuries").add_mark("front", 0.5, 0.5)
    editor.editor("consent").append_withdrawal(
        "interview", {"value": "2024", "precision": "month_unknown"}
    )
    assert editor.dirty
    editor.clear()
    assert editor.value() == {}
    assert not editor.dirty
    assert not editor.isEnabled()
    assert editor.editor("notes").edit.toPlainText() == ""
    assert editor.editor("injuries").marks == []
    assert editor.editor("consent").withdrawals == []


def test_computed_values_match_the_domain(editor: FormEditor) -> None:
    from fieldkit.domain.records import compute

    editor.set_value(
        {
            "present": 90,
            "capacity": 120,
            "start": "2024-03-05T10:00+00:00",
            "end": "2024-03-05T10:45+00:00",
            "areas": [
                {"name": "A", "floor_area": 30, "occupants": 5},
                {"name": "B", "floor_area": 5, "occupants": 2},
            ],
        }
    )
    values = compute("all_types", editor.value(), template=editor.template)
    assert values["areas[1].cpt"] is True
    for path, result in values.items():
        shown = editor.editor(path)
        assert isinstance(shown, ComputedField)
        assert shown.result == result, path
    assert editor.editor("areas[1].cpt").display.text() == "Below the CPT minimum"
    assert editor.editor("areas[0].cpt").display.text() == "Meets the CPT minimum"
    assert editor.editor("occupancy").display.text() == "75 %"
    assert editor.editor("duration").display.text() == "45 min"


def test_now_fills_date_and_time_and_clear_empties(editor: FormEditor) -> None:
    start = editor.editor("start")
    assert start.value() is None
    start.now_button.click()
    value = start.value()
    assert value is not None
    assert value[:4] == str(date.today().year)
    start.clear_button.click()
    assert start.value() is None


def test_sensitive_fields_carry_badges(editor: FormEditor) -> None:
    code_box = editor.form_of("code").rows["code"].label_box
    badge = code_box.findChild(QLabel, "badge_ID")
    assert badge is not None
    assert badge.text() == "ID"
    assert "identify a person" in badge.toolTip()
    notes_box = editor.form_of("notes").rows["notes"].label_box
    assert notes_box.findChild(QLabel, "badge_SENS") is not None
    plain_box = editor.form_of("present").rows["present"].label_box
    assert plain_box.findChildren(QLabel, "badge_ID") == []
    # Required fields are marked in their label.
    assert editor.form_of("code").rows["code"].label.text() == "Code *"


@pytest.mark.parametrize("template", all_templates(), ids=lambda t: t.id)
def test_every_shipped_template_round_trips_filled_data(template: Any, qtbot: Any) -> None:
    """Every field of every shipped form, filled and read back through its widget unchanged."""
    data = sample_record(template)
    widget = FormEditor(None, template.id, ref_provider=ref_options, initial=data)
    qtbot.addWidget(widget)
    assert widget.value() == data
    assert not widget.dirty
    # What the widgets hand over is exactly what the domain takes.
    assert [(i.field, i.reason) for i in widget.issues()] == []
    assert len(data) > 10


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_filled_visit_round_trips_in_other_languages(language: str, qtbot: Any) -> None:
    i18n.set_language(language)
    template = next(t for t in all_templates() if t.id == "visit")
    data = sample_record(template)
    widget = FormEditor(None, "visit", ref_provider=ref_options, initial=data)
    qtbot.addWidget(widget)
    assert widget.value() == data
    assert widget.issues() == []


@pytest.mark.parametrize(("language", "hours"), [("uk", "год"), ("ru", "ч"), ("en", "h")])
def test_units_beside_the_fields_are_translated(language: str, hours: str, qtbot: Any) -> None:
    i18n.set_language(language)
    widget = FormEditor(None, "visit", ref_provider=ref_options)
    qtbot.addWidget(widget)
    units = {
        label.text()
        for label in widget.findChildren(QLabel)
        if label.objectName().startswith("unit_")
    }
    assert hours in units, "F-10: units were shown in English"


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "recorded on audio"), ("uk", "записувати інтерв’ю на аудіо"), ("ru", "на аудио")],
)
def test_how_consent_was_recorded_is_not_read_as_audio(lang: str, words: str, qtbot: Any) -> None:
    """'Oral, recorded' next to a declined audio recording: the field says what it asks."""
    from PySide6.QtWidgets import QLabel

    i18n.set_language(lang)
    widget = FormEditor(None, "interview", ref_provider=_refs)
    qtbot.addWidget(widget)
    box = widget.editor("consent_form").parentWidget()
    texts = [label.text() for label in box.findChildren(QLabel)]
    assert any(words in text for text in texts), texts
