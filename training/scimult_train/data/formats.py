"""The published formats the converter reads, by name: one function IN -> Examples each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from scimult_train.data.examples import Example, read_examples
from scimult_train.data.jsonstream import DataFormatError
from scimult_train.data.maple import read_maple
from scimult_train.data.scirepeval import read_cite_prediction, read_search
from scimult_train.data.specter import read_specter


@dataclass(frozen=True)
class Format:
    name: str
    task: str
    needs: tuple[str, ...]  # extra inputs: "labels", "metadata"
    help: str
    read: Callable[..., Iterator[Example]]


FORMATS = {
    f.name: f
    for f in (
        Format("jsonl", "any", (), "our JSONL (task, query, positive, negatives): validated and copied", lambda src, **_: read_examples(src)),
        Format("scirepeval-cite", "link", (), "SciRepEval cite_prediction triplets {query,pos,neg} (JSONL or JSON array)",
               lambda src, **_: read_cite_prediction(src)),
        Format("scirepeval-search", "search", (), "SciRepEval search {query, candidates:[{title,abstract,score}]}",
               lambda src, max_negatives=3, **_: read_search(src, max_negatives=max_negatives)),
        Format("maple", "classify", ("labels",), "MAPLE/SciMult papers JSONL {title,abstract,label:[ids]} + --labels file",
               lambda src, labels, max_negatives=3, **_: read_maple(src, labels, max_negatives=max_negatives)),
        Format("specter", "link", ("metadata",), "SPECTER data.json {query:{cand:{count}}} + --metadata metadata.json [--ids train.txt]",
               lambda src, metadata, ids=None, **_: read_specter(src, metadata, query_ids=ids)),
    )
}


def read_format(name: str, source, **options) -> Iterator[Example]:
    """Examples from `source` in the named format; `options` carry labels/metadata/ids/max_negatives.

    Raises:
        DataFormatError: unknown format, a missing companion file, or a malformed input line.
    """
    if name not in FORMATS:
        raise DataFormatError(f"unknown format {name!r} (expected one of: {', '.join(FORMATS)})")
    fmt = FORMATS[name]
    for need in fmt.needs:
        if not options.get(need):
            raise DataFormatError(f"format {name!r} needs --{need}")
    return fmt.read(source, **options)
