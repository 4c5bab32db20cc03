"""PDFs made on the fly for tests (pymupdf; callers skip with pytest.importorskip("pymupdf") first)."""

from __future__ import annotations

from pathlib import Path


def write_image_only_pdf(path: Path, title: str) -> Path:
    """A one-page PDF holding only a grey picture, as a scan without OCR is: no text layer, a title in its metadata."""
    import pymupdf

    pixmap = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 200, 100), False)
    pixmap.clear_with(200)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(page.rect, pixmap=pixmap)
    doc.set_metadata({"title": title})
    doc.save(path)
    return path
