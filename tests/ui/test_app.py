"""The composition root: languages (ours and Qt's), settings, quitting locks the profile."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from fieldkit import i18n
from fieldkit.app import DesktopApp, setup_logging
from fieldkit.ui import dialogs
from fieldkit.ui.settings import AppSettings, load_settings, save_settings


def _desktop(tmp_path: Path, language: str = "en") -> DesktopApp:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    desktop = DesktopApp(
        app,
        tmp_path / "profile",
        AppSettings(language=language),
        settings_file=tmp_path / "settings.json",
        listen_for_screen_lock=False,
    )
    desktop.start()
    return desktop


def _open(qtbot: QtBot, desktop: DesktopApp, passphrase: str) -> None:
    window = desktop.unlock_window
    assert window is not None
    window.passphrase_edit.setText(passphrase)
    if window.create_mode:
        window.confirm_edit.setText(passphrase)
        window._update_strength()
    with qtbot.waitSignal(desktop.main_window_shown, timeout=10000):
        window.submit()


def test_starts_in_ukrainian_with_qt_texts_translated(qtbot: QtBot, tmp_path: Path) -> None:
    desktop = _desktop(tmp_path, "uk")
    try:
        window = desktop.unlock_window
        assert window is not None
        assert window.windowTitle() == "Створення профілю"
        assert window.submit_button.text() == "Створити профіль"
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        qtbot.addWidget(box)
        assert box.button(QDialogButtonBox.StandardButton.Close).text() == "Закрити"
    finally:
        desktop.shutdown()
        desktop.qt_translations.apply("en")


def test_language_switch_rebuilds_the_windows(
    qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str
) -> None:
    desktop = _desktop(tmp_path)
    try:
        unlock = desktop.unlock_window
        assert unlock is not None
        unlock.language_combo.setCurrentIndex(unlock.language_combo.findData("ru"))
        assert desktop.unlock_window is not unlock
        assert desktop.unlock_window.submit_button.text() == "Создать профиль"
        assert json.loads((tmp_path / "settings.json").read_text())["language"] == "ru"

        _open(qtbot, desktop, passphrase)
        main = desktop.main_window
        assert main.menuBar().actions()[0].text() == "&Файл"
        from fieldkit.services.records import CaseService

        case = CaseService(desktop.vault).add("Затримання W-017")
        main.reload()
        assert main.model.wait_loaded()
        main.open_case(case.id)
        other = QWidget()  # another window of the desktop has the focus at the switch
        qtbot.addWidget(other)
        other.show()
        other.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is other, timeout=5000)
        cursors: list[object] = []
        desktop.main_window_shown.connect(
            lambda _w: cursors.append(
                QApplication.overrideCursor() and QApplication.overrideCursor().shape()
            )
        )
        desktop.apply_settings(desktop.settings.model_copy(update={"language": "uk"}))
        assert desktop.main_window is not main
        # The busy cursor while the windows are rebuilt, and the normal one afterwards.
        assert cursors == [Qt.CursorShape.WaitCursor]
        assert QApplication.overrideCursor() is None
        assert desktop.main_window.menuBar().actions()[0].text() == "&Файл"
        assert desktop.main_window.action_lock.text() == "&Заблокувати"
        assert desktop.main_window.current_case_id() == case.id, "the open case stays open"
        # The rebuilt window is the active one: its shortcuts work without a click first.
        qtbot.waitUntil(lambda: QApplication.activeWindow() is desktop.main_window, timeout=5000)
        assert i18n.current().language == "uk"
        assert load_settings(tmp_path / "settings.json").language == "uk"
    finally:
        desktop.shutdown()
        desktop.qt_translations.apply("en")


def test_shutdown_locks_the_profile_and_keeps_the_layout(
    qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str
) -> None:
    desktop = _desktop(tmp_path)
    _open(qtbot, desktop, passphrase)
    vault = desktop.vault
    desktop.clipboard.copy("W-017")
    desktop.shutdown()
    assert vault.is_locked
    assert QApplication.clipboard().text() == ""
    saved = load_settings(tmp_path / "settings.json")
    assert saved.window_geometry
    assert dialogs.open_dialogs() == []


def test_settings_file_is_private_and_damage_means_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.json"
    save_settings(AppSettings(language="uk", idle_lock_minutes=12), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert load_settings(path).idle_lock_minutes == 12
    path.write_text('{"language": "de", "idle_lock_minutes": 12}')
    assert load_settings(path).language == "en"
    path.write_text('{"idle_lock_minutes": 0}')
    assert load_settings(path).idle_lock_minutes == 5
    path.write_bytes(b"\xff\xfe not json")
    assert load_settings(path, language_hint="ru") == AppSettings(language="ru")
    assert load_settings(tmp_path / "missing.json") == AppSettings()


def test_log_file_is_private(tmp_path: Path) -> None:
    import logging

    path = setup_logging(tmp_path / "logs")
    assert path is not None
    logging.getLogger("fieldkit.test").info("unlock attempt for profile")
    for handler in logging.getLogger("fieldkit").handlers:
        handler.flush()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "unlock attempt" in path.read_text()
    root = logging.getLogger("fieldkit")
    for handler in list(root.handlers):
        if getattr(handler, "baseFilename", "") == str(path):
            root.removeHandler(handler)
            handler.close()


def test_preferences_change_idle_time_and_language(
    qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str
) -> None:
    from fieldkit.ui.preferences import PreferencesDialog

    desktop = _desktop(tmp_path)
    try:
        _open(qtbot, desktop, passphrase)
        main = desktop.main_window
        main.action_preferences.trigger()
        dialog = next(d for d in dialogs.open_dialogs() if isinstance(d, PreferencesDialog))
        assert dialog.idle_spin.value() == 5
        dialog.idle_spin.setValue(3)
        dialog.screen_check.setChecked(False)
        dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("ru"))
        dialog.accept()
        assert desktop.idle.timeout_ms == 3 * 60_000
        assert desktop.settings.lock_on_screen_lock is False
        assert desktop.main_window.action_lock.text() == "&Заблокировать"
        saved = load_settings(tmp_path / "settings.json")
        assert (saved.language, saved.idle_lock_minutes) == ("ru", 3)
        # With "lock with the screen" off, a screen-lock signal leaves the profile open.
        desktop.screen_listener.screen_locked.emit("screen")
        assert desktop.vault is not None
        assert not desktop.vault.is_locked
    finally:
        desktop.shutdown()
        desktop.qt_translations.apply("en")
