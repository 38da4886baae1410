"""No dead ends: a facility from the visit form, a recommendation inside the visit, a person from
the interview form, each in its own window, while the first form stays open with its entries;
editors block nothing and several are open at once."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from fieldkit.domain.forms import load_template
from fieldkit.services.records import RecordService
from fieldkit.ui.editing import RecordEditorHost
from fieldkit.ui.tasks import TaskRunner
from tests.ui.forms_support import sample_value


@pytest.fixture
def host(qtbot: QtBot, new_vault) -> RecordEditorHost:
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    runner = TaskRunner(window)
    host = RecordEditorHost(window, new_vault, runner)
    yield host
    host.discard_all()


def _fill_required(editor: Any, skip: tuple[str, ...] = ()) -> None:
    """Every required top-level field left empty gets a plausible value (references excepted)."""
    for section in load_template(editor.form_id).sections:
        for fdef in section.fields:
            if not fdef.required or fdef.id in skip or not editor.is_shown(fdef.id):
                continue
            if editor.editor(fdef.id).value() is None and "ref" not in fdef.type.value:
                editor.editor(fdef.id).set_value(sample_value(fdef))
    editor.refresh()


def _first_code(vocabulary: str) -> str:
    from fieldkit.domain.vocabularies import load_vocabulary

    return next(t.code for t in load_vocabulary(vocabulary) if not t.deprecated)


def test_a_facility_is_created_from_the_visit_form(qtbot: QtBot, host: RecordEditorHost) -> None:
    visit = host.create("visit")
    assert visit is not None
    assert visit.windowModality() == Qt.WindowModality.NonModal
    qtbot.keyClicks(visit.editor.editor("reference").edit, "V-2024-07")
    facility_field = visit.editor.editor("facility")
    assert facility_field.empty.isVisibleTo(facility_field), "nothing to choose from yet"
    qtbot.mouseClick(facility_field.new_button, Qt.MouseButton.LeftButton)
    assert len(host.open_editors) == 2, "the visit stays open beside the new facility"
    facility = host.open_editors[-1]
    assert facility.editor.form_id == "facility"
    facility.editor.editor("official_name").set_value("SIZO QZXJ-1")
    _fill_required(facility.editor)
    assert facility.editor.save(), facility.editor.banner.text()
    # Chosen in the visit at once; what was typed in the visit is still there.
    assert facility_field.value() == facility.editor.record_id
    assert visit.editor.editor("reference").edit.text() == "V-2024-07"
    assert visit.editor.dirty


def test_a_recommendation_made_inside_the_visit_is_linked_at_once(
    qtbot: QtBot, host: RecordEditorHost, new_vault
) -> None:
    records = RecordService(new_vault)
    facility = records.add(
        "facility", {"official_name": "SIZO QZXJ-2", "facility_type": _first_code("facility_types")}
    )
    visit = host.create("visit")
    assert visit is not None
    visit.editor.editor("facility").set_value(facility.id)
    _fill_required(visit.editor, skip=("facility",))
    assert visit.editor.save(), visit.editor.issues()
    field = visit.editor.editor("recommendations")
    qtbot.mouseClick(field.new_button, Qt.MouseButton.LeftButton)
    recommendation = host.open_editors[-1]
    editor = recommendation.editor
    assert editor.form_id == "recommendation"
    # It starts from the visit: its origin, the visit itself, the facility, a status.
    assert editor.editor("origin").value() == "visit"
    assert editor.editor("origin_visit").value() == visit.editor.record_id
    assert editor.editor("facility").value() == facility.id
    assert editor.editor("implementation_status").value() == "not_implemented"
    editor.editor("text").set_value("Give every detainee QZXJ-3 daily outdoor exercise.")
    _fill_required(editor)
    assert editor.save(), editor.issues()
    assert field.value() == [editor.record_id]
    assert visit.editor.save()
    saved = records.get(visit.editor.record_id)
    assert saved.data["recommendations"] == [editor.record_id]


def test_a_person_is_created_from_the_interview_form(qtbot: QtBot, host: RecordEditorHost) -> None:
    interview = host.create("interview")
    assert interview is not None
    qtbot.keyClicks(interview.editor.editor("interviewee_code").edit, "W-017")
    field = interview.editor.editor("interviewee")
    qtbot.mouseClick(field.new_button, Qt.MouseButton.LeftButton)
    person = host.open_editors[-1]
    assert person.editor.form_id == "person"
    assert person.editor.editor("pseudonym").value() == "W-017"
    assert person.editor.save(), person.editor.issues()
    assert field.value() == person.editor.record_id
    assert field.combo is not None
    assert field.combo.currentText() == "W-017"
    assert [d.editor.form_id for d in host.open_editors] == ["interview", "person"]


def test_an_editor_has_a_close_button_that_asks_about_unsaved_changes(
    qtbot: QtBot, host: RecordEditorHost
) -> None:
    from fieldkit.ui import dialogs

    case = host.create("case")
    assert case is not None
    assert case.close_button.text() == "Close"
    assert case.close_button.isVisible()
    case.editor.editor("title").set_value("Case QZXJ")
    dialogs.set_next_answer("cancel")
    case.close_button.click()
    assert case.isVisible(), "Cancel keeps the form and what was typed"
    assert case.editor.editor("title").value() == "Case QZXJ"
    dialogs.set_next_answer("discard")
    case.close_button.click()
    qtbot.waitUntil(lambda: not case.isVisible(), timeout=5000)
    assert case not in host.open_editors
