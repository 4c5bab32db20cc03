"""PDF import: generated PDFs with known layout, broken files, and the shared real corpus."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.pdf import PdfImporter, read_pdf
from scimult_desktop.ingest.pdf_header import detect_arxiv_id, detect_year, titles_agree
from scimult_desktop.ingest.pdf_references import parse_reference
from scimult_desktop.ingest.registry import importer_for
from tests.pdfgen import write_image_only_pdf

pymupdf = pytest.importorskip("pymupdf")

TITLE = "Column Aware Extraction of Scholarly Documents"
LEFT = [
    "Left column starts the body text here and",
    "it keeps going for a few more lines so the",
    "column is a proper block of running text.",
]
RIGHT = [
    "Right column continues the argument after",
    "the left one ends and must come second in",
    "the reading order of the page text output.",
]
REFERENCES = [
    "[1] A. Smith and B. Jones. Learning to read papers.",
    "In Proc. of the Test Conference, 2019. doi:10.5555/ref.2019.1",
    "[2] C. Lee. Column detection for PDF layouts. arXiv preprint",
    "arXiv:1905.01234, 2019.",
    "[3] D. Kim, E. Park, and F. Chen. Another cited work on",
    "bibliographies. Journal of Tests, 12(3):1-10, 2020.",
]


def make_paper(path: Path, *, metadata_title: str | None = "Microsoft Word - draft7.doc") -> Path:
    """A two-page, two-column paper: running header, big title, authors, abstract, DOI, references."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((50, 40), "Proceedings of the Test Workshop 2021, pages 1-8", fontsize=8)
    page.insert_text((60, 100), TITLE[:27], fontsize=20, fontname="hebo")
    page.insert_text((60, 124), TITLE[27:].strip(), fontsize=20, fontname="hebo")
    page.insert_text((60, 160), "Alice Martin, Bob Okafor and Chen Wei", fontsize=11)
    page.insert_text((60, 174), "Department of Computing, Example University", fontsize=10)
    page.insert_text((60, 210), "Abstract", fontsize=11, fontname="hebo")
    page.insert_text((60, 226), "We show that layout cues recover the title and the", fontsize=10)
    page.insert_text((60, 238), "reading order of two-column scholarly PDF files.", fontsize=10)
    page.insert_text((60, 262), "DOI: 10.1234/jtest.2021.042", fontsize=9)
    # The right column is written first so that stream order differs from reading order.
    for i, line in enumerate(RIGHT):
        page.insert_text((320, 320 + 12 * i), line, fontsize=10)
    page.insert_text((50, 300), "1 Introduction", fontsize=11, fontname="hebo")
    for i, line in enumerate(LEFT):
        page.insert_text((50, 320 + 12 * i), line, fontsize=10)
    page2 = doc.new_page(width=612, height=792)
    page2.insert_text((50, 80), "Conclusion text on the second page ends here.", fontsize=10)
    page2.insert_text((50, 110), "References", fontsize=11, fontname="hebo")
    y = 130
    for line in REFERENCES:
        x = 50 if line.startswith("[") else 62
        page2.insert_text((x, y), line, fontsize=9)
        y += 11
    if metadata_title is not None:
        doc.set_metadata({"title": metadata_title, "creationDate": "D:20230105120000"})
    doc.save(path)
    doc.close()
    return path


def test_generated_paper_fields_reading_order_and_references(tmp_path):
    record = read_pdf(make_paper(tmp_path / "paper.pdf"))
    paper = record.paper
    assert record.status == "ok"
    assert paper.title == TITLE
    assert record.extra["title_source"] == "layout"
    assert paper.authors == ["Alice Martin", "Bob Okafor", "Chen Wei"]
    assert paper.abstract.startswith("We show that layout cues")
    assert paper.doi == "10.1234/jtest.2021.042"  # not the DOI of the cited work on page 2
    assert paper.year == 2021  # from the header cue, not the 2023 creation date
    assert [p.page for p in record.pages] == [1, 2]
    page_one = record.pages[0].text
    assert page_one.index(LEFT[-1]) < page_one.index(RIGHT[0])
    assert "Introduction" in record.full_text and "Conclusion text" in record.full_text
    assert [Path(f.path).name for f in paper.files] == ["paper.pdf"]
    refs = record.references
    assert len(refs) == 3
    assert refs[0].doi == "10.5555/ref.2019.1" and refs[0].year == 2019
    assert refs[0].title == "Learning to read papers"
    assert refs[1].arxiv_id == "1905.01234"
    assert refs[2].year == 2020


def test_wrong_embedded_title_loses_to_page_one(tmp_path):
    record = read_pdf(make_paper(tmp_path / "p.pdf", metadata_title="Automated Statistics Collection in DB2"))
    assert record.paper.title == TITLE


def test_embedded_title_used_when_page_one_agrees(tmp_path):
    record = read_pdf(make_paper(tmp_path / "p.pdf", metadata_title=TITLE.upper()))
    assert titles_agree(record.paper.title, TITLE)
    assert record.extra["title_source"] == "metadata"


def test_arxiv_margin_stamp_gives_id_and_is_not_the_title(tmp_path):
    path = make_paper(tmp_path / "stamped.pdf")
    with pymupdf.open(path) as doc:
        doc[0].insert_text((30, 600), "arXiv:2101.01234v2  [cs.IR]  5 Jan 2021", fontsize=20, rotate=90)
        doc.save(tmp_path / "stamped2.pdf")
    record = read_pdf(tmp_path / "stamped2.pdf")
    assert record.paper.title == TITLE
    assert record.paper.arxiv_id == "2101.01234"
    assert record.paper.year == 2021


def test_encrypted_pdf_needs_password(tmp_path):
    source = make_paper(tmp_path / "plain.pdf")
    locked = tmp_path / "locked.pdf"
    with pymupdf.open(source) as doc:
        doc.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    with pytest.raises(ImportFailed, match=r"locked\.pdf: encrypted PDF \(password required\)"):
        read_pdf(locked)


def test_encrypted_pdf_with_empty_user_password_opens(tmp_path):
    source = make_paper(tmp_path / "plain.pdf")
    owner_only = tmp_path / "owner_only.pdf"
    with pymupdf.open(source) as doc:
        doc.save(owner_only, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="", owner_pw="owner")
    assert read_pdf(owner_only).paper.title == TITLE


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.pdf", b"", "empty file"),
        ("garbage.pdf", b"this is not a pdf at all\n" * 20, ""),
        ("truncated.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", ""),
    ],
)
def test_unreadable_files_fail_with_their_name(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFailed) as failure:
        list(PdfImporter().read(path))
    assert str(path) in str(failure.value)
    assert message in str(failure.value)


def test_corrupted_tail_gives_a_record_or_a_clear_failure(tmp_path):
    data = make_paper(tmp_path / "good.pdf").read_bytes()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(data[: len(data) * 2 // 3])
    try:
        record = read_pdf(broken)
    except ImportFailed as exc:
        assert str(broken) in str(exc)
    else:
        assert record.paper.title


def test_image_only_pdf_is_kept_without_text_layer(tmp_path):
    path = write_image_only_pdf(tmp_path / "scan_0001.pdf", "A Scanned Paper About Things")
    record = read_pdf(path, ocr=False)
    assert record.status == "no_text_layer"
    assert record.paper.title == "A Scanned Paper About Things"
    assert record.paper.files[0].status == "no_text_layer"
    assert record.full_text is None and record.pages == []


def test_image_only_pdf_without_metadata_is_named_after_the_file(tmp_path):
    doc = pymupdf.open()
    doc.new_page()
    path = tmp_path / "old_scan.pdf"
    doc.save(path)
    record = read_pdf(path, ocr=False)
    assert record.status == "no_text_layer"
    assert record.paper.title == "old scan"


def test_page_cap_is_reported(tmp_path):
    doc = pymupdf.open()
    for number in range(5):
        doc.new_page().insert_text((72, 72), f"Page {number + 1} of a long document with words", fontsize=12)
    path = tmp_path / "long.pdf"
    doc.save(path)
    record = read_pdf(path, max_pages=2)
    assert [p.page for p in record.pages] == [1, 2]
    assert "first 2 of 5 pages" in record.extra["truncated"]


def test_registry_picks_pdf_importer(tmp_path):
    assert importer_for(tmp_path / "x.PDF").kind == "pdf"


def test_import_service_reports_bad_pdfs_and_keeps_good_ones(tmp_path, fresh_library):
    folder = tmp_path / "in"
    folder.mkdir()
    make_paper(folder / "good.pdf")
    (folder / "empty.pdf").write_bytes(b"")
    report = fresh_library.import_paths([folder])
    assert report.added == 1
    assert [Path(p.path).name for p in report.failed] == ["empty.pdf"]
    assert "empty file" in report.failed[0].error


def test_identifier_and_year_cues():
    assert detect_arxiv_id("arXiv:1412.6206v1  [hep-lat]  19 Dec 2014", "paper") == "1412.6206"
    assert detect_arxiv_id("no stamp", "1001._0908.0054") == "0908.0054"
    assert detect_arxiv_id("no stamp", "3409256.3409829") is None
    assert detect_year("Copyright 2004 ACM", {"creationDate": "D:2006"}) == (2004, "text")
    assert detect_year("nothing here", {"creationDate": "D:20060123"}) == (2006, "metadata")


@pytest.mark.parametrize(
    "raw, title, year",
    [
        ("Jacob Andreas and Dan Klein. 2014. How much do word embeddings encode about syntax? In Proc. ACL.",
         "How much do word embeddings encode about syntax", 2014),
        ('[4] K. Akkaya, M. Younis, "A survey on routing protocols for wireless sensor networks," Ad Hoc '
         "Networks, 3(3), 2005.", "A survey on routing protocols for wireless sensor networks", 2005),
        ("Candes, E. J., Li, X., and Wright, J. Robust principal component analysis. J. ACM, 58(3), 2011.",
         "Robust principal component analysis", 2011),
        ("Bates DM, DebRoy S (2003). Converting a Large R Package to S4 Classes. In Proc. DSC.",
         "Converting a Large R Package to S4 Classes", 2003),
    ],
)
def test_reference_parsing_styles(raw, title, year):
    reference = parse_reference(raw)
    assert reference.title == title
    assert reference.year == year


def test_real_corpus_imports_or_fails_clearly(shared_data):
    """Every corpus PDF imports or fails with a message naming it; titles match on text-layer papers."""
    corpus = shared_data / "pdf_corpus"
    rows = [r for r in csv.DictReader((corpus / "metadata.csv").open(encoding="utf-8")) if (corpus / r["file"]).exists()]
    assert rows
    matched = total = 0
    for row in rows:
        path = corpus / row["file"]
        try:
            record = read_pdf(path, ocr=False)
        except ImportFailed as exc:
            assert str(path) in str(exc)
            continue
        assert record.paper.title
        if record.status == "ok" and row["title"] and not row["title"].startswith("("):
            total += 1
            matched += titles_agree(record.paper.title, row["title"])
    assert total >= 30
    assert matched / total >= 0.9


def test_scanned_pdf_is_read_by_ocr_when_tesseract_is_installed(tmp_path):
    from scimult_desktop.ingest.pdf_ocr import tesseract_available

    if not tesseract_available():
        pytest.skip("optional OCR: tesseract is not installed (apt-get install tesseract-ocr)")
    text_pdf = pymupdf.open()
    page = text_pdf.new_page()
    page.insert_text((72, 100), "Measuring Glacier Retreat with", fontsize=20)
    page.insert_text((72, 126), "Satellite Radar Interferometry", fontsize=20)
    page.insert_text((72, 170), "Anna Berg and Lars Holm", fontsize=12)
    page.insert_text((72, 220), "Abstract. We measure the retreat of glaciers over ten years.", fontsize=11)
    pixmap = page.get_pixmap(dpi=200)
    scan = pymupdf.open()
    scan_page = scan.new_page(width=page.rect.width, height=page.rect.height)
    scan_page.insert_image(scan_page.rect, pixmap=pixmap)
    scan.set_metadata({"creationDate": "D:20251231000000Z"})
    path = tmp_path / "scan.pdf"
    scan.save(path)
    record = read_pdf(path, ocr=True)
    assert record.status == "ok" and "tesseract" in record.extra["ocr"]
    assert record.paper.title == "Measuring Glacier Retreat with Satellite Radar Interferometry"
    assert record.paper.year is None  # the scan's file date is not the paper's year
    assert "glaciers" in record.full_text
