"""Signed PDF reports from the case view, the visit editor and the report dialog (real profile,
real PDF and signature; the text is read back with pdftotext)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from fieldkit.services.records import CaseService, RecordService
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.main_window import MainWindow
from fieldkit.ui.reports import ReportDialog
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner
from tests.helpers import require_tool
from tests.storage.test_records_samples import facility_data, visit_data

TIME_TASK_MS = 30_000


def _window(qtbot: QtBot, vault) -> MainWindow:
    window = MainWindow(vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(window)
    window.show()
    assert window.model.wait_loaded()
    return window


def _case_with_visit(vault) -> tuple[str, str]:
    case = CaseService(vault).add("Катування W-017 в ІТТ Харкова")
    records = RecordService(vault)
    facility = records.add("facility", facility_data())
    data = visit_data(facility.id)
    data["allegation_records"] = [case.id]
    visit = records.add("visit", data)
    return case.id, visit.id


def _pdf_text(path: Path) -> str:
    tool = require_tool("pdftotext")
    return subprocess.run(
        [tool, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _save(qtbot: QtBot, dialog: ReportDialog, out: Path) -> None:
    dialogs.set_next_path(out)
    dialogs.set_next_answer(True)  # "Report saved"
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=TIME_TASK_MS)
    assert dialogs.pending() == 0
    assert dialogs.asked()[-1] == ("inform", "Report saved")


def test_case_file_from_the_case_view_in_the_chosen_language(
    qtbot: QtBot, new_vault, tmp_path: Path
) -> None:
    case_id, _visit = _case_with_visit(new_vault)
    window = _window(qtbot, new_vault)
    window.open_case(case_id)
    window.case_view.case_file_action.trigger()
    dialog = window.report_dialog
    assert dialog.kind == "case"
    assert dialog.record_id == case_id
    # Names: off by default; ticking shows the warning.
    assert not dialog.names_check.isChecked()
    assert not dialog.names_warning.isVisible()
    dialog.names_check.setChecked(True)
    assert dialog.names_warning.isVisible()
    assert "not encrypted" in dialog.names_warning.text()
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("ru"))
    dialog.prepared_by.setText("M-003")
    out = tmp_path / "дело.pdf"
    _save(qtbot, dialog, out)
    assert out.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "дело.pdf.minisig").exists()
    assert not dialog.isVisible()
    text = _pdf_text(out)
    assert "Дело" in text  # the report's language, not the interface's (English)
    assert "M-003" in text
    # The next report of this unlocked profile offers the same "Prepared by".
    window.case_view.case_file_action.trigger()
    assert window.report_dialog is not dialog
    assert window.report_dialog.prepared_by.text() == "M-003"
    window.report_dialog.reject()
    window.clear()  # what the lock does: the code is forgotten with the rest
    window.open_case(case_id)
    previous = window.report_dialog
    window.case_view.case_file_action.trigger()
    assert window.report_dialog is not previous
    assert window.report_dialog.prepared_by.text() == ""
    window.report_dialog.reject()


def test_visit_report_from_the_case_view(qtbot: QtBot, new_vault, tmp_path: Path) -> None:
    case_id, visit_id = _case_with_visit(new_vault)
    window = _window(qtbot, new_vault)
    window.open_case(case_id)
    view = window.case_view
    assert view.visits_table.rowCount() == 1
    assert view.chosen_visit_id() == visit_id  # the only visit
    view.visit_report_action.trigger()
    dialog = window.report_dialog
    assert dialog.kind == "visit"
    assert dialog.record_id == visit_id
    assert not dialog.names_check.isVisibleTo(dialog)  # visit reports never carry names
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("uk"))
    out = tmp_path / "visit.pdf"
    _save(qtbot, dialog, out)
    text = _pdf_text(out)
    assert "Звіт про візит" in text
    assert "V-2026-014" in text


def test_visit_report_needs_a_chosen_visit(qtbot: QtBot, new_vault) -> None:
    case_id = CaseService(new_vault).add("Справа без візитів W-020").id
    window = _window(qtbot, new_vault)
    window.open_case(case_id)
    dialogs.set_next_answer(True)
    window.action_visit_report.trigger()
    assert dialogs.asked() == [("inform", "Visit report")]
    assert window.case_view.tabs.currentWidget() is window.case_view.visits_table
    assert not hasattr(window, "report_dialog")


def test_reports_without_a_case_explain(qtbot: QtBot, new_vault) -> None:
    window = _window(qtbot, new_vault)
    dialogs.set_next_answer(True)
    window.action_case_file.trigger()
    assert dialogs.asked() == [("inform", "Reports")]


def test_visit_report_from_the_visit_editor(qtbot: QtBot, new_vault, tmp_path: Path) -> None:
    _case_id, visit_id = _case_with_visit(new_vault)
    window = _window(qtbot, new_vault)
    editor_dialog = window.editors.edit("visit", visit_id)
    assert editor_dialog is not None
    assert editor_dialog.report_button is not None
    assert editor_dialog.report_button.isEnabled()
    editor_dialog.report_button.click()
    dialog = editor_dialog.findChild(ReportDialog)
    assert dialog is not None
    assert dialog.kind == "visit"
    out = tmp_path / "visit-en.pdf"
    _save(qtbot, dialog, out)
    assert "Visit report" in _pdf_text(out)


def test_a_new_visit_has_its_report_once_saved(qtbot: QtBot, new_vault) -> None:
    window = _window(qtbot, new_vault)
    editor_dialog = window.editors.create("visit")
    assert editor_dialog is not None
    assert editor_dialog.report_button is not None
    assert not editor_dialog.report_button.isEnabled()
    facility = RecordService(new_vault).add("facility", facility_data())
    editor_dialog.editor.set_value(visit_data(facility.id))
    assert editor_dialog.editor.save()
    assert editor_dialog.report_button.isEnabled()


def test_existing_file_is_replaced_only_when_confirmed(
    qtbot: QtBot, new_vault, tmp_path: Path
) -> None:
    case_id, _visit = _case_with_visit(new_vault)
    runner = TaskRunner()
    dialog = ReportDialog(new_vault, runner, "case", case_id)
    qtbot.addWidget(dialog)
    out = tmp_path / "case.pdf"
    out.write_bytes(b"an older file")
    dialogs.set_next_path(out)
    dialogs.set_next_answer(False)  # do not replace
    assert dialog.start() is None
    assert out.read_bytes() == b"an older file"
    dialogs.set_next_answer(True)  # replace
    dialogs.set_next_answer(True)  # "Report saved"
    task = dialog.start(out)
    assert task is not None
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=TIME_TASK_MS)
    assert out.read_bytes().startswith(b"%PDF")
    assert [kind for kind, _title in dialogs.asked()] == ["save_file", "ask", "ask", "inform"]


def test_a_failure_is_shown_in_the_dialog(qtbot: QtBot, new_vault, tmp_path: Path) -> None:
    case_id, _visit = _case_with_visit(new_vault)
    dialog = ReportDialog(new_vault, TaskRunner(), "case", case_id)
    qtbot.addWidget(dialog)
    dialog.show()
    missing = tmp_path / "no-such-folder" / "case.pdf"
    task = dialog.start(missing)
    assert task is not None
    qtbot.waitUntil(lambda: dialog.task is None, timeout=TIME_TASK_MS)
    assert dialog.result is None
    assert dialog.status_label.isVisible()
    assert "no-such-folder" in dialog.status_label.text()
    assert dialog.save_button.isEnabled()
    assert not missing.exists()


def test_cancel_leaves_nothing_behind(qtbot: QtBot, new_vault, tmp_path: Path) -> None:
    import threading

    from fieldkit.ui.tasks import Task

    case_id, _visit = _case_with_visit(new_vault)
    runner = TaskRunner(max_threads=1)
    release = threading.Event()
    # Keep the only worker busy so the report is still queued when the person cancels.
    blocker = runner.start(Task(release.wait, 10, plain=True, name="blocker"))
    dialog = ReportDialog(new_vault, runner, "case", case_id)
    qtbot.addWidget(dialog)
    dialog.show()
    folder = tmp_path / "stick"
    folder.mkdir()
    out = folder / "case.pdf"
    task = dialog.start(out)
    assert task is not None
    dialog.reject()
    assert task.cancel.cancelled
    release.set()
    assert blocker.wait(10)
    qtbot.waitUntil(lambda: task.is_done, timeout=TIME_TASK_MS)
    qtbot.waitUntil(lambda: dialog.task is None, timeout=TIME_TASK_MS)
    assert dialog.result is None
    assert list(folder.iterdir()) == []  # no PDF, no signature, no temporary file
    assert "Cancelled" in dialog.status_label.text()


def test_with_several_visits_the_chosen_one_is_reported(qtbot: QtBot, new_vault) -> None:
    case_id, first = _case_with_visit(new_vault)
    records = RecordService(new_vault)
    data = visit_data(records.add("facility", facility_data()).id)
    data["reference"] = "V-2026-015"
    data["allegation_records"] = [case_id]
    second = records.add("visit", data).id
    window = _window(qtbot, new_vault)
    window.open_case(case_id)
    view = window.case_view
    assert view.visits_table.rowCount() == 2
    assert view.chosen_visit_id() is None
    dialogs.set_next_answer(True)
    view.visit_report_action.trigger()
    assert dialogs.asked() == [("inform", "Visit report")]
    row = next(
        r
        for r in range(view.visits_table.rowCount())
        if view.visits_table.item(r, 0).data(Qt.ItemDataRole.UserRole) == second
    )
    view.visits_table.selectRow(row)
    assert view.chosen_visit_id() == second
    view.visit_report_action.trigger()
    assert window.report_dialog.record_id == second
    assert second != first


def test_a_declined_transmission_is_explained_and_the_internal_audience_still_works(
    qtbot: QtBot, new_vault, tmp_path: Path
) -> None:
    from tests.export.test_reports import build_sample, consent

    sample = build_sample(new_vault, tmp_path)
    records = RecordService(new_vault)
    current = records.get(sample.interview_id)
    data = {
        **current.data,
        "consent": consent("anonymised_reports", declined=("transmit_to_administration",)),
    }
    records.update(sample.interview_id, data, current.revision)
    dialog = ReportDialog(new_vault, TaskRunner(), "visit", sample.visit_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("en"))
    assert dialog.audience_combo.currentData() is None  # the visit's own level: to the facility
    out = tmp_path / "visit.pdf"
    assert dialog.start(out) is not None
    qtbot.waitUntil(lambda: dialog.task is None, timeout=TIME_TASK_MS)
    assert dialog.result is None
    shown = dialog.status_label.text()
    assert "interview W-017" in shown
    assert "choose the internal audience" in shown
    assert not out.exists()
    dialog.audience_combo.setCurrentIndex(dialog.audience_combo.findData("organisation"))
    _save(qtbot, dialog, out)
    assert "INTERNAL" in _pdf_text(out) or "CONFIDENTIAL" in _pdf_text(out)


def test_the_saved_message_says_what_an_earlier_file_disclosed(
    qtbot: QtBot, new_vault, tmp_path: Path
) -> None:
    from tests.export.test_reports import build_sample, consent

    sample = build_sample(new_vault, tmp_path)
    records = RecordService(new_vault)

    def set_consent(value: dict) -> None:
        current = records.get(sample.interview_id)
        records.update(sample.interview_id, {**current.data, "consent": value}, current.revision)

    set_consent(consent("share_international"))
    from fieldkit.services.reports import ReportService

    ReportService(new_vault).case_file(sample.case_id, tmp_path / "a.pdf", "en", audience="counsel")
    set_consent(consent(declined=("share_international",)))
    dialog = ReportDialog(new_vault, TaskRunner(), "case", sample.case_id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.audience_combo.setCurrentIndex(dialog.audience_combo.findData("counsel"))
    _save(qtbot, dialog, tmp_path / "b.pdf")
    assert dialog.result.withheld_since >= 1
    text = ReportDialog._withheld_since_text(dialog.result)
    assert "now withheld" in text
    assert "cannot be recalled" in text


def test_names_not_ids_facility_in_the_report_language_and_prepared_by_remembered(
    qtbot: QtBot, new_vault, tmp_path: Path
) -> None:
    from tests.export.test_reports import recommendation_data

    case = CaseService(new_vault).add("Умови тримання W-021")
    records = RecordService(new_vault)
    facility = records.add(
        "facility",
        {
            **facility_data(),
            "official_name": "ITT-1 (official)",
            "name_uk": "ІТТ №1 у Харкові",
            "name_en": "Temporary holding facility No. 1, Kharkiv",
        },
    )
    data = visit_data(facility.id)
    data["allegation_records"] = [case.id]
    visit = records.add("visit", data)
    rec = records.add(
        "recommendation",
        recommendation_data(
            "Відкрити вікно в камері 14",
            "Зняти металевий лист.",
            visit.id,
            facility.id,
            "not_implemented",
        ),
    )
    records.update(visit.id, {**data, "recommendations": [rec.id]}, expected_revision=1)
    window = _window(qtbot, new_vault)
    window.open_case(case.id)
    window.case_view.visit_report_action.trigger()
    dialog = window.report_dialog
    assert dialog.prepared_by.text() == ""
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("uk"))
    dialog.prepared_by.setText("M-003")
    out = tmp_path / "visit-uk.pdf"
    _save(qtbot, dialog, out)
    flat = " ".join(_pdf_text(out).split())
    assert "ІТТ №1 у Харкові" in flat
    assert "ITT-1 (official)" not in flat
    assert "Відкрити вікно в камері 14" in flat
    assert rec.id.split("-")[0] not in flat  # never "e48881dc"
    # The next report remembers who prepared it; in English the English name is printed.
    window.case_view.visit_report_action.trigger()
    again = window.report_dialog
    assert again.prepared_by.text() == "M-003"
    again.language_combo.setCurrentIndex(again.language_combo.findData("en"))
    out_en = tmp_path / "visit-en.pdf"
    _save(qtbot, again, out_en)
    flat_en = " ".join(_pdf_text(out_en).split())
    assert "Temporary holding facility No. 1, Kharkiv" in flat_en
    assert "Prepared by M-003" in flat_en
