"""Paragraph and table styles shared by every report.

One sans-serif face for text (DejaVu Sans covers Latin and Cyrillic) and a monospace face for hashes
and identifiers, so a lawyer can compare a SHA-256 character by character. Long unbroken tokens
(a 64-character hash in a narrow column, a pasted URL) are split by reportlab's ``splitLongWords``
instead of running over the margin.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import TableStyle

from fieldkit.export.reports.fonts import MONO, SANS, SANS_BOLD, register_fonts

INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#9a9a9a")
HEADER_FILL = colors.HexColor("#e6e9ee")
BANNER = colors.HexColor("#8b1a1a")
FLAG = colors.HexColor("#b00020")
MARK = colors.HexColor("#c62828")


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    note: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    label: ParagraphStyle
    cell_mono: ParagraphStyle
    mono: ParagraphStyle
    flag: ParagraphStyle
    banner: ParagraphStyle


def make_styles() -> Styles:
    register_fonts()
    base = ParagraphStyle(
        "fk-body",
        fontName=SANS,
        fontSize=9.5,
        leading=12.5,
        textColor=INK,
        alignment=TA_LEFT,
        spaceAfter=4,
        splitLongWords=1,
        allowWidows=0,
        allowOrphans=0,
    )
    cell = ParagraphStyle("fk-cell", parent=base, fontSize=8.3, leading=10.4, spaceAfter=0)
    return Styles(
        title=ParagraphStyle(
            "fk-title", parent=base, fontName=SANS_BOLD, fontSize=20, leading=25, spaceAfter=10
        ),
        subtitle=ParagraphStyle(
            "fk-subtitle", parent=base, fontSize=12.5, leading=16, spaceAfter=12, textColor=MUTED
        ),
        h1=ParagraphStyle(
            "fk-h1",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=15,
            leading=19,
            spaceBefore=6,
            spaceAfter=8,
            keepWithNext=1,
        ),
        h2=ParagraphStyle(
            "fk-h2",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=12,
            leading=15,
            spaceBefore=10,
            spaceAfter=5,
            keepWithNext=1,
        ),
        h3=ParagraphStyle(
            "fk-h3",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=10,
            leading=13,
            spaceBefore=7,
            spaceAfter=3,
            keepWithNext=1,
        ),
        body=base,
        small=ParagraphStyle("fk-small", parent=base, fontSize=8.3, leading=10.6),
        note=ParagraphStyle(
            "fk-note", parent=base, fontSize=8.3, leading=10.6, textColor=MUTED, spaceAfter=5
        ),
        cell=cell,
        cell_bold=ParagraphStyle("fk-cell-bold", parent=cell, fontName=SANS_BOLD),
        label=ParagraphStyle(
            "fk-label",
            parent=cell,
            fontName=SANS_BOLD,
            spaceBefore=4,
            spaceAfter=2,
            keepWithNext=1,
        ),
        cell_mono=ParagraphStyle("fk-cell-mono", parent=cell, fontName=MONO, fontSize=7.6),
        mono=ParagraphStyle("fk-mono", parent=base, fontName=MONO, fontSize=8, leading=10.5),
        flag=ParagraphStyle("fk-flag", parent=cell, fontName=SANS_BOLD, textColor=FLAG),
        banner=ParagraphStyle(
            "fk-banner",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=8,
            leading=10,
            textColor=BANNER,
            alignment=TA_CENTER,
            spaceAfter=0,
        ),
    )


def grid_style(header_rows: int = 1) -> TableStyle:
    """A ruled table with a shaded header row that repeats on every page it spans."""
    commands: list[tuple[object, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        # Cells hold paragraphs in our fonts, but a cell's own font (Helvetica unless set) would
        # still be written into the PDF, unembedded.
        ("FONTNAME", (0, 0), (-1, -1), SANS),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_FILL))
    return TableStyle(commands)


def field_table_style() -> TableStyle:
    """Two columns, label and value, lightly ruled: the look of a filled-in form."""
    return TableStyle(
        [
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
            ("FONTNAME", (0, 0), (-1, -1), SANS),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
    )
