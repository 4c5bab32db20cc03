"""Page layout for PDF import: text lines with font sizes and positions, in reading order.

PyMuPDF gives blocks in content-stream order, which for two-column papers often
mixes the columns. Here each page becomes a list of `TextLine`s in reading
order: full-width blocks in place, and between them the left column before the
right one. Pure Python over PyMuPDF's `get_text("dict")` output, so the ordering
logic is testable without a PDF.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

# Fraction of the page width a block may cross the middle and still count as one column.
_GUTTER_SLACK = 0.03


@dataclass
class TextLine:
    """One visual line of text on a page (coordinates in points, origin top-left)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float  # dominant font size of the line
    bold: bool = False
    horizontal: bool = True
    column: int = 0  # 0: left column or full width, 1: right column
    block: int = 0  # index of the block in reading order
    page: int = 0  # 1-based page number


@dataclass
class PageLayout:
    """The text lines of one page in reading order, plus what the page holds besides text."""

    number: int  # 1-based
    width: float
    height: float
    lines: list[TextLine] = field(default_factory=list)  # horizontal lines, reading order
    side_lines: list[TextLine] = field(default_factory=list)  # rotated text (e.g. arXiv margin stamps)
    image_count: int = 0
    from_ocr: bool = False  # sizes are estimated from OCR word boxes, not read from fonts

    def text(self) -> str:
        """Page text in reading order, one visual line per text line, rotated text last."""
        return "\n".join(line.text for line in self.lines + self.side_lines)


def clean_text(text: str) -> str:
    """Unicode-fold extracted text: ligatures (ﬁ) to letters, odd spaces to spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u00ad", "").replace("\ufffd", "")
    return " ".join(text.split())


def layout_from_dict(page_dict: dict, number: int) -> PageLayout:
    """Build a `PageLayout` from PyMuPDF's `page.get_text("dict")` result.

    Args:
        page_dict: the dict PyMuPDF returns (keys width, height, blocks).
        number: the 1-based page number.
    """
    width = float(page_dict.get("width") or 612.0)
    height = float(page_dict.get("height") or 792.0)
    layout = PageLayout(number=number, width=width, height=height)
    blocks: list[list[TextLine]] = []
    for block in page_dict.get("blocks", []):
        if block.get("type") == 1:
            layout.image_count += 1
            continue
        if block.get("type") != 0:
            continue
        horizontal: list[TextLine] = []
        for line in block.get("lines", []):
            text_line = _text_line(line)
            if text_line is None:
                continue
            if text_line.horizontal:
                horizontal.append(text_line)
            else:
                layout.side_lines.append(text_line)
        if horizontal:
            blocks.append(_merge_same_baseline(horizontal))
    layout.lines = _reading_order(blocks, width)
    for line in layout.lines + layout.side_lines:
        line.page = number
    return layout


def _text_line(line: dict) -> TextLine | None:
    spans = [s for s in line.get("spans", []) if s.get("text")]
    text = clean_text("".join(s["text"] for s in spans))
    if not text:
        return None
    # The dominant size is that of the span with most visible characters, so a
    # large drop cap or a tiny footnote marker does not decide the line's size.
    main = max(spans, key=lambda s: len(s["text"].strip()))
    x0, y0, x1, y1 = line.get("bbox", (0, 0, 0, 0))
    direction = line.get("dir", (1.0, 0.0))
    horizontal = abs(direction[0]) > 0.99 and direction[0] > 0
    return TextLine(
        text=text,
        x0=float(x0),
        y0=float(y0),
        x1=float(x1),
        y1=float(y1),
        size=round(float(main.get("size", 0.0)), 1),
        bold=bool(int(main.get("flags", 0)) & 16) or "bold" in str(main.get("font", "")).lower(),
        horizontal=horizontal,
    )


def _merge_same_baseline(lines: list[TextLine]) -> list[TextLine]:
    """Join pieces of one visual line (PDFs often place words separately) left to right."""
    lines = sorted(lines, key=lambda ln: (round(ln.y1), ln.x0))
    merged: list[TextLine] = []
    for line in lines:
        previous = merged[-1] if merged else None
        if previous is not None and _same_baseline(previous, line) and line.x0 >= previous.x1 - 1:
            previous.text = f"{previous.text} {line.text}"
            previous.x1 = max(previous.x1, line.x1)
            previous.y0 = min(previous.y0, line.y0)
            previous.y1 = max(previous.y1, line.y1)
            previous.size = max(previous.size, line.size) if len(line.text) > 3 else previous.size
            continue
        merged.append(line)
    return merged


def _same_baseline(a: TextLine, b: TextLine) -> bool:
    tolerance = 0.5 * max(min(a.y1 - a.y0, b.y1 - b.y0), 1.0)
    return abs(a.y1 - b.y1) <= tolerance and b.x0 - a.x1 < 3 * max(a.size, b.size)


def _reading_order(blocks: list[list[TextLine]], width: float) -> list[TextLine]:
    """Order blocks: full-width ones in place; between them the left column, then the right."""
    middle = width / 2
    slack = width * _GUTTER_SLACK
    boxes = []
    for lines in blocks:
        x0 = min(ln.x0 for ln in lines)
        x1 = max(ln.x1 for ln in lines)
        y0 = min(ln.y0 for ln in lines)
        if x1 <= middle + slack:
            column = 0
        elif x0 >= middle - slack:
            column = 1
        else:
            column = -1  # spans both columns
        boxes.append((y0, x0, column, lines))
    boxes.sort(key=lambda box: (box[0], box[1]))
    ordered: list[TextLine] = []
    pending: list[tuple] = []

    def flush() -> None:
        for box in sorted(pending, key=lambda b: (b[2], b[0], b[1])):
            ordered_block(box)
        pending.clear()

    block_index = 0

    def ordered_block(box: tuple) -> None:
        nonlocal block_index
        for line in box[3]:
            line.column = max(box[2], 0)
            line.block = block_index
            ordered.append(line)
        block_index += 1

    for box in boxes:
        if box[2] == -1:
            flush()
            ordered_block(box)
        else:
            pending.append(box)
    flush()
    return ordered

