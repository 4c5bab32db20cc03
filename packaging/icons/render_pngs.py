"""Render packaging/icons/scimult-desktop.svg to PNGs (16..512 px) with Qt, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/icons/render_pngs.py

The PNGs are committed (desktop environments and AppStream want raster icons);
rerun after editing the SVG.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
HERE = Path(__file__).resolve().parent


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs an application object to paint
    renderer = QSvgRenderer(str(HERE / "scimult-desktop.svg"))
    if not renderer.isValid():
        print("error: scimult-desktop.svg is not a valid SVG", file=sys.stderr)
        return 1
    out = HERE / "png"
    out.mkdir(exist_ok=True)
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        if not image.save(str(out / f"{size}.png")):
            print(f"error: could not write {out / f'{size}.png'}", file=sys.stderr)
            return 1
    print(f"wrote {len(SIZES)} PNGs to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
