"""Body diagrams for the injury documentation of an interview (Istanbul Protocol 2022, annex III).

A front and a back outline are drawn side by side with reportlab graphics; each recorded injury is a
numbered mark at its x,y (0..1 from the top-left corner of the view, as the form stores it), and a
legend table below explains every number. Marks on other views (head, hands, feet, ...) appear in
the legend with their view named, since only the front and back outlines are drawn.

The outline is defined in the same relative coordinates as the marks (``OUTLINE_RIGHT_HALF``),
so an on-screen diagram that uses it places marks exactly where the report prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from reportlab.graphics.shapes import Circle, Drawing, Ellipse, Line, Polygon, String
from reportlab.lib import colors

from fieldkit.export.reports.fonts import SANS, SANS_BOLD
from fieldkit.export.reports.styles import MARK, MUTED

# The right half of the figure as seen on the page (x >= 0.5), from the neck clockwise down to
# the crotch; the left half is its mirror image. x and y run 0..1 from the top-left corner.
OUTLINE_RIGHT_HALF: Final[tuple[tuple[float, float], ...]] = (
    (0.530, 0.125),
    (0.535, 0.160),
    (0.640, 0.182),
    (0.690, 0.205),
    (0.705, 0.250),
    (0.725, 0.360),
    (0.760, 0.490),
    (0.785, 0.540),
    (0.775, 0.575),
    (0.750, 0.580),
    (0.730, 0.545),
    (0.715, 0.495),
    (0.675, 0.375),
    (0.650, 0.280),
    (0.632, 0.400),
    (0.650, 0.480),
    (0.628, 0.700),
    (0.600, 0.925),
    (0.625, 0.975),
    (0.545, 0.982),
    (0.535, 0.930),
    (0.518, 0.560),
    (0.500, 0.530),
)
HEAD_CENTRE: Final = (0.5, 0.068)
HEAD_RADII: Final = (0.078, 0.060)
DRAWN_VIEWS: Final = ("front", "back")

VIEW_WIDTH: Final = 150.0
VIEW_HEIGHT: Final = 300.0
GAP: Final = 30.0
MARK_RADIUS: Final = 6.0


def outline_points() -> list[tuple[float, float]]:
    """The closed body outline in relative coordinates (right half, then the mirrored left)."""
    left = [(1.0 - x, y) for x, y in reversed(OUTLINE_RIGHT_HALF[:-1])]
    return [*OUTLINE_RIGHT_HALF, *left]


def _to_canvas(x: float, y: float, left: float) -> tuple[float, float]:
    return left + x * VIEW_WIDTH, (1.0 - y) * VIEW_HEIGHT


def _mark_position(mark: Mapping[str, Any]) -> tuple[float, float] | None:
    try:
        x = float(mark["x"])
        y = float(mark["y"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        return None
    return x, y


def body_diagram(
    marks: Sequence[Mapping[str, Any]],
    view_label: Callable[[str], str],
    side_letters: tuple[str, str],
) -> Drawing:
    """The front and back views with numbered marks; mark n is ``marks[n - 1]``.

    ``view_label`` names a view in the report language; ``side_letters`` are the short words for
    the person's right and left, printed beside the hands so nobody mirrors a diagram by mistake.
    """
    width = 2 * VIEW_WIDTH + GAP
    # The drawing's starting font, else reportlab's Helvetica goes into the PDF unembedded.
    drawing = Drawing(width, VIEW_HEIGHT + 18, initialFontName=SANS)
    right, left_letter = side_letters
    for index, view in enumerate(DRAWN_VIEWS):
        origin = index * (VIEW_WIDTH + GAP)
        points: list[float] = []
        for x, y in outline_points():
            points.extend(_to_canvas(x, y, origin))
        drawing.add(
            Polygon(
                points,
                strokeColor=colors.HexColor("#444444"),
                strokeWidth=0.9,
                fillColor=colors.HexColor("#f4f1ec"),
            )
        )
        cx, cy = _to_canvas(*HEAD_CENTRE, origin)
        drawing.add(
            Ellipse(
                cx,
                cy,
                HEAD_RADII[0] * VIEW_WIDTH,
                HEAD_RADII[1] * VIEW_HEIGHT,
                strokeColor=colors.HexColor("#444444"),
                strokeWidth=0.9,
                fillColor=colors.HexColor("#f4f1ec"),
            )
        )
        if view == "back":
            # The spine, so a back view is never mistaken for a front view.
            x0, y0 = _to_canvas(0.5, 0.17, origin)
            x1, y1 = _to_canvas(0.5, 0.47, origin)
            drawing.add(
                Line(x0, y0, x1, y1, strokeColor=MUTED, strokeWidth=0.5, strokeDashArray=[2, 2])
            )
        else:
            # Nose line and navel for the front view.
            x0, y0 = _to_canvas(0.5, 0.060, origin)
            x1, y1 = _to_canvas(0.5, 0.080, origin)
            drawing.add(Line(x0, y0, x1, y1, strokeColor=MUTED, strokeWidth=0.5))
            nx, ny = _to_canvas(0.5, 0.395, origin)
            drawing.add(Circle(nx, ny, 1.2, strokeColor=MUTED, fillColor=MUTED))
        # The person's right is on the viewer's left in a front view, on the right in a back view.
        lx, ly = _to_canvas(0.12, 0.60, origin)
        rx, _ry = _to_canvas(0.88, 0.60, origin)
        first, second = (right, left_letter) if view == "front" else (left_letter, right)
        for text, px in ((first, lx), (second, rx)):
            drawing.add(
                String(
                    px, ly, text, fontName=SANS, fontSize=8, fillColor=MUTED, textAnchor="middle"
                )
            )
        title_x, _unused = _to_canvas(0.5, 0.0, origin)
        drawing.add(
            String(
                title_x,
                VIEW_HEIGHT + 6,
                view_label(view),
                fontName=SANS_BOLD,
                fontSize=9,
                textAnchor="middle",
            )
        )
    for number, mark in enumerate(marks, start=1):
        view = str(mark.get("view", ""))
        if view not in DRAWN_VIEWS:
            continue
        position = _mark_position(mark)
        if position is None:
            continue
        origin = DRAWN_VIEWS.index(view) * (VIEW_WIDTH + GAP)
        mx, my = _to_canvas(position[0], position[1], origin)
        drawing.add(
            Circle(mx, my, MARK_RADIUS, strokeColor=colors.white, strokeWidth=0.6, fillColor=MARK)
        )
        label = str(number)
        size = 7.0 if number < 10 else (6.0 if number < 100 else 4.8)
        drawing.add(
            String(
                mx,
                my - size * 0.36,
                label,
                fontName=SANS_BOLD,
                fontSize=size,
                fillColor=colors.white,
                textAnchor="middle",
            )
        )
    return drawing


def mark_is_drawn(mark: Mapping[str, Any]) -> bool:
    """Whether a mark appears on the drawing (front or back view with a valid position)."""
    return str(mark.get("view", "")) in DRAWN_VIEWS and _mark_position(mark) is not None
