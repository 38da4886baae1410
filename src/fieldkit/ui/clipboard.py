"""The clipboard, handled with care: what we copy is cleared after a while and on lock.

Only a hash of the text we put there is remembered, so a later clear removes our text and never
the user's own clipboard content from another program.
"""

from __future__ import annotations

import hashlib
import logging

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QClipboard, QGuiApplication

log = logging.getLogger(__name__)

TIME_CLEAR_AFTER_MS = 45_000


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class ClipboardGuard(QObject):
    """Copies text for the user and clears it later if it is still ours."""

    def __init__(self, clear_after_ms: int = TIME_CLEAR_AFTER_MS, parent: QObject | None = None):
        super().__init__(parent)
        self._ours: bytes | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(clear_after_ms)
        self._timer.timeout.connect(self.clear_if_ours)
        # Any copy from one of our widgets (Ctrl+C in a field, a table, a code) is ours too.
        self._clipboard().dataChanged.connect(self._on_clipboard_data_changed)

    def _on_clipboard_data_changed(self) -> None:
        clipboard = self._clipboard()
        # ownsClipboard() is not reported everywhere (macOS, offscreen); a change while our
        # program is the active one is taken as ours as well: erring towards clearing.
        active = QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive
        if clipboard.ownsClipboard() or active:
            text = clipboard.text(QClipboard.Mode.Clipboard)
            if text and _digest(text) != self._ours:
                self._ours = _digest(text)
                self._timer.start()

    @staticmethod
    def _clipboard() -> QClipboard:
        clipboard = QGuiApplication.clipboard()
        assert clipboard is not None
        return clipboard

    def copy(self, text: str) -> None:
        clipboard = self._clipboard()
        clipboard.setText(text, QClipboard.Mode.Clipboard)
        if clipboard.supportsSelection():
            clipboard.setText(text, QClipboard.Mode.Selection)
        self._ours = _digest(text)
        self._timer.start()

    def note_copied(self) -> None:
        """Call after a standard Copy action of a widget placed our text on the clipboard."""
        text = self._clipboard().text(QClipboard.Mode.Clipboard)
        if text:
            self._ours = _digest(text)
            self._timer.start()

    def holds_ours(self) -> bool:
        if self._ours is None:
            return False
        return _digest(self._clipboard().text(QClipboard.Mode.Clipboard)) == self._ours

    def clear_if_ours(self) -> bool:
        """Clear the clipboard (and the X11 selection) if it still holds our text."""
        self._timer.stop()
        if self._ours is None:
            return False
        clipboard = self._clipboard()
        cleared = False
        for mode in (QClipboard.Mode.Clipboard, QClipboard.Mode.Selection):
            if mode == QClipboard.Mode.Selection and not clipboard.supportsSelection():
                continue
            if _digest(clipboard.text(mode)) == self._ours:
                clipboard.clear(mode)
                cleared = True
        self._ours = None
        if cleared:
            log.info("clipboard cleared")
        return cleared
