"""The body diagram: clicking places numbered marks at normalised positions; details per mark."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt

from fieldkit.domain.common import InjuryMark
from fieldkit.domain.forms import load_template
from fieldkit.domain.validation import issues_for
from fieldkit.ui.forms.body_map import BodyMapField
from fieldkit.ui.forms.fields import FormContext


@pytest.fixture
def body_map(qtbot: Any) -> BodyMapField:
    fdef = load_template("interview").field("injuries")
    widget = BodyMapField(fdef, FormContext())
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _click(qtbot: Any, body_map: BodyMapField, view: str, x: float, y: float) -> None:
    rect = body_map.canvas.view_rect(view)
    point = QPoint(round(rect.left() + x * rect.width()), round(rect.top() + y * rect.height()))
    qtbot.mouseClick(body_map.canvas, Qt.MouseButton.LeftButton, pos=point)


def test_click_places_a_mark_with_normalised_coordinates(
    body_map: BodyMapField, qtbot: Any
) -> None:
    canvas = body_map.canvas
    front, back = canvas.view_rect("front"), canvas.view_rect("back")
    assert front.right() < back.left()  # side by side, not overlapping
    _click(qtbot, body_map, "front", 0.5, 0.3)
    _click(qtbot, body_map, "back", 0.3, 0.8)
    marks = body_map.value()
    assert [m["view"] for m in marks] == ["front", "back"]
    # A pixel of the widget is a little over 1/600 of a view: allow one pixel either way.
    tolerance = 1.5 / min(front.width(), front.height())
    assert marks[0]["x"] == pytest.approx(0.5, abs=tolerance)
    assert marks[0]["y"] == pytest.approx(0.3, abs=tolerance)
    assert marks[1]["x"] == pytest.approx(0.3, abs=tolerance)
    assert marks[1]["y"] == pytest.approx(0.8, abs=tolerance)
    assert body_map.current == 1  # the new mark is selected for its details
    assert body_map.mark_list.count() == 2
    assert body_map.mark_list.item(0).text().startswith("1. ")
    assert body_map.details_title.text() == "Mark 2"


def test_the_same_spot_lands_on_the_same_place_whatever_the_size(
    body_map: BodyMapField, qtbot: Any
) -> None:
    _click(qtbot, body_map, "front", 0.62, 0.41)
    before = body_map.value()[0]
    body_map.resize(500, 900)
    qtbot.wait(10)
    point = body_map.canvas.point_for("front", before["x"], before["y"])
    rect = body_map.canvas.view_rect("front")
    assert (point.x() - rect.left()) / rect.width() == pytest.approx(0.62, abs=0.01)
    # Clicking on the mark now selects it instead of adding another.
    body_map.select_mark(-1)
    qtbot.mouseClick(body_map.canvas, Qt.MouseButton.LeftButton, pos=point.toPoint())
    assert len(body_map.value()) == 1
    assert body_map.current == 0


def test_outside_the_body_views_nothing_happens(body_map: BodyMapField, qtbot: Any) -> None:
    qtbot.mouseClick(body_map.canvas, Qt.MouseButton.LeftButton, pos=QPoint(1, 1))
    assert body_map.value() is None


def test_details_edit_and_delete(body_map: BodyMapField, qtbot: Any) -> None:
    _click(qtbot, body_map, "front", 0.4, 0.2)
    details = body_map.details
    details.editor("injury_type").set_value("burn")
    details.editor("size_cm").set_value(2.5)
    details.editor("shape").set_value("round")
    details.editor("colour").set_value("dark red")
    details.editor("reported_cause").set_value("cigarette")
    details.editor("reported_date").set_value({"value": "2024-02", "precision": "day_unknown"})
    details.editor("scale_used").set_value(True)
    assert body_map.mark_list.item(0).text() == "1. Burn — Front"
    _click(qtbot, body_map, "back", 0.5, 0.5)
    details.editor("injury_type").set_value("bruise")
    # Going back to mark 1 shows its own details.
    body_map.mark_list.setCurrentRow(0)
    assert details.editor("shape").value() == "round"
    marks = body_map.value()
    assert marks[0] == {
        "view": "front",
        "x": pytest.approx(0.4, abs=0.01),
        "y": pytest.approx(0.2, abs=0.01),
        # Filled in from where the click fell (new with F-finding "region and side").
        "region": "chest",
        "side": "right",
        "injury_type": "burn",
        "size_cm": 2.5,
        "shape": "round",
        "colour": "dark red",
        "reported_cause": "cigarette",
        "reported_date": {"value": "2024-02", "precision": "day_unknown"},
        "scale_used": True,
    }
    # The shape is exactly what the interview template's body map takes.
    for mark in marks:
        InjuryMark.model_validate(mark)
    assert not [
        i for i in issues_for("interview", {"injuries": marks}) if i.field.startswith("injuries")
    ]
    qtbot.mouseClick(body_map.delete_button, Qt.MouseButton.LeftButton)
    remaining = body_map.value()
    assert len(remaining) == 1
    assert remaining[0]["injury_type"] == "bruise"
    assert body_map.mark_list.item(0).text() == "1. Bruise — Back"


def test_marks_of_other_views_are_kept(body_map: BodyMapField) -> None:
    marks = [
        {"view": "head", "x": 0.2, "y": 0.3, "injury_type": "scar"},
        {"view": "front", "x": 0.5, "y": 0.5, "injury_type": "swelling"},
    ]
    body_map.set_value(marks)
    assert body_map.value() == marks
    assert body_map.mark_list.count() == 2
    assert "Head" in body_map.mark_list.item(0).text()


def test_mark_without_type_is_reported_on_the_mark(body_map: BodyMapField, qtbot: Any) -> None:
    _click(qtbot, body_map, "front", 0.5, 0.5)
    issues = [
        i
        for i in issues_for("interview", {"injuries": body_map.value()})
        if i.field.startswith("injuries")
    ]
    assert [i.field for i in issues] == ["injuries[0].injury_type"]
    assert body_map.route_issue(0, "injury_type", issues[0].reason)
    assert body_map.error.text() == "Mark 1 · Injury type: This field is required."
    assert body_map.details.rows["injury_type"].error.text() == "This field is required."
    body_map.clear_issues()
    assert not body_map.error.isVisible()


def test_read_only_map_does_not_add_marks(body_map: BodyMapField, qtbot: Any) -> None:
    body_map.set_read_only(True)
    _click(qtbot, body_map, "front", 0.5, 0.5)
    assert body_map.value() is None


def test_delete_key_removes_the_selected_mark(body_map: BodyMapField, qtbot: Any) -> None:
    _click(qtbot, body_map, "front", 0.5, 0.4)
    _click(qtbot, body_map, "back", 0.5, 0.4)
    body_map.select_mark(0)
    qtbot.keyClick(body_map.canvas, Qt.Key.Key_Delete)
    assert [m["view"] for m in body_map.value()] == ["back"]


@pytest.mark.parametrize(
    ("view", "x", "y", "region", "side"),
    [
        ("front", 0.5, 0.3, "chest", "midline"),
        ("front", 0.42, 0.07, "face", "right"),  # the viewer's left is the person's right
        ("back", 0.42, 0.3, "back_upper", "left"),  # and the other way round from behind
        ("front", 0.82, 0.40, "forearm", "left"),
        ("back", 0.38, 0.85, "lower_leg", "left"),
        ("front", 0.40, 0.65, "thigh", "right"),
    ],
)
def test_a_click_fills_in_region_and_side(
    body_map: BodyMapField, qtbot: Any, view: str, x: float, y: float, region: str, side: str
) -> None:
    _click(qtbot, body_map, view, x, y)
    mark = body_map.value()[-1]
    assert (mark["region"], mark["side"]) == (region, side)
    assert body_map.details.raw("region") == region
    assert body_map.details.raw("side") == side


def test_marks_are_placed_selected_and_moved_from_the_keyboard(
    body_map: BodyMapField, qtbot: Any
) -> None:
    canvas = body_map.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Insert)
    assert [(m["view"], m["x"], m["y"]) for m in body_map.value()] == [("front", 0.5, 0.3)]
    assert body_map.value()[0]["region"] == "chest"
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # a second mark beside the first
    assert len(body_map.value()) == 2
    assert body_map.current == 1
    qtbot.keyClick(canvas, Qt.Key.Key_PageUp)
    assert body_map.current == 0
    for _ in range(3):
        qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    first = body_map.value()[0]
    assert first["x"] == pytest.approx(0.53)
    assert first["y"] == pytest.approx(0.35)
    assert first["side"] == "left", "moved to the person's left on the front view"
    assert body_map.details.raw("side") == "left"
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert len(body_map.value()) == 1
