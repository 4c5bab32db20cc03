"""How papers and labels are written as model inputs (spec §1.1), shared by every reader.

Papers are ``"title [SEP] abstract"`` exactly as the app embeds them
(`scimult_desktop.domain.records.Paper.embedding_text`), labels ``"name [SEP] definition"``.
"""

from __future__ import annotations

import re

SEP = " [SEP] "
_SPACE = re.compile(r"\s+")


def clean(text: object) -> str:
    """One-line text: None -> "", numbers -> str, runs of whitespace -> one space."""
    if text is None:
        return ""
    return _SPACE.sub(" ", str(text)).strip()


def paper_text(title: object, abstract: object = None) -> str:
    """SciMult's paper input; empty when there is no title and no abstract."""
    title, abstract = clean(title), clean(abstract)
    if not title and not abstract:
        return ""
    return f"{title}{SEP}{abstract}".strip()


def paper_from_record(record: object) -> str:
    """Paper text from a dict with `title`/`abstract` (SciRepEval, SPECTER, MAPLE) or a plain string."""
    if isinstance(record, str):
        return clean(record)
    if isinstance(record, dict):
        return paper_text(record.get("title"), record.get("abstract"))
    return ""


def label_text(name: object, definition: object = None) -> str:
    """SciMult's label input: ``name [SEP] definition``, or the bare name without a definition."""
    name, definition = clean(name), clean(definition)
    return f"{name}{SEP}{definition}" if definition else name
