"""The unlock and create windows say what the keyboard does (Caps Lock, which alphabet), offer a
passphrase of uncommon words, and say when the two entries differ."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from fieldkit import i18n
from fieldkit.services.profile import passphrase_strength
from fieldkit.ui.tasks import TaskRunner
from fieldkit.ui.unlock import UnlockWindow


def _type(widget, text: str, shift: bool = False) -> None:
    """Key presses carrying ``text`` (Cyrillic included, which QTest cannot type)."""
    modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, Qt.Key.Key_unknown, modifiers, char))


def test_caps_lock_and_the_alphabet_are_shown(qtbot: QtBot, tmp_path: Path) -> None:
    window = UnlockWindow(tmp_path / "none", TaskRunner())
    qtbot.addWidget(window)
    window.show()
    edit = window.passphrase_edit
    _type(edit, "a")
    assert not window.caps_label.isVisibleTo(window)
    assert window.keyboard_label.text() == "Keyboard: Latin letters"
    _type(edit, "B")  # a capital without Shift: Caps Lock
    assert window.caps_label.isVisibleTo(window)
    assert window.caps_label.text() == "Caps Lock is on."
    _type(edit, "C", shift=True)  # Shift gives capitals: Caps Lock is off
    assert not window.caps_label.isVisibleTo(window)
    _type(edit, "п")
    assert window.keyboard_label.text() == "Keyboard: Cyrillic letters"
    assert "п" not in window.keyboard_label.text().lower().replace("keyboard", "")


def test_a_suggested_passphrase_is_shown_and_accepted(qtbot: QtBot, tmp_path: Path) -> None:
    i18n.set_language("uk")
    window = UnlockWindow(tmp_path / "new", TaskRunner())
    qtbot.addWidget(window)
    assert window.create_mode
    text = window.suggest_passphrase()
    assert len(text.split()) == 5
    assert all("\u0400" <= c <= "\u04ff" or c in " ʼ" for c in text), "Ukrainian words"
    assert window.passphrase_edit.text() == window.confirm_edit.text() == text
    assert window.show_check.isChecked()
    assert window.show_check.text() == "Приховати парольну фразу"
    assert passphrase_strength(text).acceptable
    assert window.submit_button.isEnabled()


def test_differing_entries_are_named(qtbot: QtBot, tmp_path: Path) -> None:
    window = UnlockWindow(tmp_path / "new", TaskRunner())
    qtbot.addWidget(window)
    window.show()
    window.passphrase_edit.setText("тихий вечір над Дніпром 7 «лапки»")
    window._update_strength()
    window.confirm_edit.setText("тихий вечір над Дніпром 7 «лапкі»")
    assert window.mismatch_label.isVisibleTo(window)
    assert not window.submit_button.isEnabled()
    window.confirm_edit.setText(window.passphrase_edit.text())
    assert not window.mismatch_label.isVisibleTo(window)
    assert window.submit_button.isEnabled()
