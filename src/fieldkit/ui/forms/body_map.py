"""Injuries on a body diagram: front and back outlines drawn in code, numbered marks, details.

The value is exactly what the interview template's ``body_map`` field holds: a list of marks, each
``{"view": "front" | "back" | ..., "x": 0..1, "y": 0..1, "injury_type": ..., ...}`` with the
built-in entry fields of :data:`fieldkit.domain.forms.BODY_MAP_FIELDS`. ``x`` and ``y`` are relative
to the view's own drawing area, from its top-left corner, so a mark lands on the same spot of the
body whatever the widget's size. Marks of other views (left, right, head...) entered elsewhere are
kept and listed; only front and back are drawn here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from fieldkit.domain.forms import BODY_MAP_FIELDS, FieldDef, FieldType
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.i18n import _
from fieldkit.ui.forms.base import FieldWidget, FormContext, editor_for, split_path
from fieldkit.ui.forms.common import ERROR_STYLE, language, plain_label, translate_reason
from fieldkit.ui.forms.scope import FieldsForm

DRAWN_VIEWS: tuple[str, ...] = ("front", "back")
# Width : height of one view's drawing area.
VIEW_ASPECT = 0.45
_POSITION_FIELDS = ("view", "x", "y")
_MARK_RADIUS = 9.0


def _body_outline() -> QPainterPath:
    """A neutral human outline in a 1 x 1 box (x across, y down), symmetric about x = 0.5."""
    path = QPainterPath()
    # head and neck
    path.addEllipse(QRectF(0.40, 0.015, 0.20, 0.105))
    path.addRect(QRectF(0.46, 0.115, 0.08, 0.03))
    # torso with shoulders and hips
    torso = QPainterPath()
    torso.moveTo(0.30, 0.155)
    torso.lineTo(0.70, 0.155)
    torso.quadTo(0.74, 0.17, 0.73, 0.22)
    torso.lineTo(0.69, 0.43)
    torso.quadTo(0.70, 0.50, 0.68, 0.54)
    torso.lineTo(0.32, 0.54)
    torso.quadTo(0.30, 0.50, 0.31, 0.43)
    torso.lineTo(0.27, 0.22)
    torso.quadTo(0.26, 0.17, 0.30, 0.155)
    torso.closeSubpath()
    path.addPath(torso)
    # arms
    for side in (-1, 1):
        arm = QPainterPath()
        x0 = 0.5 + side * 0.215
        arm.moveTo(x0, 0.17)
        arm.lineTo(0.5 + side * 0.29, 0.19)
        arm.lineTo(0.5 + side * 0.36, 0.46)
        arm.lineTo(0.5 + side * 0.375, 0.53)
        arm.quadTo(0.5 + side * 0.36, 0.565, 0.5 + side * 0.325, 0.545)
        arm.lineTo(0.5 + side * 0.305, 0.47)
        arm.lineTo(0.5 + side * 0.245, 0.26)
        arm.closeSubpath()
        path.addPath(arm)
    # legs
    for side in (-1, 1):
        leg = QPainterPath()
        leg.moveTo(0.5 + side * 0.18, 0.54)
        leg.lineTo(0.5 + side * 0.19, 0.76)
        leg.lineTo(0.5 + side * 0.16, 0.955)
        leg.quadTo(0.5 + side * 0.20, 0.985, 0.5 + side * 0.09, 0.985)
        leg.lineTo(0.5 + side * 0.075, 0.76)
        leg.lineTo(0.5 + side * 0.015, 0.56)
        leg.lineTo(0.5, 0.54)
        leg.closeSubpath()
        path.addPath(leg)
    return path


_OUTLINE = _body_outline()


def region_at(view: str, x: float, y: float) -> tuple[str | None, str | None]:
    """The body region and the person's side under a point of the front or back outline.

    Bands follow the outline above; on the front view the person's right is on the viewer's
    left, on the back view it is on the viewer's right. None where the point is off the body.
    """
    if view not in ("front", "back") or not _OUTLINE.contains(QPointF(x, y)):
        return None, None
    dx = x - 0.5
    front = view == "front"
    side = "midline" if abs(dx) < 0.03 else ("right" if (dx < 0) == front else "left")
    if abs(dx) >= 0.235 and 0.155 <= y < 0.57:
        limb = (
            "shoulder"
            if y < 0.22
            else "upper_arm"
            if y < 0.33
            else "forearm"
            if y < 0.46
            else "wrist"
            if y < 0.50
            else "hand"
        )
        return limb, side
    if y < 0.115:
        return ("face" if front and y > 0.03 else "head"), side
    if y < 0.155:
        return "neck", side
    if y < 0.54:
        if y < 0.33:
            return ("chest" if front else "back_upper"), side
        if y < 0.47 or not front and y < 0.5:
            return ("abdomen" if front else "back_lower"), side
        if front:
            return ("genitals" if abs(dx) < 0.06 else "abdomen"), side
        return "buttocks", side
    if y < 0.60:
        if front:
            return ("genitals" if abs(dx) < 0.03 else "thigh"), side
        return "buttocks", side
    for limit, name in ((0.74, "thigh"), (0.79, "knee"), (0.92, "lower_leg"), (0.955, "ankle")):
        if y < limit:
            return name, side
    return "foot", side


class BodyMapCanvas(QWidget):
    """The two views side by side; click places a mark, click on a mark selects it.

    Emits:
        placed(str view, float x, float y): a click on a view away from existing marks.
        selected(int index): a click on an existing mark.
    """

    placed = Signal(str, float, float)
    selected = Signal(int)
    delete_requested = Signal()
    # From the keyboard: move the selected mark by (dx, dy) in its view's 0..1 box.
    move_requested = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bodyMapCanvas")
        self.marks: list[dict[str, Any]] = []
        self.current = -1
        self.read_only = False
        self.error_marks: set[int] = set()
        self.setMinimumSize(220, 300)  # beside the details inside a 1366 px laptop window
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(_("Click on the body to mark an injury; click a mark to select it."))

    def sizeHint(self) -> QSize:
        return QSize(360, 420)

    def view_rect(self, view: str) -> QRectF:
        """Where a view is drawn in widget coordinates (the 0..1 box of its marks)."""
        caption = 22.0
        margin = 8.0
        width = self.width() - 3 * margin
        height = self.height() - caption - 2 * margin
        view_w = min(width / 2, height * VIEW_ASPECT)
        view_h = view_w / VIEW_ASPECT
        total = 2 * view_w + margin
        left = (self.width() - total) / 2
        top = margin
        index = DRAWN_VIEWS.index(view)
        return QRectF(left + index * (view_w + margin), top, view_w, view_h)

    def point_for(self, view: str, x: float, y: float) -> QPointF:
        rect = self.view_rect(view)
        return QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height())

    def mark_at(self, pos: QPointF) -> int:
        for index in range(len(self.marks) - 1, -1, -1):
            mark = self.marks[index]
            if mark.get("view") not in DRAWN_VIEWS:
                continue
            x, y = mark.get("x"), mark.get("y")
            if not isinstance(x, int | float) or not isinstance(y, int | float):
                continue
            point = self.point_for(str(mark["view"]), float(x), float(y))
            if (point - pos).manhattanLength() <= _MARK_RADIUS * 1.5:
                return index
        return -1

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        pos = event.position()
        hit = self.mark_at(pos)
        if hit >= 0:
            self.selected.emit(hit)
            return
        if self.read_only:
            return
        for view in DRAWN_VIEWS:
            rect = self.view_rect(view)
            if rect.contains(pos):
                x = (pos.x() - rect.left()) / rect.width()
                y = (pos.y() - rect.top()) / rect.height()
                self.placed.emit(
                    view, round(min(max(x, 0.0), 1.0), 4), round(min(max(y, 0.0), 1.0), 4)
                )
                return

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """The keyboard does what the mouse does: Insert or Enter places a mark (in the middle
        of the front view, or beside the selected one), Page Up/Down select the previous or
        next mark, the arrows move the selected one (Shift: in bigger steps), Delete removes
        it."""
        key = event.key()
        if self.read_only:
            super().keyPressEvent(event)
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_requested.emit()
            return
        if key in (Qt.Key.Key_Insert, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if 0 <= self.current < len(self.marks):
                mark = self.marks[self.current]
                view = str(mark.get("view", "front"))
                x, y = float(mark.get("x", 0.5)), min(0.98, float(mark.get("y", 0.3)) + 0.04)
            else:
                view, x, y = "front", 0.5, 0.3
            self.placed.emit(view if view in DRAWN_VIEWS else "front", x, y)
            return
        if key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown) and self.marks:
            step = -1 if key == Qt.Key.Key_PageUp else 1
            self.selected.emit((max(self.current, 0) + step) % len(self.marks))
            return
        arrows = {
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
        }
        if key in arrows and 0 <= self.current < len(self.marks):
            size = 0.05 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.01
            dx, dy = arrows[Qt.Key(key)]
            self.move_requested.emit(dx * size, dy * size)
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        outline_pen = QPen(palette.text().color(), 1.6)
        fill = QColor(palette.window().color())
        captions = {"front": _("Front"), "back": _("Back")}
        for view in DRAWN_VIEWS:
            rect = self.view_rect(view)
            painter.save()
            painter.translate(rect.topLeft())
            painter.scale(rect.width(), rect.height())
            pen = QPen(outline_pen)
            pen.setWidthF(outline_pen.widthF() / rect.width())
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(QBrush(fill))
            painter.drawPath(_OUTLINE)
            detail = QPen(palette.mid().color(), 1.0)
            detail.setCosmetic(True)
            detail.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(detail)
            if view == "back":
                painter.drawLine(QPointF(0.5, 0.16), QPointF(0.5, 0.52))  # spine
            else:
                painter.drawLine(QPointF(0.5, 0.16), QPointF(0.5, 0.30))  # sternum
            painter.restore()
            painter.setPen(palette.text().color())
            caption_rect = QRectF(rect.left(), rect.bottom() + 2, rect.width(), 20)
            painter.drawText(caption_rect, Qt.AlignmentFlag.AlignCenter, captions[view])
            # The person's right is on the viewer's left in the front view, and the other way
            # round from the back.
            small = QFont(painter.font())
            small.setPointSizeF(max(small.pointSizeF() - 1, 6))
            painter.setFont(small)
            left_side, right_side = (_("R"), _("L")) if view == "front" else (_("L"), _("R"))
            painter.drawText(
                QRectF(rect.left(), rect.top(), 20, 16), Qt.AlignmentFlag.AlignLeft, left_side
            )
            painter.drawText(
                QRectF(rect.right() - 20, rect.top(), 20, 16),
                Qt.AlignmentFlag.AlignRight,
                right_side,
            )
            painter.setFont(self.font())
        for index, mark in enumerate(self.marks):
            if mark.get("view") not in DRAWN_VIEWS:
                continue
            x, y = mark.get("x"), mark.get("y")
            if not isinstance(x, int | float) or not isinstance(y, int | float):
                continue
            point = self.point_for(str(mark["view"]), float(x), float(y))
            colour = QColor("#b00020") if index in self.error_marks else QColor("#c62828")
            if index == self.current:
                colour = QColor("#0d47a1")
            painter.setPen(QPen(QColor("white"), 1.5))
            painter.setBrush(QBrush(colour))
            painter.drawEllipse(point, _MARK_RADIUS, _MARK_RADIUS)
            painter.setPen(QColor("white"))
            font = QFont(self.font())
            font.setBold(True)
            font.setPointSizeF(max(font.pointSizeF() - 1.5, 6))
            painter.setFont(font)
            painter.drawText(
                QRectF(
                    point.x() - _MARK_RADIUS,
                    point.y() - _MARK_RADIUS,
                    2 * _MARK_RADIUS,
                    2 * _MARK_RADIUS,
                ),
                Qt.AlignmentFlag.AlignCenter,
                str(index + 1),
            )
            painter.setFont(self.font())
        painter.end()


class BodyMapField(FieldWidget):
    """Editor of a ``body_map`` field: diagram, list of marks, the selected mark's details."""

    def __init__(self, fdef: FieldDef, ctx: FormContext, parent: QWidget | None = None) -> None:
        super().__init__(fdef, ctx, parent)
        self.marks: list[dict[str, Any]] = []
        self._loading = False
        self.views = load_vocabulary("body_views")
        self.injury_types = load_vocabulary("injury_types")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        hint = plain_label(
            _(
                "Click on the diagram where the injury is. Observations by monitors are not "
                "medical opinions."
            ),
            self,
        )
        hint.setWordWrap(True)
        outer.addWidget(hint)
        body = QHBoxLayout()
        outer.addLayout(body)
        self.canvas = BodyMapCanvas(self)
        body.addWidget(self.canvas, 3)
        side = QVBoxLayout()
        body.addLayout(side, 4)
        self.mark_list = QListWidget(self)
        self.mark_list.setObjectName("bodyMapMarks")
        self.mark_list.setMaximumHeight(120)
        side.addWidget(self.mark_list)
        buttons = QHBoxLayout()
        self.delete_button = QPushButton(_("Delete mark"), self)
        self.delete_button.setObjectName("bodyMapDelete")
        self.delete_button.setEnabled(False)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        side.addLayout(buttons)
        self.details_title = plain_label("", self)
        font = self.details_title.font()
        font.setBold(True)
        self.details_title.setFont(font)
        side.addWidget(self.details_title)
        self.details = FieldsForm(BODY_MAP_FIELDS, ctx, parent=self, skip=_POSITION_FIELDS)
        self.details.setObjectName("bodyMapDetails")
        self.details.setEnabled(False)
        side.addWidget(self.details)
        side.addStretch(1)
        self.error = plain_label("", self)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        outer.addWidget(self.error)
        self.canvas.placed.connect(self._on_canvas_placed)
        self.canvas.selected.connect(self.select_mark)
        self.canvas.delete_requested.connect(self._on_delete_clicked)
        self.canvas.move_requested.connect(self.move_current)
        self.mark_list.currentRowChanged.connect(self._on_list_row_changed)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.details.changed.connect(self._on_details_changed)
        self._show_details()

    # value

    def value(self) -> Any:
        self._store_details()
        return [dict(mark) for mark in self.marks] or None

    def set_value(self, value: Any) -> None:
        self.marks = (
            [dict(m) for m in value if isinstance(m, dict)] if isinstance(value, list) else []
        )
        self.canvas.current = -1
        self._rebuild_list()
        self.select_mark(0 if self.marks else -1)
        self.changed.emit()

    # marks

    @property
    def current(self) -> int:
        return self.canvas.current

    def add_mark(self, view: str, x: float, y: float) -> int:
        self._store_details()
        mark: dict[str, Any] = {"view": view, "x": x, "y": y}
        # Where the click fell fills in region and side; the person can still change them.
        region, side = region_at(view, x, y)
        if region is not None:
            mark["region"] = region
        if side is not None:
            mark["side"] = side
        self.marks.append(mark)
        self._rebuild_list()
        self.select_mark(len(self.marks) - 1)
        self.changed.emit()
        return len(self.marks) - 1

    def move_current(self, dx: float, dy: float) -> None:
        """Move the selected mark inside its view; region and side follow the new place."""
        index = self.current
        if not 0 <= index < len(self.marks):
            return
        mark = self.marks[index]
        x = min(1.0, max(0.0, float(mark.get("x", 0.5)) + dx))
        y = min(1.0, max(0.0, float(mark.get("y", 0.5)) + dy))
        mark["x"], mark["y"] = round(x, 4), round(y, 4)
        region, side = region_at(str(mark.get("view", "")), x, y)
        if region is not None:
            mark["region"], mark["side"] = region, side
            with QSignalBlocker(self.details):
                self.details.editor("region").set_value(region)
                self.details.editor("side").set_value(side)
        self.canvas.update()
        self.changed.emit()

    def delete_mark(self, index: int) -> None:
        if not 0 <= index < len(self.marks):
            return
        self.marks.pop(index)
        self.canvas.current = -1
        self._rebuild_list()
        self.select_mark(min(index, len(self.marks) - 1))
        self.changed.emit()

    def select_mark(self, index: int) -> None:
        self._store_details()
        self.canvas.current = index if 0 <= index < len(self.marks) else -1
        with QSignalBlocker(self.mark_list):
            self.mark_list.setCurrentRow(self.canvas.current)
        self._show_details()
        self.canvas.update()

    def _on_canvas_placed(self, view: str, x: float, y: float) -> None:
        self.add_mark(view, x, y)
        self.details.focus_first()

    def _on_list_row_changed(self, row: int) -> None:
        self.select_mark(row)

    def _on_delete_clicked(self) -> None:
        self.delete_mark(self.current)

    def _on_details_changed(self) -> None:
        if self._loading:
            return
        self._store_details()
        self._update_list_texts()
        self.changed.emit()

    def _store_details(self) -> None:
        index = self.canvas.current
        if self._loading or not 0 <= index < len(self.marks):
            return
        mark = self.marks[index]
        kept = {k: mark[k] for k in _POSITION_FIELDS if k in mark}
        kept.update(self.details.value())
        self.marks[index] = kept

    def _show_details(self) -> None:
        index = self.canvas.current
        self._loading = True
        try:
            if 0 <= index < len(self.marks):
                mark = self.marks[index]
                self.details.set_value({k: v for k, v in mark.items() if k not in _POSITION_FIELDS})
                self.details.setEnabled(not self.ctx.read_only)
                self.details_title.setText(_("Mark {number}").format(number=index + 1))
                self.delete_button.setEnabled(not self.ctx.read_only)
            else:
                self.details.set_value({})
                self.details.setEnabled(False)
                self.details_title.setText(_("No mark selected"))
                self.delete_button.setEnabled(False)
        finally:
            self._loading = False

    def _mark_text(self, index: int) -> str:
        mark = self.marks[index]
        lang = language()
        view = self.views.label(str(mark.get("view", "")), lang)
        kind = mark.get("injury_type")
        kind_text = self.injury_types.label(kind, lang) if isinstance(kind, str) else _("type?")
        return f"{index + 1}. {kind_text} — {view}"

    def _rebuild_list(self) -> None:
        with QSignalBlocker(self.mark_list):
            self.mark_list.clear()
            for index in range(len(self.marks)):
                QListWidgetItem(self._mark_text(index), self.mark_list)
        self.canvas.marks = self.marks
        self.canvas.update()

    def _update_list_texts(self) -> None:
        for index in range(min(len(self.marks), self.mark_list.count())):
            self.mark_list.item(index).setText(self._mark_text(index))
        self.canvas.update()

    # issues

    def describe(self, index: int | None, rest: str | None) -> str:
        parts = []
        if index is not None:
            parts.append(_("Mark {number}").format(number=index + 1))
        if rest:
            head, _i, _r = split_path(rest)
            field = next((f for f in BODY_MAP_FIELDS if f.id == head), None)
            if field is not None:
                parts.append(field.label.get(language()))
        return " · ".join(parts)

    def route_issue(self, index: int | None, rest: str | None, reason: str) -> bool:
        if index is None:
            return False
        self.canvas.error_marks.add(index)
        text = f"{self.describe(index, rest)}: {translate_reason(reason)}"
        existing = self.error.text()
        self.error.setText(f"{existing}\n{text}" if existing else text)
        self.error.show()
        if index == self.canvas.current and rest:
            self.details.show_issue(rest, reason)
        self.canvas.update()
        return True

    def clear_issues(self) -> None:
        self.canvas.error_marks.clear()
        self.error.clear()
        self.error.hide()
        self.details.clear_issues()
        self.canvas.update()

    def set_read_only(self, read_only: bool) -> None:
        self.canvas.read_only = read_only
        self.details.setEnabled(not read_only and self.canvas.current >= 0)
        self.delete_button.setEnabled(not read_only and self.canvas.current >= 0)


editor_for(FieldType.BODY_MAP)(BodyMapField)
