"""What every field editor shares: :class:`FieldWidget`, the :class:`FormContext`, and the registry
that maps a field type to its editor.

Every editor is a :class:`FieldWidget`: ``value()`` gives the raw value as the form data holds it
(``None`` when empty; an unparsable entry is returned as typed so that validation names it),
``set_value()`` loads one, and ``changed`` fires on every edit. Validation happens in the domain
(:func:`fieldkit.domain.validation.validate_record`); the editors only collect input.

Editor modules register themselves (:func:`editor_for`, :func:`register_editor`); the scope of
fields (:mod:`.scope`) builds editors through :func:`make_editor` without importing any of them, so
composite editors such as the body map and the consent table can build on it without a circle.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QObject, QPointF, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QWidget,
)

from fieldkit.domain.forms import FieldDef, FieldType
from fieldkit.i18n import _

# (id, label) choices for a reference field; the form asks its provider for them.
RefOptions = list[tuple[str, str]]
RefProvider = Callable[[FieldDef], RefOptions]

_PATH = re.compile(r"^([A-Za-z0-9_]+)(?:\[(\d+)\])?(?:\.(.+))?$")


def split_path(path: str) -> tuple[str, int | None, str | None]:
    """``areas[2].floor_area_m2`` -> ("areas", 2, "floor_area_m2")."""
    match = _PATH.match(path)
    if match is None:
        return path, None, None
    index = int(match.group(2)) if match.group(2) is not None else None
    return match.group(1), index, match.group(3)


# Record types a reference field can create on the spot (a case is made from the main window).
CREATABLE_FORMS = ("person", "facility", "recommendation", "interview", "visit")


def creatable_form(fdef: FieldDef) -> str | None:
    """The form of the record a reference field can create, or None."""
    if fdef.type == FieldType.PERSON_REF:
        return "person"
    if fdef.type == FieldType.FACILITY_REF:
        return "facility"
    if fdef.type == FieldType.RECORD_REF:
        targets = [t for t in (fdef.targets or ()) if t in CREATABLE_FORMS]
        if len(targets) == 1:
            return targets[0]
    return None


@dataclass
class FormContext:
    """What editors need beyond their field: where reference choices come from."""

    refs: RefProvider | None = None
    read_only: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Creates the record a reference field points at, in its own editor, without leaving this
    # one: ``create(fdef, done)``; ``done(record_id, label)`` is called once it is saved.
    create: Callable[[FieldDef, Callable[[str, str], None]], None] | None = None

    def can_create(self, fdef: FieldDef) -> bool:
        return self.create is not None and not self.read_only and creatable_form(fdef) is not None

    def ref_options(self, fdef: FieldDef) -> RefOptions:
        if self.refs is None:
            return []
        try:
            return list(self.refs(fdef))
        except Exception:  # a failing picker must not break the form; the list is just empty
            return []


class _WheelGuard(QObject):
    """Keeps the mouse wheel from changing a choice, date or time it merely passes over.

    A wheel event over a combo box or spin box inside a form goes to the scroll bar of the
    scroll area around it instead: the form scrolls, the answer stays. (Forwarding it ourselves
    rather than ignoring it: Qt does not pass synthesised wheel events on to the parents.)
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() != QEvent.Type.Wheel
            or not isinstance(watched, (QComboBox, QAbstractSpinBox))
            or not _inside_field(watched)
        ):
            return False
        assert isinstance(event, QWheelEvent)
        area = _scroll_area_around(watched)
        if area is not None:
            delta = event.angleDelta()
            horizontal = delta.y() == 0 and delta.x() != 0
            bar = area.horizontalScrollBar() if horizontal else area.verticalScrollBar()
            forwarded = QWheelEvent(
                QPointF(0, 0),
                event.globalPosition(),
                event.pixelDelta(),
                delta,
                event.buttons(),
                event.modifiers(),
                event.phase(),
                event.inverted(),
            )
            QApplication.sendEvent(bar, forwarded)
        event.accept()
        return True


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def _inside_field(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, FieldWidget):
            return True
        parent = parent.parentWidget()
    return False


_wheel_guard: _WheelGuard | None = None


def install_wheel_guard() -> None:
    """Install the wheel guard on the application once (every field editor calls this)."""
    global _wheel_guard
    app = QApplication.instance()
    if app is None or _wheel_guard is not None:
        return
    _wheel_guard = _WheelGuard(app)
    app.installEventFilter(_wheel_guard)


class FieldWidget(QWidget):
    """Base of every field editor.

    Emits:
        changed(): the user (or set_value) changed the value.
    """

    changed = Signal()

    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fdef = fdef
        self.ctx = ctx
        self.setObjectName(f"field_{fdef.id}")
        install_wheel_guard()

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        self.set_value(None)

    def refresh(self) -> None:
        """Re-evaluate conditions and computed values inside composite editors."""

    def route_issue(self, index: int | None, rest: str | None, reason: str) -> bool:
        """Show an issue inside the editor (composites); False lets the field row show it."""
        return False

    def describe(self, index: int | None, rest: str | None) -> str:
        """A readable prefix for an issue below this field (``Entry 2 · Floor area``)."""
        if index is not None:
            return _("Entry {number}").format(number=index + 1)
        return ""

    def clear_issues(self) -> None:
        pass

    def set_read_only(self, read_only: bool) -> None:
        for child in self.findChildren(QWidget):
            if isinstance(child, (QLineEdit, QPlainTextEdit)):
                child.setReadOnly(read_only)
            elif isinstance(child, (QComboBox, QCheckBox, QPushButton, QToolButton, QDateTimeEdit)):
                child.setEnabled(not read_only)


# Builds the editor of a field: (field, context, parent widget, enclosing scope or None).
EditorFactory = Callable[[FieldDef, FormContext, QWidget | None, Any], FieldWidget]
_EDITORS: dict[FieldType, EditorFactory] = {}


def register_editor(factory: EditorFactory, *types: FieldType) -> None:
    """Make ``factory`` the editor of fields of the given types."""
    for field_type in types:
        _EDITORS[field_type] = factory


W = TypeVar("W", bound=type[FieldWidget])


def editor_for(*types: FieldType) -> Callable[[W], W]:
    """Class decorator: an editor ``Cls(fdef, ctx, parent)`` for fields of the given types."""

    def register(cls: W) -> W:
        register_editor(lambda fdef, ctx, parent, _scope: cls(fdef, ctx, parent), *types)
        return cls

    return register


def make_editor(
    fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None, scope: Any = None
) -> FieldWidget:
    """The editor widget for a field of any type (``scope``: the enclosing scope of fields)."""
    factory = _EDITORS.get(fdef.type)
    if factory is None:
        raise ValueError(f"no editor for field type {fdef.type}")
    return factory(fdef, ctx, parent, scope)
