"""Export to BibTeX and CSL-JSON: escaping, stable keys, and round trips without duplicates."""

from __future__ import annotations

import json

import pytest

from scimult_desktop.domain.records import Attachment, Paper
from scimult_desktop.errors import PaperNotFound, ScimultError
from scimult_desktop.exporters.bibtex import ExportItem, escape_latex, format_entry
from scimult_desktop.services.library.exporting import export_papers, export_to_file
from scimult_desktop.services.library.facade import Library

BIB = r"""
@article{Muller2020,
  title = {{\"U}ber R{\&}D: 50\% of $\alpha$_nets},
  author = {M{\"u}ller, J{\"o}rg and {World Health Organization}},
  journal = {Journal of Tests},
  year = {2020},
  doi = {10.1000/ABC_1},
  volume = {12},
  pages = {1--10},
  keywords = {alpha; beta},
  abstract = {Costs \$5 & more {\textasciitilde} 10 #1 C:\path},
}
@inproceedings{Lee:2021,
  title = {Dense Retrieval at Scale},
  author = {Lee, Kim and Park, Ann},
  booktitle = {Proceedings of SIGIR},
  year = {2021},
  eprint = {2101.00001}, archiveprefix = {arXiv},
}
"""


@pytest.fixture
def library_with_papers(tmp_path):
    source = tmp_path / "in.bib"
    source.write_text(BIB, encoding="utf-8")
    library = Library.open(tmp_path / "lib")
    report = library.import_paths([source])
    assert report.added == 2
    yield library
    library.close()


def snapshot(library: Library) -> list[tuple]:
    return sorted((p.citekey, p.title, tuple(p.authors), p.year, p.doi, p.arxiv_id, p.venue) for p in library.list_papers())


@pytest.mark.parametrize("fmt,suffix", [("bibtex", "bib"), ("csl-json", "json")])
def test_round_trip_gives_the_same_papers(library_with_papers, tmp_path, fmt, suffix):
    out = tmp_path / f"out.{suffix}"
    export_to_file(library_with_papers, out, all_papers=True, fmt=fmt)
    fresh = Library.open(tmp_path / "fresh")
    try:
        assert fresh.import_paths([out]).added == 2
        assert snapshot(fresh) == snapshot(library_with_papers)
    finally:
        fresh.close()
    again = library_with_papers.import_paths([out])  # the same library: recognised, not duplicated
    assert again.added == 0
    assert library_with_papers.count_papers() == 2


def test_selected_papers_by_key_doi_and_id(library_with_papers):
    paper = library_with_papers.get_paper("Lee:2021")
    text = export_papers(library_with_papers, ["10.1000/abc_1", str(paper.id), "Lee:2021"], fmt="csl-json")
    items = json.loads(text)
    assert [item["id"] for item in items] == ["Muller2020", "Lee:2021"]
    assert items[1]["type"] == "paper-conference" and items[0]["page"] == "1–10"
    with pytest.raises(PaperNotFound):
        export_papers(library_with_papers, ["nope"])
    with pytest.raises(ScimultError):
        export_papers(library_with_papers, [])
    with pytest.raises(ScimultError, match="format"):
        export_papers(library_with_papers, all_papers=True, fmt="ris")


def test_bibtex_escaping_and_stable_keys():
    assert escape_latex(r"50% R&D $5 #1 a_b {x} ~ ^ \ ü") == (
        r"50\% R\&D \$5 \#1 a\_b \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{} ü")
    paper = Paper(title="A & B", authors=["World Health Organization", "Doe, Jane"], year=2000, citekey="key:1",
                  entry_type="article-journal", venue="J", files=[Attachment("/p/a:b.pdf")])
    entry = format_entry(ExportItem(paper))
    assert entry.startswith("@article{key:1,")
    assert "author = {{World Health Organization} and Doe, Jane}" in entry
    assert r"title = {A \& B}" in entry and r"file = {:/p/a\:b.pdf:PDF}" in entry
    assert format_entry(ExportItem(paper)) == entry
