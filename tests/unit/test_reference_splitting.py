"""Splitting a reference list into entries, for list layouts met in arXiv papers (unarXive 2022 sample)."""

from __future__ import annotations

from scimult_desktop.ingest.pdf_layout import TextLine
from scimult_desktop.ingest.pdf_references import _hanging_indent_starts, split_entries


def lines(rows: list[tuple[float, str]]) -> list[TextLine]:
    """(left edge, text) rows as consecutive 9 pt lines on one page."""
    return [TextLine(text=text, x0=x0, y0=100.0 + 11 * i, x1=x0 + 4.6 * len(text), y1=109.0 + 11 * i, size=9.0, page=1)
            for i, (x0, text) in enumerate(rows)]


def test_a_wrapped_line_opening_with_a_bracketed_arxiv_id_starts_no_entry():
    rows = [(72, "[1] A. Ali and G. Kramer, Eur. Phys. J. H 36, 245 (2011), arXiv:1012.2288"),
            (72, "[2] M. A. Ebert, I. W. Stewart and Y. Zhao, Towards quasi-transverse momentum dependent PDFs, JHEP 09"),
            (72, "[1901.03685] (2019) 037."),
            (72, "[3] S. Acharya et al. (ALICE), JHEP 05, 061 (2022)"),
            (72, "[4] R. Aaij et al. [LHCb], Phys. Rev. D 94 (2016) no.7, 072001 doi:10.1103/PhysRevD.94.072001"),
            (72, "[hep-ex] 1608.01289."),
            (72, "[5] G. 't Hooft and M. J. G. Veltman, Nucl. Phys. B 44 (1972) 189."),
            (72, "[6] J. Ellis, Int. J. Mod. Phys. A 29, 1430072 (2014).")]
    entries = split_entries(lines(rows))
    assert [e[:3] for e in entries] == ["[1]", "[2]", "[3]", "[4]", "[5]", "[6]"]
    assert entries[1].endswith("JHEP 09 [1901.03685] (2019) 037.")


def test_hanging_indent_list_of_mostly_one_line_entries():
    rows = [(72, "Kurono, Y., Saito, M., Kamazaki, T., Morita, K.-I., & Kawabe, R. 2013, ApJ, 765, 85"),
            (72, "Le Gouellec, V. J. M., Hull, C. L. H., Maury, A. J., et al. 2019, ApJ, 885, 106"),
            (72, "Lindberg, J. E., & Jørgensen, J. K. 2012, A&A, 548, A24"),
            (72, "Louvet, F., Dougados, C., Cabrit, S., et al. 2018, A&A, 618, A120, a long entry that goes on to"),
            (84, "a second line with more of its text"),
            (72, "Mariska, J. T., & Withbroe, G. L. 1978, SoPh, 60, 67"),
            (72, "Mirocha, A., Karska, A., Gronowski, M., et al. 2021, A&A, 656, A146, and a long tail that runs on"),
            (84, "to a second line"),
            (72, "Oya, Y., Sakai, N., Watanabe, Y., et al. 2018, ApJ, 863, 72"),
            (72, "Sakai, N., Sakai, T., Hirota, T., & Yamamoto, S. 2009, ApJ, 697, 769, and more words to wrap it"),
            (84, "onto a second line as well"),
            (72, "Saucedo, J., Calvet, N., Hartmann, L., & Raymond, J. 2003, ApJ, 591, 275"),
            (72, "Samra, J. E., Madsen, C. A., Cheimets, P., et al. 2022, ApJ, 933, 82"),
            (72, "Spezzano, S., Bizzocchi, L., Caselli, P., Harju, J., & Brünken, S. 2016, A&A, 592, L11"),
            (72, "Valdivia, V., Maury, A., Brauer, R., et al. 2019, MNRAS, 488, 4897"),
            (72, "Vujinovic, M., & Mendes, T. 2019, PhRvD, 99, 034501")]
    assert sum(1 for x0, _ in rows if x0 > 72) / len(rows) < 0.2  # too few indented lines for the old rule
    entries = split_entries(lines(rows))
    assert len(entries) == 13
    assert entries[3].endswith("goes on to a second line with more of its text")


def test_prose_with_indented_first_lines_is_not_read_as_a_hanging_list():
    words = ("the archive prints these terms after the last page of every article it holds and asks each reader "
             "to accept them before any use of its content for research teaching or private study").split()
    rows = []
    for paragraph in range(3):
        rows.append((84, f"Paragraph {paragraph + 1} of the terms of use that " + " ".join(words[:9])))
        rows.extend((72, " ".join(words[i:i + 14])) for i in range(0, 56, 14))
    rows.append((72, "and the end of it."))
    assert _hanging_indent_starts(lines(rows)) is None


def test_wrapped_lines_opening_with_arxiv_brackets_do_not_make_an_unlabelled_list_labelled():
    rows = []
    for n in range(6):
        rows.append((72, f"R. Aaij et al. [LHCb], Phys. Rev. D {90 + n} (20{10 + n}) no.3, 0320{n:02d} doi:10.1103/PhysRevD"))
        rows.append((84, f"[arXiv:15{n:02d}.01710 [hep-ex]]."))
    entries = split_entries(lines(rows))
    assert len(entries) == 6
    assert all(e.startswith("R. Aaij") and e.endswith("[hep-ex]].") for e in entries)


def test_flat_author_year_list_splits_at_surname_initials_even_after_an_entry_without_a_full_stop():
    rows = [(72, "Hull, C. L. H., Le Gouellec, V. J. M., Girart, J. M., Tobin,"),
            (72, "J. J., & Bourke, T. L. 2020, ApJ, 892, 152"),
            (72, "Kurono, Y., Saito, M., Kamazaki, T., Morita, K.-I., &"),
            (72, "Kawabe, R. 2013, ApJ, 765, 85"),
            (72, "Le Gouellec, V. J. M., Maury, A. J., Guillet, V., et al. 2020, A&A, 644, A11"),
            (72, "Lindberg, J. E., & Jørgensen, J. K. 2012, A&A, 548, A24")]
    entries = split_entries(lines(rows))
    assert [e.split(",")[0] for e in entries] == ["Hull", "Kurono", "Le Gouellec", "Lindberg"]


def test_flat_list_with_two_authors_written_given_name_first_splits_after_a_full_stop():
    rows = [(72, "Jon Beck. Distributive laws. In Seminar on Triples and Categorical Homology Theory, pages"),
            (72, "119–140. Springer, 1969."),
            (72, "Gordon D. Plotkin and John Power. Semantics for algebraic operations. Electronic Notes in"),
            (72, "Theoretical Computer Science, 45:332–345, 2001."),
            (72, "Mountain Research and Development P3 https://doi.org/10.1659/MRD-JOURNAL-D-21-00057.1")]
    entries = split_entries(lines(rows))
    assert [e[:12] for e in entries] == ["Jon Beck. Di", "Gordon D. Pl"]
