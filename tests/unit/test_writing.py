"""Draft analysis: sentences with lines and offsets, citations in LaTeX and Markdown, claims, citation formats."""

from __future__ import annotations

import pytest

from scimult_desktop.errors import ScimultError
from scimult_desktop.writing.worthiness import default_model
from scimult_desktop.writing import (
    CITATION_STYLES,
    DraftError,
    analyse_draft,
    assess_claim,
    assess_cues,
    draft_kind,
    format_citation,
    read_draft,
)

LATEX_DRAFT = r"""\documentclass{article}
\usepackage{natbib}
\title{Citation-aware retrieval \cite{preamble_key}}
\begin{document}
\maketitle
\begin{abstract}
We study citation recommendation for scientific drafts.
\end{abstract}

\section{Introduction \cite{heading_key}}
% TODO: cite the survey. It has been shown that comments vanish \cite{comment_key}.
Dense retrieval has been shown to outperform BM25 on many benchmarks~\citep[p.~3]{karpukhin2020dense, xiong2021ance}.
Previous work, e.g., the models of \citet{lee2019latent}, used inverse cloze tasks
for pre-training. As \textcite{khattab2020colbert} argue, late interaction is 10\% faster
than cross-encoders (see Fig.~\ref{fig:speed}).
Recent studies report gains of $4.5\%$ in nDCG@10 \parencite[see][]{thakur2021beir}.

We propose \emph{DenseX}, a \textbf{task-aware} encoder.
What does this mean for citation recommendation?
Multi-citations are common in related work sections \autocites[12]{a2019}[see][]{b2020}.
\begin{equation}
  s(q, d) = \langle E(q), E(d) \rangle \quad \text{as in \cite{equation_key}}
\end{equation}
\begin{figure}[t]
  \includegraphics[width=\linewidth]{speed.pdf}
  \caption{Latency of retrievers, as reported by \citet{santhanam2022colbertv2}.}
  \label{fig:speed}
\end{figure}
Models were trained on 8 GPUs in 2023 following Smith et al.\ \cite{smith2023}.
\end{document}
Text after the document is ignored \cite{after_key}.
"""

MARKDOWN_DRAFT = """---
title: "Citation-aware retrieval"
bibliography: refs.bib
---

# Introduction [@heading_key]

Dense retrieval has been shown to outperform BM25 [@karpukhin2020; @xiong2021, p. 3].
@lee2019 used inverse cloze tasks for pre-training, i.e., a self-supervised task.
Write to jane.doe@example.org for the data. Late interaction is 10% faster than
cross-encoders [see @khattab2020, pp. 33-35; also @{odd key}].

```python
# it has been shown that code is not prose [@code_key]
print("hello")
```

- Recent studies report gains of 4.5 points in nDCG@10 [-@thakur2021].
- We propose a **task-aware** encoder, described in [the docs](https://example.org/docs).

Setext heading [@setext_key]
--------------

> Prior work on this has been cited widely [@quote2019].

| a | b |
|---|---|
| cells are skipped | [@table_key] |

Is this a question that has been asked before?
"""


def by_text(sentences, fragment):
    matches = [s for s in sentences if fragment in s.text]
    assert len(matches) == 1, (fragment, [s.text for s in sentences])
    return matches[0]


# ---- LaTeX -------------------------------------------------------------------------
def test_latex_sentences_lines_and_citations():
    sentences = analyse_draft(LATEX_DRAFT, "latex")
    dense = by_text(sentences, "Dense retrieval has been shown")
    assert dense.citations == ("karpukhin2020dense", "xiong2021ance")
    assert (dense.line, dense.end_line) == (12, 12)
    assert dense.text == "Dense retrieval has been shown to outperform BM25 on many benchmarks."

    previous = by_text(sentences, "Previous work, e.g., the models of")  # "e.g.," does not end a sentence
    assert previous.citations == ("lee2019latent",)
    assert (previous.line, previous.end_line) == (13, 14)

    colbert = by_text(sentences, "late interaction is 10% faster")  # \% kept, "Fig." not a sentence end
    assert colbert.citations == ("khattab2020colbert",)
    assert colbert.text.endswith("(see Fig.).")
    assert by_text(sentences, "gains of 4.5% in nDCG@10").citations == ("thakur2021beir",)
    assert by_text(sentences, "Multi-citations are common").citations == ("a2019", "b2020")
    assert by_text(sentences, "Latency of retrievers").citations == ("santhanam2022colbertv2",)
    smith = by_text(sentences, "following Smith et al.")
    assert smith.citations == ("smith2023",) and not smith.text.endswith("..")


def test_latex_drops_preamble_comments_headings_math_and_trailing_text():
    sentences = analyse_draft(LATEX_DRAFT, "latex")
    keys = {key for s in sentences for key in s.citations}
    for dropped in ("preamble_key", "heading_key", "comment_key", "equation_key", "after_key"):
        assert dropped not in keys
    texts = " ".join(s.text for s in sentences)
    assert "TODO" not in texts and "Introduction" not in texts and "\\" not in texts and "{" not in texts
    assert "We propose DenseX, a task-aware encoder." in texts


def test_latex_offsets_point_at_the_sentence_in_the_source():
    sentences = analyse_draft(LATEX_DRAFT, "latex")
    dense = by_text(sentences, "Dense retrieval")
    source = LATEX_DRAFT[dense.start:dense.end]
    assert source.startswith("Dense retrieval") and source.endswith("xiong2021ance}.")
    lines = LATEX_DRAFT.splitlines()
    for sentence in sentences:
        first_word = sentence.text.split()[0].strip(".,")
        assert LATEX_DRAFT[sentence.start:sentence.end].count("\n") == sentence.end_line - sentence.line
        assert first_word in lines[sentence.line - 1] or first_word in LATEX_DRAFT[sentence.start:sentence.end]


def test_latex_fragment_without_document_environment():
    text = "As shown by \\citeauthor{doe2020} in \\cite*{doe2020}, graphs help.\n\\nocite{hidden}\n"
    sentences = analyse_draft(text, "latex")
    assert len(sentences) == 1
    assert sentences[0].citations == ("doe2020",)


# ---- Markdown ----------------------------------------------------------------------
def test_an_unclosed_cite_being_typed_keeps_the_next_line_out_of_its_sentence_and_keys():
    # While the writer types "\\cite{" the brace is open: the prose below is neither a key nor part
    # of this sentence (it used to become a "missing key" and be glued onto the completion query).
    text = "Vitamin D is good for older adults \\cite{\nBed nets reduce malaria transmission \\cite{malaria}.\n"
    sentences = analyse_draft(text, "latex")
    assert [(s.text, s.citations) for s in sentences] == [
        ("Vitamin D is good for older adults", ()),
        ("Bed nets reduce malaria transmission.", ("malaria",)),
    ]
    typed = analyse_draft("Vitamin D is good \\cite{vitd,mal\nBed nets reduce malaria transmission.", "latex")
    assert typed[0].citations == ("vitd", "mal") and typed[1].citations == ()
    multiline = analyse_draft("Vitamin D is good \\cite{a, b,\n c}. Next sentence here.", "latex")
    assert [s.citations for s in multiline] == [("a", "b", "c"), ()]


def test_markdown_pandoc_citations_and_sentences():
    sentences = analyse_draft(MARKDOWN_DRAFT, "markdown")
    dense = by_text(sentences, "Dense retrieval has been shown")
    assert dense.citations == ("karpukhin2020", "xiong2021") and dense.line == 8

    lee = by_text(sentences, "used inverse cloze tasks")  # an in-text @key opens its own sentence
    assert lee.citations == ("lee2019",)
    assert MARKDOWN_DRAFT[lee.start:lee.end].startswith("@lee2019 used")

    email = by_text(sentences, "example.org")
    assert email.citations == ()  # an e-mail address is not a citation

    late = by_text(sentences, "Late interaction is 10% faster than cross-encoders.")
    assert late.citations == ("khattab2020", "odd key") and (late.line, late.end_line) == (10, 11)
    assert by_text(sentences, "Recent studies report gains").citations == ("thakur2021",)
    assert by_text(sentences, "We propose a task-aware encoder, described in the docs.").citations == ()
    assert by_text(sentences, "Prior work on this").citations == ("quote2019",)


def test_markdown_skips_front_matter_code_headings_and_tables():
    sentences = analyse_draft(MARKDOWN_DRAFT, "markdown")
    keys = {key for s in sentences for key in s.citations}
    assert not keys & {"heading_key", "code_key", "setext_key", "table_key"}
    texts = " ".join(s.text for s in sentences)
    for absent in ("bibliography", "print(", "Introduction", "Setext", "cells are skipped", "**", "https://"):
        assert absent not in texts


# ---- plain text and sentence splitting ----------------------------------------------------
def test_plain_text_abbreviations_do_not_end_sentences():
    text = ("Smith et al. reported a 12% gain, i.e., a large one. See Fig. 3 and Eq. 2 for details.\n"
            "J. Doe disagreed (cf. Sec. 4). The U.S. data were not used.\n\n"
            "A new paragraph starts here")
    sentences = analyse_draft(text, "plain")
    assert [s.text for s in sentences] == [
        "Smith et al. reported a 12% gain, i.e., a large one.",
        "See Fig. 3 and Eq. 2 for details.",
        "J. Doe disagreed (cf. Sec. 4).",
        "The U.S. data were not used.",
        "A new paragraph starts here",
    ]
    assert [s.line for s in sentences] == [1, 1, 2, 2, 4]
    assert all(text[s.start:s.end] == s.text for s in sentences)


def test_decimal_numbers_and_lowercase_continuations_stay_in_one_sentence():
    sentences = analyse_draft("Accuracy rose to 91.5 percent. it was measured twice! Really? Yes.", "plain")
    assert [s.text for s in sentences] == ["Accuracy rose to 91.5 percent. it was measured twice!", "Really?", "Yes."]


# ---- claims ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sentence",
    [
        "Dense retrieval has been shown to outperform BM25 on open-domain benchmarks.",
        "Previous work used inverse cloze tasks for pre-training retrievers.",
        "Transformers are the state of the art in most language understanding tasks.",
        "About 30% of citations in biomedical papers are never read by the citing authors.",
        "Late interaction models are faster than cross-encoders at comparable quality.",
        "We follow the protocol of prior work and evaluate on the BEIR benchmark.",
    ],
)
def test_claims_needing_citations_are_flagged(sentence):
    check = assess_claim(sentence)
    assert check.needs_citation and check.reasons


@pytest.mark.parametrize(
    "sentence",
    [
        "Has dense retrieval been shown to beat BM25?",  # a question
        "It has been shown.",  # too short
        "We propose a task-aware encoder that is 3% better than our baseline.",  # own contribution
        "In this paper, we introduce a new benchmark for citation recommendation.",
        "Table 2 shows the results of the experiments on both datasets.",  # describes the draft
    ],
)
def test_other_sentences_are_left_alone(sentence):
    assert not assess_claim(sentence).needs_citation


@pytest.mark.parametrize(
    "sentence",
    [
        "BERT is a pre-trained language model based on the transformer architecture.",
        "The encoder maps every document to a single vector of fixed size.",
    ],
)
def test_the_classifier_reports_statements_from_the_literature_that_have_no_cue(sentence):
    check = assess_claim(sentence)
    assert check.needs_citation and "likelihood" in check.reasons[0]
    assert not assess_cues(sentence).needs_citation


def test_the_shipped_classifier_loads_and_scores():
    model = default_model()
    assert model is not None and 0 < model.threshold < 0.5
    assert 0 <= model.probability("Table 2 shows the results.") <= 1


def test_missing_citation_combines_claim_and_existing_keys():
    sentences = analyse_draft(
        "Dense retrieval has been shown to beat BM25 \\cite{dpr}. Sparse models have been studied for decades.",
        "latex",
    )
    assert [s.needs_citation for s in sentences] == [True, True]
    assert [s.missing_citation for s in sentences] == [False, True]
    assert sentences[1].to_json()["citations"] == [] and sentences[0].to_json()["citations"] == ["dpr"]


# ---- citation formats ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("latex", r"\cite{smith2020,doe2021}"),
        ("natbib-citep", r"\citep{smith2020,doe2021}"),
        ("natbib-citet", r"\citet{smith2020,doe2021}"),
        ("biblatex", r"\autocite{smith2020,doe2021}"),
        ("pandoc", "[@smith2020; @doe2021]"),
        ("keys", "smith2020, doe2021"),
    ],
)
def test_format_citation_styles(style, expected):
    assert format_citation(["smith2020", "doe2021", "smith2020"], style) == expected


def test_format_citation_edge_cases():
    assert set(CITATION_STYLES) == {"latex", "natbib-citep", "natbib-citet", "biblatex", "pandoc", "keys"}
    assert format_citation(["odd key", "Doe:2021."], "pandoc") == "[@{odd key}; @{Doe:2021.}]"
    assert format_citation(["Doe:2021"], "pandoc") == "[@Doe:2021]"
    with pytest.raises(ScimultError, match="unknown citation style"):
        format_citation(["a"], "harvard")
    with pytest.raises(ScimultError, match="no citation keys"):
        format_citation(["", "  "], "latex")
    with pytest.raises(ScimultError, match="cannot be used in a LaTeX"):
        format_citation(["a,b"], "latex")


# ---- files -------------------------------------------------------------------------
def test_read_draft_picks_the_reader_from_the_suffix(tmp_path):
    assert [draft_kind(n) for n in ("a.tex", "b.MD", "c.qmd", "d.txt", "e")] == ["latex", "markdown", "markdown", "plain", "plain"]
    tex = tmp_path / "paper.tex"
    tex.write_text(LATEX_DRAFT, encoding="utf-8")
    assert read_draft(tex) == analyse_draft(LATEX_DRAFT, "latex")
    md = tmp_path / "paper.md"
    md.write_text(MARKDOWN_DRAFT, encoding="utf-8")
    assert "karpukhin2020" in {k for s in read_draft(md) for k in s.citations}


def test_read_draft_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.tex"
    with pytest.raises(DraftError, match="missing.tex: draft file not found"):
        read_draft(missing)
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DraftError, match="scan.txt: not UTF-8"):
        read_draft(binary)
    with pytest.raises(DraftError, match="is a folder"):
        read_draft(tmp_path)
    with pytest.raises(ScimultError, match="unknown draft kind"):
        analyse_draft("text", "docx")


# ---- paragraphs ---------------------------------------------------------------------------
def test_latex_paragraphs_end_at_blank_lines_par_headings_and_items_not_at_comment_lines():
    sentences = analyse_draft(
        "\\begin{document}\n"
        "Vitamin D sufficiency lowers parathyroid hormone.\n"
        "% a commented-out line inside the paragraph\n"
        "Calcium intake matters as well.\n"
        "\n"
        "Knowledge distillation compresses rankers. \\par After par.\n"
        "\\section{Method}\n"
        "\\begin{itemize}\n\\item First item.\n\\item Second item.\n\\end{itemize}\n"
        "\\end{document}\n",
        "latex",
    )
    assert [(s.text, s.paragraph) for s in sentences] == [
        ("Vitamin D sufficiency lowers parathyroid hormone.", 0),
        ("Calcium intake matters as well.", 0),
        ("Knowledge distillation compresses rankers.", 1),
        ("After par.", 2),
        ("First item.", 3),
        ("Second item.", 4),
    ]
    assert sentences[0].to_json()["paragraph"] == 0


def test_markdown_and_plain_paragraphs():
    markdown = analyse_draft("# Title\n\nOne here. Two here.\n- An item.\n- Another item.\n\n> A quote.\n", "markdown")
    assert [s.paragraph for s in markdown] == [0, 0, 1, 2, 3]
    plain = analyse_draft("First one. Second one.\n\n\nThird one.\nFourth one.", "plain")
    assert [s.paragraph for s in plain] == [0, 0, 1, 1]


def test_a_sentence_ending_a_line_ends_even_when_the_next_opens_in_lower_case():
    sentences = analyse_draft("Fixation counts were used in eye-tracking studies.\nword2vec embeds words.\n"
                              "See the work of Smith et al.\nfor details, e.g.\nreading ratios.", "markdown")
    assert [s.text for s in sentences] == [
        "Fixation counts were used in eye-tracking studies.",
        "word2vec embeds words.",
        "See the work of Smith et al. for details, e.g. reading ratios.",
    ]
