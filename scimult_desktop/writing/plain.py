"""Projecting a plain-text draft onto readable text, recording the citations it has.

The text is kept as it is. Citations are those an editor inserts into plain text (the
language server's completion and code actions do): pandoc's bracketed `[@a; @b, p. 3]`
and in-text `@key` (an `@` inside an e-mail address is not one), and LaTeX's
`\\cite{a,b}` family. Other backslashes, brackets and `@` signs stay text.
"""

from __future__ import annotations

from scimult_desktop.writing.latex import is_cite_command, latex_command_at
from scimult_desktop.writing.markdown import bracketed_citation, in_text_citation, in_text_citation_at
from scimult_desktop.writing.projection import ProjectedText, find_closing

# A bracketed citation stays on its line; an unmatched "[" must not make the search run on.
_MAX_BRACKET = 1000


def project_plain_text(source: str) -> ProjectedText:
    """The readable text of a plain-text draft, with its citations (see the module docstring)."""
    out = ProjectedText(source)
    i, stop = 0, len(source)
    while i < stop:
        char = source[i]
        if char == "[":
            line_end = source.find("\n", i)
            limit = min(stop if line_end < 0 else line_end, i + _MAX_BRACKET)
            close = find_closing(source, i, limit, "[", "]")
            if close > 0 and bracketed_citation(source, i, close, out):
                i = close + 1
                continue
        elif char == "@" and in_text_citation_at(source, i):
            i = in_text_citation(source, i, stop, out)
            continue
        elif char == "\\" and _cite_command_at(source, i):
            i = latex_command_at(source, i, stop, out)
            continue
        out.emit(char, i)
        i += 1
    return out


def _cite_command_at(source: str, i: int) -> bool:
    j = i + 1
    while j < len(source) and source[j].isalpha():
        j += 1
    return j > i + 1 and is_cite_command(source[i + 1:j])
