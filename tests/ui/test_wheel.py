"""The mouse wheel scrolls a form; it never changes a choice, number, date or time it passes."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from fieldkit.domain.forms import all_templates
from fieldkit.ui.forms.renderer import FormEditor
from tests.ui.forms_support import all_types_template, ref_options, sample_record


def _wheel(widget: QWidget, notches: int) -> None:
    """A real wheel event delivered through the application, as the window system would."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(QPoint(int(centre.x()), int(centre.y())))),
        QPoint(0, 0),
        QPoint(0, -120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def _value_widgets(editor: FormEditor) -> list[QWidget]:
    kinds = (QComboBox, QAbstractSpinBox, QLineEdit, QPlainTextEdit)
    return [w for w in editor.findChildren(QWidget) if isinstance(w, kinds) and w.isVisible()]


def _templates() -> list[Any]:
    return [all_types_template(), *all_templates()]


@pytest.mark.parametrize("filled", [False, True], ids=["empty", "filled"])
@pytest.mark.parametrize("template", _templates(), ids=lambda t: t.id)
def test_wheel_over_any_field_changes_nothing(template: Any, filled: bool, qtbot: Any) -> None:
    data = sample_record(template) if filled else None
    editor = FormEditor(
        None, template.id, template=template, ref_provider=ref_options, initial=data
    )
    qtbot.addWidget(editor)
    editor.resize(1000, 700)
    editor.show()
    qtbot.waitExposed(editor)
    before = editor.value()
    dirty_before = editor.dirty
    widgets = _value_widgets(editor)
    combos = [w for w in widgets if isinstance(w, (QComboBox, QAbstractSpinBox))]
    assert combos, "the form has choice, date or time fields"
    bar = editor.scroll_area.verticalScrollBar()
    scrolled = False
    for widget in widgets:
        for notches in (1, -1, 3):
            start = bar.value()
            _wheel(widget, notches)
            scrolled = scrolled or bar.value() != start
        assert editor.value() == before, f"the wheel changed {widget.objectName()}"
    assert editor.dirty == dirty_before
    # The wheel went on to the scroll area: the form scrolled instead.
    if bar.maximum() > 0:
        assert scrolled


def test_the_same_wheel_event_does_change_a_combo_outside_a_form(qtbot: Any) -> None:
    """The control: the events above are ones a combo box obeys when no guard stands in between."""
    combo = QComboBox()
    qtbot.addWidget(combo)
    combo.addItems(["one", "two", "three"])
    combo.show()
    qtbot.waitExposed(combo)
    _wheel(combo, 1)
    assert combo.currentIndex() == 1
