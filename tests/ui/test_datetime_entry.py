"""Times of a past visit typed in quickly: "1430" or "14:30", the date taken from the visit,
today and yesterday one click (or one word) away; the wheel changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt

from fieldkit import i18n
from fieldkit.ui.forms.inputs import DateTimeField, parse_typed_date, parse_typed_time
from fieldkit.ui.forms.renderer import FormEditor
from tests.ui.forms_support import ref_options


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("14:30", (14, 30)),
        ("1430", (14, 30)),
        ("930", (9, 30)),
        ("9:05", (9, 5)),
        ("9.30", (9, 30)),
        ("14", (14, 0)),
        (" 0715 ", (7, 15)),
        ("2430", None),
        ("14:75", None),
        ("half past", None),
        ("", None),
    ],
)
def test_typed_times(typed: str, expected: tuple[int, int] | None) -> None:
    assert parse_typed_time(typed) == expected


def test_typed_dates() -> None:
    visit_day = date(2024, 3, 5)
    assert parse_typed_date("2024-03-05") == visit_day
    assert parse_typed_date("5.3.2024") == visit_day
    assert parse_typed_date("05.03.24") == visit_day
    assert parse_typed_date("5.3", date(2024, 1, 1)) == visit_day
    assert parse_typed_date("today") == date.today()
    assert parse_typed_date("yesterday") == date.today() - timedelta(days=1)
    assert parse_typed_date("31.2.2024") is None
    assert parse_typed_date("soon") is None


def _visit(qtbot: Any) -> FormEditor:
    editor = FormEditor(None, "visit", ref_provider=ref_options)
    qtbot.addWidget(editor)
    editor.show()
    editor.editor("visit_date").set_value({"value": "2024-03-05", "precision": "exact"})
    return editor


def _type_time(qtbot: Any, field: DateTimeField, text: str) -> None:
    field.time_edit.setFocus()
    qtbot.keyClicks(field.time_edit, text)
    qtbot.keyClick(field.time_edit, Qt.Key.Key_Return)


def test_a_typed_time_takes_the_date_of_the_visit(qtbot: Any) -> None:
    editor = _visit(qtbot)
    arrived = editor.editor("admitted_at")
    assert isinstance(arrived, DateTimeField)
    _type_time(qtbot, arrived, "1430")
    assert arrived.time_edit.text() == "14:30"
    assert arrived.date_edit.text() == "2024-03-05"
    value = arrived.value()
    assert value.startswith("2024-03-05T14:30")
    assert value[16] in "+-"  # the offset is kept
    left = editor.editor("left_at")
    _type_time(qtbot, left, "1825")
    assert editor.value()["left_at"].startswith("2024-03-05T18:25")
    # The computed duration follows at once.
    assert "3 h 55 min" in editor.editor("visit_duration_minutes").display.text()


def test_day_menu_offers_the_visit_date_today_and_yesterday(qtbot: Any) -> None:
    editor = _visit(qtbot)
    field = editor.editor("admitted_at")
    assert isinstance(field, DateTimeField)
    menu = field.day_button.menu()
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Date of this form (2024-03-05)", "Today", "Yesterday"]
    menu.actions()[2].trigger()
    assert field.date_edit.text() == (date.today() - timedelta(days=1)).isoformat()
    _type_time(qtbot, field, "9:40")
    assert field.value().startswith(f"{(date.today() - timedelta(days=1)).isoformat()}T09:40")


def test_dates_typed_the_local_way_and_in_ukrainian(qtbot: Any) -> None:
    i18n.set_language("uk")
    editor = _visit(qtbot)
    field = editor.editor("arrived_at_gate")
    assert isinstance(field, DateTimeField)
    field.date_edit.setText("вчора")  # (QTest types Latin keys only)
    field.date_edit.editingFinished.emit()
    assert field.date_edit.text() == (date.today() - timedelta(days=1)).isoformat()
    field.date_edit.clear()
    field.date_edit.setFocus()
    qtbot.keyClicks(field.date_edit, "4.3")
    qtbot.keyClick(field.date_edit, Qt.Key.Key_Return)
    assert field.date_edit.text() == "2024-03-04"


def test_an_unreadable_time_is_named_by_the_check_not_lost(qtbot: Any) -> None:
    editor = _visit(qtbot)
    field = editor.editor("admitted_at")
    _type_time(qtbot, field, "25:10")
    assert field.time_edit.text() == "25:10"
    assert field.value() == "2024-03-05 25:10" or field.value() == "25:10"
    assert "admitted_at" in [issue.field for issue in editor.issues()]


def test_a_stored_time_reads_back_unchanged(qtbot: Any) -> None:
    editor = _visit(qtbot)
    field = editor.editor("left_at")
    field.set_value("2024-03-05T23:50+03:00")
    assert (field.date_edit.text(), field.time_edit.text()) == ("2024-03-05", "23:50")
    assert field.offset_label.text() == "UTC+03:00"
    assert field.value() == "2024-03-05T23:50+03:00"
