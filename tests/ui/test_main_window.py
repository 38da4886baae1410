"""The main window: menus by role, list with search and filters, case view, editors, layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from fieldkit.services.records import CaseService, RecordService
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.main_window import MainWindow
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner


def _window(qtbot: QtBot, vault) -> MainWindow:
    window = MainWindow(vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(window)
    window.show()
    assert window.model.wait_loaded()
    return window


def test_actions_follow_the_role(qtbot: QtBot, new_vault, new_coordinator_vault) -> None:
    monitor = _window(qtbot, new_vault)
    assert monitor.findChild(type(monitor.action_lock), "actionLock") is monitor.action_lock
    assert monitor.action_export.isVisible()
    assert not monitor.action_import.isVisible()
    assert monitor.action_lock.shortcut().toString() == "Ctrl+L"
    coordinator = _window(qtbot, new_coordinator_vault)
    assert coordinator.action_import.isVisible()
    assert coordinator.action_trust.isVisible()
    assert not coordinator.action_export.isVisible()
    # The window system adds "— fieldkit" after the title: the name is not in it twice.
    assert coordinator.windowTitle() == "Coordinator profile"
    assert monitor.windowTitle() == "Monitor profile"


def test_list_search_and_filters(qtbot: QtBot, new_vault) -> None:
    cases = CaseService(new_vault)
    for i in range(30):
        town = "Херсоні" if i % 3 == 0 else "Миколаєві"
        cases.add(f"Затримання W-{i:03d} у {town}")
    RecordService(new_vault).add("person", {"pseudonym": "W-017"})
    window = _window(qtbot, new_vault)
    # Every record by default (the 30 cases and the person; changed from "cases" by F-6).
    assert window.current_type() == ""
    assert window.model.total == 31
    assert window.count_label.text() == "31 records"

    window.search_edit.insert("херсон")  # QTest.keyClicks handles ASCII only
    qtbot.waitUntil(lambda: window.model.total == 10, timeout=15000)  # a loaded 2-core CI
    assert window.count_label.text() == "10 records found"
    titles = [window.model.data(window.model.index(r, 0)) for r in range(window.model.rowCount())]
    assert all("Херсоні" in t for t in titles)
    # Each result says what it is, which case, and where the words matched.
    model = window.model
    first = model.index(0, model.COL_TYPE)
    assert model.data(first) == "Case"
    assert model.data(model.index(0, model.COL_CASE)) == titles[0]
    assert "«Херсоні»" in model.data(model.index(0, model.COL_MATCH))
    assert not window.table.isColumnHidden(model.COL_MATCH)

    window.search_edit.clear()
    window.type_filter.setCurrentIndex(window.type_filter.findData("person"))
    window.reload()
    assert window.model.wait_loaded()
    assert window.model.total == 1
    assert window.model.data(window.model.index(0, 0)) == "W-017"
    window.type_filter.setCurrentIndex(window.type_filter.findData("case"))
    assert window.model.wait_loaded()
    assert window.model.total == 30
    assert window.table.isColumnHidden(window.model.COL_TYPE), "one type: no type column"


def test_period_filter_uses_the_record_dates(qtbot: QtBot, new_vault) -> None:
    from datetime import date, timedelta

    cases = CaseService(new_vault)
    recent = (date.today() - timedelta(days=3)).isoformat()
    cases.add("Недавня W-060", extra={"initial_date": recent})
    cases.add("Давня W-061", extra={"initial_date": "2019-05-01"})
    cases.add("Без дати W-062")
    window = _window(qtbot, new_vault)
    assert window.model.total == 3
    window.period_filter.setCurrentIndex(window.period_filter.findData(30))
    assert window.model.wait_loaded()
    assert window.model.total == 1
    assert window.model.data(window.model.index(0, 0)) == "Недавня W-060"
    window.period_filter.setCurrentIndex(window.period_filter.findData(0))
    assert window.model.wait_loaded()
    assert window.model.total == 3


def test_selecting_a_case_shows_it(qtbot: QtBot, new_vault) -> None:
    case = CaseService(new_vault).add("Обшук W-021 у Миколаєві")
    records = RecordService(new_vault)
    person = records.add("person", {"pseudonym": "W-021"})
    records.link_person(person.id, case.id, "victim_direct")
    window = _window(qtbot, new_vault)
    window.table.selectRow(window.model.row_of(case.id))
    assert window.current_case_id() == case.id
    view = window.case_view
    assert view.title_label.text() == "Обшук W-021 у Миколаєві"
    assert view.persons_table.rowCount() == 1
    assert view.persons_table.item(0, 0).text() == "W-021"
    assert view.history_table.rowCount() == 1
    assert view.history_table.item(0, 3).text() == case.content_hash
    assert "intact" in view.audit_status.text()
    assert view.audit_table.rowCount() >= 1
    assert window.detail_stack.currentWidget() is view


def test_new_case_through_the_form_editor(qtbot: QtBot, new_vault) -> None:
    window = _window(qtbot, new_vault)
    window.action_new_case.trigger()
    dialog = window.editors.open_editors[0]
    editor = dialog.editor
    editor.set_value(
        {"title": "Катування W-033 в ІТТ", "case_type": "other", "monitoring_status": "active"}
    )
    assert editor.save()
    qtbot.waitUntil(lambda: window.model.total == 1, timeout=3000)
    assert window.model.wait_loaded()
    assert window.current_case_id() == editor.record_id
    assert window.table.currentIndex().row() == 0, "the new case is selected in the list"
    assert window.case_view.title_label.text() == "Катування W-033 в ІТТ"
    dialog.close()
    assert window.editors.open_editors == []


def test_closing_with_unsaved_changes_quits_and_keeps_them_as_drafts(
    qtbot: QtBot, new_vault
) -> None:
    # New truth: unsaved forms are kept as encrypted drafts by the lock that quitting runs
    # (tests/ui/test_drafts.py), so closing the window asks nothing.
    window = _window(qtbot, new_vault)
    window.new_record("person")
    editor = window.editors.open_editors[0].editor
    editor.set_value({"pseudonym": "W-040"})
    editor._set_dirty(True)
    assert window.has_unsaved_changes()
    quit_signals: list[bool] = []
    window.quit_requested.connect(lambda: quit_signals.append(True))
    window.close()
    assert quit_signals == [True]
    assert dialogs.asked() == []
    window.editors.keep_drafts()
    window.clear()
    assert window.editors.open_editors == []
    assert window.model.rowCount() == 0
    assert not window.model.is_loading
    from fieldkit.services.drafts import DraftService

    assert [d.data for d in DraftService(new_vault).list()] == [{"pseudonym": "W-040"}]


def test_layout_is_remembered(qtbot: QtBot, new_vault) -> None:
    window = _window(qtbot, new_vault)
    window.resize(700, 520)
    saved = AppSettings().model_copy(update=window.layout_settings())
    again = MainWindow(new_vault, TaskRunner(), ClipboardGuard(), saved)
    qtbot.addWidget(again)
    assert again.size().height() == 520


def test_ctrl_f_focuses_search(qtbot: QtBot, new_vault) -> None:
    window = _window(qtbot, new_vault)
    window.activateWindow()
    window.action_find.trigger()
    assert window.focusWidget() is window.search_edit
    assert window.action_find.shortcut().toString() == "Ctrl+F"


def test_record_titles_are_plain_text(qtbot: QtBot, new_vault, tmp_path: Path) -> None:
    CaseService(new_vault).add("<b>W-050</b> <img src=x>")
    window = _window(qtbot, new_vault)
    window.table.selectRow(0)
    label = window.case_view.title_label
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == "<b>W-050</b> <img src=x>"


# A 1366×768 or 1280×720 laptop: the window frame, title bar and the desktop's own panel take
# about 80 pixels of height and 40 of width.
SMALL_SCREEN_CLIENT = (1240, 640)


def _fits(size) -> bool:
    return size.width() <= SMALL_SCREEN_CLIENT[0] and size.height() <= SMALL_SCREEN_CLIENT[1]


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_main_window_fits_a_1280x720_screen_with_a_case_open(
    qtbot: QtBot, new_vault, tmp_path: Path, language: str
) -> None:
    from fieldkit import i18n
    from fieldkit.services.evidence import EvidenceService

    i18n.set_language(language)
    case = CaseService(new_vault).add("Затримання W-017 у Херсоні", confidential=True)
    photo = tmp_path / "cell.bin"
    photo.write_bytes(b"not a photo " * 100)
    EvidenceService(new_vault).add(photo, case_id=case.id)
    window = _window(qtbot, new_vault)
    window.open_case(case.id)
    for index in range(window.case_view.tabs.count()):
        window.case_view.tabs.setCurrentIndex(index)
        assert _fits(window.minimumSizeHint()), (index, window.minimumSizeHint())
    panel = window.case_view.evidence_panel
    assert panel.select(panel.model.items[0].id)
    assert _fits(window.minimumSizeHint()), window.minimumSizeHint()
    assert _fits(window.minimumSize()), window.minimumSize()
    window.resize(1240, 640)
    assert window.width() <= 1240
    assert window.height() <= 640
    # The evidence details scroll instead of stretching the window.
    assert panel.details_scroll.widget() is panel.details


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_dialogs_fit_a_1280x720_screen(qtbot: QtBot, new_vault, language: str) -> None:
    from fieldkit import i18n
    from fieldkit.ui.profile_tools import ChangePassphraseDialog, EraseProfileDialog
    from fieldkit.ui.reports import ReportDialog
    from fieldkit.ui.review import ReviewWindow

    i18n.set_language(language)
    case = CaseService(new_vault).add("Затримання W-017")
    window = _window(qtbot, new_vault)
    runner = window.runner
    built = [
        ChangePassphraseDialog(new_vault.path, runner, window),
        EraseProfileDialog(new_vault.path, window),
        ReportDialog(new_vault, runner, "case", case.id, window),
        ReviewWindow(new_vault, runner, window.clipboard, case.id, window),
    ]
    for form_id in ("visit", "interview"):
        editor = window.editors.create(form_id)
        assert editor is not None
        built.append(editor)
    for dialog in built:
        assert _fits(dialog.minimumSizeHint()), (type(dialog).__name__, dialog.minimumSizeHint())
        assert dialog.width() <= 1280, type(dialog).__name__
        assert dialog.height() <= 720, type(dialog).__name__
    assert runner.wait_idle(20_000)


def test_the_main_window_says_whether_the_laptop_is_enrolled(qtbot: QtBot, tmp_path) -> None:
    import os

    from fieldkit.services import trust
    from tests.export.bundle_kit import make_world

    os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
    world = make_world(tmp_path)
    try:
        enrolled = _window(qtbot, world.monitor)
        assert enrolled.enrolment_label.text() == "Enrolled with Test organisation"
        from fieldkit.crypto.kdf import KdfParams
        from fieldkit.domain.profile import Role
        from fieldkit.storage.vault import Vault
        from tests.helpers import STRONG_PASSPHRASE

        fresh = Vault.create(
            tmp_path / "fresh", STRONG_PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests()
        )
        try:
            window = _window(qtbot, fresh)
            assert window.enrolment_label.text().startswith("Not enrolled")
            trust.enrol(fresh, world.org_card, tmp_path / "fresh.pub")
            window.update_enrolment()
            assert window.enrolment_label.text() == "Enrolled with Test organisation"
        finally:
            fresh.lock()
        office = _window(qtbot, world.coordinator)
        assert not office.enrolment_label.isVisibleTo(office)
    finally:
        world.close()


def test_the_empty_window_names_the_first_job_of_each_profile(
    qtbot: QtBot, new_coordinator_vault, tmp_path: Path, fast_kdf, passphrase: str
) -> None:
    from fieldkit.domain.profile import Role
    from fieldkit.services import trust
    from fieldkit.storage.vault import Vault

    office = _window(qtbot, new_coordinator_vault)
    assert office.welcome_label.text().startswith("First set up the organisation")
    trust.init_org(new_coordinator_vault, "Org QZXJ")
    office.update_welcome()
    assert office.welcome_label.text().startswith("Import the bundles from monitors")

    lawyer_vault = Vault.create(tmp_path / "lawyer", passphrase, Role.LAWYER, fast_kdf)
    try:
        lawyer = _window(qtbot, lawyer_vault)
        assert "Import a case package" in lawyer.welcome_label.text()
        assert "Import bundles" not in lawyer.welcome_label.text()
    finally:
        lawyer.close()
        lawyer_vault.lock()
