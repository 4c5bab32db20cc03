"""Draft readers on what real drafts hold: display math inside sentences, footnotes, inline code,
citations that open a sentence, Quarto cross references, raw LaTeX in Markdown, plain-text
citations and citations written out without a key. Each case names the layer it checks."""

from __future__ import annotations

import re

import pytest

from scimult_desktop.writing import analyse_draft
from scimult_desktop.writing.latex import formula_punctuation, project_latex
from scimult_desktop.writing.markdown import project_markdown
from scimult_desktop.writing.plain import project_plain_text
from scimult_desktop.writing.written_citations import written_citations


def texts(draft: str, kind: str) -> list[str]:
    return [s.text for s in analyse_draft(draft, kind)]


def cites(draft: str, kind: str) -> dict[str, tuple[str, ...]]:
    return {s.text: s.citations for s in analyse_draft(draft, kind)}


# ---- LaTeX: display math ---------------------------------------------------------
@pytest.mark.parametrize("formula", [
    "\\begin{equation}\n  E = mc^2 \\label{eq:e}\n\\end{equation}",
    "\\begin{align*}\n  a &= b \\\\\n  c &= d\n\\end{align*}",
    "\\[\n  f(x) = \\sum_i x_i\n\\]",
    "$$\n  x = y\n$$",
])
def test_display_math_inside_a_sentence_neither_ends_it_nor_its_paragraph(formula):
    draft = f"The energy is\n{formula}\nwhere the mass is at rest \\cite{{einstein}}. It is famous.\n"
    sentences = analyse_draft(draft, "latex")
    assert [s.text for s in sentences] == ["The energy is where the mass is at rest.", "It is famous."]
    assert sentences[0].citations == ("einstein",)
    assert sentences[0].paragraph == sentences[1].paragraph == 0
    assert (sentences[0].line, sentences[0].end_line) == (1, draft.count("\n", 0, draft.index("rest")) + 1)


def test_a_full_stop_closing_a_formula_ends_the_sentence():
    draft = "The total is\n\\begin{equation}\n  E = mc^2. \\label{eq:total}\n\\end{equation}\nThis holds generally \\cite{x}.\n"
    assert cites(draft, "latex") == {"The total is.": (), "This holds generally.": ("x",)}


def test_formula_punctuation_looks_past_labels_spacing_and_comments():
    assert formula_punctuation(" a = b ,\\quad \\label{x} % why\n") == ","
    assert formula_punctuation(" a = b. \\nonumber \\\\ ") == "."
    assert formula_punctuation("\\begin{split} a = b. \\end{split}") == "."
    assert formula_punctuation(" a = b ") == ""


# ---- LaTeX: citations opening a sentence, footnotes, inline code -------------------
def test_a_citation_command_opening_a_sentence_belongs_to_it():
    draft = r"Sparse retrieval was the norm. \autocite{dpr} showed that dense retrieval wins. \cite{x} It ends here."
    assert cites(draft, "latex") == {
        "Sparse retrieval was the norm.": (),
        "showed that dense retrieval wins.": ("dpr", "x"),  # "wins. \cite{x} It": x cites the sentence it follows
        "It ends here.": (),
    }


def test_footnotes_are_sentences_of_their_own_and_their_keys_cite_the_sentence_they_annotate():
    draft = ("A key detail\\footnote{We use the defaults of \\citet{defaults}. See the appendix.} is the rate.\n"
             "Next sentence here.\n\nNew paragraph.")
    sentences = analyse_draft(draft, "latex")
    assert [(s.text, s.citations) for s in sentences] == [
        ("A key detail is the rate.", ("defaults",)),
        ("Next sentence here.", ()),
        ("We use the defaults of.", ("defaults",)),
        ("See the appendix.", ()),
        ("New paragraph.", ()),
    ]
    assert len({s.paragraph for s in sentences[:2]}) == 1 and sentences[2].paragraph != sentences[0].paragraph
    footnote = sentences[2]
    assert draft[footnote.start:footnote.end] == "We use the defaults of \\citet{defaults}."


def test_inline_code_is_neither_text_nor_citation_in_latex():
    draft = r"We call \verb|\cite{notakey}| and \lstinline[language=C]{f(x)} from \mintinline{python}|g()| here \cite{real}."
    assert cites(draft, "latex") == {"We call and from here.": ("real",)}


def test_latex_key_spans_point_at_each_key_in_the_source():
    draft = r"Shown \citep[see][p.~3]{ smith:2019 ,doe-2020_x} and \parencites(a)[1]{k_1}[2]{ k-2 }."
    spans = [draft[a:b] for mark in project_latex(draft).citations for a, b in mark.key_spans]
    assert spans == ["smith:2019", "doe-2020_x", "k_1", "k-2"]


# ---- Markdown ----------------------------------------------------------------------
def test_markdown_inline_code_and_cross_references_are_no_citations_nor_text():
    draft = "As shown in @fig-results and [@tbl-a; @sec:intro], models win [@dpr]. We ran `x@y [@codekey]` once.\n"
    assert cites(draft, "markdown") == {"As shown in and, models win.": ("dpr",), "We ran once.": ()}


def test_markdown_reads_raw_latex_citations_and_drops_raw_references():
    draft = "Raw LaTeX \\cite{rawkey} works, see \\ref{sec:x} and \\emph{this *one*}.\n"
    assert cites(draft, "markdown") == {"Raw LaTeX works, see and this one.": ("rawkey",)}


def test_markdown_display_math_inside_a_paragraph_keeps_the_sentence_going():
    draft = "The loss is\n$$\nL = \\sum_i \\ell_i,\n$$\nwhere $\\ell$ is the cross-entropy [@goodfellow].\nThe total is\n$$ E = mc^2. $$\nThis holds.\n"
    assert cites(draft, "markdown") == {
        "The loss is, where is the cross-entropy.": ("goodfellow",),
        "The total is.": (),
        "This holds.": (),
    }


def test_markdown_text_after_a_comment_spanning_lines_is_read_and_the_comment_is_not():
    draft = "Text before <!-- a comment that\nspans lines [@hidden] --> and after it.\n"
    assert cites(draft, "markdown") == {"Text before and after it.": ()}


def test_markdown_key_spans_point_at_each_key_in_the_source():
    draft = "Shown [see @smith:2019, p. 3; -@doe-2020_x] and by @lee.2020. Mail a@b.com."
    spans = [draft[a:b] for mark in project_markdown(draft).citations for a, b in mark.key_spans]
    assert spans == ["smith:2019", "doe-2020_x", "lee.2020"]


# ---- plain text --------------------------------------------------------------------
def test_plain_text_reads_the_citations_an_editor_inserts_but_not_e_mail_addresses():
    draft = "Dense beats sparse [@dpr; @ance, p. 3]. @lee showed it. Mail x@y.com now. LaTeX too \\citep{colbert}."
    assert cites(draft, "plain") == {
        "Dense beats sparse.": ("dpr", "ance"),
        "showed it.": ("lee",),
        "Mail x@y.com now.": (),
        "LaTeX too.": ("colbert",),
    }
    spans = [draft[a:b] for mark in project_plain_text(draft).citations for a, b in mark.key_spans]
    assert spans == ["dpr", "ance", "lee", "colbert"]


def test_plain_text_keeps_other_brackets_and_backslashes():
    assert texts(r"See C:\data\files and [the note] for [0, 1] values.", "plain") == [
        r"See C:\data\files and [the note] for [0, 1] values."]


# ---- citations written out without a key --------------------------------------------
@pytest.mark.parametrize("sentence, expected", [
    ("Dense wins (Karpukhin et al., 2020; Xiong 2021a) over BM25 [4, 7-9].",
     ("(Karpukhin et al., 2020; Xiong 2021a)", "[4, 7-9]")),
    ("As shown by Smith and Jones (2018a, 2019), it helps.", ("Smith and Jones (2018a, 2019)",)),
    ("See (e.g., Lee and Park, 2019, p. 4) and Müller et al. (2020).", ("(e.g., Lee and Park, 2019, p. 4)", "Müller et al. (2020)")),
    ("Values in [0, 1] or [1.5], the year (2019), and Table (2) are not citations.", ()),
])
def test_written_citations(sentence, expected):
    assert written_citations(sentence) == expected


def test_a_claim_with_a_written_out_citation_is_not_missing_one_in_plain_text_and_markdown():
    draft = "Dense retrieval has been shown to outperform BM25 (Karpukhin et al., 2020).\n"
    for kind in ("plain", "markdown"):
        [sentence] = analyse_draft(draft, kind)
        assert sentence.needs_citation and sentence.written_citations == ("(Karpukhin et al., 2020)",)
        assert not sentence.missing_citation
        assert sentence.to_json()["written_citations"] == ["(Karpukhin et al., 2020)"]
    [latex] = analyse_draft(draft, "latex")
    assert latex.written_citations == () and latex.missing_citation


# ---- invariants over realistic drafts ----------------------------------------------------
REAL_DRAFTS = {
    "latex": r"""\documentclass{article}
\begin{document}
\begin{abstract}
We study dense retrieval for scientific papers. Our method improves recall by 12\% over BM25.
\end{abstract}
\section{Introduction}
Dense retrievers outperform sparse ones \citep[see][p.~3]{karpukhin:2020,doe-2020_x}.
\citeauthor{smith:2019} proposed a contrastive objective, e.g., with in-batch negatives.
% A commented line \cite{commented}. With a sentence.
Transformers dominate NLP benchmarks. % \cite{trailing}
As shown in Fig.~3 and Eq.~(2), the loss $L = -\log p(y|x)$ decreases, i.e., training converges.
Café résumé — naïve methods 🚀 fail \cite{unicode2020}.\footnote{See \cite{note}. It is long.}
\begin{itemize}
\item Sparse methods are fast \citep{robertson2009}.
\end{itemize}
\begin{figure}\caption{Recall at 10. Higher is better \cite{trec}.}\end{figure}
\end{document}
""",
    "markdown": """---
title: "A draft with @notakey"
---
# Introduction
Dense retrievers outperform BM25 [@karpukhin:2020; @doe-2020_x, p. 3]. Smith says so [-@smith2019].
@lee2019 showed that pre-training helps. Mail jane.doe@uni.edu for data, e.g. the splits.

<!-- A hidden [@commented] sentence. -->
> Block quotes claim things [@quoted].

- Café — naïve 🚀 methods fail [@unicode2020].
```
code [@fenced]. Not prose.
```
""",
    "plain": "Café — naïve 🚀 methods fail (Smith et al., 2020). Prior work [12] used BM25 vs. TF-IDF.\n\nA new one [@x].",
}


@pytest.mark.parametrize("kind", sorted(REAL_DRAFTS))
def test_every_word_of_a_sentence_comes_from_its_own_place_in_the_draft(kind):
    draft = REAL_DRAFTS[kind]
    sentences = analyse_draft(draft, kind)
    assert sentences
    for sentence in sentences:
        source = draft[sentence.start:sentence.end]
        for word in re.findall(r"[^\W\d_]{3,}", sentence.text):
            assert word in source, (word, sentence.text)
        assert sentence.line == draft.count("\n", 0, sentence.start) + 1
        assert sentence.end_line == draft.count("\n", 0, sentence.end - 1) + 1
    everything = " ".join(s.text for s in sentences) + " ".join(k for s in sentences for k in s.citations)
    for hidden in ("commented", "trailing", "fenced", "notakey", "Not prose", "hidden"):
        assert hidden not in everything


# ---- keys cited outside any sentence ------------------------------------------------------
def test_keys_in_table_cells_and_nocite_are_cited_places_but_cite_no_sentence():
    from scimult_desktop.writing.draft import cited_key_places

    draft = "\n".join([
        r"Intro text here \nocite{n1,*}.",
        r"\begin{table}",
        r"\begin{tabular}{ll}",
        r"BM25 \cite{robertson} & 0.3 \\ % \cite{commented}",
        r"\end{tabular}",
        r"\caption{Results from \cite{capkey}.}",
        r"\end{table}",
        r"After the table.",
    ])
    assert [key for key, _, _ in cited_key_places(draft, "latex")] == ["n1", "robertson", "capkey"]
    assert all(draft[a:b] == key for key, a, b in cited_key_places(draft, "latex"))
    assert cites(draft, "latex") == {"Intro text here.": (), "Results from.": ("capkey",), "After the table.": ()}


def test_iffalse_blocks_are_hidden_their_else_branch_is_read_and_no_paragraph_break_is_left():
    draft = "\n".join([
        r"Kept one \cite{k1}.",
        r"\iffalse",
        r"Hidden sentence \cite{hidden}. \ifx\a\b nested \fi still hidden.",
        r"\fi",
        r"Kept two \citestyle{plain} and \shortcite{apa} with $x \iff y$.",
        r"\iffalse old \else New text \cite{k3}. \fi Then more.",
    ])
    sentences = analyse_draft(draft, "latex")
    assert [(s.text, s.citations) for s in sentences] == [
        ("Kept one.", ("k1",)), ("Kept two and with x y.", ("apa",)), ("New text.", ("k3",)), ("Then more.", ())]
    assert {s.paragraph for s in sentences} == {0}


def test_a_lower_case_letter_before_a_full_stop_ends_the_sentence_an_initial_does_not():
    assert texts("We sort an array of size n. Then we stop. See J. Smith and A. B. Lee, e.g. Fig. 2. Done.", "plain") == [
        "We sort an array of size n.", "Then we stop.", "See J. Smith and A. B. Lee, e.g. Fig. 2.", "Done."]
    assert texts("As in Suppl. Fig. 3 and w.r.t. Sect. 2, it holds.", "plain") == [
        "As in Suppl. Fig. 3 and w.r.t. Sect. 2, it holds."]


def test_markdown_divs_shortcodes_link_definitions_and_table_cells():
    from scimult_desktop.writing.draft import cited_key_places

    draft = ("Intro text says so [@a].\n\n::: {.callout-note}\nA note inside a div cites [@b].\n:::\n\n"
             "{{< pagebreak >}}\n\n| Model | Score |\n|---|---|\n| BM25 [@robertson] | 0.3 |\n\n"
             "See [the docs][1] for more.\n\n[1]: https://example.com/docs\n")
    assert cites(draft, "markdown") == {
        "Intro text says so.": ("a",), "A note inside a div cites.": ("b",), "See the docs for more.": ()}
    assert [key for key, _, _ in cited_key_places(draft, "markdown")] == ["a", "b", "robertson"]


def test_a_sentence_ending_in_a_formula_ends_after_it_so_a_citation_is_added_outside_the_math():
    from scimult_desktop.lsp.features import citation_insert
    from scimult_desktop.lsp.session import Suggestion
    from scimult_desktop.services.writing.draft_places import sentence_at

    latex = "It has been shown that the total is\n\\begin{equation}\n  E = mc^2. \\label{eq:t}\n\\end{equation}\nNext.\n"
    markdown = "It has been shown that the total is\n$$ E = mc^2. $$\nNext.\n"
    for draft, kind, closing in ((latex, "latex", "\\end{equation}"), (markdown, "markdown", "$$ E = mc^2. $$")):
        sentence = sentence_at(draft, kind, 5)
        assert draft[sentence.start:sentence.end].endswith(closing)
        offset, _ = citation_insert(draft, Suggestion(sentence.start, sentence.end, sentence.text, []), kind, "k")
        assert offset == draft.index(closing) + len(closing)


def test_dropped_math_commands_still_separate_the_symbols_around_them():
    assert texts(r"We train on 8$\times$A100 GPUs with $a\cdot b$ cost.", "latex") == ["We train on 8 A100 GPUs with a b cost."]


def test_math_fonts_accents_and_delimiters_keep_symbols_together():
    assert texts(r"Hematite ($\alpha$-{\rm Fe}$_2${\rm O}$_3$) and $b\bar{b}$ pairs at $T_{\rm eq}$ differ.", "latex") == [
        "Hematite (alpha -Fe2O3) and bb pairs at Teq differ."]


def test_a_pandoc_inline_note_cites_the_sentence_it_annotates_and_does_not_glue_the_next_one_on():
    from scimult_desktop.writing.draft import cited_key_places

    draft = "Dense retrieval has been shown to win.^[See @dpr and [@ance] for details.] Next one here.\n"
    assert cites(draft, "markdown") == {"Dense retrieval has been shown to win.": ("dpr", "ance"), "Next one here.": ()}
    assert [key for key, _, _ in cited_key_places(draft, "markdown")] == ["dpr", "ance"]
