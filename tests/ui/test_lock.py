"""Locking: idle timer, screen lock over D-Bus, and the lock sequence (tasks, dialogs,
clipboard, models, keys)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.progress import CancelToken, ProgressFn
from fieldkit.services.records import CaseService
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.lock import REASON_IDLE, REASON_SCREEN, IdleWatcher, ScreenLockListener
from fieldkit.ui.settings import AppSettings

TIME_IDLE_MS = 300


def _desktop(qtbot: QtBot, tmp_path: Path, **kwargs):
    from fieldkit.app import DesktopApp

    app = QApplication.instance()
    desktop = DesktopApp(
        app,
        tmp_path / "profile",
        AppSettings(),
        settings_file=tmp_path / "settings.json",
        listen_for_screen_lock=False,
        **kwargs,
    )
    desktop.start()
    return desktop


def _unlock(qtbot: QtBot, desktop, passphrase: str) -> None:
    window = desktop.unlock_window
    window.passphrase_edit.setText(passphrase)
    if window.create_mode:
        window.confirm_edit.setText(passphrase)
        window._update_strength()
    with qtbot.waitSignal(desktop.main_window_shown, timeout=10000):
        window.submit()


@pytest.fixture
def desktop(qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str) -> Iterator[object]:
    d = _desktop(qtbot, tmp_path)
    _unlock(qtbot, d, passphrase)
    yield d
    d.shutdown()


class _ManualClock:
    """A clock that moves only when the test says so: the machine's load cannot fire the timer."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_watcher_fires_once_and_activity_postpones_it(qtbot: QtBot) -> None:
    idle_ms = 1500
    clock = _ManualClock()
    watcher = IdleWatcher(idle_ms, clock=clock)
    fired: list[float] = []
    watcher.idle.connect(lambda: fired.append(clock()))
    start = clock()
    watcher.start()
    from PySide6.QtWidgets import QLineEdit

    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    # Two thirds of the period pass; the watcher's checks run (real timer) and must not fire.
    clock.now = start + idle_ms * 2 / 3000
    checks = _count_checks(watcher)
    qtbot.waitUntil(lambda: checks() >= 2, timeout=10000)
    assert not fired
    # Activity (a key press on a widget) part way through pushes the lock back.
    qtbot.keyClick(edit, "a")
    activity = clock()
    assert watcher.idle_for_s() == 0, "the key press restarts the idle clock"
    # A whole period after the start, but not after the key press: still not idle.
    clock.now = start + idle_ms / 1000 + 0.1
    checks = _count_checks(watcher)
    qtbot.waitUntil(lambda: checks() >= 2, timeout=10000)
    assert not fired, "the period counts again from the key press"
    # A whole period after the key press: idle, once.
    clock.now = activity + idle_ms / 1000
    qtbot.waitUntil(lambda: bool(fired), timeout=10000)
    assert fired == [activity + idle_ms / 1000]
    clock.now += 10 * idle_ms / 1000
    qtbot.wait(200)
    assert len(fired) == 1, "fires once until started again"
    assert not watcher._check.isActive()
    watcher.stop()


def _count_checks(watcher: IdleWatcher):
    """How many times the watcher's check timer has run since this call."""
    count = [0]
    watcher._check.timeout.connect(lambda: count.__setitem__(0, count[0] + 1))
    return lambda: count[0]


def test_idle_lock_runs_the_whole_sequence(
    qtbot: QtBot,
    desktop,
    passphrase: str,
) -> None:
    vault = desktop.vault
    CaseService(vault).add("Затримання W-017 у Херсоні")
    window = desktop.main_window
    window.reload()
    assert window.model.wait_loaded()
    window.table.selectRow(0)
    assert window.model.rowCount() == 1

    # A running task, an open dialog and our text on the clipboard.
    started = threading.Event()

    def slow(*, progress: ProgressFn, cancel: CancelToken) -> None:
        started.set()
        while True:
            cancel.raise_if_cancelled()
            time.sleep(0.005)

    task = desktop.runner.run(slow)
    assert started.wait(5)
    dialog = QDialog(window)
    dialogs.show_dialog(dialog)
    desktop.clipboard.copy("W-017")
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == "W-017"

    desktop.idle.set_timeout_ms(TIME_IDLE_MS)
    desktop.idle.start()
    with qtbot.waitSignal(desktop.locked, timeout=5000) as blocker:
        pass
    assert blocker.args == [REASON_IDLE]
    assert task.is_done
    assert isinstance(task.error, FieldkitError)
    assert task.error.code is ErrorCode.CANCELLED
    assert not dialog.isVisible()
    assert clipboard.text() == ""
    assert window.model.rowCount() == 0
    assert window.case_view.case_id is None
    assert vault.is_locked
    with pytest.raises(FieldkitError) as excinfo:
        CaseService(vault).count()
    assert excinfo.value.code is ErrorCode.PROFILE_LOCKED
    assert desktop.main_window is None
    unlock = desktop.unlock_window
    assert unlock is not None
    assert unlock.isVisible()
    assert not unlock.create_mode
    assert "without activity" in unlock.reason_label.text()

    # The short idle period did its work; a loaded machine must not let it lock the profile
    # again while the test unlocks and reads.
    desktop.idle.set_timeout_ms(60 * 60 * 1000)
    _unlock(qtbot, desktop, passphrase)
    assert desktop.main_window.model.wait_loaded()
    assert desktop.main_window.model.total == 1


def test_clipboard_is_left_alone_when_it_holds_someone_elses_text(qtbot: QtBot) -> None:
    guard = ClipboardGuard()
    clipboard = QGuiApplication.clipboard()
    guard.copy("W-017")
    assert guard.holds_ours()
    # Another program replaces the text: offscreen there is no other program, so the change is
    # made without the guard seeing it (as it would not see a foreign copy as its own).
    clipboard.blockSignals(True)
    clipboard.setText("not ours")
    clipboard.blockSignals(False)
    assert not guard.clear_if_ours()
    assert clipboard.text() == "not ours"
    guard.copy("W-018")
    assert guard.clear_if_ours()
    assert clipboard.text() == ""


def test_a_copy_from_any_of_our_widgets_is_cleared_on_lock(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLineEdit

    guard = ClipboardGuard()
    edit = QLineEdit("41809 09013 28878 72768 46077 31038")
    qtbot.addWidget(edit)
    edit.show()
    edit.activateWindow()
    qtbot.waitUntil(
        lambda: QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive,
        timeout=3000,
    )
    edit.selectAll()
    edit.copy()  # the standard Ctrl+C of a field, not ClipboardGuard.copy
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == edit.text()
    assert guard.holds_ours()
    assert guard.clear_if_ours()
    assert clipboard.text() == ""


def test_clipboard_clears_itself_after_a_while(qtbot: QtBot) -> None:
    guard = ClipboardGuard(clear_after_ms=100)
    guard.copy("W-019")
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "", timeout=3000)


def test_manual_lock_does_not_ask_about_unsaved_edits(qtbot: QtBot, desktop) -> None:
    # Unsaved entries are kept as encrypted drafts (tests/ui/test_drafts.py), so locking asks
    # nothing and nothing is lost.
    window = desktop.main_window
    window.new_record("person")
    editor = window.editors.open_editors[0].editor
    editor._set_dirty(True)
    with qtbot.waitSignal(desktop.locked, timeout=5000):
        window.action_lock.trigger()
    assert dialogs.asked() == []
    assert desktop.main_window is None


# --- screen lock over D-Bus -------------------------------------------------------------------


@pytest.fixture
def session_bus_address() -> Iterator[str]:
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus)")
    proc = subprocess.Popen(
        [daemon, "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address.startswith("unix:")
        yield address
    finally:
        proc.terminate()
        proc.wait(5)


def _send_signal(address: str, path: str, member: str, *args: str) -> None:
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
    subprocess.run(
        ["dbus-send", "--session", "--type=signal", path, member, *args],
        env=env,
        check=True,
        timeout=10,
    )


def test_screen_saver_signal_locks(qtbot: QtBot, session_bus_address: str) -> None:
    from PySide6.QtDBus import QDBusConnection

    bus = QDBusConnection.connectToBus(session_bus_address, "fieldkit-test-session")
    assert bus.isConnected()
    listener = ScreenLockListener(session_bus=bus, system_bus=bus)
    sources = listener.start()
    assert "org.freedesktop.ScreenSaver.ActiveChanged" in sources
    assert "org.freedesktop.login1.Manager.PrepareForSleep" in sources
    seen: list[str] = []
    listener.screen_locked.connect(seen.append)
    # The screen saver going away does not lock; coming on does.
    _send_signal(
        session_bus_address,
        "/org/freedesktop/ScreenSaver",
        "org.freedesktop.ScreenSaver.ActiveChanged",
        "boolean:false",
    )
    _send_signal(
        session_bus_address,
        "/org/gnome/ScreenSaver",
        "org.gnome.ScreenSaver.ActiveChanged",
        "boolean:true",
    )
    qtbot.waitUntil(lambda: seen == [REASON_SCREEN], timeout=5000)
    _send_signal(
        session_bus_address,
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager.PrepareForSleep",
        "boolean:true",
    )
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert seen[1] == "sleep"
    QDBusConnection.disconnectFromBus("fieldkit-test-session")


def test_screen_lock_locks_the_program(
    qtbot: QtBot,
    tmp_path: Path,
    fast_kdf,
    passphrase: str,
    session_bus_address: str,
) -> None:
    from PySide6.QtDBus import QDBusConnection

    bus = QDBusConnection.connectToBus(session_bus_address, "fieldkit-test-app")
    desktop = _desktop(qtbot, tmp_path, session_bus=bus, system_bus=bus)
    desktop.screen_listener.start()
    _unlock(qtbot, desktop, passphrase)
    vault = desktop.vault
    with qtbot.waitSignal(desktop.locked, timeout=5000) as blocker:
        _send_signal(
            session_bus_address,
            "/org/freedesktop/login1/session/_31",
            "org.freedesktop.login1.Session.Lock",
        )
    assert blocker.args == [REASON_SCREEN]
    assert vault.is_locked
    assert "screen was locked" in desktop.unlock_window.reason_label.text()
    desktop.shutdown()
    QDBusConnection.disconnectFromBus("fieldkit-test-app")


def test_going_to_sleep_locks_the_program(
    qtbot: QtBot,
    tmp_path: Path,
    fast_kdf,
    passphrase: str,
    session_bus_address: str,
) -> None:
    """login1 PrepareForSleep(true) locks the open profile; waking up (false) does not unlock or
    lock anything, and with the preference off the profile stays open."""
    from PySide6.QtDBus import QDBusConnection

    from fieldkit.ui.lock import REASON_SLEEP

    bus = QDBusConnection.connectToBus(session_bus_address, "fieldkit-test-sleep")
    desktop = _desktop(qtbot, tmp_path, session_bus=bus, system_bus=bus)
    try:
        assert "org.freedesktop.login1.Manager.PrepareForSleep" in desktop.screen_listener.start()
        _unlock(qtbot, desktop, passphrase)
        seen: list[str] = []
        desktop.screen_listener.screen_locked.connect(seen.append)

        # Waking up is not a reason to lock (and must not disturb an open profile).
        _send_signal(
            session_bus_address,
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager.PrepareForSleep",
            "boolean:false",
        )
        # With the preference off, going to sleep leaves the profile open.
        desktop.apply_settings(desktop.settings.model_copy(update={"lock_on_screen_lock": False}))
        _send_signal(
            session_bus_address,
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager.PrepareForSleep",
            "boolean:true",
        )
        qtbot.waitUntil(lambda: seen == [REASON_SLEEP], timeout=5000)
        assert desktop.vault is not None
        assert not desktop.vault.is_locked

        desktop.apply_settings(desktop.settings.model_copy(update={"lock_on_screen_lock": True}))
        vault = desktop.vault
        with qtbot.waitSignal(desktop.locked, timeout=5000) as blocker:
            _send_signal(
                session_bus_address,
                "/org/freedesktop/login1",
                "org.freedesktop.login1.Manager.PrepareForSleep",
                "boolean:true",
            )
        assert blocker.args == [REASON_SLEEP]
        assert vault.is_locked
        assert desktop.main_window is None
        assert "went to sleep" in desktop.unlock_window.reason_label.text()
    finally:
        desktop.shutdown()
        QDBusConnection.disconnectFromBus("fieldkit-test-sleep")


def test_idle_minutes_from_the_preferences(qtbot: QtBot, desktop, tmp_path: Path) -> None:
    """Edit → Preferences: the idle time (1 to 240 minutes) takes effect at once and is saved."""
    import json

    main = desktop.main_window
    main.open_preferences()
    dialog = next(d for d in dialogs.open_dialogs() if d.objectName() == "preferencesDialog")
    assert dialog.idle_spin.minimum() == 1
    assert dialog.idle_spin.maximum() == 240
    dialog.idle_spin.setValue(7)
    dialog.accept()
    assert desktop.idle.timeout_ms == 7 * 60_000
    assert desktop.settings.idle_lock_minutes == 7
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["idle_lock_minutes"] == 7
    # The idle lock then says how long it waited.
    desktop.idle.set_timeout_ms(200)
    with qtbot.waitSignal(desktop.locked, timeout=5000):
        pass
    assert "7 minutes" in desktop.unlock_window.reason_label.text()


def test_lock_manager_forgets_the_callbacks_of_windows_that_are_gone(
    qtbot: QtBot, desktop, passphrase: str, caplog: pytest.LogCaptureFixture
) -> None:
    """F-15: every language switch and unlock built a main window whose clean-up stayed behind."""
    desktop.set_language("uk")
    desktop.set_language("en")
    manager = desktop.lock_manager
    window = desktop.main_window
    assert manager._on_lock == [window.clear]
    assert manager._before_lock == [window.editors.keep_drafts]
    with (
        caplog.at_level("ERROR", logger="fieldkit.ui.lock"),
        qtbot.waitSignal(desktop.locked, timeout=10000),
    ):
        desktop.lock()
    assert "step failed" not in caplog.text
