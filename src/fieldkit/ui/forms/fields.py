"""One editor widget per field type, and :class:`FieldsForm`, the editor of one scope of fields.

Every editor is a :class:`FieldWidget`: ``value()`` gives the raw value as the form data holds it
(``None`` when empty; an unparsable entry is returned as typed so that validation names it),
``set_value()`` loads one, and ``changed`` fires on every edit. Validation happens in the domain
(:func:`fieldkit.domain.validation.validate_record`); the editors only collect input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QSignalBlocker, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateTimeEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.common import DatePrecision, is_empty
from fieldkit.domain.forms import FieldDef, FieldType
from fieldkit.domain.formulas import FORMULAS
from fieldkit.domain.validation import condition_holds
from fieldkit.domain.vocabularies import Term, Vocabulary, load_vocabulary
from fieldkit.i18n import N_, _
from fieldkit.ui.forms.common import (
    ERROR_STYLE,
    label_of,
    language,
    plain_label,
    sensitivity_badges,
    text_of,
    translate_reason,
)

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


@dataclass
class FormContext:
    """What editors need beyond their field: where reference choices come from."""

    refs: RefProvider | None = None
    read_only: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def ref_options(self, fdef: FieldDef) -> RefOptions:
        if self.refs is None:
            return []
        try:
            return list(self.refs(fdef))
        except Exception:  # a failing picker must not break the form; the list is just empty
            return []


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


# --- text -------------------------------------------------------------------------------------


class TextField(FieldWidget):
    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"input_{fdef.id}")
        self.edit.setMaxLength(fdef.effective_max_length + 10)
        if fdef.placeholder is not None:
            self.edit.setPlaceholderText(text_of(fdef.placeholder))
        elif fdef.format == "code":
            self.edit.setPlaceholderText("W-017")
        layout.addWidget(self.edit)
        self.edit.textChanged.connect(self.changed)

    def value(self) -> Any:
        text = self.edit.text()
        return text if text.strip() else None

    def set_value(self, value: Any) -> None:
        self.edit.setText(value if isinstance(value, str) else "")


class LongTextField(FieldWidget):
    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QPlainTextEdit(self)
        self.edit.setObjectName(f"input_{fdef.id}")
        self.edit.setTabChangesFocus(True)
        self.edit.setMinimumHeight(70)
        self.edit.setMaximumHeight(160)
        if fdef.placeholder is not None:
            self.edit.setPlaceholderText(text_of(fdef.placeholder))
        layout.addWidget(self.edit)
        self.edit.textChanged.connect(self.changed)

    def value(self) -> Any:
        text = self.edit.toPlainText()
        return text if text.strip() else None

    def set_value(self, value: Any) -> None:
        self.edit.setPlainText(value if isinstance(value, str) else "")


# --- numbers ----------------------------------------------------------------------------------


def parse_number(text: str, kind: str) -> Any:
    """A number from what was typed, accepting a decimal comma; the text itself if unparsable."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not cleaned:
        return None
    try:
        if re.fullmatch(r"[+-]?\d+", cleaned):
            return int(cleaned)
        number = float(cleaned)
    except ValueError:
        return text.strip()
    if number != number or number in (float("inf"), float("-inf")):
        return text.strip()
    if kind == "int" and number.is_integer():
        return int(number)
    return number


def format_number(value: Any) -> str:
    """A number as a person reads it: no trailing ".0", a decimal comma in uk/ru."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    text = str(value) if isinstance(value, int) else f"{value:g}"
    return text.replace(".", ",") if language() in ("uk", "ru") else text


class NumberField(FieldWidget):
    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"input_{fdef.id}")
        self.edit.setMaximumWidth(160)
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        hints = []
        if fdef.min is not None and fdef.max is not None:
            hints.append(
                _("from {low} to {high}").format(
                    low=format_number(fdef.min), high=format_number(fdef.max)
                )
            )
        elif fdef.min is not None:
            hints.append(_("at least {low}").format(low=format_number(fdef.min)))
        elif fdef.max is not None:
            hints.append(_("at most {high}").format(high=format_number(fdef.max)))
        if hints:
            self.edit.setToolTip(hints[0])
            self.edit.setPlaceholderText(hints[0])
        layout.addWidget(self.edit)
        if fdef.unit:
            unit = plain_label(fdef.unit, self)
            unit.setObjectName(f"unit_{fdef.id}")
            layout.addWidget(unit)
        layout.addStretch(1)
        self.edit.textChanged.connect(self.changed)

    def value(self) -> Any:
        return parse_number(self.edit.text(), self.fdef.kind)

    def set_value(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.edit.setText("" if value is None else str(value))
            return
        self.edit.setText(format_number(value))


# --- dates and times --------------------------------------------------------------------------

PRECISION_LABELS: dict[DatePrecision, str] = {
    DatePrecision.EXACT: N_("exact"),
    DatePrecision.ESTIMATED: N_("estimated"),
    DatePrecision.DAY_UNKNOWN: N_("day unknown"),
    DatePrecision.MONTH_UNKNOWN: N_("month unknown"),
}
_PRECISION_SHAPES: dict[DatePrecision, str] = {
    DatePrecision.EXACT: N_("YYYY-MM-DD"),
    DatePrecision.ESTIMATED: N_("YYYY-MM-DD, YYYY-MM or YYYY"),
    DatePrecision.DAY_UNKNOWN: N_("YYYY-MM"),
    DatePrecision.MONTH_UNKNOWN: N_("YYYY"),
}


class DateField(FieldWidget):
    """A date with its precision (HURIDOCS MT48): the value's shape follows the precision."""

    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"input_{fdef.id}")
        self.edit.setMaximumWidth(130)
        self.precision = QComboBox(self)
        self.precision.setObjectName(f"precision_{fdef.id}")
        for p in DatePrecision:
            self.precision.addItem(_(PRECISION_LABELS[p]), p.value)
        self.precision.setToolTip(_("How precise the date is"))
        layout.addWidget(self.edit)
        layout.addWidget(self.precision)
        layout.addStretch(1)
        self._update_placeholder()
        self.edit.textChanged.connect(self._on_text_changed)
        self.precision.currentIndexChanged.connect(self._on_precision_changed)

    def _update_placeholder(self) -> None:
        p = DatePrecision(self.precision.currentData())
        self.edit.setPlaceholderText(_(_PRECISION_SHAPES[p]))

    def _on_text_changed(self, text: str) -> None:
        # Typing a shorter shape moves the precision along, unless "estimated" was chosen.
        current = DatePrecision(self.precision.currentData())
        if current != DatePrecision.ESTIMATED:
            stripped = text.strip()
            wanted = None
            if re.fullmatch(r"\d{4}", stripped):
                wanted = DatePrecision.MONTH_UNKNOWN
            elif re.fullmatch(r"\d{4}-\d{2}", stripped):
                wanted = DatePrecision.DAY_UNKNOWN
            elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", stripped):
                wanted = DatePrecision.EXACT
            if wanted is not None and wanted != current:
                with QSignalBlocker(self.precision):
                    self.precision.setCurrentIndex(self.precision.findData(wanted.value))
                self._update_placeholder()
        self.changed.emit()

    def _on_precision_changed(self) -> None:
        self._update_placeholder()
        self.changed.emit()

    def value(self) -> Any:
        text = self.edit.text().strip()
        if not text:
            return None
        return {"value": text, "precision": self.precision.currentData()}

    def set_value(self, value: Any) -> None:
        text, precision = "", DatePrecision.EXACT.value
        if isinstance(value, dict):
            text = str(value.get("value") or "")
            precision = str(value.get("precision") or precision)
        elif isinstance(value, str):
            text = value
        with QSignalBlocker(self.precision):
            index = self.precision.findData(precision)
            self.precision.setCurrentIndex(max(index, 0))
        self._update_placeholder()
        with QSignalBlocker(self.edit):
            self.edit.setText(text)
        self.changed.emit()


_NO_DATETIME = QDateTime(QDate(1800, 1, 1), QTime(0, 0))


class _DateTimeEdit(QDateTimeEdit):
    """A date-time editor whose "not set" state starts from now, not from the year 1800."""

    def _start_from_now(self) -> bool:
        if self.dateTime() != _NO_DATETIME:
            return False
        now = QDateTime.currentDateTime()
        self.setDateTime(QDateTime(now.date(), QTime(now.time().hour(), now.time().minute())))
        return True

    def stepBy(self, steps: int) -> None:
        if not self._start_from_now():
            super().stepBy(steps)

    def mousePressEvent(self, event: Any) -> None:
        unset = self.dateTime() == _NO_DATETIME
        super().mousePressEvent(event)
        calendar = self.calendarWidget()
        if unset and calendar is not None:
            today = QDate.currentDate()
            calendar.setCurrentPage(today.year(), today.month())


class DateTimeField(FieldWidget):
    """Date and time with the UTC offset kept (the local one for new entries)."""

    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        self._offset: timedelta | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = _DateTimeEdit(self)
        self.edit.setObjectName(f"input_{fdef.id}")
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.edit.setMinimumDateTime(_NO_DATETIME)
        self.edit.setSpecialValueText(_("not set"))
        self.edit.setDateTime(_NO_DATETIME)
        self.now_button = QToolButton(self)
        self.now_button.setObjectName(f"now_{fdef.id}")
        self.now_button.setText(_("Now"))
        self.clear_button = QToolButton(self)
        self.clear_button.setText("×")
        self.clear_button.setToolTip(_("Clear"))
        self.offset_label = plain_label("", self)
        layout.addWidget(self.edit)
        layout.addWidget(self.offset_label)
        layout.addWidget(self.now_button)
        layout.addWidget(self.clear_button)
        layout.addStretch(1)
        self.edit.dateTimeChanged.connect(self._on_edited)
        self.now_button.clicked.connect(self._on_now_clicked)
        self.clear_button.clicked.connect(lambda: self.set_value(None))

    def _on_now_clicked(self) -> None:
        now = datetime.now().astimezone().replace(second=0, microsecond=0)
        self.set_value(now.isoformat(timespec="minutes"))

    def _on_edited(self) -> None:
        self._show_offset()
        self.changed.emit()

    def _naive(self) -> datetime | None:
        qdt = self.edit.dateTime()
        if qdt == _NO_DATETIME:
            return None
        d, t = qdt.date(), qdt.time()
        return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())

    def _offset_for(self, naive: datetime) -> timedelta:
        if self._offset is not None:
            return self._offset
        return naive.astimezone().utcoffset() or timedelta(0)

    def _show_offset(self) -> None:
        naive = self._naive()
        if naive is None:
            self.offset_label.setText("")
            return
        self.offset_label.setText(_format_offset(self._offset_for(naive)))

    def value(self) -> Any:
        naive = self._naive()
        if naive is None:
            return None
        moment = naive.replace(tzinfo=timezone(self._offset_for(naive)))
        return moment.isoformat(timespec="minutes")

    def set_value(self, value: Any) -> None:
        moment = None
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                moment = None
        with QSignalBlocker(self.edit):
            if moment is None:
                self._offset = None
                self.edit.setDateTime(_NO_DATETIME)
            else:
                self._offset = moment.utcoffset()
                self.edit.setDateTime(
                    QDateTime(
                        QDate(moment.year, moment.month, moment.day),
                        QTime(moment.hour, moment.minute),
                    )
                )
        self._show_offset()
        self.changed.emit()


def _format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


class TimeField(FieldWidget):
    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"input_{fdef.id}")
        self.edit.setPlaceholderText(_("HH:MM"))
        self.edit.setMaximumWidth(90)
        layout.addWidget(self.edit)
        layout.addStretch(1)
        self.edit.textChanged.connect(self.changed)

    def value(self) -> Any:
        text = self.edit.text().strip()
        if re.fullmatch(r"\d:\d{2}", text):
            text = "0" + text
        return text or None

    def set_value(self, value: Any) -> None:
        self.edit.setText(value if isinstance(value, str) else "")


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
        self._update_empty()

    def _update_empty(self) -> None:
        count = self.checklist.list.count() if self.checklist is not None else len(self.options)
        self.empty.setVisible(count == 0)
        if self.checklist is not None:
            self.checklist.setVisible(count > 0)
            self.checklist.fit_height()

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
        self.changed.emit()


# --- computed ---------------------------------------------------------------------------------


def format_minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=rest)
    return _("{minutes} min").format(minutes=rest)


class ComputedField(FieldWidget):
    """A read-only value worked out from other fields of the same scope, updated as they change."""

    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.display = plain_label("—", self)
        self.display.setObjectName(f"computed_{fdef.id}")
        self.display.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.display)
        layout.addStretch(1)
        self.result: Any = None
        self.flagged = False

    def value(self) -> Any:
        return None  # never part of the entered data

    def set_value(self, value: Any) -> None:
        pass

    def update_from(self, lookup: Callable[[str], Any]) -> None:
        """Work the value out from the fields of the same scope (``lookup`` gives raw values)."""
        formula = FORMULAS.get(self.fdef.formula or "")
        if formula is None:
            return
        kwargs = {name: lookup(source) for name, source in (self.fdef.inputs or {}).items()}
        try:
            result = formula.function(**kwargs)
        except Exception:  # a formula must not break the form; show "not available"
            result = None
        self.show_result(result)

    def show_result(self, result: Any) -> None:
        """Display a computed value (None: cannot be computed from what is entered)."""
        formula = FORMULAS.get(self.fdef.formula or "")
        self.result = result
        self.flagged = False
        style = ""
        if result is None or formula is None:
            text = "—"
        elif formula.result == "flag":
            self.flagged = bool(result)
            if result:
                text = _("Below the CPT minimum")
                style = "color: #b00020; font-weight: bold;"
            else:
                text = _("Meets the CPT minimum")
                style = "color: #1b5e20;"
        elif formula.result == "int" and formula.name.endswith("_minutes"):
            text = format_minutes(int(result))
        else:
            text = format_number(result)
            if self.fdef.unit:
                text = f"{text} {self.fdef.unit}"
        self.display.setText(text)
        if self.display.styleSheet() != style:  # restyling on every keystroke is costly
            self.display.setStyleSheet(style)


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


def make_editor(
    fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None, scope: FieldsForm | None = None
) -> FieldWidget:
    """The editor widget for a field of any type."""
    t = fdef.type
    if t == FieldType.TEXT:
        return TextField(fdef, ctx, parent)
    if t == FieldType.LONGTEXT:
        return LongTextField(fdef, ctx, parent)
    if t == FieldType.NUMBER:
        return NumberField(fdef, ctx, parent)
    if t == FieldType.DATE:
        return DateField(fdef, ctx, parent)
    if t == FieldType.DATETIME:
        return DateTimeField(fdef, ctx, parent)
    if t == FieldType.TIME:
        return TimeField(fdef, ctx, parent)
    if t == FieldType.CHOICE:
        return ChoiceField(fdef, ctx, parent)
    if t == FieldType.MULTICHOICE:
        return MultiChoiceField(fdef, ctx, parent)
    if t == FieldType.YESNO:
        return YesNoField(fdef, ctx, parent)
    if t in (
        FieldType.PERSON_REF,
        FieldType.FACILITY_REF,
        FieldType.RECORD_REF,
        FieldType.EVIDENCE_LINK,
    ):
        return RefField(fdef, ctx, parent)
    if t == FieldType.COMPUTED:
        return ComputedField(fdef, ctx, parent)
    if t == FieldType.GROUP:
        if fdef.is_repeatable:
            return RepeatableGroupField(fdef, ctx, parent, scope=scope)
        return GroupField(fdef, ctx, parent, scope=scope)
    if t == FieldType.BODY_MAP:
        from fieldkit.ui.forms.body_map import BodyMapField

        return BodyMapField(fdef, ctx, parent)
    if t == FieldType.CONSENT:
        from fieldkit.ui.forms.consent import ConsentField

        return ConsentField(fdef, ctx, parent)
    raise ValueError(f"no editor for field type {t}")  # pragma: no cover - every type is handled
