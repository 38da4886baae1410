"""A scope of fields (:class:`FieldsForm`: a section, a group or a group row) and groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.common import is_empty
from fieldkit.domain.forms import FieldDef, FieldType
from fieldkit.domain.validation import condition_holds
from fieldkit.i18n import _
from fieldkit.ui.forms import choices as _choices  # noqa: F401  (registers the choice editors)
from fieldkit.ui.forms import inputs as _inputs  # noqa: F401  (registers the typed-in editors)
from fieldkit.ui.forms.base import (
    FieldWidget,
    FormContext,
    make_editor,
    register_editor,
    split_path,
)
from fieldkit.ui.forms.common import (
    ERROR_STYLE,
    label_of,
    plain_label,
    sensitivity_badges,
    text_of,
    translate_reason,
)
from fieldkit.ui.forms.computed import ComputedField

# --- groups -----------------------------------------------------------------------------------


class GroupField(FieldWidget):
    """A non-repeating group: its sub-fields in a frame."""

    def __init__(
        self,
        fdef: FieldDef,
        ctx: FormContext,
        parent: QWidget | None = None,
        scope: FieldsForm | None = None,
    ) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        frame = QFrame(self)
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        inner = QVBoxLayout(frame)
        self.form = FieldsForm(fdef.sub_fields, ctx, parent_scope=scope, parent=frame)
        inner.addWidget(self.form)
        layout.addWidget(frame)
        self.form.changed.connect(self.changed)

    def value(self) -> Any:
        data = self.form.value()
        return data or None

    def set_value(self, value: Any) -> None:
        self.form.set_value(value if isinstance(value, dict) else {})

    def refresh(self) -> None:
        self.form.refresh()

    def route_issue(self, index: int | None, rest: str | None, reason: str) -> bool:
        return rest is not None and self.form.show_issue(rest, reason)

    def clear_issues(self) -> None:
        self.form.clear_issues()


class _GroupRow(QFrame):
    def __init__(self, owner: RepeatableGroupField, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("groupRow")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        header = QHBoxLayout()
        self.title = plain_label("", self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        header.addWidget(self.title)
        header.addStretch(1)
        self.up = QToolButton(self)
        self.up.setText("↑")
        self.up.setObjectName("rowUp")
        self.up.setToolTip(_("Move up"))
        self.down = QToolButton(self)
        self.down.setText("↓")
        self.down.setObjectName("rowDown")
        self.down.setToolTip(_("Move down"))
        self.remove = QToolButton(self)
        self.remove.setText(_("Remove"))
        self.remove.setObjectName("rowRemove")
        for button in (self.up, self.down, self.remove):
            header.addWidget(button)
        layout.addLayout(header)
        self.form = FieldsForm(
            owner.fdef.sub_fields, owner.ctx, parent_scope=owner.scope, parent=self
        )
        layout.addWidget(self.form)


class RepeatableGroupField(FieldWidget):
    """A repeating group: rows that can be added, removed and reordered."""

    def __init__(
        self,
        fdef: FieldDef,
        ctx: FormContext,
        parent: QWidget | None = None,
        scope: FieldsForm | None = None,
    ) -> None:
        super().__init__(fdef, ctx, parent)
        self.scope = scope
        self.rows: list[_GroupRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setSpacing(6)
        layout.addLayout(self.rows_layout)
        self.empty_label = plain_label(_("No entries yet."), self)
        self.empty_label.setEnabled(False)
        layout.addWidget(self.empty_label)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(_("Add entry"), self)
        self.add_button.setObjectName(f"add_{fdef.id}")
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self._on_add_clicked)
        self._update_rows()

    def _on_add_clicked(self) -> None:
        row = self.add_row()
        row.form.focus_first()
        self.changed.emit()

    def add_row(self, data: dict[str, Any] | None = None) -> _GroupRow:
        row = _GroupRow(self, self)
        if data:
            row.form.set_value(data)
        row.form.changed.connect(self.changed)
        row.up.clicked.connect(lambda _checked=False, r=row: self.move_row(r, -1))
        row.down.clicked.connect(lambda _checked=False, r=row: self.move_row(r, 1))
        row.remove.clicked.connect(lambda _checked=False, r=row: self.remove_row(r))
        self.rows.append(row)
        self.rows_layout.addWidget(row)
        if self.ctx.read_only:
            row.form.set_read_only(True)
        self._update_rows()
        return row

    def remove_row(self, row: _GroupRow) -> None:
        if row not in self.rows:
            return
        self.rows.remove(row)
        self.rows_layout.removeWidget(row)
        row.hide()
        row.deleteLater()
        self._update_rows()
        self.changed.emit()

    def move_row(self, row: _GroupRow, step: int) -> None:
        index = self.rows.index(row)
        target = index + step
        if not 0 <= target < len(self.rows):
            return
        self.rows[index], self.rows[target] = self.rows[target], self.rows[index]
        self.rows_layout.removeWidget(row)
        self.rows_layout.insertWidget(target, row)
        self._update_rows()
        self.changed.emit()

    def _update_rows(self) -> None:
        label = label_of(self.fdef)
        for i, row in enumerate(self.rows):
            row.title.setText(f"{label} · {i + 1}")
            row.up.setEnabled(i > 0 and not self.ctx.read_only)
            row.down.setEnabled(i < len(self.rows) - 1 and not self.ctx.read_only)
            row.remove.setEnabled(not self.ctx.read_only)
        self.empty_label.setVisible(not self.rows)
        full = self.fdef.max_items is not None and len(self.rows) >= self.fdef.max_items
        self.add_button.setEnabled(not full and not self.ctx.read_only)

    def value(self) -> Any:
        items = [row.form.value() for row in self.rows]
        return items or None

    def set_value(self, value: Any) -> None:
        for row in list(self.rows):
            self.rows.remove(row)
            self.rows_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
        if isinstance(value, list):
            for item in value:
                self.add_row(item if isinstance(item, dict) else {})
        self._update_rows()
        self.changed.emit()

    def refresh(self) -> None:
        for row in self.rows:
            row.form.refresh()

    def route_issue(self, index: int | None, rest: str | None, reason: str) -> bool:
        if index is None or rest is None or not 0 <= index < len(self.rows):
            return False
        return self.rows[index].form.show_issue(rest, reason)

    def clear_issues(self) -> None:
        for row in self.rows:
            row.form.clear_issues()

    def set_read_only(self, read_only: bool) -> None:
        for row in self.rows:
            row.form.set_read_only(read_only)
        self._update_rows()


# --- one scope of fields ----------------------------------------------------------------------


# Field types whose editor takes the whole width under its label.
WIDE_TYPES = frozenset({FieldType.GROUP, FieldType.BODY_MAP, FieldType.CONSENT})
LABEL_WIDTH = 200


class FieldRow:
    """The label (with required mark and badges), the editor, its help and its error line."""

    def __init__(self, fdef: FieldDef, editor: FieldWidget, parent: QWidget) -> None:
        self.fdef = fdef
        self.editor = editor
        self.label_box = QWidget(parent)
        label_layout = QHBoxLayout(self.label_box)
        label_layout.setContentsMargins(0, 0, 0, 0)
        label_layout.setSpacing(4)
        text = label_of(fdef) + (" *" if fdef.required else "")
        self.label = plain_label(text, self.label_box)
        self.label.setObjectName(f"label_{fdef.id}")
        self.label.setWordWrap(True)
        if fdef.required:
            self.label.setToolTip(_("Required"))
        label_layout.addWidget(self.label, 0, Qt.AlignmentFlag.AlignTop)
        badges = sensitivity_badges(fdef, self.label_box)
        badges_width = 0
        if badges is not None:
            label_layout.addWidget(badges, 0, Qt.AlignmentFlag.AlignTop)
            badges_width = badges.sizeHint().width() + label_layout.spacing()
        if fdef.type in WIDE_TYPES:
            self.label.setWordWrap(False)
            font = self.label.font()
            font.setBold(True)
            self.label.setFont(font)
            label_layout.addStretch(1)
        else:
            # A fixed label width makes the wrapped height known in advance, so a long label is
            # never squeezed by the scroll area (QFormLayout does not pass heightForWidth on).
            width = LABEL_WIDTH - badges_width
            self.label.setFixedWidth(width)
            self.label.setMinimumHeight(self.label.heightForWidth(width))
        self.field_box = QWidget(parent)
        box = QVBoxLayout(self.field_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(1)
        box.addWidget(editor)
        if fdef.help is not None:
            help_label = plain_label(text_of(fdef.help), self.field_box)
            help_label.setWordWrap(True)
            help_label.setStyleSheet("color: palette(mid); font-size: 8pt;")
            box.addWidget(help_label)
        self.error = plain_label("", self.field_box)
        self.error.setObjectName(f"error_{fdef.id}")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        box.addWidget(self.error)
        self.messages: list[str] = []
        self.visible = True

    def add_message(self, text: str) -> None:
        self.messages.append(text)
        self.error.setText("\n".join(self.messages))
        self.error.show()

    def clear_messages(self) -> None:
        self.messages = []
        self.error.clear()
        self.error.hide()
        self.editor.clear_issues()


class FieldsForm(QWidget):
    """Editors for one scope of fields (the top level of a section, a group, a group row).

    ``parent_scope`` is where ``show_if`` conditions look for fields this scope does not have.

    Emits:
        changed(): any field in this scope (or below it) changed.
    """

    changed = Signal()

    def __init__(
        self,
        fields: Sequence[FieldDef],
        ctx: FormContext,
        parent_scope: Any = None,
        parent: QWidget | None = None,
        skip: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.parent_scope = parent_scope
        self.fields = [f for f in fields if f.id not in skip]
        self.rows: dict[str, FieldRow] = {}
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layout_.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.layout_.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        for fdef in self.fields:
            editor = make_editor(fdef, ctx, self, scope=self)
            row = FieldRow(fdef, editor, self)
            if fdef.type in WIDE_TYPES:
                # Wide editors take the full width under their label.
                self.layout_.addRow(row.label_box)
                self.layout_.addRow(row.field_box)
            else:
                self.layout_.addRow(row.label_box, row.field_box)
            self.rows[fdef.id] = row
            editor.changed.connect(self.changed)
        if ctx.read_only:
            self.set_read_only(True)

    # values

    def raw(self, name: str) -> Any:
        row = self.rows.get(name)
        return row.editor.value() if row is not None else None

    def lookup(self, name: str) -> tuple[bool, Any]:
        if name in self.rows:
            row = self.rows[name]
            return True, (row.editor.value() if row.visible else None)
        if self.parent_scope is not None:
            found: tuple[bool, Any] = self.parent_scope.lookup(name)
            return found
        return False, None

    def value(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fid, row in self.rows.items():
            if not row.visible or row.fdef.type == FieldType.COMPUTED:
                continue
            value = row.editor.value()
            if not is_empty(value):
                out[fid] = value
        return out

    def set_value(self, data: dict[str, Any]) -> None:
        with QSignalBlocker(self):
            for fid, row in self.rows.items():
                row.editor.set_value(data.get(fid) if isinstance(data, dict) else None)
        self.refresh()
        self.changed.emit()

    def clear(self) -> None:
        with QSignalBlocker(self):
            for row in self.rows.values():
                row.editor.clear()
                row.clear_messages()

    # conditions and computed values

    def refresh(self) -> None:
        for index, fdef in enumerate(self.fields):
            row = self.rows[fdef.id]
            visible = True
            if fdef.show_if is not None:
                _found, controlling = self.lookup(fdef.show_if.field)
                visible = condition_holds(fdef.show_if, controlling)
            if visible != row.visible:
                row.visible = visible
                self._set_row_visible(index, fdef, visible)
        for row in self.rows.values():
            if isinstance(row.editor, ComputedField):
                row.editor.update_from(lambda name: self.lookup(name)[1])
            elif row.visible:
                row.editor.refresh()

    def _set_row_visible(self, index: int, fdef: FieldDef, visible: bool) -> None:
        row = self.rows[fdef.id]
        row.label_box.setVisible(visible)
        row.field_box.setVisible(visible)
        for widget in (row.label_box, row.field_box):
            self.layout_.setRowVisible(widget, visible)

    def is_shown(self, field_id: str) -> bool:
        row = self.rows.get(field_id)
        return row is not None and row.visible

    # issues

    def show_issue(self, path: str, reason: str) -> bool:
        head, index, rest = split_path(path)
        row = self.rows.get(head)
        if row is None:
            return False
        if row.editor.route_issue(index, rest, reason):
            return True
        prefix = row.editor.describe(index, rest)
        text = translate_reason(reason)
        row.add_message(f"{prefix}: {text}" if prefix else text)
        return True

    def clear_issues(self) -> None:
        for row in self.rows.values():
            row.clear_messages()

    def issue_count(self) -> int:
        count = 0
        for row in self.rows.values():
            count += len(row.messages)
            editor = row.editor
            if isinstance(editor, GroupField):
                count += editor.form.issue_count()
            elif isinstance(editor, RepeatableGroupField):
                count += sum(r.form.issue_count() for r in editor.rows)
        return count

    def first_issue_widget(self) -> QWidget | None:
        for row in self.rows.values():
            if row.messages:
                return row.field_box
            editor = row.editor
            forms: list[FieldsForm] = []
            if isinstance(editor, GroupField):
                forms = [editor.form]
            elif isinstance(editor, RepeatableGroupField):
                forms = [r.form for r in editor.rows]
            for form in forms:
                found = form.first_issue_widget()
                if found is not None:
                    return found
        return None

    def focus_first(self) -> None:
        for row in self.rows.values():
            for child in row.editor.findChildren(QWidget):
                if child.focusPolicy() != Qt.FocusPolicy.NoFocus and child.isEnabled():
                    child.setFocus()
                    return

    def editor(self, path: str) -> FieldWidget:
        """The editor at a dotted path of ids (group rows as ``areas[1].name``); for tests too."""
        head, index, rest = split_path(path)
        editor = self.rows[head].editor
        if rest is None:
            return editor
        if isinstance(editor, RepeatableGroupField):
            return editor.rows[index or 0].form.editor(rest)
        if isinstance(editor, GroupField):
            return editor.form.editor(rest)
        raise KeyError(path)

    def set_read_only(self, read_only: bool) -> None:
        for row in self.rows.values():
            row.editor.set_read_only(read_only)


def _group_editor(
    fdef: FieldDef, ctx: FormContext, parent: QWidget | None, scope: Any
) -> FieldWidget:
    if fdef.is_repeatable:
        return RepeatableGroupField(fdef, ctx, parent, scope=scope)
    return GroupField(fdef, ctx, parent, scope=scope)


register_editor(_group_editor, FieldType.GROUP)
