"""The report fonts: DejaVu Sans (regular, bold) and DejaVu Sans Mono, shipped with fieldkit.

They cover Latin, Cyrillic (Ukrainian and Russian letters included) and the symbols the reports
use. reportlab embeds only the glyphs a document uses (a subset), so a PDF carries its own fonts
and prints the same on any machine. The files are found through
:mod:`fieldkit.resource_files`, so a checkout, a wheel and a frozen build find them alike.
"""

from __future__ import annotations

import threading
from typing import Final

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.resource_files import resource_path

SANS: Final = "FieldkitSans"
SANS_BOLD: Final = "FieldkitSans-Bold"
MONO: Final = "FieldkitMono"

_FILES: Final = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    MONO: "DejaVuSansMono.ttf",
}

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register the report fonts with reportlab once per process (thread-safe, idempotent)."""
    global _registered
    with _lock:
        if _registered:
            return
        folder = resource_path("fonts")
        for name, filename in _FILES.items():
            entry = folder / filename
            try:
                # Read the bytes ourselves: the resource may live inside a zip or frozen build.
                data = entry.read_bytes()
            except OSError as exc:
                raise FieldkitError(ErrorCode.FONT_MISSING, name=filename) from exc
            try:
                pdfmetrics.registerFont(TTFont(name, _BytesSource(data)))
            except TTFError as exc:
                raise FieldkitError(ErrorCode.FONT_MISSING, name=filename) from exc
        # Paragraph markup <b> inside SANS text switches to the bold face.
        addMapping(SANS, 0, 0, SANS)
        addMapping(SANS, 1, 0, SANS_BOLD)
        addMapping(SANS, 0, 1, SANS)
        addMapping(SANS, 1, 1, SANS_BOLD)
        addMapping(MONO, 0, 0, MONO)
        addMapping(MONO, 1, 0, MONO)
        addMapping(MONO, 0, 1, MONO)
        addMapping(MONO, 1, 1, MONO)
        _registered = True


class _BytesSource:
    """A file-like view of font bytes, which reportlab's TTFont accepts in place of a path."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        return self._data
