"""The consent table fits a 1366×768 laptop: no sideways scrolling, the state "now" of every
scope in view, the conditions field wide, the withdrawal panel's buttons inside the window."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint

from fieldkit import i18n
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.ui.common import fitting_size
from fieldkit.ui.forms.renderer import FormEditor
from tests.ui.forms_support import ref_options

# The record editor's size on a 1366×768 screen, less the dialog's margins.
EDITOR_W, EDITOR_H = 980 - 12, 700


def _longest_scope() -> str:
    terms = [t for t in load_vocabulary("consent_scopes") if not t.deprecated]
    return max(terms, key=lambda t: len(t.label(i18n.current().language))).code


def _inside(widget: Any, viewport: Any) -> bool:
    left = widget.mapTo(viewport, QPoint(0, 0)).x()
    return left >= 0 and left + widget.width() <= viewport.width()


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_consent_table_fits_without_sideways_scrolling(language: str, qtbot: Any) -> None:
    i18n.set_language(language)
    editor = FormEditor(None, "interview", ref_provider=ref_options)
    qtbot.addWidget(editor)
    editor.resize(EDITOR_W, EDITOR_H)
    editor.show()
    qtbot.waitExposed(editor)
    consent = editor.editor("consent")
    longest = _longest_scope()
    row = consent.rows[longest]
    row.status.setCurrentIndex(row.status.findData("conditional"))
    row.conditions.setText("only with a female doctor present QZXJ")
    consent.open_withdrawal()
    consent.w_scope.setCurrentIndex(consent.w_scope.findData(longest))
    editor.scroll_area.ensureWidgetVisible(consent.w_add)
    qtbot.waitUntil(lambda: consent.panel.isVisible())
    viewport = editor.scroll_area.viewport()
    assert editor.scroll_area.horizontalScrollBar().maximum() == 0, "no sideways scrolling"
    for scope_row in consent.rows.values():
        assert _inside(scope_row.now, viewport), f"'now' of {scope_row.code} is in view"
    assert _inside(consent.w_add, viewport)
    assert _inside(consent.w_cancel, viewport)
    # The conditions take a line of their own: far wider than the 85 px reported.
    assert row.conditions.width() >= 500


def test_the_editor_window_size_used_above_is_what_a_laptop_gets(qtbot: Any) -> None:
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    qtbot.addWidget(widget)
    width, _height = fitting_size(widget, 980, 720).toTuple()
    assert width <= 980
