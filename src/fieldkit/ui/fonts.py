"""The monospace face for hashes, codes and fingerprints: the DejaVu Sans Mono fieldkit ships.

The system's default fixed font is not dependable (on some systems it reports no fixed pitch, and
it may lack Cyrillic), so the shipped file is registered with Qt once and used everywhere.
"""

from __future__ import annotations

import functools
import logging

from PySide6.QtGui import QFont, QFontDatabase

from fieldkit.domain.errors import FieldkitError
from fieldkit.resource_files import resource_path

log = logging.getLogger(__name__)

MONO_FILE = "DejaVuSansMono.ttf"


@functools.cache
def _mono_family() -> str | None:
    try:
        data = resource_path("fonts", MONO_FILE).read_bytes()
    except (OSError, FieldkitError):
        log.warning("the shipped monospace font is missing; using the system's fixed font")
        return None
    font_id = QFontDatabase.addApplicationFontFromData(data)
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        log.warning("the shipped monospace font could not be loaded; using the system's")
        return None
    return str(families[0])


def monospace_font() -> QFont:
    """DejaVu Sans Mono at the application's point size (the system fixed font if it is absent)."""
    family = _mono_family()
    if family is None:
        return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font = QFont(family)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFixedPitch(True)
    return font
