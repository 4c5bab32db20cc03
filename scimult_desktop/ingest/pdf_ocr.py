"""Optional OCR for image-only PDF pages, used only when Tesseract is installed.

OCR is never required: without a `tesseract` executable on PATH the importer
keeps the record with status "no_text_layer". PyMuPDF drives Tesseract itself
(`Page.get_textpage_ocr`), so no extra Python package is needed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# OCR is slow (seconds per page); only the pages that carry front matter and some body text.
MAX_OCR_PAGES = 10


def tesseract_available() -> bool:
    """Whether OCR can run: a `tesseract` executable on PATH (SCIMULT_NO_OCR=1 turns OCR off)."""
    if os.environ.get("SCIMULT_NO_OCR") == "1":
        return False
    return shutil.which("tesseract") is not None


def tessdata_dir() -> str | None:
    """Tesseract's language-data folder, from TESSDATA_PREFIX or the usual install places."""
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix and Path(prefix).is_dir():
        return prefix
    for candidate in (
        "/usr/share/tesseract-ocr/5/tessdata",
        "/usr/share/tesseract-ocr/4.00/tessdata",
        "/usr/share/tessdata",
        "/usr/local/share/tessdata",
        "/opt/homebrew/share/tessdata",
        r"C:\Program Files\Tesseract-OCR\tessdata",
    ):
        if Path(candidate).is_dir():
            return candidate
    return None


def ocr_page_dict(page, language: str = "eng", dpi: int = 200) -> dict:
    """PyMuPDF's `get_text("dict")` result for a page, read by OCR.

    Raises:
        RuntimeError (or a PyMuPDF error): when Tesseract fails on the page.
    """
    textpage = page.get_textpage_ocr(language=language, dpi=dpi, full=True, tessdata=tessdata_dir())
    return page.get_text("dict", textpage=textpage)
