"""The form renderer over a real profile: revisions, stale edits, unsaved changes, pickers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import Qt

from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.services.records import RecordFilters, RecordService
from fieldkit.storage.vault import Vault
from fieldkit.ui import dialogs
from fieldkit.ui.forms.renderer import FormEditor


@pytest.fixture
def services(new_vault: Vault) -> SimpleNamespace:
    return SimpleNamespace(records=RecordService(new_vault), evidence=None)


def _first(vocabulary: str) -> str:
    return load_vocabulary(vocabulary).codes()[0]


def _fill_interview(editor: FormEditor, qtbot: Any, person_id: str | None = None) -> None:
    qtbot.keyClicks(editor.editor("interviewee_code").edit, "W-017")
    if person_id is not None:
        combo = editor.editor("interviewee").combo
        combo.setCurrentIndex(combo.findData(person_id))
    editor.editor("connection").set_value(_first("source_connection"))
    qtbot.keyClicks(editor.editor("interview_date").edit, "2024-03-05")
    editor.editor("location_type").set_value(_first("interview_location_types"))
    editor.editor("mode").set_value(_first("interview_modes"))
    for field in ("explained_purpose", "explained_use", "explained_right_to_stop"):
        editor.editor(field).set_value(True)
    consent = editor.editor("consent")
    consent.rows["interview"].status.setCurrentIndex(1)
    editor.editor("consent_form").set_value(_first("consent_forms"))
    editor.editor("narrative").edit.setPlainText("Account in the person's own words.")


def test_new_record_then_edit_makes_revision_two(services: SimpleNamespace, qtbot: Any) -> None:
    person = services.records.add("person", {"pseudonym": "W-017"})
    editor = FormEditor(services, "interview")
    qtbot.addWidget(editor)
    assert editor.title.text() == "New: Interview"
    # The person picker lists the profile's persons by pseudonym.
    assert editor.editor("interviewee").combo.findData(person.id) > 0
    _fill_interview(editor, qtbot, person.id)
    assert editor.dirty
    with qtbot.waitSignal(editor.saved) as blocker:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    record_id, revision = blocker.args
    assert revision == 1
    assert not editor.dirty
    stored = services.records.get(record_id)
    assert stored.data["interviewee"] == person.id
    assert stored.data["interview_date"] == {"value": "2024-03-05", "precision": "exact"}
    assert stored.data["consent"] == {"scopes": [{"scope": "interview", "status": "granted"}]}

    again = FormEditor(services, "interview", record_id=record_id)
    qtbot.addWidget(again)
    assert again.editor("interviewee_code").value() == "W-017"
    assert again.editor("narrative").value() == "Account in the person's own words."
    assert not again.dirty
    assert again.title.text() == "Interview · revision 1"
    again.editor("narrative").edit.setPlainText("Account, completed after the second visit.")
    assert again.dirty
    with qtbot.waitSignal(again.saved) as blocker:
        assert again.save()
    assert blocker.args == [record_id, 2]
    assert again.title.text() == "Interview · revision 2"
    assert services.records.get(record_id).data["narrative"].startswith("Account, completed")
    assert [v.revision for v in services.records.history(record_id)] == [1, 2]


def test_invalid_entries_save_nothing(services: SimpleNamespace, qtbot: Any) -> None:
    editor = FormEditor(services, "interview")
    qtbot.addWidget(editor)
    editor.editor("interviewee_code").set_value("Petro")
    with qtbot.assertNotEmitted(editor.saved):
        assert not editor.save()
    assert services.records.count(RecordFilters(types=("interview",))) == 0
    row = editor.form_of("interviewee_code").rows["interviewee_code"]
    assert "pseudonym code like W-017" in row.error.text()
    assert editor.form_of("narrative").rows["narrative"].error.text() == ("This field is required.")
    assert editor.banner.isVisibleTo(editor)
    assert editor.dirty


def test_stale_revision_gets_a_clear_message(services: SimpleNamespace, qtbot: Any) -> None:
    person = services.records.add("person", {"pseudonym": "W-030"})
    first = FormEditor(services, "person", record_id=person.id)
    second = FormEditor(services, "person", record_id=person.id)
    qtbot.addWidget(first)
    qtbot.addWidget(second)
    first.editor("pseudonym").set_value("W-031")
    assert first.save()
    second.editor("pseudonym").set_value("W-032")
    dialogs.set_next_answer(None)  # the warning
    with qtbot.assertNotEmitted(second.saved):
        assert not second.save()
    assert dialogs.asked()[-1] == ("warn", "Changed elsewhere")
    assert "was changed elsewhere (now revision 2, you edited revision 1)" in second.banner.text()
    # Nothing was lost: the entry is still in the form, and nothing was written.
    assert second.editor("pseudonym").value() == "W-032"
    assert second.dirty
    assert services.records.get(person.id).data["pseudonym"] == "W-031"


def test_leaving_with_unsaved_changes_asks_first(services: SimpleNamespace, qtbot: Any) -> None:
    editor = FormEditor(services, "person")
    qtbot.addWidget(editor)
    assert editor.maybe_leave()  # nothing entered: no question
    assert dialogs.asked() == []
    editor.editor("pseudonym").set_value("W-040")
    dialogs.set_next_answer("cancel")
    assert not editor.maybe_leave()
    assert dialogs.asked()[-1] == ("choose", "Unsaved changes")
    assert editor.dirty
    dialogs.set_next_answer("save")
    with qtbot.waitSignal(editor.saved):
        assert editor.maybe_leave()
    assert services.records.count(RecordFilters(types=("person",))) == 1
    editor.editor("pseudonym").set_value("W-041")
    dialogs.set_next_answer("discard")
    assert editor.maybe_leave()
    assert services.records.list(RecordFilters(types=("person",)))[0].data["pseudonym"] == "W-040"
    # "Save" with entries that do not validate keeps the form open.
    other = FormEditor(services, "person")
    qtbot.addWidget(other)
    other.editor("pseudonym").set_value("not a code")
    dialogs.set_next_answer("save")
    assert not other.maybe_leave()
    assert dialogs.pending() == 0


def test_visit_with_computed_values_and_facility_picker(
    services: SimpleNamespace, qtbot: Any
) -> None:
    facility = services.records.add(
        "facility", {"official_name": "SIZO 1", "facility_type": _first("facility_types")}
    )
    editor = FormEditor(services, "visit")
    qtbot.addWidget(editor)
    editor.editor("reference").set_value("V-2024-001")
    picker = editor.editor("facility").combo
    assert picker.itemText(picker.findData(facility.id)) == "SIZO 1"
    picker.setCurrentIndex(picker.findData(facility.id))
    editor.editor("facility_type").set_value(_first("facility_types"))
    editor.editor("visit_kind").set_value(_first("visit_kinds"))
    editor.editor("visit_mode").set_value(_first("visit_modes"))
    editor.editor("visit_date").set_value({"value": "2024-03-05", "precision": "exact"})
    editor.editor("team").add_row({"member": "M-001", **_required_in(editor, "team")})
    editor.editor("arrived_at_gate").set_value("2024-03-05T09:00+02:00")
    editor.editor("admitted_at").set_value("2024-03-05T09:40+02:00")
    editor.editor("left_at").set_value("2024-03-05T15:10+02:00")
    editor.editor("total_present").set_value(240)
    editor.editor("official_capacity").set_value(200)
    editor.editor("areas").add_row(
        {**_required_in(editor, "areas"), "floor_area_m2": 12, "occupants": 3}
    )
    editor.refresh()
    assert editor.editor("admission_delay_minutes").display.text() == "40 min"
    assert editor.editor("visit_duration_minutes").display.text() == "5 h 30 min"
    assert editor.editor("occupancy_percent").display.text() == "120 %"
    assert editor.editor("areas[0].area_per_person").display.text() == "4 m²"
    # 12 m² for 3 persons meets the CPT minimum (4 m² each) but not the desirable 6 + 4 + 4
    minimum = editor.editor("areas[0].cpt_minimum")
    assert not minimum.flagged
    assert minimum.display.text() == "Meets the CPT minimum"
    desirable = editor.editor("areas[0].cpt_desirable")
    assert desirable.flagged
    assert desirable.display.text() == "Below the CPT desirable standard (14 m² needed)"
    with qtbot.waitSignal(editor.saved) as blocker:
        assert editor.save(), [(i.field, i.reason) for i in editor.issues()]
    record = services.records.get(blocker.args[0])
    assert record.facility_id == facility.id
    assert services.records.computed(record)["occupancy_percent"] == 120.0


def _required_in(editor: FormEditor, group: str) -> dict[str, Any]:
    """Values for whatever the template requires in a row of ``group``."""
    from fieldkit.domain.forms import FieldType

    out: dict[str, Any] = {}
    for sub in editor.template.field(group).sub_fields:
        if sub.required and sub.type == FieldType.CHOICE:
            out[sub.id] = _first(sub.vocabulary or "")
        elif sub.required and sub.type == FieldType.TEXT:
            out[sub.id] = "Cell 1"
        elif sub.required and sub.type == FieldType.NUMBER:
            out[sub.id] = 1
    return out


def test_evidence_links_offer_the_case_evidence(
    new_vault: Vault, tmp_path: Any, qtbot: Any
) -> None:
    from fieldkit.services.evidence import EvidenceService
    from fieldkit.services.records import CaseService

    evidence = EvidenceService(new_vault)
    services = SimpleNamespace(records=RecordService(new_vault), evidence=evidence)
    case_id = CaseService(new_vault).add("Case of W-017").id
    other_case = CaseService(new_vault).add("Other case").id
    photo = tmp_path / "bruise.txt"
    photo.write_text("stand-in for a photograph")
    item = evidence.add(photo, case_id=case_id).item
    other = tmp_path / "other.txt"
    other.write_text("belongs to the other case")
    evidence.add(other, case_id=other_case)
    editor = FormEditor(services, "interview", case_id=case_id)
    qtbot.addWidget(editor)
    body = editor.editor("injuries")
    body.add_mark("front", 0.5, 0.5)
    photos = body.details.editor("photos").checklist
    assert [photos.list.item(i).text() for i in range(photos.list.count())] == ["bruise.txt"]
    photos.item_for(item.id).setCheckState(Qt.CheckState.Checked)
    body.details.editor("injury_type").set_value("bruise")
    assert editor.value()["injuries"][0]["photos"] == [item.id]
