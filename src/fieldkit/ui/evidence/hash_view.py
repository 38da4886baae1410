"""A SHA-256 shown whole on a narrow panel: two lines of 32 hexadecimal digits in the shipped
monospace font, selectable, instead of a line edit that cut it off at 1024 px."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from fieldkit.ui.fonts import monospace_font

LINE_DIGITS = 32


class HashView(QLabel):
    """``text()`` is the hash itself (no line break); the label shows it in two lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hash = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setFont(monospace_font())
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet("border: 1px solid palette(mid); padding: 2px;")

    def setText(self, text: str) -> None:
        self._hash = text.strip()
        shown = "\n".join(
            self._hash[i : i + LINE_DIGITS] for i in range(0, len(self._hash), LINE_DIGITS)
        )
        super().setText(shown)

    def text(self) -> str:
        return self._hash

    def clear(self) -> None:
        self._hash = ""
        super().clear()

    def isReadOnly(self) -> bool:
        return True
