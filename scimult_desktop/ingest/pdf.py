"""PDF import with PyMuPDF: metadata, front matter, page texts in reading order and references.

One PDF gives one `ImportedRecord`. A PDF that cannot be read at all (empty,
corrupt beyond repair, encrypted with a password) raises `ImportFailed` naming
the file, so an import of many files goes on with the others. Image-only PDFs
are kept with status "no_text_layer" (OCR runs only when Tesseract is installed).
A page whose decoded content is over `pdf_budget.MAX_PAGE_CONTENT_BYTES` (or
past the per-PDF total) is not read, so a tiny "text bomb" cannot take gigabytes;
`extra["skipped_pages"]` and an import problem say which pages.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Iterator

from scimult_desktop.domain.records import Attachment, ImportedRecord, ImportProblem, PageText, Paper
from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.base import ImportItem
from scimult_desktop.ingest.pdf_header import (
    FrontMatter,
    plausible_metadata_title,
    read_front_matter,
    title_from_file_name,
)
from scimult_desktop.ingest.pdf_budget import MAX_DOCUMENT_CONTENT_BYTES, MAX_PAGE_CONTENT_BYTES, page_content_bytes
from scimult_desktop.ingest.pdf_layout import PageLayout, layout_from_dict
from scimult_desktop.ingest.pdf_ocr import MAX_OCR_PAGES, ocr_page_dict, tesseract_available
from scimult_desktop.ingest.pdf_references import extract_references
from scimult_desktop.ingest.text_decoding import what_it_is

# Pages read per PDF: enough for any paper or thesis, bounded for 1000-page scans and books.
MAX_PAGES = 300
# A PDF's "%PDF-" header must lie within this many first bytes (readers allow junk before it).
HEADER_WINDOW = 4096
# Pages whose text decides title, authors, abstract, ids and year.
FRONT_PAGES = 3
# Fewer letters than this on the pages read means there is no usable text layer.
MIN_LETTERS = 10
# Below this share of letters among visible characters the text layer is glyph garbage
# (fonts without a Unicode map), not words.
MIN_LETTER_SHARE = 0.35


class PdfImporter:
    """Reads one PDF file into one record (see module docstring)."""

    kind = "pdf"

    def __init__(self, max_pages: int = MAX_PAGES, ocr: bool = True) -> None:
        self.max_pages = max_pages
        self.ocr = ocr

    def can_import(self, path: Path) -> bool:
        return path.suffix.lower() == ".pdf"

    def read(self, path: Path) -> Iterator[ImportItem]:
        record = read_pdf(path, max_pages=self.max_pages, ocr=self.ocr)
        if record.extra.get("repaired"):
            yield ImportProblem(str(path), "imported, but the PDF is damaged (cut short or corrupted) and was repaired "
                                           "to read it: pages, text or metadata may be missing")
        if record.extra.get("truncated"):
            yield ImportProblem(str(path), f"imported, but {record.extra['truncated']} (a book or scan this long is "
                                           "cut to keep the library small)")
        skipped = record.extra.get("skipped_pages")
        if skipped:
            yield ImportProblem(str(path), f"imported, but {skipped['reason']}: pages {_page_list(skipped['pages'])} not read")
        yield record


def _page_list(pages: list[int]) -> str:
    shown = ", ".join(map(str, pages[:10]))
    return shown + (f" and {len(pages) - 10} more" if len(pages) > 10 else "")


def read_pdf(path: Path, *, max_pages: int = MAX_PAGES, ocr: bool = True) -> ImportedRecord:
    """Read one PDF into an `ImportedRecord`.

    Args:
        path: the PDF file.
        max_pages: pages read at most; the rest is skipped and `extra["truncated"]` says so.
        ocr: run OCR on image-only PDFs when Tesseract is installed.

    Raises:
        ImportFailed: the file is empty, not a PDF, damaged beyond repair, or needs a password.
    """
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if size == 0:
        raise ImportFailed(f"{path}: empty file (0 bytes)")
    try:
        with path.open("rb") as handle:
            head = handle.read(HEADER_WINDOW)
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if b"%PDF-" not in head:
        # MuPDF "repairs" anything into a document (an HTML page became a one-page paper).
        raise ImportFailed(f"{path}: not a PDF: {what_it_is(head)}")
    try:
        document = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises several types (FileDataError, RuntimeError, ValueError)
        raise ImportFailed(f"{path}: not a readable PDF: damaged beyond repair (cut short or corrupted; "
                           f"{_reason(exc).replace(str(path), 'file')})") from exc
    try:
        if document.needs_pass and not document.authenticate(""):
            raise ImportFailed(f"{path}: encrypted PDF (password required)")
        if document.page_count == 0:
            raise ImportFailed(f"{path}: PDF has no pages")
        return _record(document, path, max_pages, ocr)
    except ImportFailed:
        raise
    except Exception as exc:  # any MuPDF failure stays this file's problem, never the whole import's
        raise ImportFailed(f"{path}: PDF could not be read ({type(exc).__name__}: {_reason(exc)})") from exc
    finally:
        document.close()


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _record(document, path: Path, max_pages: int, ocr: bool) -> ImportedRecord:
    metadata = {k: v for k, v in (document.metadata or {}).items() if v}
    page_count = document.page_count
    read_count = min(page_count, max_pages)
    extra: dict = {"pdf_pages": page_count}
    if read_count < page_count:
        extra["truncated"] = f"only the first {read_count} of {page_count} pages were read"
    layouts, failed_pages, skipped_pages = _read_layouts(document, read_count)
    if getattr(document, "is_repaired", False):  # MuPDF knows only once it has read the pages
        extra["repaired"] = True
    if failed_pages:
        extra["unreadable_pages"] = failed_pages
    if skipped_pages:
        extra["skipped_pages"] = {
            "pages": skipped_pages,
            "reason": f"content over {MAX_PAGE_CONTENT_BYTES // 2**20} MiB per page or "
                      f"{MAX_DOCUMENT_CONTENT_BYTES // 2**20} MiB per PDF",
        }
    has_text, quality_note = _text_layer_state(layouts)
    if not has_text and ocr and tesseract_available():
        layouts, has_text, extra["ocr"] = _ocr_layouts(document, layouts, set(skipped_pages))
        # A scan's file dates say when it was scanned, not when the paper appeared.
        metadata = {k: v for k, v in metadata.items() if k not in {"creationDate", "modDate"}}
    elif not has_text:
        extra["text_layer"] = quality_note
    if has_text:
        front = read_front_matter(layouts[:FRONT_PAGES], metadata, path.stem)
        references = extract_references(layouts[1:] if front.cover_page else layouts)
    else:
        front = FrontMatter(title=plausible_metadata_title(metadata.get("title")), title_source="metadata")
        references = []
    if not front.title:
        front.title, front.title_source = title_from_file_name(path.stem), "file-name"
    extra["title_source"] = front.title_source
    _year_from_references(front, references)
    if front.year_source:
        extra["year_source"] = front.year_source
    status = "ok" if has_text else "no_text_layer"
    pages = [PageText(page=layout.number, text=layout.text()) for layout in layouts]
    full_text = "\n\n".join(page.text for page in pages if page.text).strip() or None
    paper = Paper(
        title=front.title,
        authors=front.authors or [],
        year=front.year,
        abstract=front.abstract,
        doi=front.doi,
        arxiv_id=front.arxiv_id,
        source="pdf",
        files=[Attachment(path=str(path), kind="pdf", status=status)],
    )
    return ImportedRecord(
        paper=paper,
        source_kind="pdf",
        source_path=str(path),
        source_key=path.name,
        extra=extra,
        pages=pages if has_text else [],
        references=references,
        full_text=full_text if has_text else None,
        status=status,
    )


def _year_from_references(front: FrontMatter, references: list) -> None:
    """When neither page 1 nor the metadata gives a year, the newest cited work's year stands in
    (a paper appears no earlier than what it cites); `extra["year_source"]` says so."""
    cited = [r.year for r in references if r.year and r.year <= date.today().year]
    if cited and front.year is None:
        front.year, front.year_source = max(cited), "newest reference"


def _read_layouts(document, count: int) -> tuple[list[PageLayout], list[int], list[int]]:
    """Layouts of the first `count` pages; also the pages that failed and those skipped as too large."""
    import pymupdf

    flags = pymupdf.TEXT_PRESERVE_LIGATURES | pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
    layouts: list[PageLayout] = []
    failed: list[int] = []
    skipped: list[int] = []
    content_left = MAX_DOCUMENT_CONTENT_BYTES
    for index in range(count):
        layout = PageLayout(number=index + 1, width=612.0, height=792.0)
        try:
            page = document[index]
            content = page_content_bytes(document, page, min(MAX_PAGE_CONTENT_BYTES, content_left))
            if content > min(MAX_PAGE_CONTENT_BYTES, content_left):
                skipped.append(index + 1)
            else:
                content_left -= content
                layout = layout_from_dict(page.get_text("dict", flags=flags), index + 1)
                layout.image_count = len(page.get_images(full=False))
        except Exception:  # a damaged page: keep the others
            failed.append(index + 1)
        layouts.append(layout)
    return layouts, failed, skipped


def _text_layer_state(layouts: list[PageLayout]) -> tuple[bool, str]:
    """Whether the pages carry real text; else why not ("none" or "unreadable glyphs")."""
    visible = "".join(layout.text() for layout in layouts[:20]).replace(" ", "").replace("\n", "")
    letters = sum(ch.isalpha() for ch in visible)
    if letters < MIN_LETTERS:
        return False, "none"
    if letters < MIN_LETTER_SHARE * len(visible):
        return False, "unreadable (fonts without a Unicode map)"
    return True, "ok"


def _ocr_layouts(document, layouts: list[PageLayout], skipped: set[int]) -> tuple[list[PageLayout], bool, str]:
    ocr_layouts: list[PageLayout] = []
    try:
        for index in range(min(len(layouts), MAX_OCR_PAGES)):
            if index + 1 in skipped:  # rendering it for OCR would cost what reading it would have
                ocr_layouts.append(layouts[index])
                continue
            layout = layout_from_dict(ocr_page_dict(document[index]), index + 1)
            layout.from_ocr = True
            ocr_layouts.append(layout)
    except Exception as exc:  # OCR is a bonus: any Tesseract failure leaves the record as it was
        return layouts, False, f"failed ({_reason(exc)})"
    has_text, _ = _text_layer_state(ocr_layouts)
    note = f"tesseract, first {len(ocr_layouts)} pages" if has_text else "tesseract found no text"
    return (ocr_layouts if has_text else layouts), has_text, note
