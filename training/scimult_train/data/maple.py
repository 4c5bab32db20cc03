"""MAPLE paper-classification data (yuzhimanhua/MAPLE) as `classify` examples.

Layouts (from the MAPLE and SciMult repositories' own readers):

- papers: ``papers.json`` is JSONL, one paper a line: ``{"title", "abstract", "label": [label ids],
  "year", "venue", "author", "reference", ...}`` (MAPLE `Parabel/data.py`); SciMult's
  ``*_papers_test.json`` has the same ``title``/``abstract``/``label`` fields.
- labels, either SciMult's ``*_label.json`` (JSONL ``{"label": id, "name": [synonyms...],
  "definition": str}``, `eval_classification_fine.py` writes ``name[0] [SEP] definition``) or
  MAPLE's ``labels.txt`` / ``labels_mesh.txt`` (tab-separated ``id<TAB>name[<TAB>synonym...]``,
  no definitions: `OAGBERT/match.py`).

Each (paper, gold label) pair becomes one example: query ``title [SEP] abstract``, positive
``name [SEP] definition``. Hard negatives follow the spec's reading of SciMult (§3.2): labels
that co-occur with the gold label on other papers but are not assigned to this paper,
most frequent first (a first streaming pass counts co-occurrences).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from scimult_train.data.examples import Example
from scimult_train.data.jsonstream import DataFormatError, iter_jsonl, open_text, where
from scimult_train.data.texts import clean, label_text, paper_text


def read_labels(path: str | Path) -> dict[str, str]:
    """Label id -> ``name [SEP] definition`` (or the name alone) from either label-file layout."""
    path = Path(path)
    labels: dict[str, str] = {}
    if path.suffix == ".txt":
        with open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
                    raise DataFormatError(f"{where(path, number)}: expected 'label-id<TAB>name'")
                labels[fields[0].strip()] = label_text(fields[1])
        return labels
    for line, record in iter_jsonl(path):
        if not isinstance(record, dict) or "label" not in record:
            raise DataFormatError(f"{where(path, line)}: expected an object with 'label', 'name', 'definition'")
        names = record.get("name")
        name = names[0] if isinstance(names, list) and names else names
        if not clean(name):
            raise DataFormatError(f"{where(path, line)}: label {record['label']!r} has no name")
        labels[str(record["label"])] = label_text(name, record.get("definition"))
    return labels


def read_maple(papers: str | Path, labels: str | Path, *, max_negatives: int = 3) -> Iterator[Example]:
    """Classification examples from a MAPLE/SciMult papers file and its label file.

    Raises:
        DataFormatError: a paper line without title/abstract or `label` list, or a label id
            missing from the label file (names file:line).
    """
    names = read_labels(labels)
    cooccurring = _cooccurrence(papers) if max_negatives else {}
    for line, paper in iter_jsonl(papers):
        text, gold = _paper(paper, papers, line)
        for label in gold:
            if label not in names:
                raise DataFormatError(f"{where(papers, line)}: label {label!r} is not in {labels}")
        for label in gold:
            negatives = [names[other] for other, _ in cooccurring.get(label, []) if other not in gold and other in names]
            yield Example("classify", text, names[label], tuple(negatives[:max_negatives]), positive_id=f"label:{label}")


def _paper(record: object, path, line: int) -> tuple[str, list[str]]:
    if not isinstance(record, dict):
        raise DataFormatError(f"{where(path, line)}: expected a paper object")
    text = paper_text(record.get("title"), record.get("abstract"))
    gold = record.get("label")
    if not text:
        raise DataFormatError(f"{where(path, line)}: paper has no title or abstract")
    if not isinstance(gold, list):
        raise DataFormatError(f"{where(path, line)}: 'label' must be a list of label ids")
    return text, list(dict.fromkeys(str(label) for label in gold))


def _cooccurrence(path: str | Path, keep: int = 20) -> dict[str, list[tuple[str, int]]]:
    """Per label, the `keep` labels most often assigned together with it (one streaming pass)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for line, paper in iter_jsonl(path):
        _, gold = _paper(paper, path, line)
        for label in gold:
            counts[label].update(other for other in gold if other != label)
    return {label: counter.most_common(keep) for label, counter in counts.items()}
