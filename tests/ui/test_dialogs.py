"""The dialog seam: queued answers, strict mode, and closing every dialog on lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from fieldkit.ui import dialogs


def test_queued_answers_are_consumed_in_order(qtbot: QtBot) -> None:
    dialogs.set_next_answer(True)
    dialogs.set_next_answer(False)
    dialogs.set_next_answer("keep")
    assert dialogs.ask(None, "Q1", "?") is True
    assert dialogs.confirm_destructive(None, "Q2", "?", "Erase") is False
    assert dialogs.choose(None, "Q3", "?", [("keep", "Keep"), ("drop", "Drop")]) == "keep"
    assert dialogs.pending() == 0
    assert [kind for kind, _t in dialogs.asked()] == ["ask", "confirm_destructive", "choose"]


def test_paths(qtbot: QtBot, tmp_path: Path) -> None:
    dialogs.set_next_path(tmp_path / "a.jpg")
    dialogs.set_next_path([tmp_path / "b.jpg", tmp_path / "c.jpg"])
    dialogs.set_next_path(None)
    assert dialogs.open_file(None, "Open") == tmp_path / "a.jpg"
    assert dialogs.open_files(None, "Open") == [tmp_path / "b.jpg", tmp_path / "c.jpg"]
    assert dialogs.save_file(None, "Save") is None


def test_strict_mode_refuses_unexpected_dialogs(qtbot: QtBot) -> None:
    with pytest.raises(dialogs.UnexpectedDialogError, match="Erase everything"):
        dialogs.ask(None, "Erase everything", "?")


def test_exec_dialog_lets_a_test_fill_the_dialog(qtbot: QtBot) -> None:
    dialog = QDialog()
    qtbot.addWidget(dialog)
    dialog.setWindowTitle("Custom")

    def answer(d: QDialog) -> int:
        d.setProperty("filled", "yes")
        return QDialog.DialogCode.Accepted.value

    dialogs.set_next_answer(answer)
    assert dialogs.exec_dialog(dialog) == QDialog.DialogCode.Accepted.value
    assert dialog.property("filled") == "yes"


def test_close_all_closes_tracked_dialogs(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    first, second = QDialog(parent), QDialog(parent)
    dialogs.show_dialog(first)
    dialogs.show_dialog(second)
    assert first.isVisible()
    assert second.isVisible()
    assert len(dialogs.open_dialogs()) == 2
    assert dialogs.close_all() == 2
    assert not first.isVisible()
    assert not second.isVisible()
    assert dialogs.open_dialogs() == []
    assert first.result() == QDialog.DialogCode.Rejected.value
