"""Editors for typed-in values: text, long text, numbers, dates, date-times and times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QSignalBlocker, Qt, QTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QToolButton,
    QWidget,
)

from fieldkit.domain.common import DatePrecision
from fieldkit.domain.forms import FieldDef, FieldType
from fieldkit.i18n import N_, _
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
            unit = plain_label(_(fdef.unit), self)  # "m" is "м" in uk and ru (F-10)
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
        # Wide enough for a whole date in any font (the body map's details were cutting it).
        self.edit.setMinimumWidth(self.edit.fontMetrics().horizontalAdvance("0000-00-00") + 20)
        self.edit.setMaximumWidth(max(130, self.edit.minimumWidth()))
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


editor_for(FieldType.TEXT)(TextField)
editor_for(FieldType.LONGTEXT)(LongTextField)
editor_for(FieldType.NUMBER)(NumberField)
editor_for(FieldType.DATE)(DateField)
editor_for(FieldType.DATETIME)(DateTimeField)
editor_for(FieldType.TIME)(TimeField)
