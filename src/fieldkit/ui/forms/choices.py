"""Editors that choose: vocabulary choices (one or several), yes/no, and references to records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.forms import FieldDef, FieldType
from fieldkit.domain.vocabularies import Term, Vocabulary, load_vocabulary
from fieldkit.i18n import _
from fieldkit.ui.forms.base import (
    FieldWidget,
    FormContext,
    editor_for,
)
from fieldkit.ui.forms.common import (
    language,
    plain_label,
    text_of,
)

# --- choices ----------------------------------------------------------------------------------


def term_tooltip(term: Term) -> str:
    parts = []
    if term.huridocs_code:
        parts.append(_("HURIDOCS code: {code}").format(code=term.huridocs_code))
    if term.description is not None:
        parts.append(text_of(term.description))
    return "\n".join(parts)


class SearchableCombo(QComboBox):
    """An editable combo box whose completer matches anywhere in the label, ignoring case."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(18)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.addItem("", None)
        completer = QCompleter(self.model(), self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self.currentIndexChanged.connect(self._on_index_changed)

    def add_option(self, label: str, data: str, tooltip: str = "") -> None:
        self.addItem(label, data)
        if tooltip:
            self.setItemData(self.count() - 1, tooltip, Qt.ItemDataRole.ToolTipRole)

    def _on_index_changed(self, index: int) -> None:
        tip = self.itemData(index, Qt.ItemDataRole.ToolTipRole) if index >= 0 else None
        self.setToolTip(str(tip) if tip else "")

    def selected(self) -> Any:
        """The chosen item's data; None when empty; the typed text when it matches nothing."""
        text = self.currentText().strip()
        if not text:
            return None
        index = self.currentIndex()
        if index > 0 and self.itemText(index) == self.currentText():
            return self.itemData(index)
        found = self.findText(text, Qt.MatchFlag.MatchFixedString)
        if found > 0:
            return self.itemData(found)
        return text

    def select(self, data: Any, fallback_label: str | None = None) -> None:
        if data is None:
            self.setCurrentIndex(0)
            self.setEditText("")
            return
        index = self.findData(data)
        if index < 0:
            self.add_option(fallback_label or str(data), data)
            index = self.count() - 1
        self.setCurrentIndex(index)


class ChoiceField(FieldWidget):
    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        self.vocabulary: Vocabulary = load_vocabulary(fdef.vocabulary or "")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = SearchableCombo(self)
        self.combo.setObjectName(f"input_{fdef.id}")
        lang = language()
        for term in self.vocabulary:
            if not term.deprecated:
                self.combo.add_option(term.label(lang), term.code, term_tooltip(term))
        layout.addWidget(self.combo)
        self.combo.currentIndexChanged.connect(self.changed)
        self.combo.editTextChanged.connect(self.changed)

    def value(self) -> Any:
        return self.combo.selected()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.combo):
            if isinstance(value, str) and value in self.vocabulary:
                term = self.vocabulary.term(value)
                self.combo.select(value, term.label(language()))
            else:
                self.combo.select(value if isinstance(value, str) else None)
        self.combo._on_index_changed(self.combo.currentIndex())
        self.changed.emit()


class CheckList(QWidget):
    """A filterable list of checkable options (multi-choice and multiple references)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(_("Filter…"))
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.filter.textChanged.connect(self._on_filter_changed)
        self.list.itemChanged.connect(lambda _item: self.changed.emit())

    def add_option(self, label: str, data: str, tooltip: str = "") -> QListWidgetItem:
        item = QListWidgetItem(label, self.list)
        item.setData(Qt.ItemDataRole.UserRole, data)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        if tooltip:
            item.setToolTip(tooltip)
        return item

    def fit_height(self) -> None:
        """As tall as the options need, up to a limit (then it scrolls)."""
        rows = max(self.list.count(), 1)
        row_height = max(self.list.sizeHintForRow(0), self.fontMetrics().height() + 2)
        frame = 2 * self.list.frameWidth() + 4
        self.list.setFixedHeight(min(rows * row_height + frame, 150))

    def _on_filter_changed(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())
        self.filter.setVisible(True)

    def checked(self) -> list[str]:
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def item_for(self, data: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == data:
                return item
        return None

    def set_checked(self, values: Sequence[str], labels: Callable[[str], str]) -> None:
        wanted = set(values)
        added = False
        with QSignalBlocker(self.list):
            for value in values:
                if self.item_for(value) is None:
                    self.add_option(labels(value), value)
                    added = True
            for i in range(self.list.count()):
                item = self.list.item(i)
                on = item.data(Qt.ItemDataRole.UserRole) in wanted
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        if added:
            self.fit_height()
        self.changed.emit()


class MultiChoiceField(FieldWidget):
    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        self.vocabulary = load_vocabulary(fdef.vocabulary or "")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.checklist = CheckList(self)
        self.checklist.setObjectName(f"input_{fdef.id}")
        lang = language()
        for term in self.vocabulary:
            if not term.deprecated:
                self.checklist.add_option(term.label(lang), term.code, term_tooltip(term))
        self.checklist.filter.setVisible(len(self.vocabulary) > 8)
        self.checklist.fit_height()
        layout.addWidget(self.checklist)
        self.checklist.changed.connect(self.changed)

    def value(self) -> Any:
        return self.checklist.checked() or None

    def set_value(self, value: Any) -> None:
        codes = [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
        self.checklist.set_checked(codes, lambda c: self.vocabulary.label(c, language()))


class YesNoField(FieldWidget):
    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.combo.setObjectName(f"input_{fdef.id}")
        # Item data are strings: PySide6 mishandles the reference count of Python bools kept
        # in a QVariant (a crash at exit).
        self.combo.addItem("—", "")
        self.combo.addItem(_("Yes"), "yes")
        self.combo.addItem(_("No"), "no")
        layout.addWidget(self.combo)
        layout.addStretch(1)
        self.combo.currentIndexChanged.connect(self.changed)

    def value(self) -> Any:
        data = self.combo.currentData()
        return True if data == "yes" else False if data == "no" else None

    def set_value(self, value: Any) -> None:
        index = 1 if value is True else 2 if value is False else 0
        self.combo.setCurrentIndex(index)


# --- references -------------------------------------------------------------------------------


class RefField(FieldWidget):
    """A person, facility, record or evidence reference, picked from the records the form knows."""

    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.options = ctx.ref_options(fdef)
        self._labels = dict(self.options)
        self.combo: SearchableCombo | None = None
        self.checklist: CheckList | None = None
        if fdef.is_multiple:
            self.checklist = CheckList(self)
            self.checklist.setObjectName(f"input_{fdef.id}")
            for ref_id, label in self.options:
                self.checklist.add_option(label, ref_id, ref_id)
            self.checklist.filter.setVisible(len(self.options) > 8)
            layout.addWidget(self.checklist)
            self.checklist.changed.connect(self.changed)
        else:
            self.combo = SearchableCombo(self)
            self.combo.setObjectName(f"input_{fdef.id}")
            for ref_id, label in self.options:
                self.combo.add_option(label, ref_id, ref_id)
            layout.addWidget(self.combo)
            self.combo.currentIndexChanged.connect(self.changed)
            self.combo.editTextChanged.connect(self.changed)
        self.empty = plain_label(_("(nothing to choose from yet)"), self)
        self.empty.setEnabled(False)
        layout.addWidget(self.empty)
        self.new_button: QToolButton | None = None
        if ctx.can_create(fdef):
            self.new_button = QToolButton(self)
            self.new_button.setObjectName(f"new_{fdef.id}")
            self.new_button.setText(_("New…"))
            self.new_button.setToolTip(
                _("Create it now in its own window; this form stays open and links it once saved.")
            )
            self.new_button.clicked.connect(self._on_new_clicked)
            layout.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignTop)
        self._update_empty()

    def _on_new_clicked(self) -> None:
        if self.ctx.create is not None:
            self.ctx.create(self.fdef, self.add_created)

    def add_created(self, record_id: str, label: str) -> None:
        """A record made from this field was saved: offer it and choose it (ticked if several)."""
        if record_id not in self._labels:
            self.options.append((record_id, label))
            self._labels[record_id] = label
        if self.checklist is not None:
            item = self.checklist.item_for(record_id)
            if item is None:
                item = self.checklist.add_option(label, record_id, record_id)
            item.setCheckState(Qt.CheckState.Checked)
            self._update_empty()
        else:
            assert self.combo is not None
            self.combo.select(record_id, label)
            self._update_empty()
        self.changed.emit()

    def _update_empty(self) -> None:
        count = self.checklist.list.count() if self.checklist is not None else len(self.options)
        self.empty.setVisible(count == 0)
        if self.checklist is not None:
            self.checklist.setVisible(count > 0)
            self.checklist.fit_height()
        elif self.combo is not None:
            # Nothing to choose: the note (and New…) say so; an empty picker only takes room.
            self.combo.setVisible(count > 0 or self.combo.currentIndex() > 0)

    def _label(self, ref_id: str) -> str:
        return self._labels.get(ref_id) or _("unknown record {id}").format(id=ref_id[:8])

    def value(self) -> Any:
        if self.checklist is not None:
            return self.checklist.checked() or None
        assert self.combo is not None
        return self.combo.selected()

    def set_value(self, value: Any) -> None:
        if self.checklist is not None:
            ids = [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
            self.checklist.set_checked(ids, self._label)
            self._update_empty()
            return
        assert self.combo is not None
        with QSignalBlocker(self.combo):
            if isinstance(value, str) and value:
                self.combo.select(value, self._label(value))
            else:
                self.combo.select(None)
        self._update_empty()
        self.changed.emit()


editor_for(FieldType.CHOICE)(ChoiceField)
editor_for(FieldType.MULTICHOICE)(MultiChoiceField)
editor_for(FieldType.YESNO)(YesNoField)
editor_for(
    FieldType.PERSON_REF, FieldType.FACILITY_REF, FieldType.RECORD_REF, FieldType.EVIDENCE_LINK
)(RefField)
