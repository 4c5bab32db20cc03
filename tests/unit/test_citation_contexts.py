"""Citation markers in page texts: styles, linking to references, sentences, the reference list left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from scimult_desktop.ingest.citation_contexts import body_paragraphs, find_citation_contexts

NUMERIC_REFS = [
    "[1] J. Dean and S. Ghemawat. MapReduce: simplified data processing on large clusters. In OSDI, 2004.",
    "[2] R. H. Arpaci-Dusseau et al. Cluster I/O with River: making the fast case common. In IOPADS, 1999.",
    "[3] A. Baratloo, M. Karaul, Z. Kedem, and P. Wyckoff. Charlotte: metacomputing on the web. 1996.",
    "[4] L. A. Barroso, J. Dean, and U. Hölzle. Web search for a planet: the Google cluster architecture. 2003.",
    "[5] J. Bent et al. Explicit control in a batch-aware distributed file system. In NSDI, 2004.",
    "[6] G. E. Blelloch. Scans as primitive parallel operations. IEEE Trans. Computers, 1989.",
    "[7] A. Fox et al. Cluster-based scalable network services. In SOSP, 1997.",
    "[8] S. Ghemawat, H. Gobioff, and S.-T. Leung. The Google file system. In SOSP, 2003.",
]

NUMERIC_PAGES = [
    (1, "Simple Systems for Clusters\n"
        "1 Introduction\n"
        "Large clusters of commodity PCs connected together with switched Ethernet [4] are in wide\n"
        "use. A distributed file system [8] developed in-house is used to man-\n"
        "age the data stored on these disks. Parallel prefix computations [3-5, 8] and\n"
        "related ideas [6–7] inspired this work.\n"
        "Values lie in x ∈ [1, 5] for every node, amp[1] and f(x)[2] are code, and the TeraSort benchmark [2] is\n"
        "our test.\n"),
    (2, "Our backup mechanism resembles the eager scheduling of Charlotte [3]. River [2]\n"
        "provides a programming model where processes communicate by queues.\n"
        "References\n"
        "[1] J. Dean and S. Ghemawat. MapReduce: simplified data processing on large clusters. In OSDI, 2004.\n"
        "[2] R. H. Arpaci-Dusseau et al. Cluster I/O with River: making the fast case common [3]. In IOPADS, 1999.\n"),
]


def by_marker(contexts):
    grouped: dict[str, list] = {}
    for context in contexts:
        grouped.setdefault(context.marker, []).append(context)
    return grouped


def test_numeric_markers_ranges_and_lists_link_to_their_references():
    contexts = find_citation_contexts(NUMERIC_PAGES, NUMERIC_REFS)
    grouped = by_marker(contexts)
    assert [c.reference_index for c in grouped["[4]"]] == [3]
    assert sorted(c.reference_index for c in grouped["[3-5, 8]"]) == [2, 3, 4, 7]
    assert sorted(c.reference_index for c in grouped["[6–7]"]) == [5, 6]
    assert all(c.style == "numeric" for c in contexts)


def test_interval_in_formula_is_not_a_citation():
    markers = {c.marker for c in find_citation_contexts(NUMERIC_PAGES, NUMERIC_REFS)}
    assert "[1, 5]" not in markers


def test_reference_list_lines_are_never_contexts():
    contexts = find_citation_contexts(NUMERIC_PAGES, NUMERIC_REFS)
    assert all("Arpaci-Dusseau" not in c.sentence and "IOPADS" not in c.sentence for c in contexts)
    # the "[3]" inside reference [2] is not a context; the body's "[3]" on page 2 is
    assert [c.page for c in contexts if c.marker == "[3]"] == [2]


def test_sentence_joins_lines_and_undoes_hyphenation():
    contexts = find_citation_contexts(NUMERIC_PAGES, NUMERIC_REFS)
    file_system = by_marker(contexts)["[8]"][0]
    assert file_system.sentence == "A distributed file system [8] developed in-house is used to manage the data stored on these disks."
    assert file_system.sentence[file_system.marker_offset:].startswith("[8]")
    multi_line = by_marker(contexts)["[2]"][0]
    assert multi_line.sentence == ("Values lie in x ∈ [1, 5] for every node, amp[1] and f(x)[2] are code, and the "
                                   "TeraSort benchmark [2] is our test.")
    assert [c.marker_offset for c in by_marker(contexts)["[2]"] if c.page == 1] == [multi_line.sentence.rindex("[2]")]


def test_paragraph_span_points_into_the_page_text():
    contexts = find_citation_contexts(NUMERIC_PAGES, NUMERIC_REFS)
    context = by_marker(contexts)["[4]"][0]
    page_text = NUMERIC_PAGES[0][1]
    assert "switched Ethernet [4]" in page_text[context.paragraph_start:context.paragraph_end]
    assert context.page == 1


AUTHOR_YEAR_REFS = [
    "Andoni, A. and Indyk, P. 2008. Near-optimal hashing algorithms. Communications of the ACM 51(1).",
    "Baroni, M. 2013. Composition in distributional semantics. Language and Linguistics Compass 7(10).",
    "Lee, K. and Smith, N. 2019. Parsing with vectors. In Proceedings of ACL.",
    "Smith, J., Lee, K., and Wu, T. 2019. Neural retrieval at scale. In Proceedings of SIGIR.",
    "Smith, J. 2019. A different paper by Smith. In Proceedings of EMNLP.",
    "Stevenson, M. 2004. An unsupervised WordNet-based method. In Proceedings of COLING.",
    "Stevenson, S., Fazly, A., and North, R. 2004. Statistical measures of light verbs. In MWE workshop.",
    "Wu, T. 2020a. First work of Wu in 2020. arXiv preprint.",
    "Wu, T. 2020b. Second work of Wu in 2020. arXiv preprint.",
    "van der Berg, H. 2017. Dutch particles in names. Journal of Names.",
]

AUTHOR_YEAR_PAGES = [
    (1, "1 Introduction\n"
        "Dense retrieval works well (Smith et al., 2019; Wu, 2020b), and Smith et al. (2019)\n"
        "scale it further. Baroni (2013) gives an overview, as do others (e.g.,\n"
        "Andoni and Indyk, 2008). The same holds for parsing (Lee and Smith, 2019)\n"
        "and for names with particles (van der Berg, 2017). Light verbs (Stevenson et al.,\n"
        "2004) differ from others (Smith, 2019).\n"
        "In 2019 (the year of the workshop) nothing else happened, see Table 2 (2019).\n"),
    (2, "References\n" + "\n".join(AUTHOR_YEAR_REFS)),
]


def test_author_year_parenthetical_and_narrative_markers_link_by_first_author_and_year():
    grouped = by_marker(find_citation_contexts(AUTHOR_YEAR_PAGES, AUTHOR_YEAR_REFS))
    assert grouped["Smith et al., 2019"][0].reference_index == 3  # first author Smith with co-authors
    assert grouped["Wu, 2020b"][0].reference_index == 8  # the year's letter decides
    assert grouped["Smith et al. (2019)"][0].reference_index == 3
    assert grouped["Baroni (2013)"][0].reference_index == 1
    assert grouped["Andoni and Indyk, 2008"][0].reference_index == 0  # after "e.g.,"
    assert grouped["Lee and Smith, 2019"][0].reference_index == 2  # Lee first, not Smith's paper
    assert grouped["van der Berg, 2017"][0].reference_index == 9
    assert grouped["Stevenson et al., 2004"][0].reference_index == 6  # co-authored, not M. Stevenson alone
    assert grouped["Smith, 2019"][0].reference_index == 4  # single-authored, not Smith et al.
    assert all(c.style == "author-year" for cs in grouped.values() for c in cs)


def test_years_without_authors_are_not_markers():
    markers = {c.marker for c in find_citation_contexts(AUTHOR_YEAR_PAGES, AUTHOR_YEAR_REFS)}
    assert not any("Table" in m or m.startswith("In 2019") for m in markers)
    assert not any("workshop" in m for m in markers)


def test_et_al_does_not_end_the_sentence():
    grouped = by_marker(find_citation_contexts(AUTHOR_YEAR_PAGES, AUTHOR_YEAR_REFS))
    assert grouped["Smith et al. (2019)"][0].sentence == (
        "Dense retrieval works well (Smith et al., 2019; Wu, 2020b), and Smith et al. (2019) scale it further."
    )


def test_superscript_markers_only_in_papers_without_other_markers():
    refs = ["1. Alpha A. A study of things. Nature 2001;1:1-2.", "2. Beta B. Another study. Science 2002;2:3-4.",
            "3. Gamma C. Third. Cell 2003;3:5-6."]
    pages = [(1, "Background\nHeat stress lowers yield in wheat.1,2 Earlier trials in CO2 rich air\n"
                 "showed the same effect.3\n"), (2, "References\n" + "\n".join(refs))]
    contexts = find_citation_contexts(pages, refs)
    assert [(c.marker, c.reference_index) for c in contexts] == [("1,2", 0), ("1,2", 1), ("3", 2)]
    assert contexts[0].sentence == "Heat stress lowers yield in wheat.1,2"


def test_copyright_footer_is_not_a_context():
    pages = [(1, "Permission to make digital or hard copies of this work [1] is granted.\n"
                 "© 2020 Copyright held by the owner/author(s) [2].\n"
                 "Retrieval models [1] are useful.\n")]
    contexts = find_citation_contexts(pages, NUMERIC_REFS)
    assert [c.sentence for c in contexts] == ["Retrieval models [1] are useful."]


def test_reference_like_paragraph_without_heading_is_skipped():
    pages = [(1, "Body text cites [1].\n"), (2, NUMERIC_REFS[1] + "\n")]
    contexts = find_citation_contexts(pages, NUMERIC_REFS)
    assert [c.sentence for c in contexts] == ["Body text cites [1]."]
    assert len(body_paragraphs(pages, NUMERIC_REFS)) == 1


def test_no_references_no_text_no_contexts():
    assert find_citation_contexts([], []) == []
    assert find_citation_contexts([(1, "")], NUMERIC_REFS) == []


PDF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pdf_corpus" / "science-parse"


@pytest.mark.skipif(not PDF.is_dir(), reason="../shared/data/pdf_corpus is absent (real PDFs live beside the project)")
def test_real_pdf_author_year_contexts_link_to_the_right_entries():
    from scimult_desktop.ingest.pdf import read_pdf

    record = read_pdf(PDF / "P14-1059.pdf")
    contexts = find_citation_contexts([(p.page, p.text) for p in record.pages], [r.raw for r in record.references])
    assert len(contexts) >= 30
    linked = [c for c in contexts if c.reference_index is not None]
    assert len(linked) >= 0.9 * len(contexts)
    erk = next(c for c in contexts if c.marker == "Erk, 2012")
    assert "Erk" in record.references[erk.reference_index].raw
    assert not any(c.page == record.pages[-1].page and "Proceedings" in c.sentence for c in contexts)


def test_a_sentence_running_on_to_the_next_page_is_whole_and_its_marker_has_the_right_page():
    pages = [(1, "Intro\nWe compare with several systems. BAD-FS [5] has a very different programming model\n"
                 "from MapReduce, and unlike MapReduce, is tar-\n"),
             (2, "geted to a wide-area network [6]. It is not [7] alone.\n")]
    contexts = find_citation_contexts(pages, NUMERIC_REFS)
    sentence = ("BAD-FS [5] has a very different programming model from MapReduce, and unlike MapReduce, "
                "is targeted to a wide-area network [6].")
    assert [(c.marker, c.page, c.sentence) for c in contexts] == [
        ("[5]", 1, sentence), ("[6]", 2, sentence), ("[7]", 2, "It is not [7] alone.")]
    on_page_two = contexts[1]
    assert pages[1][1][on_page_two.paragraph_start:on_page_two.paragraph_end].startswith("geted to")


def test_acm_bracketed_author_year_markers():
    pages = [(1, "Neural rankers are strong [Smith et al. 2019; Wu 2020a], as known [Baroni 2013].\n")]
    grouped = by_marker(find_citation_contexts(pages, AUTHOR_YEAR_REFS))
    assert grouped["Smith et al. 2019"][0].reference_index == 3
    assert grouped["Wu 2020a"][0].reference_index == 7
    assert grouped["Baroni 2013"][0].reference_index == 1
