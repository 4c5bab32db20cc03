"""Passage splitting and cleaning (ingest/passages.py) and whole-word evidence highlighting."""

from __future__ import annotations

import pytest

from scimult_desktop.ingest.passages import is_clean_text, pages_fingerprint, split_passages
from scimult_desktop.services.finding.evidence import highlight, keyword_snippet, passage_excerpt, query_terms

HEAD = "Proceedings of the 12th Workshop on Information Extraction, pages {n}"

BODY_SENTENCES = [
    "Open information extraction systems read large corpora without a fixed vocabulary of relations.",
    "They produce triples whose relation phrases come from the text itself rather than from a schema.",
    "We observed that many extracted relation phrases are incoherent or leave out critical information.",
    "To address this, we constrain relation phrases to start with a verb and end with a preposition.",
    "The syntactic constraint removes most incoherent extractions while keeping nearly all correct ones.",
    "A lexical constraint then discards relation phrases that occur with too few distinct arguments.",
    "Both constraints are cheap to check and need no training data for the target relations.",
    "On a sample of web sentences the constrained extractor doubles the area under the precision curve.",
]


def body_lines(seed: int, sentences: int = 24) -> list[str]:
    """Running text broken into ~50-character lines with end-of-line hyphenation, as PDF text comes."""
    text = " ".join(BODY_SENTENCES[(seed + i) % len(BODY_SENTENCES)] for i in range(sentences))
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) > 50 and len(word) > 8 and not line.endswith("-"):
            cut = len(word) // 2
            lines.append(f"{line} {word[:cut]}-".strip())
            line = word[cut:]
        elif len(line) + len(word) > 50:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + [line]


def paper_pages() -> list[tuple[int, str]]:
    page1 = [
        "Constrained Relation Phrases for Open Extraction",
        "Ann Author and Bob Builder",
        "University of Somewhere",
        "{ann,bob}@cs.somewhere.edu",
        "Abstract",
        *body_lines(0, 10),
        "Permission to make digital or hard copies of all or part of this work for",
        "personal or classroom use is granted without fee provided that copies are",
        "not made or distributed for profit or commercial advantage.",
        "KDD'11, August 21-24, 2011, San Diego, California, USA.",
        "Copyright 2011 ACM 978-1-4503-0813-7/11/08 ...$10.00.",
        "1",
    ]
    page2 = [HEAD.format(n="12-20"), *body_lines(3), '["Author, Ann", "Builder, Bob"]', "2"]
    page3 = [HEAD.format(n="12-20"), *body_lines(5), "0.31 0.52 0.77 0.91", "3"]
    page4 = [
        HEAD.format(n="12-20"),
        *body_lines(1, 10),
        "References",
        "M. Banko, M. Cafarella, S. Soderland, M. Broadhead, and O. Etzioni. 2007. Open information",
        "extraction from the web. In Proceedings of the International Joint Conference on Artificial",
        "Intelligence, pages 2670-2676.",
        "F. Wu and D. S. Weld. 2010. Open information extraction using Wikipedia. In Proceedings of the",
        "48th Annual Meeting of the Association for Computational Linguistics, pages 118-127.",
        "4",
    ]
    page5 = [
        HEAD.format(n="12-20"),
        "A. Yates and O. Etzioni. 2009. Unsupervised methods for determining object and relation synonyms.",
        "Journal of Artificial Intelligence Research, 34:255-296.",
        "Appendix",
        *body_lines(6, 10),
        "5",
    ]
    return [(n, "\n".join(lines)) for n, lines in enumerate([page1, page2, page3, page4, page5], start=1)]


@pytest.fixture(scope="module")
def passages():
    return split_passages(paper_pages())


def test_passages_are_about_100_to_200_words_and_stay_within_a_page(passages):
    assert passages, "a paper with body text gives passages"
    pages = {p.page for p in passages}
    assert pages == {1, 2, 3, 4, 5}
    for passage in passages:
        assert 20 <= passage.words <= 250, passage
    full = [p for p in passages if p.words >= 100]
    assert len(full) >= len(passages) // 2
    assert [p.position for p in passages] == list(range(len(passages)))


def test_hyphenated_line_ends_are_joined(passages):
    text = " ".join(p.text for p in passages)
    assert "information" in text and "infor- mation" not in text and "infor-mation" not in text


def test_running_heads_page_numbers_and_front_matter_are_left_out(passages):
    text = " ".join(p.text for p in passages)
    assert "Workshop on Information Extraction" not in text
    assert "@cs.somewhere.edu" not in text
    assert "University of Somewhere" not in text
    assert not any(p.text.rstrip().endswith((" 2", " 3", " 4")) for p in passages)


def test_copyright_permission_blocks_json_and_number_rows_are_left_out(passages):
    text = " ".join(p.text for p in passages)
    for junk in ("Permission to make digital", "classroom use", "Copyright 2011", "$10.00", '"Author, Ann"', "0.31 0.52"):
        assert junk not in text


def test_reference_list_is_left_out_but_an_appendix_after_it_is_kept(passages):
    text = " ".join(p.text for p in passages)
    assert "Banko" not in text and "Yates" not in text and "pages 2670" not in text
    assert "References" not in text
    assert any(p.page == 5 for p in passages), "the appendix after the references is body text again"


def test_a_passage_that_reads_like_a_bibliography_is_dropped_without_a_heading():
    entries = [
        f"{a}. {y}. A study of things number {i}. In Proceedings of the Conference on Stuff, pages {i}0-{i}9."
        for i, (a, y) in enumerate([("J. Smith", 2001), ("K. Lee", 2003), ("M. Wu and P. Ng", 2010), ("A. Roe", 2012),
                                    ("B. Doe", 2015), ("C. Poe", 2016), ("D. Moe", 2018), ("E. Zoe", 2019)], start=1)
    ]
    body = " ".join(BODY_SENTENCES)
    passages = split_passages([(1, body), (2, "\n".join(entries))])
    assert passages and all(p.page == 1 for p in passages)


def test_a_references_word_on_the_first_page_does_not_cut_the_paper():
    front = "Contents\nIntroduction\nReferences\n" + " ".join(BODY_SENTENCES)
    pages = [(1, front)] + [(n, " ".join(BODY_SENTENCES * 2)) for n in range(2, 6)]
    assert {p.page for p in split_passages(pages)} == {1, 2, 3, 4, 5}


def test_empty_and_image_only_pages_give_no_passages():
    assert split_passages([]) == []
    assert split_passages([(1, ""), (2, "   \n  ")]) == []


def test_fingerprint_changes_with_the_text_only():
    pages = paper_pages()
    assert pages_fingerprint(pages) == pages_fingerprint(list(pages))
    changed = pages[:-1] + [(5, pages[-1][1] + " more")]
    assert pages_fingerprint(changed) != pages_fingerprint(pages)


@pytest.mark.parametrize("text", [
    '["Fader, Anthony", "Soderland, Stephen", "Etzioni, Oren"]',
    "© 2019 Association for Computing Machinery. All rights reserved.",
    "Permission to make digital or hard copies of all or part of this work",
    "J. Smith. 2001. A study. In Proceedings of the Conference on Stuff, pages 10-19.",
])
def test_unclean_snippets_are_recognised(text):
    assert not is_clean_text(text)


def test_body_text_is_clean():
    assert is_clean_text(BODY_SENTENCES[0]) and is_clean_text("We compare with [12] and (Smith et al., 2019).")


# ---- whole-word highlighting ---------------------------------------------------------------
def test_only_whole_query_words_are_highlighted():
    terms = query_terms("neural net protein")
    marked = highlight("A Neural network predicts protein folding; the net effect on proteins is small.", terms)
    assert marked == "A [Neural] network predicts [protein] folding; the [net] effect on proteins is small."


def test_keyword_snippets_are_re_marked_on_whole_words_and_json_is_refused():
    snippet = "Dense [retrieval] methods [retrieve] passages"
    assert keyword_snippet(snippet, "retrieval") == "Dense [retrieval] methods retrieve passages"
    assert keyword_snippet('["[Smith], Jane", "Roe, Rick"]', "smith") is None


def test_passage_excerpt_centres_on_the_sentences_with_query_words():
    text = " ".join(BODY_SENTENCES)
    excerpt = passage_excerpt(text, "lexical constraint distinct arguments")
    assert excerpt.startswith("… A [lexical] [constraint]")
    assert "[arguments]" in excerpt


def test_a_numeric_citation_in_the_text_is_not_shown_as_a_highlight():
    assert highlight("Dense retrieval [12] beats BM25 [3].", query_terms("retrieval")) == "Dense [retrieval] (12) beats BM25 (3)."


def test_body_pages_cut_the_reference_list_and_keep_the_appendix():
    from scimult_desktop.ingest.passages import body_pages

    pages = dict(body_pages(paper_pages()))
    assert "Banko" not in pages[4] and "Yates" not in pages[5]
    assert "Appendix" in pages[5] and "Open information" in pages[2]
