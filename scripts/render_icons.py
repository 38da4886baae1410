#!/usr/bin/env python3
"""Render resources/icons/fieldkit.svg to the PNG sizes the desktop entries and installers use.

    QT_QPA_PLATFORM=offscreen python scripts/render_icons.py

The SVG is the source; the PNGs (and the Windows .ico and macOS .icns made from them) are
committed so that packaging needs no renderer.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    app = QGuiApplication(sys.argv)
    renderer = QSvgRenderer(str(ICONS / "fieldkit.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"fieldkit-{size}.png"), "PNG")
    del app
    from PIL import Image

    largest = Image.open(ICONS / "fieldkit-512.png")
    ico_sizes = [(n, n) for n in (16, 24, 32, 48, 64, 128, 256)]
    largest.save(ROOT / "packaging" / "windows" / "fieldkit.ico", sizes=ico_sizes)
    largest.save(ROOT / "packaging" / "macos" / "fieldkit.icns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
