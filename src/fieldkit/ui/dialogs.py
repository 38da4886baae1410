"""Every modal and file dialog of the desktop program goes through this module.

Two reasons:

* **Lock.** :func:`close_all` closes every dialog that is open (message boxes, file dialogs,
  wizards) so a locked program shows nothing but the unlock screen.
* **Tests.** :func:`set_next_answer` and :func:`set_next_path` queue the answer the next dialog
  gives; the dialog is then not shown at all. With :func:`set_strict` on (the test suite turns it
  on), a dialog that has no queued answer raises instead of blocking a headless run forever.

Answers: ``ask``/``confirm_destructive`` take ``True``/``False``; ``choose`` takes the key of the
chosen button; message dialogs (``inform``, ``warn``, ``error``) take anything (the queued value
is consumed); file dialogs take a :class:`~pathlib.Path`, a list of paths for ``open_files``, or
``None`` for "cancelled".
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from fieldkit.i18n import _

log = logging.getLogger(__name__)

_answers: deque[Any] = deque()
_paths: deque[Any] = deque()
_open: list[QDialog] = []
_asked: list[tuple[str, str]] = []  # (kind, title) of every dialog, for tests
_strict = False


class UnexpectedDialogError(AssertionError):
    """A dialog appeared in a test that queued no answer for it."""


# --- test seam -------------------------------------------------------------------------------


def set_next_answer(answer: Any) -> None:
    """Queue the answer of the next message dialog (ask/confirm/choose/inform/warn/error)."""
    _answers.append(answer)


def set_next_path(path: Path | Sequence[Path] | None) -> None:
    """Queue the result of the next file or folder dialog (``None`` means cancelled)."""
    _paths.append(path)


def set_strict(strict: bool) -> None:
    """When strict, a dialog without a queued answer raises UnexpectedDialogError."""
    global _strict
    _strict = strict


def reset() -> None:
    """Forget queued answers and the log of asked dialogs (tests call this between cases)."""
    _answers.clear()
    _paths.clear()
    _asked.clear()


def pending() -> int:
    """How many queued answers and paths were not consumed."""
    return len(_answers) + len(_paths)


def asked() -> list[tuple[str, str]]:
    """(kind, title) of every dialog asked since the last reset, in order."""
    return list(_asked)


def _take(queue: deque[Any], kind: str, title: str) -> tuple[bool, Any]:
    _asked.append((kind, title))
    if queue:
        return True, queue.popleft()
    if _strict:
        raise UnexpectedDialogError(f"unexpected {kind} dialog: {title!r}")
    return False, None


# --- tracking and lock -----------------------------------------------------------------------


def track(dialog: QDialog) -> QDialog:
    """Register a dialog so that :func:`close_all` closes it; it untracks itself when done."""
    if dialog not in _open:
        _open.append(dialog)
        dialog.finished.connect(lambda _result, d=dialog: _untrack(d))
        dialog.destroyed.connect(lambda _obj=None, d=dialog: _untrack(d))
    return dialog


def _untrack(dialog: QObject) -> None:
    with contextlib.suppress(ValueError):
        _open.remove(dialog)  # type: ignore[arg-type]


def open_dialogs() -> list[QDialog]:
    return list(_open)


def close_all() -> int:
    """Reject every tracked dialog (on lock); returns how many were closed."""
    closed = 0
    for dialog in reversed(list(_open)):
        # done() rather than reject(): a lock closes without asking anything (an editor's
        # "save your changes?" must not hold the lock up). RuntimeError: Qt deleted it already.
        with contextlib.suppress(RuntimeError):
            dialog.done(QDialog.DialogCode.Rejected.value)
        closed += 1
        _untrack(dialog)
    return closed


def show_dialog(dialog: QDialog) -> QDialog:
    """Show a window-modal dialog (wizards, editors) without blocking; tracked for lock."""
    track(dialog)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.show()
    dialog.raise_()
    return dialog


def show_window(dialog: QDialog) -> QDialog:
    """Show a dialog that blocks nothing (record editors: several open beside the main window);
    tracked, so a lock closes it."""
    track(dialog)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.show()
    dialog.raise_()
    return dialog


def _exec(dialog: QDialog) -> int:
    track(dialog)
    try:
        return int(dialog.exec())
    finally:
        _untrack(dialog)


# --- message dialogs -------------------------------------------------------------------------


def _box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    detail: str = "",
) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("messageBox")
    box.setIcon(icon)
    box.setWindowTitle(title)
    # Messages may quote file names from a hostile stick: never interpret them as rich text.
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    if detail:
        box.setInformativeText(detail)
    return box


def ask(
    parent: QWidget | None,
    title: str,
    text: str,
    *,
    yes_text: str | None = None,
    no_text: str | None = None,
    default_yes: bool = False,
) -> bool:
    """A yes/no question; True for yes."""
    queued, answer = _take(_answers, "ask", title)
    if queued:
        return bool(answer)
    box = _box(parent, QMessageBox.Icon.Question, title, text)
    yes = box.addButton(yes_text or _("Yes"), QMessageBox.ButtonRole.YesRole)
    no = box.addButton(no_text or _("No"), QMessageBox.ButtonRole.NoRole)
    box.setDefaultButton(yes if default_yes else no)
    box.setEscapeButton(no)
    _exec(box)
    return box.clickedButton() is yes


def confirm_destructive(parent: QWidget | None, title: str, text: str, action_text: str) -> bool:
    """Ask before something that cannot be undone; the safe choice is the default."""
    queued, answer = _take(_answers, "confirm_destructive", title)
    if queued:
        return bool(answer)
    box = _box(parent, QMessageBox.Icon.Warning, title, text)
    act = box.addButton(action_text, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    _exec(box)
    return box.clickedButton() is act


def choose(
    parent: QWidget | None,
    title: str,
    text: str,
    buttons: Sequence[tuple[str, str]],
    *,
    default: str | None = None,
    cancel: str | None = None,
) -> str | None:
    """Several labelled choices ``[(key, label), ...]``; returns the key, or None if closed."""
    queued, answer = _take(_answers, "choose", title)
    if queued:
        return None if answer is None else str(answer)
    box = _box(parent, QMessageBox.Icon.Question, title, text)
    by_button: dict[int, str] = {}
    for key, label in buttons:
        roles = QMessageBox.ButtonRole
        role = roles.RejectRole if key == cancel else roles.AcceptRole
        button = box.addButton(label, role)
        by_button[id(button)] = key
        if key == default:
            box.setDefaultButton(button)
        if key == cancel:
            box.setEscapeButton(button)
    _exec(box)
    clicked = box.clickedButton()
    return by_button.get(id(clicked)) if clicked is not None else None


def inform(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    if _take(_answers, "inform", title)[0]:
        return
    _exec(_box(parent, QMessageBox.Icon.Information, title, text, detail))


def warn(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    if _take(_answers, "warn", title)[0]:
        return
    _exec(_box(parent, QMessageBox.Icon.Warning, title, text, detail))


def error(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    if _take(_answers, "error", title)[0]:
        return
    _exec(_box(parent, QMessageBox.Icon.Critical, title, text, detail))


# --- file dialogs ----------------------------------------------------------------------------


def _file_dialog(parent: QWidget | None, title: str, directory: Path | None) -> QFileDialog:
    dialog = QFileDialog(parent, title, str(directory) if directory else "")
    dialog.setObjectName("fileDialog")
    # The Qt dialog (not the platform one) so it can be closed on lock and does not keep a
    # "recent files" list outside the encrypted profile.
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    return dialog


def _as_path(value: Any) -> Path | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return Path(value[0]) if value else None
    return Path(value)


def open_file(
    parent: QWidget | None, title: str, name_filter: str = "", directory: Path | None = None
) -> Path | None:
    queued, value = _take(_paths, "open_file", title)
    if queued:
        return _as_path(value)
    dialog = _file_dialog(parent, title, directory)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    if name_filter:
        dialog.setNameFilter(name_filter)
    if _exec(dialog) != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])


def open_files(
    parent: QWidget | None, title: str, name_filter: str = "", directory: Path | None = None
) -> list[Path]:
    queued, value = _take(_paths, "open_files", title)
    if queued:
        if value is None:
            return []
        if isinstance(value, (list, tuple)):
            return [Path(v) for v in value]
        return [Path(value)]
    dialog = _file_dialog(parent, title, directory)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    if name_filter:
        dialog.setNameFilter(name_filter)
    if _exec(dialog) != QDialog.DialogCode.Accepted:
        return []
    return [Path(p) for p in dialog.selectedFiles()]


def save_file(
    parent: QWidget | None,
    title: str,
    name_filter: str = "",
    directory: Path | None = None,
    suggested_name: str = "",
    *,
    confirm_overwrite: bool = True,
) -> Path | None:
    """Ask where to save. ``confirm_overwrite=False`` when the caller asks itself (or refuses)."""
    queued, value = _take(_paths, "save_file", title)
    if queued:
        return _as_path(value)
    dialog = _file_dialog(parent, title, directory)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, not confirm_overwrite)
    if name_filter:
        dialog.setNameFilter(name_filter)
    if suggested_name:
        dialog.selectFile(suggested_name)
    if _exec(dialog) != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])


def choose_directory(
    parent: QWidget | None, title: str, directory: Path | None = None
) -> Path | None:
    queued, value = _take(_paths, "choose_directory", title)
    if queued:
        return _as_path(value)
    dialog = _file_dialog(parent, title, directory)
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    if _exec(dialog) != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])


def exec_dialog(dialog: QDialog) -> int:
    """Run a custom modal dialog (tracked for lock) and return its result code.

    Test seam: a queued answer that is callable is called with the (unshown) dialog, so a test
    can fill it in, and its return value is the result; any other queued value is the result.
    """
    queued, value = _take(_answers, "exec", dialog.windowTitle())
    if queued:
        if callable(value):
            return int(value(dialog))
        return int(value)
    return _exec(dialog)
