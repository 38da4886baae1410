"""Guard against a Qt binding that corrupts Python's reference counts.

PySide6-Essentials 6.12.0 on CPython 3.11 drops one reference to None on every call of a Qt method
that returns nothing; after enough clicks Python aborts ("none_dealloc"). The pin in pyproject.toml
keeps that build out; this test fails if a build like it comes back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QLabel
from pytestqt.qtbot import QtBot


class _Emitter(QObject):
    changed = Signal(bool)


def test_qt_calls_keep_reference_counts(qtbot: QtBot) -> None:
    label = QLabel()
    combo = QComboBox()
    qtbot.addWidget(label)
    qtbot.addWidget(combo)
    combo.addItem("a", None)
    emitter = _Emitter()
    before = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    for _ in range(2000):
        label.setText("x")
        label.setVisible(False)
        combo.currentData()
        emitter.changed.emit(True)
        with QSignalBlocker(emitter):
            pass
    after = (sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False))
    drift = [a - b for a, b in zip(after, before, strict=True)]
    assert all(abs(d) < 50 for d in drift), f"reference counts drifted by {drift}"
