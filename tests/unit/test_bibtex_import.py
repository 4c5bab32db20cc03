"""BibTeX import: macros, crossref, LaTeX decoding, keys, file fields, broken entries, real fixtures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scimult_desktop.domain.ids import normalize_title
from scimult_desktop.domain.records import ImportedRecord, ImportProblem
from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.bibtex import BibtexImporter, latex_to_text, parse_file_field, split_authors


def read(path: Path) -> tuple[list[ImportedRecord], list[ImportProblem]]:
    items = list(BibtexImporter().read(path))
    return [i for i in items if isinstance(i, ImportedRecord)], [i for i in items if isinstance(i, ImportProblem)]


def write(tmp_path: Path, text: str, name: str = "refs.bib") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_macros_accents_and_original_key(tmp_path):
    path = write(tmp_path, r"""
@string{jml = "Journal of {M}achine Learning"}
@article{Müller:2020_x+y.z,
  title = {{\"U}ber die Caf\'{e}s: \textit{deep} $\alpha$-nets for {R\&D} 1--2 and 20% off},
  author = {M{\"u}ller, J{\"o}rg and {Barnes and Noble} and Ludwig van Beethoven},
  journal = jml # " (JML)",
  year = 2020,
}
""")
    records, problems = read(path)
    assert problems == []
    paper = records[0].paper
    assert paper.citekey == "Müller:2020_x+y.z"  # kept exactly
    assert paper.title == "Über die Cafés: deep α-nets for R&D 1–2 and 20% off"
    assert paper.authors == ["Müller, Jörg", "Barnes and Noble", "van Beethoven, Ludwig"]
    assert paper.venue == "Journal of Machine Learning (JML)"
    assert paper.year == 2020


def test_latex_to_text_cases():
    assert latex_to_text(r"{\&} {\o}re 3---done") == "& øre 3—done"
    assert latex_to_text(r"LiAlO$_2$ and mm$^2$ and Cd\textsubscript{x}") == "LiAlO₂ and mm² and Cdₓ"
    assert latex_to_text("plain % text") == "plain % text"
    assert split_authors("") == []


def test_crossref_inheritance_and_cycles(tmp_path):
    path = write(tmp_path, """
@inproceedings{child, title = {A Paper}, author = {Doe, Jane}, crossref = {PROC}}
@proceedings{proc, title = {Proceedings of Things}, year = {2019}, publisher = {ACM}, crossref = {series}}
@book{series, title = {Series}, address = {Berlin}}
@book{loop1, title = {Loop One}, crossref = {loop2}}
@book{loop2, title = {Loop Two}, year = {1999}, crossref = {loop1}}
""")
    records, problems = read(path)
    by_key = {r.paper.citekey: r for r in records}
    child = by_key["child"]
    assert child.paper.title == "A Paper"
    assert child.paper.venue == "Proceedings of Things"  # parent title -> booktitle
    assert child.paper.year == 2019
    assert child.extra["publisher"] == "ACM" and child.extra["address"] == "Berlin"  # grand-parent too
    assert by_key["loop1"].paper.year == 1999 and by_key["loop2"].paper.title == "Loop Two"
    assert problems == []


def test_broken_entries_reported_with_line_and_the_rest_imported(tmp_path):
    path = write(tmp_path, """@article{good1, title = {Good One}, year = {2001}}

@article{broken title = {Missing comma after the key}}

@article{good2, title = {Good Two}}
@article{notitle, year = {2003}}
@article{good1, title = {Same key again}}
@article{dupfield, title = {First}, title = {Second}}
@article{
  title = {No key at all},
}
""")
    records, problems = read(path)
    titles = {r.paper.title for r in records}
    assert {"Good One", "Good Two", "Same key again", "First", "No key at all"} <= titles
    assert any(p.path == f"{path}:3" for p in problems), problems
    assert any(p.path == f"{path}:6" and "no title" in p.error for p in problems), problems
    source_keys = [r.source_key for r in records]
    assert len(source_keys) == len(set(source_keys))  # duplicate keys still import separately


@pytest.mark.parametrize("content", [b"", b"   \n", b"\x00\x01PK\x03\x04binary", b"just some prose, no entries\n"])
def test_wrong_empty_or_binary_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.bib"
    path.write_bytes(content)
    with pytest.raises(ImportFailed, match="bad.bib"):
        read(path)


def test_file_field_shapes(tmp_path):
    (tmp_path / "files" / "12").mkdir(parents=True)
    zotero_pdf = tmp_path / "files" / "12" / "x.pdf"
    zotero_pdf.write_bytes(b"%PDF")
    got = parse_file_field("Full Text:files/12/x.pdf:application/pdf;Snapshot:files/12/s.html:text/html", tmp_path)
    assert got == [str(zotero_pdf), str(tmp_path / "files/12/s.html")]
    assert parse_file_field(":papers/a.pdf:pdf", tmp_path) == [str(tmp_path / "papers/a.pdf")]
    assert parse_file_field(":/abs/a.pdf:PDF, :/abs/b.epub:EPUB", tmp_path) == ["/abs/a.pdf", "/abs/b.epub"]
    assert parse_file_field(r"desc:C\:\\Users\\me\\a.pdf:PDF", tmp_path) == ["C:\\Users\\me\\a.pdf"]
    assert parse_file_field("plain.pdf", tmp_path) == [str(tmp_path / "plain.pdf")]
    # Mendeley drops the leading "/" of absolute paths.
    rooted = str(zotero_pdf).lstrip("/")
    assert parse_file_field(f":{rooted}:pdf", Path("/nonexistent-base")) == [str(zotero_pdf)]


def test_keywords_and_jabref_groups(tmp_path):
    path = write(tmp_path, "@article{k, title={T1 title here}, keywords={deep learning; retrieval}, groups={A, B}}")
    records, _ = read(path)
    assert records[0].paper.tags == ["deep learning", "retrieval"]
    assert records[0].paper.collections == ["A", "B"]


def test_every_shared_fixture_imports_or_fails_clearly(shared_data):
    root = shared_data / "bibtex_fixtures"
    files = sorted(root.rglob("*.bib"))
    assert files
    with_records = 0
    for path in files:
        try:
            records, problems = read(path)
        except ImportFailed as exc:
            assert path.name in str(exc)
            continue
        assert records or problems, path
        for problem in problems:
            assert re.search(r":\d+$", problem.path), problem
        with_records += bool(records)
    assert with_records > len(files) * 0.8


def test_better_bibtex_expected_items_recovered(shared_data):
    root = shared_data / "bibtex_fixtures" / "bbt" / "import"
    expected_titles = found_titles = expected_keys = found_keys = 0
    for bib in sorted(root.glob("*.bib")):
        expected = bib.with_suffix(".json")
        if not expected.exists():
            continue
        items = [i for i in json.loads(expected.read_text())["items"] if i.get("itemType") not in ("note", "attachment")]
        try:
            records, _ = read(bib)
        except ImportFailed:
            records = []
        titles = {normalize_title(r.paper.title) for r in records}
        keys = {r.paper.citekey for r in records}
        for item in items:
            expected_titles += 1
            found_titles += normalize_title(re.sub(r"<[^>]+>", "", item.get("title", ""))) in titles
            if item.get("citationKey"):
                expected_keys += 1
                found_keys += item["citationKey"] in keys
    assert expected_titles > 1000
    assert found_titles / expected_titles > 0.97
    assert found_keys / expected_keys > 0.95
