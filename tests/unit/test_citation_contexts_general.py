"""Citation markers as real papers print them beyond the styles the finder was first written for.

Each case is a general form met in the unarXive 2022 sample (benchmarks/eval_contexts_unarxive.py):
surnames with capitalised particles and non-ASCII hyphens, natbib's compressed year letters,
a citation after other words inside a parenthesis, long reference entries whose year comes late,
and paragraphs that run on to the next page starting with a name or a marker.
"""

from __future__ import annotations

from scimult_desktop.ingest.citation_contexts import find_citation_contexts

REFS = [
    "Ball, J. S., & Chiu, T.-W. 1980a, Analytic properties of the vertex function, Phys. Rev. D, 22, 2542",
    "Ball, J. S., & Chiu, T.-W. 1980b, Analytic properties of the vertex function II, Phys. Rev. D, 22, 2550",
    "Del Zanna, G., Dere, K. P., Young, P. R., & Landi, E. 2018, A new atomic database, A&A, 582, A56",
    "Hammes‐Schiffer, S., & Tully, J. C. 1994, Proton transfer in solution, J. Chem. Phys., 101, 4657",
    "Le Gouellec, V. J. M., Maury, A. J., Guillet, V., et al. 2019, Polarized dust emission, ApJ, 885, 106",
    "Şahin, M. 2020, Ordered structures in thin films, Phys. Rev. B, 12, 1",
    "Swaminathan, M. 2021, Rel-C structures on Gromov-Witten moduli spaces, J. Symplectic Geom., 19, 413",
]


def links(pages, refs=REFS):
    return {(c.marker, c.reference_index) for c in find_citation_contexts(pages, refs)}


def test_surnames_with_capitalised_particles_unicode_hyphens_and_latin_letters_link():
    pages = [(1, "Line ratios were revised (Del Zanna et al., 2018; Hammes‐Schiffer and Tully, 1994),\n"
                 "as Le Gouellec et al. (2019) and Şahin (2020) showed for other regions.\n")]
    assert links(pages) == {("Del Zanna et al., 2018", 2), ("Hammes‐Schiffer and Tully, 1994", 3),
                            ("Le Gouellec et al. (2019)", 4), ("Şahin (2020)", 5)}


def test_natbib_compressed_year_letters_name_each_reference():
    pages = [(1, "The vertex is analytic (Ball and Chiu, 1980a,b), as Ball and Chiu (1980a, b) proved.\n")]
    assert links(pages) == {("Ball and Chiu, 1980a,b", 0), ("Ball and Chiu, 1980a,b", 1),
                            ("Ball and Chiu (1980a, b)", 0), ("Ball and Chiu (1980a, b)", 1)}


def test_citation_after_other_words_in_a_parenthesis_links_when_the_list_has_it():
    pages = [(1, "The charts are submanifolds (for more details see Swaminathan, 2021, Lemma 4.12 therein).\n"
                 "Nothing was cited here (as decided in Geneva, 2019, by the committee).\n")]
    assert links(pages) == {("Swaminathan, 2021", 6)}


LONG_ENTRY = ("A. Campanella, H. Okui, A. Mayoral, D. Kashiwa, O. G. de Dios, D. Verchere, Q. Pham Van, A. Giorgetti, "
              "R. Casellas, R. Morro, and L. Ong, “ODTN: Open disaggregated transport network. Discovery and control "
              "of a disaggregated optical network through open source software and open APIs,” in Optical Fiber "
              "Communication Conference (OFC), 2019.")


def test_a_long_entry_whose_year_comes_late_links_by_its_first_author():
    assert len(LONG_ENTRY[:LONG_ENTRY.index("2019")]) > 200
    refs = REFS + [LONG_ENTRY]
    pages = [(1, "The open controller in (Campanella et al., 2019) discovers the topology; Okui et al. (2019)\n"
                 "is not a paper of this list, its author is the entry's second.\n")]
    assert links(pages, refs) == {("Campanella et al., 2019", 7), ("Okui et al. (2019)", None)}


def test_the_first_author_of_a_long_entry_beats_a_co_author_of_a_short_one():
    chen_first = ("Chen, H., Wang, Y., Xu, C., Shi, B., Xu, C., Tian, Q., Xu, C.: AdderNet: do we really need "
                  "multiplications in deep learning? In: Proceedings of the IEEE/CVF Conference on Computer Vision and "
                  "Pattern Recognition (CVPR), pp. 1468-1477 (2020)")
    chen_third = "Xu, Y., Xu, C., Chen, X., Zhang, W.: Kernel based progressive distillation. In: CVPR (2020)"
    pages = [(1, "The most relevant work is AdderNet (Chen et al., 2020), which replaces multiplications.\n")]
    assert links(pages, [chen_third, chen_first]) == {("Chen et al., 2020", 1)}


def test_the_entrys_own_year_beats_a_later_year_in_another_entry_by_the_same_authors():
    refs = ["R. Aaij et al. [LHCb], Phys. Rev. D 91 (2015) no.9, 092002 [erratum: Phys. Rev. D 93 (2016) 119901].",
            "R. Aaij et al. [LHCb], Phys. Rev. D 94 (2016) no.7, 072001 [arXiv:1608.01289 [hep-ex]]."]
    pages = [(1, "A second broad resonance was found above 3 GeV (Aaij et al., 2016).\n")]
    assert links(pages, refs) == {("Aaij et al., 2016", 1)}


NUMBERED = [f"[{n}] A. Author{n}. Title number {n}. Journal, 20{n:02d}." for n in range(1, 10)]


def test_a_sentence_running_on_to_a_page_that_starts_with_a_marker_or_a_name_is_whole():
    pages = [(1, "Intro\nThe quasideterminant was defined first by\n"),
             (2, "Gelfand and Retakh [9] (see also [8]). Its properties follow from the definition and\n"
                 "are simple.\n"
                 "Bands were unfolded before [1,\n"),
             (3, "2] and after [3].\n")]
    sentences = {c.marker: c.sentence for c in find_citation_contexts(pages, NUMBERED)}
    assert sentences["[9]"] == "The quasideterminant was defined first by Gelfand and Retakh [9] (see also [8])."
    assert sentences["[1, 2]"] == "Bands were unfolded before [1, 2] and after [3]."
    pages = [(1, "Intro\nBands were unfolded for twisted bilayers (Ku et al., 2010; Lee et al., 2013;\n"),
             (2, "Nishi et al., 2017). Others followed with larger cells and other methods of unfolding.\n")]
    refs = ["Ku, W. 2010, Unfolding", "Lee, C. 2013, Bands", "Nishi, H. 2017, Twisted"]
    contexts = find_citation_contexts(pages, refs)
    assert [(c.marker, c.reference_index, c.page) for c in contexts] == [
        ("Ku et al., 2010", 0, 1), ("Lee et al., 2013", 1, 1), ("Nishi et al., 2017", 2, 2)]
    assert {c.sentence for c in contexts} == {"Bands were unfolded for twisted bilayers (Ku et al., 2010; Lee et al., "
                                              "2013; Nishi et al., 2017)."}


def test_a_page_ending_in_a_caption_does_not_run_on_into_the_next_page():
    pages = [(1, "Intro\nResults are shown below.\nFigure 3 Results of the model\n"),
             (2, "We compare against the baseline [2] on all sets.\n")]
    sentences = [c.sentence for c in find_citation_contexts(pages, NUMBERED)]
    assert sentences == ["We compare against the baseline [2] on all sets."]
    pages = [(1, "Intro\nThe metric for selecting a rule is\n"),
             (2, "Figure 7. Performance of the extractor over time, measured on all of the sets [3].\n")]
    sentences = [c.sentence for c in find_citation_contexts(pages, NUMBERED)]
    assert len(sentences) == 1 and "selecting a rule" not in sentences[0]


def test_unbracketed_reference_numbers_after_ref_in_a_superscript_paper():
    refs = ["1. Alpha A. A study of things. Nature 2001;1:1-2.", "2. Beta B. Another study. Science 2002;2:3-4.",
            "3. Gamma C. Third. Cell 2003;3:5-6.", "4. Delta D. Fourth. Cell 2004;4:7-8."]
    pages = [(1, "Background\nHeat stress lowers yield in wheat.1,2 The kernels were computed in ref. 3 for one\n"
                 "case and in refs. 2–4 for the others; Condition REF 1 and Table 4 are not citations.\n")]
    found = {(c.marker, c.reference_index) for c in find_citation_contexts(pages, refs)}
    assert found == {("1,2", 0), ("1,2", 1), ("ref. 3", 2), ("refs. 2–4", 1), ("refs. 2–4", 2), ("refs. 2–4", 3)}


def test_a_display_equation_ends_the_paragraph_before_a_capitalised_line():
    pages = [(1, "Intro\nThe dissipation potential of the material law is assumed to take the quadratic form of the\n"
                 "rate, as in earlier work, namely\n"
                 "σ(ε̇) = η ε̇² (3)\n"
                 "This procedure differs from the standard one, as for example implemented in [4]. The standard\n"
                 "approach was shown by\n"
                 "Smith and others [2] to be slower in every case that matters to us in the present work.\n")]
    sentences = {c.marker: c.sentence for c in find_citation_contexts(pages, NUMBERED)}
    assert sentences["[4]"] == "This procedure differs from the standard one, as for example implemented in [4]."
    assert sentences["[2]"] == ("The standard approach was shown by Smith and others [2] to be slower in every case "
                                "that matters to us in the present work.")


SUPERSCRIPT_REFS = [f"{n}. Author{n} A. Study number {n}. Journal 20{n:02d};1:1-2." for n in range(1, 13)]


def test_a_superscript_paper_with_a_few_stray_brackets_keeps_its_raised_numbers():
    body = " ".join(f"Finding number {n} was reported in the literature{n} and confirmed later." for n in range(1, 13))
    pages = [(1, "Background\n" + body + "\nValues lie in [0, 1] and a quoted [12] or [3] appears.\n")]
    found = {(c.marker, c.reference_index) for c in find_citation_contexts(pages, SUPERSCRIPT_REFS)}
    assert {(str(n), n - 1) for n in range(1, 13)} <= found


def test_flattened_powers_in_a_bracket_paper_are_not_superscripts():
    body = " ".join(f"We bound x{n % 3 + 1} by y{n % 4 + 1} and then z{n % 2 + 1} again." for n in range(12))
    pages = [(1, "Background\nWe use the method of [1] and [2] here. " + body + "\n")]
    styles = {c.style for c in find_citation_contexts(pages, SUPERSCRIPT_REFS)}
    assert styles == {"numeric"}


def test_a_long_list_of_citations_in_one_parenthesis_is_read_whole():
    surnames = ["Cucchieri", "Huber", "Pelaez", "Aguilar", "Blum", "Mitter", "Williams", "Cyrol", "Duarte",
                "Sternbeck", "Corell", "Vujinovic", "Barrios", "Oliveira", "Fischer"]
    refs = [f"{name}, A., Maas, B., & Mendes, C. {2000 + i}, Gluon propagators, Phys. Rev. D, {i}, 1"
            for i, name in enumerate(surnames)]
    inside = "; ".join(f"{name}, Maas, & Mendes, {2000 + i}" for i, name in enumerate(surnames))
    assert len(inside) > 400
    pages = [(1, f"The gluon propagator saturates in the infrared ({inside}).\n")]
    found = {(c.marker, c.reference_index) for c in find_citation_contexts(pages, refs)}
    assert found == {(f"{name}, Maas, & Mendes, {2000 + i}", i) for i, name in enumerate(surnames)}
