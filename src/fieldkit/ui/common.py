"""Small helpers shared by the shell's windows: plain-text labels, form and vocabulary labels."""

from __future__ import annotations

import functools
import logging

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

from fieldkit import i18n
from fieldkit.i18n import N_, _

log = logging.getLogger(__name__)

RECORD_TYPES = ("case", "person", "interview", "facility", "visit", "recommendation")

# Fallback names of the record types (the form templates carry their own labels).
_TYPE_NAMES = {
    "case": N_("Case"),
    "person": N_("Person"),
    "interview": N_("Interview"),
    "facility": N_("Facility"),
    "visit": N_("Visit"),
    "recommendation": N_("Recommendation"),
}
_TYPE_PLURALS = {
    "case": N_("Cases"),
    "person": N_("Persons"),
    "interview": N_("Interviews"),
    "facility": N_("Facilities"),
    "visit": N_("Visits"),
    "recommendation": N_("Recommendations"),
}


def plain_label(text: str = "", object_name: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that shows text as text: record content and file names are never rich text."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setText(text)
    if object_name:
        label.setObjectName(object_name)
    return label


def heading(text: str, scale: float = 1.3, object_name: str = "") -> QLabel:
    label = plain_label(text, object_name)
    font = QFont(label.font())
    font.setBold(True)
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


def language() -> str:
    return i18n.current().language


def type_name(form_id: str) -> str:
    """The record type's name in the interface language (the template's own label first)."""
    try:
        from fieldkit.domain.forms import load_template

        return load_template(form_id).label.get(language())
    except Exception:
        return _(_TYPE_NAMES.get(form_id, form_id))


def short_type_name(form_id: str) -> str:
    """A short name of the record type for buttons and menus ("visit", not the template's
    full title)."""
    return _(_TYPE_NAMES.get(form_id, form_id))


def type_plural(form_id: str) -> str:
    return _(_TYPE_PLURALS.get(form_id, form_id))


@functools.cache
def _status_vocabulary(form_id: str) -> str | None:
    try:
        from fieldkit.domain.forms import load_template

        template = load_template(form_id)
        if not template.index.status:
            return None
        return template.field(template.index.status).vocabulary
    except Exception:
        return None


def status_label(form_id: str, code: str) -> str:
    """A status code (from the template's status vocabulary) in the interface language."""
    vocab_id = _status_vocabulary(form_id)
    if not vocab_id:
        return code
    try:
        from fieldkit.domain.vocabularies import load_vocabulary

        return load_vocabulary(vocab_id).label(code, language())
    except Exception:
        return code


def status_choices(form_id: str) -> list[tuple[str, str]]:
    """(code, label) of the statuses a record type can have; empty when it has none."""
    vocab_id = _status_vocabulary(form_id)
    if not vocab_id:
        return []
    try:
        from fieldkit.domain.vocabularies import load_vocabulary

        return [(t.code, t.label(language())) for t in load_vocabulary(vocab_id)]
    except Exception:
        return []


def short_id(record_id: str) -> str:
    return record_id[:8]


def fitting_size(widget: QWidget, width: int, height: int) -> QSize:
    """``width``×``height``, made smaller where the screen is (a 1366×768 laptop, say)."""
    screen = widget.screen()
    if screen is None:
        return QSize(width, height)
    available = screen.availableGeometry()
    # Leave room for the window frame and title bar.
    return QSize(min(width, available.width() - 40), min(height, available.height() - 60))
