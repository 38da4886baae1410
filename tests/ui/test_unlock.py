"""The create/unlock window: live strength, role, a clear wrong-passphrase message, no freeze."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.services.profile import create_profile
from fieldkit.ui.tasks import TaskRunner
from fieldkit.ui.unlock import UnlockWindow
from tests.helpers import OTHER_PASSPHRASE


def _window(qtbot: QtBot, path: Path) -> UnlockWindow:
    window = UnlockWindow(path, TaskRunner())
    qtbot.addWidget(window)
    window.show()
    return window


def test_create_needs_a_strong_matching_passphrase(
    qtbot: QtBot, tmp_path: Path, fast_kdf: KdfParams, passphrase: str
) -> None:
    window = _window(qtbot, tmp_path / "new")
    assert window.create_mode
    qtbot.keyClicks(window.passphrase_edit, "password1")
    qtbot.waitUntil(lambda: "very weak" in window.strength_label.text(), timeout=2000)
    assert "very common" in window.strength_label.text()
    assert not window.submit_button.isEnabled()

    window.passphrase_edit.setText(passphrase)
    qtbot.waitUntil(lambda: window.strength_label.text() == "Strength: strong.", timeout=2000)
    assert not window.submit_button.isEnabled(), "the repeat field is still empty"
    window.confirm_edit.setText(passphrase + "x")
    assert not window.submit_button.isEnabled()
    window.confirm_edit.setText(passphrase)
    assert window.submit_button.isEnabled()

    qtbot.mouseClick(window.coordinator_radio, _left())
    assert window.selected_role() is Role.COORDINATOR
    with qtbot.waitSignal(window.unlocked, timeout=10000) as blocker:
        qtbot.mouseClick(window.submit_button, _left())
        # The key derivation runs off the GUI thread while a busy indicator shows.
        assert window.busy_bar.isVisible() or window.busy is False
    vault = blocker.args[0]
    try:
        assert vault.role is Role.COORDINATOR
        assert (tmp_path / "new" / "keyfile").exists()
        assert window.passphrase_edit.text() == ""
    finally:
        vault.lock()


def test_wrong_passphrase_has_its_own_message(
    qtbot: QtBot, tmp_path: Path, fast_kdf: KdfParams, passphrase: str
) -> None:
    create_profile(tmp_path / "p", passphrase, Role.MONITOR, fast_kdf).lock()
    window = _window(qtbot, tmp_path / "p")
    assert not window.create_mode
    assert not window.submit_button.isEnabled()
    window.passphrase_edit.setText(OTHER_PASSPHRASE)
    assert window.submit_button.isEnabled()
    qtbot.mouseClick(window.submit_button, _left())
    qtbot.waitUntil(lambda: window.error_label.isVisible(), timeout=10000)
    assert "Wrong passphrase" in window.error_label.text()
    assert "Caps Lock" in window.error_label.text()
    assert window.passphrase_edit.isEnabled()
    # The field is re-enabled and its text selected for retyping, after the message shows.
    qtbot.waitUntil(lambda: window.passphrase_edit.selectedText() == OTHER_PASSPHRASE)

    with qtbot.waitSignal(window.unlocked, timeout=10000) as blocker:
        window.passphrase_edit.setText(passphrase)
        qtbot.keyClick(window.passphrase_edit, _return())
    blocker.args[0].lock()


def test_damaged_key_file_is_not_called_a_wrong_passphrase(
    qtbot: QtBot, tmp_path: Path, fast_kdf: KdfParams, passphrase: str
) -> None:
    create_profile(tmp_path / "p", passphrase, Role.MONITOR, fast_kdf).lock()
    keyfile = tmp_path / "p" / "keyfile"
    keyfile.write_bytes(b"\x00" * 40)
    window = _window(qtbot, tmp_path / "p")
    window.passphrase_edit.setText(passphrase)
    window.submit()
    qtbot.waitUntil(lambda: window.error_label.isVisible(), timeout=10000)
    text = window.error_label.text()
    assert "Wrong passphrase" not in text
    assert "damaged" in text


@pytest.mark.slow
def test_gui_thread_stays_responsive_during_real_key_derivation(
    qtbot: QtBot, tmp_path: Path, passphrase: str, monkeypatch
) -> None:
    """With the real Argon2id parameters (about half a second) the event loop keeps turning."""
    monkeypatch.delenv("FIELDKIT_INSECURE_TEST_KDF", raising=False)
    create_profile(tmp_path / "p", passphrase, Role.MONITOR, KdfParams.default()).lock()
    window = _window(qtbot, tmp_path / "p")
    window.passphrase_edit.setText(passphrase)
    from PySide6.QtCore import QTimer

    beats: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    timer.start(10)
    started = time.perf_counter()
    with qtbot.waitSignal(window.unlocked, timeout=20000) as blocker:
        window.submit()
    total = time.perf_counter() - started
    timer.stop()
    blocker.args[0].lock()
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    assert len(beats) > 10
    # Had the derivation run on the GUI thread, one gap would span nearly the whole unlock. The
    # bound is relative so a busy machine slows both sides alike (timing is the benchmark's job).
    assert max(gaps) < max(0.25, 0.5 * total), f"stalled {max(gaps):.3f} s of {total:.3f} s"


def test_language_choice_is_requested(qtbot: QtBot, tmp_path: Path) -> None:
    window = _window(qtbot, tmp_path / "none")
    with qtbot.waitSignal(window.language_requested) as blocker:
        window.language_combo.setCurrentIndex(window.language_combo.findData("uk"))
    assert blocker.args == ["uk"]


def test_create_hint_agrees_with_the_guide(qtbot: QtBot, tmp_path: Path) -> None:
    """The guide says to write nothing down that travels with the laptop; so does the hint."""
    from PySide6.QtWidgets import QLabel

    from fieldkit import i18n

    for language, words in (
        ("en", "never keep the paper with the laptop"),
        ("uk", "ніколи не тримайте папірець разом із ноутбуком"),
        ("ru", "никогда не храните листок вместе с ноутбуком"),
    ):
        i18n.set_language(language)
        window = _window(qtbot, tmp_path / "new")
        hint = window.findChild(QLabel, "createHint")
        assert hint is not None
        assert words in hint.text()
        assert window.windowTitle() == i18n.current().gettext("Create a profile")


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def _return():
    from PySide6.QtCore import Qt

    return Qt.Key.Key_Return
