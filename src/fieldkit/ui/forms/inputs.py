"""Editors for typed-in values: text, long text, numbers, dates, date-times and times."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QMenu,
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
            # "for example", so an empty field does not look filled in.
            self.edit.setPlaceholderText(_("for example W-017"))
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


def parse_typed_time(text: str) -> tuple[int, int] | None:
    """A time as people type it quickly: "14:30", "1430", "930", "9.30", "9-30", "14"."""
    t = text.strip().replace(".", ":").replace("-", ":").replace(" ", "")
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?", t) or re.fullmatch(r"(\d{1,2})(\d{2})", t)
    if m is None:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return hour, minute


def parse_typed_date(text: str, default: date | None = None) -> date | None:
    """A date as typed: ISO ("2024-03-05"), "5.3.2024", "05.03.24", "5.3" (the year of the
    form's date, or this year), "today" and "yesterday" in the chosen language or in English."""
    t = text.strip().lower()
    if not t:
        return None
    today = date.today()
    if t in {_("today").lower(), "today"}:
        return today
    if t in {_("yesterday").lower(), "yesterday"}:
        return today - timedelta(days=1)
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", t):
            y, mo, d = (int(x) for x in t.split("-"))
            return date(y, mo, d)
        m = re.fullmatch(r"(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4}))?", t)
        if m is not None:
            d, mo = int(m.group(1)), int(m.group(2))
            if m.group(3) is None:
                y = (default or today).year
            else:
                y = int(m.group(3))
                y = y + 2000 if y < 100 else y
            return date(y, mo, d)
    except ValueError:
        return None
    return None


class DateTimeField(FieldWidget):
    """Date and time typed in quickly, with the UTC offset kept (the local one for new entries).

    The time takes "14:30", "1430" or "930"; the date ISO, "5.3.2024", "5.3", "today" or
    "yesterday", and when only a time is typed the date is the form's own (the date of the
    visit), else today. *Now*, and a menu with today, yesterday and the form's date, fill it in.
    Plain line edits: the mouse wheel never changes them. What cannot be read is handed on as
    typed, so the form's check names the field instead of losing the entry.
    """

    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        self._offset: timedelta | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.date_edit = QLineEdit(self)
        self.date_edit.setObjectName(f"input_{fdef.id}")
        self.date_edit.setPlaceholderText(_("YYYY-MM-DD"))
        self.date_edit.setAccessibleName(_("Date"))
        self.date_edit.setToolTip(
            _('Type the date: 2024-03-05, 5.3.2024, 5.3, "today" or "yesterday".')
        )
        width = self.date_edit.fontMetrics().horizontalAdvance("0000-00-00") + 20
        self.date_edit.setFixedWidth(max(width, 100))
        self.time_edit = QLineEdit(self)
        self.time_edit.setObjectName(f"time_{fdef.id}")
        self.time_edit.setPlaceholderText(_("HH:MM"))
        self.time_edit.setAccessibleName(_("Time"))
        self.time_edit.setToolTip(_("Type the time: 14:30, 1430 or 930."))
        self.time_edit.setFixedWidth(self.time_edit.fontMetrics().horizontalAdvance("00:00") + 24)
        self.now_button = QToolButton(self)
        self.now_button.setObjectName(f"now_{fdef.id}")
        self.now_button.setText(_("Now"))
        self.day_button = QToolButton(self)
        self.day_button.setObjectName(f"day_{fdef.id}")
        self.day_button.setText(_("Day"))
        self.day_button.setToolTip(_("Today, yesterday or the date of this form"))
        self.day_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.day_button)
        menu.aboutToShow.connect(lambda: self._fill_day_menu(menu))
        self.day_button.setMenu(menu)
        self.clear_button = QToolButton(self)
        self.clear_button.setText("×")
        self.clear_button.setToolTip(_("Clear"))
        self.offset_label = plain_label("", self)
        layout.addWidget(self.date_edit)
        layout.addWidget(self.time_edit)
        layout.addWidget(self.offset_label)
        layout.addWidget(self.now_button)
        layout.addWidget(self.day_button)
        layout.addWidget(self.clear_button)
        layout.addStretch(1)
        self.date_edit.textChanged.connect(self._on_edited)
        self.time_edit.textChanged.connect(self._on_edited)
        self.date_edit.editingFinished.connect(self._tidy_date)
        self.time_edit.editingFinished.connect(self._tidy_time)
        self.now_button.clicked.connect(self._on_now_clicked)
        self.clear_button.clicked.connect(lambda: self.set_value(None))

    # --- shortcuts ---

    def form_date(self) -> date | None:
        """The form's own date (the date of the visit), when the form has one."""
        provider = self.ctx.extra.get("default_date")
        found = provider() if callable(provider) else None
        return found if isinstance(found, date) else None

    def _fill_day_menu(self, menu: QMenu) -> None:
        menu.clear()
        today = date.today()
        choices = [(_("Today"), today), (_("Yesterday"), today - timedelta(days=1))]
        own = self.form_date()
        if own is not None:
            choices.insert(0, (_("Date of this form ({date})").format(date=own.isoformat()), own))
        for text, day in choices:
            action = menu.addAction(text)
            action.triggered.connect(lambda _c=False, d=day: self.set_date(d))

    def set_date(self, day: date) -> None:
        """Put ``day`` in the date (the time stays); the time field gets the focus."""
        self.date_edit.setText(day.isoformat())
        self.time_edit.setFocus()
        self.time_edit.selectAll()

    def _on_now_clicked(self) -> None:
        now = datetime.now().astimezone().replace(second=0, microsecond=0)
        self.set_value(now.isoformat(timespec="minutes"))

    def _tidy_date(self) -> None:
        day = parse_typed_date(self.date_edit.text(), self.form_date())
        if day is not None and self.date_edit.text() != day.isoformat():
            self.date_edit.setText(day.isoformat())

    def _tidy_time(self) -> None:
        hm = parse_typed_time(self.time_edit.text())
        if hm is None:
            return
        tidy = f"{hm[0]:02d}:{hm[1]:02d}"
        if self.time_edit.text() != tidy:
            self.time_edit.setText(tidy)
        if not self.date_edit.text().strip():
            self.date_edit.setText((self.form_date() or date.today()).isoformat())

    # --- value ---

    def _on_edited(self) -> None:
        self._show_offset()
        self.changed.emit()

    def _naive(self) -> datetime | None:
        hm = parse_typed_time(self.time_edit.text())
        date_text = self.date_edit.text().strip()
        day = (
            parse_typed_date(date_text, self.form_date())
            if date_text
            else (self.form_date() or date.today())
        )
        if hm is None or day is None:
            return None
        return datetime(day.year, day.month, day.day, hm[0], hm[1])

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
        date_text, time_text = self.date_edit.text().strip(), self.time_edit.text().strip()
        if not date_text and not time_text:
            return None
        naive = self._naive()
        if naive is None:
            # Handed on as typed: the form's check says the field needs a date and a time.
            return f"{date_text} {time_text}".strip()
        moment = naive.replace(tzinfo=timezone(self._offset_for(naive)))
        return moment.isoformat(timespec="minutes")

    def set_value(self, value: Any) -> None:
        moment = None
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                moment = None
        with QSignalBlocker(self.date_edit), QSignalBlocker(self.time_edit):
            if moment is None:
                self._offset = None
                self.date_edit.clear()
                self.time_edit.clear()
            else:
                self._offset = moment.utcoffset()
                self.date_edit.setText(moment.date().isoformat())
                self.time_edit.setText(f"{moment.hour:02d}:{moment.minute:02d}")
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
