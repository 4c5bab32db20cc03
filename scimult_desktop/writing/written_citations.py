"""Citations written out by hand, without a key: `[12]`, `[3, 5-7]`, `(Smith et al., 2020)`, `Smith (2019)`.

Drafts in plain text or Markdown often cite this way (pasted from a paper, or before
the references are in a reference manager). Such a sentence already cites something,
so it is not a claim missing its citation, though no key can be checked.

Example:
    >>> written_citations("Dense retrieval wins (Karpukhin et al., 2020; Xiong 2021a) over BM25 [4, 7-9].")
    ('(Karpukhin et al., 2020; Xiong 2021a)', '[4, 7-9]')
"""

from __future__ import annotations

import re

_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u017f"
_NAME = rf"[{_UPPER}][\w'\u2019\-]*(?:\s+[{_UPPER}][\w'\u2019\-]*)?"
_AUTHORS = rf"(?:(?:van|von|de|der|del|da|di|le|la)\s+)*{_NAME}(?:\s+et\s+al\.?|\s+(?:and|&)\s+{_NAME})?"
_YEAR = r"(?:1[6-9]|20)\d\d[a-z]?|in press|n\.d\."
_YEARS = rf"(?:{_YEAR})(?:\s*,\s*(?:{_YEAR}))*"
_LOCATOR = r"(?:,\s*(?:p|pp|ch|chap|sec|fig|table)\.?\s*[\dIVXivx][\d\-\u2013]*)?"
_PREFIX = r"(?:(?:see(?:\s+also)?|e\.g\.,?|cf\.|also|for\s+example,?|i\.e\.,?)\s+)?"
_ITEM = rf"{_PREFIX}{_AUTHORS},?\s+{_YEARS}{_LOCATOR}"
_PARENTHETICAL = rf"\(\s*{_ITEM}(?:\s*;\s*{_ITEM})*\s*\)"
_NARRATIVE = rf"(?<![\w.]){_AUTHORS}\s+\(\s*{_YEARS}{_LOCATOR}\s*\)"
# Numbers from 1 in square brackets, with ranges: [0, 1] is an interval, [1.5] a value, [12] a citation.
_NUMBER = r"[1-9]\d{0,3}"
_NUMERIC = rf"\[\s*{_NUMBER}(?:\s*[\-\u2013]\s*{_NUMBER})?(?:\s*,\s*{_NUMBER}(?:\s*[\-\u2013]\s*{_NUMBER})?)*\s*\](?!\()"
_WRITTEN = re.compile(rf"{_PARENTHETICAL}|{_NARRATIVE}|{_NUMERIC}")


def written_citations(sentence: str) -> tuple[str, ...]:
    """The citations written out in `sentence` (readable text), in order."""
    return tuple(match.group(0) for match in _WRITTEN.finditer(sentence))
