"""Encrypted drafts: typed entries survive a lock (asked for or idle), a killed program, and are
reopened after unlocking with a notice; saving or throwing the draft away clears it; nothing of
them is ever on disk in plaintext."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldkit.domain.profile import Role
from fieldkit.services.drafts import DraftService
from fieldkit.storage.vault import Vault
from fieldkit.ui import dialogs
from fieldkit.ui.lock import REASON_IDLE, REASON_SCREEN
from tests.ui.test_lock import _desktop, _send_signal, _unlock
from tests.ui.test_lock import session_bus_address as session_bus_address

CANARY = (
    "QZXJ-970317"  # a synthetic pseudonym code (the form takes 1-4 letters), found nowhere else
)
TIME_DRAFT_MS = 20_000


@pytest.fixture
def desktop(qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str) -> Iterator[object]:
    d = _desktop(qtbot, tmp_path)
    _unlock(qtbot, d, passphrase)
    yield d
    d.shutdown()


def _type_pseudonym(qtbot: QtBot, window, text: str):
    window.new_record("person")
    dialog = window.editors.open_editors[-1]
    qtbot.keyClicks(dialog.editor.editor("pseudonym").edit, text)
    return dialog


def _restored(desktop) -> list:
    return list(desktop.main_window.editors.open_editors)


def test_manual_lock_keeps_unsaved_entries_and_unlock_restores_them(
    qtbot: QtBot, desktop, passphrase: str
) -> None:
    window = desktop.main_window
    _type_pseudonym(qtbot, window, CANARY)
    # No question and no draft yet (typing has not paused): the lock writes the draft itself.
    with qtbot.waitSignal(desktop.locked, timeout=10000):
        window.action_lock.trigger()
    assert dialogs.asked() == []
    _unlock(qtbot, desktop, passphrase)
    restored = _restored(desktop)
    assert len(restored) == 1
    editor = restored[0].editor
    assert editor.editor("pseudonym").edit.text() == CANARY
    assert editor.dirty
    assert restored[0].draft_bar.isVisibleTo(restored[0])
    banner = desktop.main_window.drafts_banner
    assert banner.isVisibleTo(desktop.main_window)
    assert banner.text().startswith("1 unsaved form was restored")
    # Saving makes it a record and clears the draft.
    assert editor.issues() == []
    assert editor.save(), editor.banner.text()
    desktop.main_window.editors.drafts.wait()
    assert DraftService(desktop.vault).list() == []


def test_idle_lock_keeps_the_draft_written_while_typing(
    qtbot: QtBot, desktop, passphrase: str
) -> None:
    window = desktop.main_window
    _type_pseudonym(qtbot, window, CANARY)
    keeper = window.editors.drafts
    qtbot.waitUntil(lambda: keeper.writes >= 1, timeout=TIME_DRAFT_MS)
    assert [d.data for d in keeper.service.list()] == [{"pseudonym": CANARY}]
    desktop.settings = desktop.settings.model_copy(update={"idle_lock_minutes": 1})
    desktop.idle.set_timeout_ms(200)
    desktop.idle.start()
    with qtbot.waitSignal(desktop.locked, timeout=10000) as blocker:
        pass
    assert blocker.args == [REASON_IDLE]
    assert desktop.unlock_window.reason_label.text() == "Locked after 1 minute without activity."
    _unlock(qtbot, desktop, passphrase)
    restored = _restored(desktop)
    assert [d.editor.editor("pseudonym").edit.text() for d in restored] == [CANARY]


def test_a_draft_can_be_thrown_away(qtbot: QtBot, desktop, passphrase: str) -> None:
    _type_pseudonym(qtbot, desktop.main_window, CANARY)
    with qtbot.waitSignal(desktop.locked, timeout=10000):
        desktop.main_window.action_lock.trigger()
    _unlock(qtbot, desktop, passphrase)
    dialog = _restored(desktop)[0]
    dialogs.set_next_answer(True)
    dialog.discard_draft_button.click()
    assert desktop.main_window.editors.open_editors == []
    desktop.main_window.editors.drafts.wait()
    assert DraftService(desktop.vault).list() == []
    with qtbot.waitSignal(desktop.locked, timeout=10000):
        desktop.main_window.action_lock.trigger()
    _unlock(qtbot, desktop, passphrase)
    assert _restored(desktop) == []


def test_closing_a_form_with_its_changes_discarded_clears_the_draft(qtbot: QtBot, desktop) -> None:
    dialog = _type_pseudonym(qtbot, desktop.main_window, CANARY)
    keeper = desktop.main_window.editors.drafts
    qtbot.waitUntil(lambda: keeper.writes >= 1, timeout=TIME_DRAFT_MS)
    dialogs.set_next_answer("discard")
    dialog.close()
    keeper.wait()
    assert keeper.service.list() == []


# --- the screen locks, or the program goes to the background --------------------------------

# Longer than any test: only the lock, the screen lock or leaving the program can write a draft.
NEVER_MS = 3_600_000


def test_a_screen_lock_keeps_what_was_typed_just_before(
    qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str, session_bus_address: str
) -> None:
    from PySide6.QtDBus import QDBusConnection

    bus = QDBusConnection.connectToBus(session_bus_address, "fieldkit-test-drafts")
    desktop = _desktop(qtbot, tmp_path, session_bus=bus, system_bus=bus)
    try:
        desktop.screen_listener.start()
        _unlock(qtbot, desktop, passphrase)
        keeper = desktop.main_window.editors.drafts
        keeper.set_delay_ms(NEVER_MS)
        _type_pseudonym(qtbot, desktop.main_window, CANARY)
        assert keeper.writes == 0
        # What logind sends when the session is locked (the lock screen, Super+L).
        with qtbot.waitSignal(desktop.locked, timeout=10000) as blocker:
            _send_signal(
                session_bus_address,
                "/org/freedesktop/login1/session/_31",
                "org.freedesktop.login1.Session.Lock",
            )
        assert blocker.args == [REASON_SCREEN]
        assert keeper.writes == 1
        _unlock(qtbot, desktop, passphrase)
        restored = _restored(desktop)
        assert [d.editor.editor("pseudonym").edit.text() for d in restored] == [CANARY]
    finally:
        desktop.shutdown()
        QDBusConnection.disconnectFromBus("fieldkit-test-drafts")


def test_a_screen_lock_writes_the_drafts_even_when_it_does_not_lock_the_profile(
    qtbot: QtBot, desktop
) -> None:
    desktop.settings = desktop.settings.model_copy(update={"lock_on_screen_lock": False})
    keeper = desktop.main_window.editors.drafts
    keeper.set_delay_ms(NEVER_MS)
    _type_pseudonym(qtbot, desktop.main_window, CANARY)
    desktop.screen_listener.screen_locked.emit(REASON_SCREEN)
    keeper.wait()
    assert not desktop.vault.is_locked
    assert [d.data for d in keeper.service.list()] == [{"pseudonym": CANARY}]


def test_leaving_the_program_writes_the_drafts_at_once(qtbot: QtBot, desktop) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    keeper = desktop.main_window.editors.drafts
    keeper.set_delay_ms(NEVER_MS)
    _type_pseudonym(qtbot, desktop.main_window, CANARY)
    app = QApplication.instance()
    # Another program took the keyboard (or, on Windows and macOS, the session was locked).
    app.applicationStateChanged.emit(Qt.ApplicationState.ApplicationInactive)
    keeper.wait()
    assert [d.data for d in keeper.service.list()] == [{"pseudonym": CANARY}]
    # Only what changed since is written again: coming back and leaving once more writes nothing.
    app.applicationStateChanged.emit(Qt.ApplicationState.ApplicationActive)
    app.applicationStateChanged.emit(Qt.ApplicationState.ApplicationInactive)
    keeper.wait()
    assert keeper.writes == 1


# --- a killed program -------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from fieldkit.app import DesktopApp
    from fieldkit.ui.settings import AppSettings

    profile, settings_file, passphrase, canary = sys.argv[1:5]
    app = QApplication([])
    desktop = DesktopApp(
        app, Path(profile), AppSettings(), settings_file=Path(settings_file),
        listen_for_screen_lock=False,
    )
    desktop.start()
    desktop.unlock_window.passphrase_edit.setText(passphrase)

    def on_shown(window):
        window.new_record("person")
        editor = window.editors.open_editors[-1].editor
        editor.editor("pseudonym").edit.setText(canary)
        editor.editor("pseudonym").edit.textEdited.emit(canary)
        keeper = window.editors.drafts

        def check():
            if keeper.writes >= 1:
                print("DRAFT-WRITTEN", flush=True)
            else:
                QTimer.singleShot(50, check)

        check()

    desktop.main_window_shown.connect(on_shown)
    desktop.unlock_window.submit()
    app.exec()
    """
)


def _files_holding(folder: Path, needles: list[bytes]) -> list[str]:
    found = []
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if any(n in data for n in needles):
                found.append(str(path))
    return found


def test_a_killed_program_loses_no_draft_and_writes_no_plaintext(
    qtbot: QtBot, tmp_path: Path, fast_kdf, passphrase: str
) -> None:
    profile = tmp_path / "profile"
    Vault.create(profile, passphrase, Role.MONITOR, fast_kdf).lock()
    # Every place the program could write to is inside the test folder.
    home = tmp_path / "home"
    folders = {
        "HOME": home,
        "TMPDIR": tmp_path / "tmp",
        "XDG_CACHE_HOME": tmp_path / "cache",
        "XDG_CONFIG_HOME": tmp_path / "config",
        "XDG_DATA_HOME": tmp_path / "data",
        "XDG_STATE_HOME": tmp_path / "state",
        "XDG_RUNTIME_DIR": tmp_path / "runtime",
    }
    for folder in folders.values():
        folder.mkdir(mode=0o700)
    env = {
        **os.environ,
        **{k: str(v) for k, v in folders.items()},
        "QT_QPA_PLATFORM": "offscreen",
        "FIELDKIT_CONFIG_DIR": str(tmp_path / "config" / "fieldkit"),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(profile), str(tmp_path / "s.json"), passphrase, CANARY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "DRAFT-WRITTEN", child.stderr.read() if child.stderr else ""
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    needles = [CANARY.encode("utf-8"), CANARY.encode("utf-16-le")]
    assert _files_holding(tmp_path, needles) == [], "the draft is on disk in plaintext"

    # The draft is in the encrypted profile, and the program reopens it.
    from tests.ui.test_lock import _desktop as make_desktop

    desktop = make_desktop(qtbot, tmp_path / "again")
    desktop.profile_path = profile
    desktop.show_unlock()
    _unlock(qtbot, desktop, passphrase)
    try:
        restored = desktop.main_window.editors.open_editors
        assert [d.editor.editor("pseudonym").edit.text() for d in restored] == [CANARY]
        assert desktop.main_window.drafts_banner.isVisibleTo(desktop.main_window)
    finally:
        desktop.shutdown()
