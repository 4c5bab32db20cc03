"""Field classification with the classification expert, SciMult-style.

Zero-shot: a paper ("title [SEP] abstract") and every label, written by what it means
(`label_texts`: a coded label by its title and description), are embedded with the
classification expert; labels are ranked by similarity. Few-shot: when the user has tagged
papers (or filed them in collections) with a label, the nearest such papers vote and the
vote is mixed with the zero-shot scores, calibrated on the user's own tagged papers
(`few_shot`, `paper_classification`). The user's own tags and collections are a label
space too. Suggestions are only applied to the library when the user confirms, and can be undone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from scimult_desktop.services.finding import paper_classification
from scimult_desktop.services.finding.few_shot import KNN_NEIGHBOURS  # noqa: F401  (fine-tuning's evaluation uses it)
from scimult_desktop.services.finding.label_sets import LabelSet
from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.labels import paper_collections, paper_tags
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store import undo_log


@dataclass
class LabelScore:
    label: str
    score: float
    source: str  # the label set's name, or "tags" / "collections"

    def to_json(self) -> dict:
        return {"label": self.label, "score": round(self.score, 6), "source": self.source}


def top_labels(probabilities: np.ndarray, names: Sequence[str], source: str, *, k: int = 5, min_score: float = 0.05) -> list[list[LabelScore]]:
    out = []
    for row in probabilities:
        order = np.argsort(-row)[:k]
        chosen = [LabelScore(names[j], float(row[j]), source) for j in order if row[j] >= min_score or j == order[0]]
        out.append(chosen)
    return out


def filed_labels(database: LibraryDatabase, kind: str) -> dict[int, set[str]]:
    """paper id -> the user's tags (kind "tags"; the classifier's own left out) or collections."""
    rows = paper_tags(database.conn, user_filed_only=True) if kind == "tags" else paper_collections(database.conn)
    filed: dict[int, set[str]] = {}
    for pid, name, _ in rows:
        filed.setdefault(int(pid), set()).add(name)
    return filed


def classify_papers(
    database: LibraryDatabase,
    backend: SemanticBackend,
    ids: Sequence[int],
    matrix: np.ndarray,
    label_set: LabelSet,
    vectors_of: Callable[[Sequence[int]], dict[int, np.ndarray]],
    *,
    k: int = 5,
    library_vectors: dict[int, np.ndarray] | None = None,
) -> list[dict]:
    """Per paper: label-set labels (zero-shot, or few-shot from the user's tagged papers), own tags and collections.

    Each item: "labels", "tags", "collections" (lists of `LabelScore` JSON), "method"
    ("zero-shot" | "few-shot"), "method_note" (e.g. "few-shot from 12 tagged papers") and
    "few_shot" (the calibration: weight, temperature, tagged and judged papers) for the
    label set, plus "tags_method"/"collections_method" for the own labels.
    """
    tags, collections = filed_labels(database, "tags"), filed_labels(database, "collections")
    examples: dict[int, set[str]] = {}
    for filed in (tags, collections):
        for pid, names in filed.items():
            examples.setdefault(pid, set()).update(names)
    scored = paper_classification.score_label_set(backend, ids, matrix, label_set, examples, vectors_of, library_vectors)
    zero_shot = top_labels(scored.probabilities, scored.names, label_set.name, k=k)
    own = {}
    for kind, filed in (("tags", tags), ("collections", collections)):
        result = paper_classification.score_own_labels(backend, ids, matrix, filed, vectors_of, label_set)
        own[kind] = (top_labels(result.probabilities, result.names, kind, k=paper_classification.OWN_LABELS_SHOWN)
                     if result else [[] for _ in ids], result.calibration if result else None)
    calibration = scored.calibration
    items = []
    for i in range(len(ids)):
        item = {
            "labels": [s.to_json() for s in zero_shot[i]],
            "tags": [s.to_json() for s in own["tags"][0][i]],
            "collections": [s.to_json() for s in own["collections"][0][i]],
            "method": calibration.method,
            "method_note": calibration.describe(),
            "few_shot": calibration.to_json(),
        }
        for kind in ("tags", "collections"):
            fitted = own[kind][1]
            item[f"{kind}_method"] = fitted.to_json() if fitted else None
        items.append(item)
    return items


def apply_tags(database: LibraryDatabase, assignments: dict[int, list[str]], description: str) -> int:
    """Tag papers as the user confirmed; returns the undo entry's id."""
    papers = PaperStore(database)
    added: list[list] = []
    with database.transaction():
        for paper_id, names in assignments.items():
            for name in names:
                if papers.add_tag(paper_id, name, "classifier"):
                    added.append([paper_id, name])
        return undo_log.append(database, description, {"action": "remove_tags", "items": added})


def undo_last(database: LibraryDatabase) -> str | None:
    """Revert the most recent change still in the undo log; returns its description."""
    row = database.conn.execute("SELECT id, description, payload FROM undo_log WHERE undone = 0 ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    payload = json.loads(row["payload"])
    with database.transaction():
        if payload["action"] == "remove_tags":
            for paper_id, name in payload["items"]:
                database.conn.execute(
                    "DELETE FROM paper_tags WHERE paper_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)",
                    (paper_id, name),
                )
        elif payload["action"] == "restore_papers":  # a deletion to the trash (services/library/trash.py)
            from scimult_desktop.services.library.trash import restore_ids

            restore_ids(database, payload["items"])
        elif payload["action"] == "refile":  # a tag or collection change by hand (services/library/filing.py)
            from scimult_desktop.services.library.filing import reverse

            reverse(database, payload)
        elif payload["action"] == "restore_rows":  # a merge, tag edit or note deletion (services/library/undo_entries.py)
            from scimult_desktop.services.library.undo_entries import restore_payload

            restore_payload(database, payload)
        elif payload["action"] == "restore_fields":  # a metadata edit (services/library/editing.py)
            from scimult_desktop.services.library.editing import restore_payload as restore_fields

            restore_fields(database, payload)
        database.conn.execute("UPDATE undo_log SET undone = 1 WHERE id = ?", (row["id"],))
    return str(row["description"])

