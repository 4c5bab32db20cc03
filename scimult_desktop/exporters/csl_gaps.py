"""Two CSL features citeproc-py 0.11 lacks, which common styles rely on.

1. The `disambiguate` condition (`<if disambiguate="true">`). citeproc-py skips the test, so
   a condition made only of it always holds: MLA printed every work's title in the in-text
   citation, "(Smith, “Deep Nets”)" instead of "(Smith)". Here a cite counts as ambiguous
   when another work cited in the same document has the same names (authors, else editors,
   else the title), which is the case the styles use it for (MLA: two works by one author).
2. Collapsing of citation numbers (`<citation collapse="citation-number">`: Nature, AMA,
   ACS, ACM, PLOS, Science...): "[1–4, 6]" instead of "[1, 2, 3, 4, 6]". Applied to the
   rendered citation only when the citation is exactly the style's delimiter-joined single
   cites, so a style this reading does not understand is left as citeproc-py rendered it.
"""

from __future__ import annotations

import os
import re
from typing import Sequence

_NAME_VARIABLES = ("author", "editor", "composer", "director", "translator")
_TAG_RE = re.compile(r"<[^>]+>")
_installed = False


def install_disambiguate_condition() -> None:
    """Teach citeproc-py's `cs:if` the disambiguate test (idempotent)."""
    global _installed
    if _installed:
        return
    from citeproc import model

    original = model.If.render

    def render(self, item, context=None, delimiter="", **kwargs):
        if "disambiguate" not in self.attrib:
            return original(self, item, context=context, delimiter=delimiter, **kwargs)
        holds = (self.get("disambiguate") == "true") == is_ambiguous(item)
        others = set(self.attrib) - {"disambiguate", "match"}
        match = self.get("match", "all")
        if not others:
            decided = holds if match != "none" else not holds
        elif match == "any" and holds:
            decided = True
        elif (match == "all" and not holds) or (match == "none" and holds):
            decided = False
        else:  # the other tests decide
            return original(self, item, context=context, delimiter=delimiter, **kwargs)
        if not decided:
            raise model.ConditionFailed
        return self.render_children(item, context=context, delimiter=delimiter, **kwargs)

    model.If.render = render
    _installed = True


def is_ambiguous(item) -> bool:
    """Whether another registered work has the same names (or, without names, the same title)."""
    bibliography = item.bibliography
    mine = _names_key(bibliography.source[item.key])
    return any(key != item.key and _names_key(bibliography.source[key]) == mine for key in bibliography.keys)


def _names_key(reference) -> tuple:
    for variable in _NAME_VARIABLES:
        names = reference.get(variable)
        if names:
            return variable, tuple(str(dict(n).get("family") or dict(n).get("literal") or "").casefold() for n in names)
    return "title", str(reference.get("title") or "").casefold()


def collapse_citation_numbers(cited: str, singles: Sequence[str], delimiter: str, after_collapse: str | None = None,
                              layout_affixes: tuple[str, str] = ("", "")) -> str:
    """`cited` with runs of three or more consecutive citation numbers written as ranges.

    Args:
        cited: the citation as rendered (all cites, in the style's order).
        singles: each cite rendered alone, with the layout's prefix and suffix.
        delimiter: the citation layout's delimiter.
        after_collapse: the style's after-collapse-delimiter (the delimiter after a range).
        layout_affixes: the citation layout's prefix and suffix.
    """
    if len(singles) < 3:
        return cited
    candidates = dict.fromkeys([_common_affixes(singles), layout_affixes, ("", "")])
    for prefix, suffix in candidates:
        if not all(s.startswith(prefix) and s.endswith(suffix) and len(s) > len(prefix) + len(suffix) for s in singles):
            continue
        inner = [s[len(prefix): len(s) - len(suffix)] for s in singles]
        numbers = [_only_number(part) for part in inner]
        if None in numbers or len(set(numbers)) != len(numbers):
            continue
        order = sorted(range(len(inner)), key=lambda i: numbers[i])
        if prefix + delimiter.join(inner[i] for i in order) + suffix != cited:
            continue
        pieces, ranged = [], []
        start = 0
        while start < len(order):
            end = start
            while end + 1 < len(order) and numbers[order[end + 1]] == numbers[order[end]] + 1:
                end += 1
            if end - start >= 2:
                pieces.append(f"{inner[order[start]]}\u2013{inner[order[end]]}")
                ranged.append(True)
            else:
                pieces.extend(inner[i] for i in order[start: end + 1])
                ranged.extend([False] * (end - start + 1))
            start = end + 1
        joined = pieces[0]
        for piece, previous_ranged in zip(pieces[1:], ranged):
            joined += (after_collapse if previous_ranged and after_collapse is not None else delimiter) + piece
        return prefix + joined + suffix
    return cited


def _common_affixes(texts: Sequence[str]) -> tuple[str, str]:
    prefix = os.path.commonprefix(list(texts))
    suffix = os.path.commonprefix([t[::-1] for t in texts])[::-1]
    prefix = re.sub(r"\d+$", "", prefix)  # "[1" and "[12" share "[1", which is not an affix
    suffix = re.sub(r"^\d+", "", suffix)
    return prefix, suffix


def _only_number(text: str) -> int | None:
    found = re.findall(r"\d+", _TAG_RE.sub("", text))
    return int(found[0]) if len(found) == 1 else None
