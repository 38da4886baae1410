"""End-to-end: the real desktop program, two profiles, driven through its windows.

create a monitor profile → enrol with the organisation (coordinator profile made in the program,
comparison codes compared) → add a case → fill a visit and an interview → add a photo → idle lock
→ unlock → export a bundle → import it in the coordinator profile (verification report) →
review the case read-only with every item intact.

Real SQLCipher profiles in tmp_path (fast test KDF), real crypto, real files; the only seam is the
dialog module's queued answers for file dialogs and questions.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication, QWizard
from pytestqt.qtbot import QtBot

from fieldkit.app import DesktopApp
from fieldkit.domain.profile import Role
from fieldkit.ui import dialogs
from fieldkit.ui.settings import AppSettings
from tests.storage.test_records_samples import facility_data, interview_data, visit_data

TIME_TASK_MS = 30_000


@pytest.fixture(autouse=True)
def strict_dialogs() -> Any:
    dialogs.reset()
    dialogs.set_strict(True)
    yield
    dialogs.close_all()
    dialogs.reset()
    dialogs.set_strict(False)


def _start(tmp_path: Path, name: str) -> DesktopApp:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    desktop = DesktopApp(
        app,
        tmp_path / name,
        AppSettings(),
        settings_file=tmp_path / f"{name}-settings.json",
        listen_for_screen_lock=False,
    )
    desktop.start()
    return desktop


def _create_or_unlock(qtbot: QtBot, desktop: DesktopApp, passphrase: str, role: Role) -> Any:
    window = desktop.unlock_window
    assert window is not None
    assert window.isVisible()
    window.passphrase_edit.setText(passphrase)
    if window.create_mode:
        window.confirm_edit.setText(passphrase)
        if role is Role.COORDINATOR:
            window.coordinator_radio.setChecked(True)
        qtbot.waitUntil(window.submit_button.isEnabled, timeout=3000)
    with qtbot.waitSignal(desktop.main_window_shown, timeout=TIME_TASK_MS):
        window.submit_button.click()
    main = desktop.main_window
    assert main is not None
    assert main.objectName() == "mainWindow"
    return main


def _jpeg(path: Path) -> Path:
    image = Image.new("RGB", (640, 480), (120, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return path


def _open_dialog(kind: type) -> Any:
    found = [d for d in dialogs.open_dialogs() if isinstance(d, kind)]
    assert found, f"no open {kind.__name__}"
    return found[-1]


@pytest.mark.slow
def test_monitor_to_coordinator_to_review(
    qtbot: QtBot, tmp_path: Path, fast_kdf: Any, passphrase: str
) -> None:
    from fieldkit.ui.bundles import EnrolDialog, ExportWizard, ImportWizard, TrustDialog
    from fieldkit.ui.review import ReviewWindow

    stick = tmp_path / "usb-stick"
    stick.mkdir()

    # --- the coordinator sets up the organisation ----------------------------------------------
    office = _start(tmp_path, "coordinator")
    coord = _create_or_unlock(qtbot, office, passphrase, Role.COORDINATOR)
    assert coord.action_import.isVisible()
    coord.action_trust.trigger()
    trust = _open_dialog(TrustDialog)
    trust.org_name_edit.setText("Група моніторингу «Світанок»")
    dialogs.set_next_answer(False)  # "Back up the organisation keys now?": later
    trust.init_button.click()
    assert "Світанок" in trust.org_label.text()
    dialogs.set_next_path(stick / "org.pub")
    dialogs.set_next_answer(True)  # "Organisation card saved"
    trust.card_button.click()
    assert (stick / "org.pub").is_file()

    # --- the monitor creates a profile and enrols ----------------------------------------------
    field = _start(tmp_path, "monitor")
    main = _create_or_unlock(qtbot, field, passphrase, Role.MONITOR)
    assert main.action_export.isVisible()
    main.action_enrol.trigger()
    enrol = _open_dialog(EnrolDialog)
    dialogs.set_next_path(stick / "org.pub")
    dialogs.set_next_path(stick / "device.pub")
    enrol.enrol_button.click()
    monitor_code = enrol.code_edit.text()
    assert len(monitor_code.split()) == 6
    enrol.close()

    trust.label_edit.setText("ноутбук M-04")
    dialogs.set_next_path(stick / "device.pub")
    trust.add_button.click()
    assert trust.code_edit.text() == monitor_code, "both screens show the same code"
    assert trust.table.rowCount() == 1
    trust.close()

    # --- a case, a visit and an interview through the form editor ------------------------------
    records = main.editors.services.records
    facility = records.add("facility", facility_data())
    person = records.add("person", {"pseudonym": "W-017", "sex": "male"})

    main.action_new_case.trigger()
    case_editor = main.editors.open_editors[-1].editor
    case_editor.set_value(
        {
            "title": "Катування W-017 в ІТТ Харкова",
            "case_type": "other",
            "monitoring_status": "active",
        }
    )
    assert case_editor.save(), case_editor.issues()
    case_id = case_editor.record_id
    main.editors.open_editors[-1].close()
    assert main.current_case_id() == case_id

    main.case_view.add_actions["visit"].trigger()
    visit_editor = main.editors.open_editors[-1].editor
    data = visit_data(facility.id)
    data["allegation_records"] = [case_id]
    visit_editor.set_value(data)
    assert visit_editor.save(), visit_editor.issues()
    visit_id = visit_editor.record_id
    main.editors.open_editors[-1].close()

    main.case_view.add_actions["interview"].trigger()
    interview_editor = main.editors.open_editors[-1].editor
    data = interview_data(person.id, case_id)
    data["visit"] = visit_id
    interview_editor.set_value(data)
    assert interview_editor.save(), interview_editor.issues()
    main.editors.open_editors[-1].close()

    main.case_view.refresh()
    assert main.case_view.interviews_table.rowCount() == 1
    assert main.case_view.visits_table.rowCount() == 1

    # --- the visit report from the case view, in Ukrainian ------------------------------------
    main.case_view.visit_report_action.trigger()
    report = main.report_dialog
    assert report.record_id == visit_id
    report.language_combo.setCurrentIndex(report.language_combo.findData("uk"))
    visit_pdf = tmp_path / "reports" / "visit.pdf"
    visit_pdf.parent.mkdir()
    dialogs.set_next_path(visit_pdf)
    dialogs.set_next_answer(True)  # "Report saved"
    report.save_button.click()
    qtbot.waitUntil(lambda: report.result is not None, timeout=TIME_TASK_MS)
    assert visit_pdf.read_bytes().startswith(b"%PDF")
    assert report.result.pages >= 1
    assert (visit_pdf.parent / "visit.pdf.minisig").exists()

    # --- a photo through the evidence panel -----------------------------------------------------
    panel = main.case_view.evidence_panel
    assert panel is not None
    assert panel.objectName() == "evidencePanel"
    dialogs.set_next_answer(0)  # skip the describe-and-link dialog intake offers (Rejected)
    with qtbot.waitSignal(panel.intake_finished, timeout=TIME_TASK_MS) as intake:
        panel.add_files([_jpeg(tmp_path / "cell-4.jpg")])
    assert len(intake.args[0].added) == 1
    assert ("exec", "Describe and link the new evidence item") in dialogs.asked()

    # --- idle lock, then unlock -----------------------------------------------------------------
    field.idle.set_timeout_ms(300)
    field.idle.start()
    with qtbot.waitSignal(field.locked, timeout=5000):
        pass
    assert field.main_window is None
    assert "without activity" in field.unlock_window.reason_label.text()
    main = _create_or_unlock(qtbot, field, passphrase, Role.MONITOR)
    field.idle.set_timeout_ms(60 * 60_000)
    assert main.model.wait_loaded()
    # Every record is listed (F-6): the facility, the person, the case, the visit, the interview.
    assert main.model.total == 5

    # --- export to the stick --------------------------------------------------------------------
    main.action_export.trigger()
    wizard = _open_dialog(ExportWizard)
    dialogs.set_next_path(stick)
    wizard.destination_page.choose_button.click()
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.result_page, timeout=TIME_TASK_MS)
    assert wizard.error is None, wizard.result_label.text()
    exported = wizard.result_value
    assert exported.records >= 4
    assert exported.evidence == 1
    assert exported.path.parent == stick
    wizard.close()

    # --- the coordinator imports it -------------------------------------------------------------
    coord.action_import.trigger()
    importer = _open_dialog(ImportWizard)
    dialogs.set_next_path([exported.path])
    importer.choose_page.add_button.click()
    importer.next()
    qtbot.waitUntil(lambda: importer.currentPage() is importer.report_page, timeout=TIME_TASK_MS)
    assert importer.report_table.rowCount() == 1
    path, report, error = importer.results[0]
    assert error is None, importer.details.toPlainText()
    assert report.imported
    assert report.signer_label == "ноутбук M-04"
    assert report.seq == 1
    assert report.records_new == exported.records
    assert report.evidence == 1
    assert importer.report_table.item(0, 1).text() == "imported"
    assert "Signed by: ноутбук M-04" in importer.details.toPlainText()
    assert "1 bundle imported." in importer.summary_label.text()
    importer.close()

    # --- the lawyer's read-only review on the coordinator's side ---------------------------------
    coord.reload()
    assert coord.model.wait_loaded()
    assert coord.model.total == 5  # every record imported (the list shows all types, F-6)
    coord.table.selectRow(coord.model.row_of(case_id))
    assert coord.current_case_id() == case_id
    coord.action_review.trigger()
    review = _open_dialog(ReviewWindow)
    qtbot.waitUntil(lambda: review.integrity is not None, timeout=TIME_TASK_MS)
    assert review.integrity.all_ok, review.overall_label.text()
    assert set(review.integrity.evidence) == set(review.case_file.evidence_ids)
    assert len(review.integrity.evidence) == 1
    assert "intact" in review.overall_label.text()
    review.close()

    field.shutdown()
    office.shutdown()
