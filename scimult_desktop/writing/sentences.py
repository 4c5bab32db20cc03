"""Sentence boundaries in projected draft text.

A sentence ends at `.`, `!` or `?` (optionally followed by closing quotes or
brackets) when whitespace and then an upper-case letter, a digit, an opening
quote or bracket, or the end of the text follow (after a line break any letter
will do: one sentence a line), unless the word before is a
known abbreviation (`e.g.`, `et al.`, `Fig.`, `i.e.` ...) or an initial
(`J. Smith`). A paragraph break always ends a sentence.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    """e.g. i.e. cf. vs. viz. al. etc. approx. resp. incl. ca. esp. et. seq.
    fig. figs. eq. eqs. eqn. eqns. sec. secs. sect. tab. tabs. ref. refs. ch. chap. app. appx. alg. thm. lem.
    def. prop. cor. corr. ex. no. nos. vol. vols. pp. p. ed. eds. dr. mr. mrs. ms. prof. st. jr. sr. inc. ltd. co.
    jan. feb. mar. apr. jun. jul. aug. sep. sept. oct. nov. dec. u.s. u.k. ph.d. m.sc. b.sc.
    suppl. supp. sects. chs. cols. univ. dept. inst. proc. conf. trans. assoc. natl. ff. w.r.t. a.k.a.""".split()
)
# Abbreviations that can also close a sentence ("... and so on, etc. The next ...") still
# do not split, which errs towards longer sentences: a missed split costs less than a wrong one.

_TERMINATOR = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_OPENERS = "\"'\u201c\u2018([{"


def _ends_with_abbreviation(text: str, end: int) -> bool:
    """Whether the word ending at `text[end - 1]` (a full stop) is an abbreviation or an initial."""
    start = end - 1
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    written = text[start:end].lstrip(_OPENERS + "~")
    word = written.lower()
    if word in ABBREVIATIONS:
        return True
    # Initials ("J. Smith") and dotted acronyms not in the list ("U.S.A."). A lower-case letter
    # is a variable closing a sentence ("... of size n. We"), not an initial.
    return bool(re.fullmatch(r"[^\W\d_]\.", written) and written[0].isupper() or re.fullmatch(r"(?:[a-z]\.){2,}", word))


def paragraph_starts(text: str) -> list[int]:
    """Where each paragraph break of `text` begins, in order (a blank line, or a break a reader emitted)."""
    return [match.start() for match in _PARAGRAPH_BREAK.finditer(text)]


def sentence_spans(text: str, openers: frozenset[int] | set[int] = frozenset()) -> list[tuple[int, int]]:
    """Consecutive [start, end) spans covering `text`, one per sentence (spans may be blank).

    `openers` are positions that may start a sentence whatever character is
    there: where a textual citation ("@smith2020 showed ...") was removed.
    """
    cuts = {0, len(text)}
    cuts.update(paragraph_starts(text))
    for match in _TERMINATOR.finditer(text):
        end = match.end()
        j = end
        while j < len(text) and text[j] in " \t\r\n":
            j += 1
        if j == end and j < len(text):
            continue  # no whitespace after: a decimal point, a URL, "e.g.," ...
        if j < len(text):
            following = text[j]
            # A line that ends a sentence and a next one opening in lower case ("word2vec is ...",
            # a removed "[12] used ...") is a new sentence too; within a line it is not.
            line_end = "\n" in text[end:j] and match.group(0)[0] in ".!?"
            if not (following.isupper() or following.isdigit() or following in _OPENERS or line_end
                    or any(k in openers for k in range(end, j + 1))):
                continue
        if match.group(0)[0] == "." and len(match.group(0).rstrip("\"'\u201d\u2019)]")) == 1:
            if _ends_with_abbreviation(text, match.start() + 1):
                continue
        cuts.add(end)
    ordered = sorted(cuts)
    return [(a, b) for a, b in zip(ordered, ordered[1:]) if b > a]


def normalise_sentence(text: str) -> str:
    """One-line, tidy text: collapse whitespace, drop spaces left before punctuation and empty brackets."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\(\s*[;,]?\s*\)|\[\s*[;,]?\s*\]", "", text)  # brackets emptied by removed citations
    text = re.sub(r"\s+([.,;:!?)\]])", r"\1", text)
    text = re.sub(r"(?<!\.)\.\.(?!\.)", ".", text)  # "et al." closing a sentence
    text = re.sub(r"([(\[])\s+", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()
