"""LSP answers built from the session's plain results: completion items, hover, diagnostics, code actions."""

from __future__ import annotations

from lsprotocol import types

from scimult_desktop.lsp.cite_context import CiteContext, CitedKey, cited_keys, most_used_command
from scimult_desktop.lsp.positions import TextPositions
from scimult_desktop.lsp.session import Candidate, KeyFlag, Suggestion

SOURCE = "scimult"
ABSTRACT_CHARS = 600
CODE_ACTION_TITLE = "Cite a suggested paper here"


def lsp_range(positions: TextPositions, start: int, end: int) -> types.Range:
    (line_a, char_a), (line_b, char_b) = positions.position(start), positions.position(end)
    return types.Range(types.Position(line_a, char_a), types.Position(line_b, char_b))


def first_author(authors: tuple[str, ...] | list[str]) -> str:
    """`Smith` for ["Smith, Jane"], `Smith & Doe` for two, `Smith et al.` for more."""
    if not authors:
        return "Anonymous"
    first = _last_name(authors[0])
    if len(authors) == 2:
        return f"{first} & {_last_name(authors[1])}"
    return f"{first} et al." if len(authors) > 2 else first


def _last_name(name: str) -> str:
    return name.split(",")[0].strip() if "," in name else (name.split() or [name])[-1]


def completion_list(candidates: list[Candidate], context: CiteContext, positions: TextPositions) -> types.CompletionList:
    """Items in the session's order (`sortText`), filtered by key, title and authors (`filterText`).

    Always incomplete: papers outside the ranked ones appear as the user types more of
    their key, title or an author, which needs the server asked again.
    """
    edit_range = lsp_range(positions, context.prefix_start, context.prefix_start + len(context.prefix))
    items = []
    for rank, candidate in enumerate(candidates):
        byline = f"{first_author(candidate.authors)} {candidate.year or 'n.d.'}"
        items.append(
            types.CompletionItem(
                label=candidate.citekey,
                label_details=types.CompletionItemLabelDetails(detail=f"  {byline}", description=_shorten(candidate.title, 60)),
                kind=types.CompletionItemKind.Reference,
                detail=f"{byline}: {candidate.title}",
                documentation=types.MarkupContent(
                    kind=types.MarkupKind.Markdown,
                    value=f"**{_escape(candidate.title)}**\n\n{_escape(', '.join(candidate.authors))} ({candidate.year or 'n.d.'})"
                    f"\n\n*Why:* {_escape(candidate.reason)}",
                ),
                filter_text=" ".join([candidate.citekey, candidate.title, *candidate.authors]),
                sort_text=f"{rank:05d}",
                text_edit=types.TextEdit(range=edit_range, new_text=candidate.citekey),
                preselect=rank == 0 or None,
            )
        )
    return types.CompletionList(is_incomplete=True, items=items)


def hover(paper, cited: CitedKey, positions: TextPositions) -> types.Hover:
    """Title, authors, year, venue and the start of the abstract of a cited paper."""
    lines = [f"**{_escape(paper.title)}**", "", _escape(", ".join(paper.authors) or "Unknown authors")]
    where = ", ".join(str(part) for part in (paper.venue, paper.year) if part)
    if where:
        lines += ["", _escape(where)]
    if paper.abstract:
        lines += ["", _escape(_shorten(" ".join(paper.abstract.split()), ABSTRACT_CHARS))]
    lines += ["", f"`{cited.key}`"]
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n".join(lines)),
        range=lsp_range(positions, cited.start, cited.end),
    )


def diagnostics(flags: list[KeyFlag], text: str, kind: str, positions: TextPositions) -> list[types.Diagnostic]:
    """One diagnostic per flagged key occurrence, on the key itself (on its sentence's lines)."""
    spans = cited_keys(text, kind)
    found = []
    seen = set()
    for flag in flags:
        for span in spans:
            line = positions.position(span.start)[0] + 1
            if span.key != flag.key or not flag.first_line <= line <= flag.last_line or (span.start, flag.message) in seen:
                continue
            seen.add((span.start, flag.message))
            found.append(
                types.Diagnostic(
                    range=lsp_range(positions, span.start, span.end),
                    message=flag.message,
                    severity=types.DiagnosticSeverity.Warning if flag.missing else types.DiagnosticSeverity.Information,
                    source=SOURCE,
                    code="missing-key" if flag.missing else "unrelated-key",
                )
            )
    return found


def citation_insert(text: str, suggestion: Suggestion, kind: str, key: str) -> tuple[int, str]:
    """(offset, text) to insert a citation of `key` at the end of the sentence, before its full stop."""
    offset = suggestion.end
    while offset > suggestion.start and text[offset - 1] in ".!?":
        offset -= 1
    while offset > suggestion.start and text[offset - 1] in " \t":
        offset -= 1
    if kind == "latex":
        return offset, f"~\\{most_used_command(text)}{{{key}}}"
    return offset, f" [@{key}]"


def code_actions(uri: str, text: str, kind: str, suggestion: Suggestion, positions: TextPositions) -> list[types.CodeAction]:
    """One action per suggested paper, best first: insert its citation at the end of the sentence."""
    actions = []
    for rank, paper in enumerate(suggestion.papers):
        offset, inserted = citation_insert(text, suggestion, kind, paper.citekey)
        where = lsp_range(positions, offset, offset)
        actions.append(
            types.CodeAction(
                title=f"{CODE_ACTION_TITLE}: {paper.citekey} ({first_author(paper.authors)} {paper.year or 'n.d.'}, "
                f"{_shorten(paper.title, 50)})",
                kind=types.CodeActionKind.QuickFix,
                edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=where, new_text=inserted)]}),
                is_preferred=rank == 0 or None,
            )
        )
    return actions


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _escape(text: str) -> str:
    """Markdown special characters shown as themselves."""
    return "".join("\\" + char if char in "\\`*_[]<>#|" else char for char in text)

