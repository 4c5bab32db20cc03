"""Where citation keys are typed and cited: `scimult_desktop.lsp.cite_context` and `positions`."""

from __future__ import annotations

import pytest

from scimult_desktop.lsp.cite_context import (
    LATEX,
    PANDOC,
    cite_context_at,
    cited_keys,
    completion_text,
    key_at,
    most_used_command,
    without_unfinished_citations,
)
from scimult_desktop.lsp.positions import UTF8, UTF16, UTF32, TextPositions


def at_bar(marked: str, kind: str):
    """The context at the `|` of `marked` (the bar removed)."""
    offset = marked.index("|")
    return cite_context_at(marked.replace("|", "", 1), offset, kind)


@pytest.mark.parametrize("command", ["cite", "citep", "citet", "parencite", "textcite", "autocite", "footcite", "Cite", "citealp"])
def test_each_cite_command_opens_a_context(command):
    context = at_bar(f"Shown before \\{command}{{|", "latex")
    assert context is not None and context.command == command and context.prefix == "" and context.typed_keys == ()
    assert context.syntax == LATEX and context.start == len("Shown before ")


def test_latex_prefix_typed_keys_options_and_stars():
    context = at_bar(r"Known \cite[see][p.~3]{smith2020, doe2021,ka|}", "latex")
    assert (context.prefix, context.typed_keys) == ("ka", ("smith2020", "doe2021"))
    assert context.prefix_start == len(r"Known \cite[see][p.~3]{smith2020, doe2021,")
    assert context.end == len(r"Known \cite[see][p.~3]{smith2020, doe2021,ka}")
    context = at_bar(r"\citep*{a,| b}", "latex")
    assert (context.prefix, context.typed_keys) == ("", ("a", "b"))
    context = at_bar(r"\autocite[p.~3]{ab|cd, ef}", "latex")
    assert (context.prefix, context.typed_keys) == ("ab", ("ef",))  # the rest of the key under the cursor is not a key


def test_latex_keys_may_continue_on_the_next_line():
    context = at_bar("\\cite{a,\n  b,\n  c|", "latex")
    assert (context.prefix, context.typed_keys) == ("c", ("a", "b"))


@pytest.mark.parametrize("marked", [
    r"\ref{|",                   # not a citation command
    r"\nocite{|",                # bibliography only
    r"\cite{a} and |",           # after the closing brace
    r"\textbf{|",
    "% \\cite{|",                # commented out
    r"\cite{a}{|",               # a brace group after the citation
    "\\cite{a,\n\nb|",           # a blank line ends it
    r"\cite{a b\emph{|",
])
def test_latex_places_that_are_not_a_key(marked):
    assert at_bar(marked, "latex") is None


def test_pandoc_bracketed_in_text_and_suppressed_author():
    context = at_bar("Known [@smith2020; @|]", "markdown")
    assert (context.syntax, context.prefix, context.typed_keys) == (PANDOC, "", ("smith2020",))
    assert context.start == len("Known ") and context.end == len("Known [@smith2020; @]")
    context = at_bar("Known [see @smith2020, p. 3; -@do|", "markdown")
    assert (context.prefix, context.typed_keys) == ("do", ("smith2020",))
    context = at_bar("As @kar| showed", "markdown")
    assert (context.prefix, context.typed_keys, context.start) == ("kar", (), len("As "))
    assert at_bar("Plain text [@|", "plain").prefix == ""


@pytest.mark.parametrize("marked", ["mail me at jane@exam|", "`x@|`", "see https://host/@us|", "word|"])
def test_pandoc_places_that_are_not_a_key(marked):
    assert at_bar(marked, "markdown") is None


def test_latex_drafts_ignore_pandoc_syntax_and_markdown_reads_both():
    assert at_bar("An @ sign [@|", "latex") is None
    assert at_bar(r"Raw LaTeX \citep{|", "markdown").syntax == LATEX


def test_cited_keys_and_key_at():
    text = "A \\cite{a1, b-2} and \\citet[p.~2]{c:3}.\n% \\cite{hidden}\nB [@d4; -@e.5] and @f6. <!-- [@gone] -->"
    keys = cited_keys(text, "markdown")
    # "%" starts no comment in Markdown (pandoc prints it and passes the raw \cite on); "<!--" does.
    assert [k.key for k in keys] == ["a1", "b-2", "c:3", "hidden", "d4", "e.5", "f6"]
    assert all(text[k.start:k.end] == k.key for k in keys)
    assert [k.key for k in cited_keys(text, "latex")] == ["a1", "b-2", "c:3"]
    assert key_at(text, text.index("b-2") + 1, "latex").key == "b-2"
    assert key_at(text, text.index("b-2") + 3, "latex").key == "b-2"  # cursor right after the key
    assert key_at(text, text.index("and"), "latex") is None
    assert key_at(text, text.index("e.5"), "markdown").key == "e.5"


def test_most_used_command():
    assert most_used_command(r"\citep{a} \citep{b} \cite{c}") == "citep"
    assert most_used_command("no citations") == "cite"


def test_completion_text_drops_the_citation_being_typed_and_keeps_the_paragraph():
    text = "Intro.\n\nFirst sentence. Vitamin D helps \\cite{smi|} bones here.\nSame paragraph.\n\nNext."
    offset = text.index("|")
    context = cite_context_at(text.replace("|", ""), offset, "latex")
    paragraph, position = completion_text(text.replace("|", ""), context)
    assert paragraph.split() == "First sentence. Vitamin D helps bones here. Same paragraph.".split()
    assert paragraph[:position] == "First sentence. Vitamin D helps "


def test_positions_in_utf16_utf32_and_utf8():
    text = "ab\n\U0001f600x\u00e9y\nlast"
    offset = text.index("x")
    assert TextPositions(text, UTF16).position(offset) == (1, 2)
    assert TextPositions(text, UTF32).position(offset) == (1, 1)
    assert TextPositions(text, UTF8).position(offset) == (1, 4)
    for encoding in (UTF16, UTF32, UTF8):
        positions = TextPositions(text, encoding)
        assert all(positions.offset(*positions.position(i)) == i for i in range(len(text) + 1) if text[i - 1:i] != "\U0001f600")
    assert TextPositions(text).offset(9, 0) == len(text)
    assert TextPositions(text).offset(0, 99) == 2


def test_a_citation_still_being_typed_is_blanked_for_checks_and_nothing_moves():
    text = "Claim one \\cite{smi\nClaim two \\cite{a, b}.\nThree \\citep{x y}."
    checked = without_unfinished_citations(text, "latex")
    assert len(checked) == len(text) and checked.count("\n") == text.count("\n")
    assert [k.key for k in cited_keys(checked, "latex")] == ["a", "b"]
    assert checked.index("\\cite{a, b}") == text.index("\\cite{a, b}")
    assert without_unfinished_citations("Fine \\cite{a}.", "latex") == "Fine \\cite{a}."


def test_no_pandoc_completion_in_code_blocks_front_matter_comments_or_cross_references():
    draft = "---\ntitle: x @|\n---\nText [@|].\n```python\n@|\n```\nAfter @|\n<!-- note\n@| -->\nSee @fig-r|\n"
    places = [i for i, char in enumerate(draft) if char == "|"]
    text = draft.replace("|", "")
    offsets = [place - n for n, place in enumerate(places)]
    found = [cite_context_at(text, offset, "markdown") is not None for offset in offsets]
    assert found == [False, True, False, True, False, False]
