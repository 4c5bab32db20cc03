"""Field classification with the classification expert, SciMult-style.

Zero-shot: a paper ("title [SEP] abstract") and every label ("name [SEP]
description") are embedded with the classification expert; labels are ranked
by similarity. From the user's own collections and tags: k nearest already-
tagged papers vote, weighted by similarity (learns from what the user filed).
Suggestions are only applied to the library when the user confirms, and can be undone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.labels import paper_collections, paper_tags
from scimult_desktop.store.papers import PaperStore

KNN_NEIGHBOURS = 15


@dataclass
class LabelScore:
    label: str
    score: float
    source: str  # the label set's name, or "tags" / "collections"

    def to_json(self) -> dict:
        return {"label": self.label, "score": round(self.score, 6), "source": self.source}


# How labels are written for the encoder. SciMult checkpoints were trained on
# "name [SEP] definition" (dot-product models); generic sentence encoders such as
# all-MiniLM-L6-v2 (cosine) match papers better against an ensemble of natural
# phrasings: on the S2ORC MAG sample, 40.0% top-1 for the bare name, 42.7% for
# "name [SEP] description", 53.6% for this two-prompt ensemble (benchmarks/eval_quality.py).
SENTENCE_ENCODER_TEMPLATES = ("A research paper in {name}.", "{name}: {description}")


def label_prompts(labels: Sequence, similarity: str) -> list[list[str]]:
    """Per label, the texts whose embeddings are averaged into the label's vector."""
    from scimult_desktop.services.finding.label_sets import label_text

    if similarity == "dot":
        return [[label_text(label)] for label in labels]
    prompts = []
    for label in labels:
        if label.description:
            prompts.append([t.format(name=label.name, description=label.description) for t in SENTENCE_ENCODER_TEMPLATES])
        else:
            prompts.append([SENTENCE_ENCODER_TEMPLATES[0].format(name=label.name), label.name])
    return prompts


def zero_shot_scores(
    backend: SemanticBackend, paper_vectors: np.ndarray, labels: Sequence, *, temperature: float | None = None
) -> np.ndarray:
    """Per paper, a probability over labels: softmax of similarities to the label vectors.

    Cosine models have similarities in [-1, 1], so they need a low temperature
    to separate labels (0.05, as in contrastive training); dot models use 1.
    """
    prompts = label_prompts(labels, backend.similarity)
    flat = [text for group in prompts for text in group]
    encoded = backend.encode(flat, Task.CLASSIFY, Role.DOCUMENT)
    vectors, start = [], 0
    for group in prompts:
        mean = encoded[start : start + len(group)].mean(axis=0)
        start += len(group)
        if backend.similarity == "cosine":
            mean = mean / (np.linalg.norm(mean) or 1.0)
        vectors.append(mean)
    sims = paper_vectors @ np.stack(vectors).T
    tau = temperature or (0.05 if backend.similarity == "cosine" else 1.0)
    logits = sims / tau
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)


def top_labels(probabilities: np.ndarray, names: Sequence[str], source: str, *, k: int = 5, min_score: float = 0.05) -> list[list[LabelScore]]:
    out = []
    for row in probabilities:
        order = np.argsort(-row)[:k]
        chosen = [LabelScore(names[j], float(row[j]), source) for j in order if row[j] >= min_score or j == order[0]]
        out.append(chosen)
    return out


def knn_tag_scores(
    database: LibraryDatabase, backend: SemanticBackend, paper_ids: Sequence[int], vectors: np.ndarray, kind: str
) -> list[list[LabelScore]]:
    """Scores for the user's tags (kind="tags") or collections from the nearest filed papers."""
    if kind == "tags":
        rows = paper_tags(database.conn, user_filed_only=True)
    else:
        rows = paper_collections(database.conn)
    filed: dict[int, set[str]] = {}
    for pid, name, _ in rows:
        filed.setdefault(int(pid), set()).add(name)
    if not filed:
        return [[] for _ in paper_ids]
    neighbours = backend.neighbours(Task.CLASSIFY, vectors, KNN_NEIGHBOURS * 4, ())
    results = []
    for pid, hits in zip(paper_ids, neighbours):
        votes: dict[str, float] = {}
        total = 0.0
        used = 0
        for other, sim in hits:
            if other == pid or other not in filed:
                continue
            weight = max(sim, 0.0)
            total += weight
            for name in filed[other]:
                votes[name] = votes.get(name, 0.0) + weight
            used += 1
            if used >= KNN_NEIGHBOURS:
                break
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])[:5]
        results.append([LabelScore(name, v / total, kind) for name, v in ranked if total > 0])
    return results


def apply_tags(database: LibraryDatabase, assignments: dict[int, list[str]], description: str) -> int:
    """Tag papers as the user confirmed; returns the undo entry's id."""
    papers = PaperStore(database)
    added: list[list] = []
    with database.transaction():
        for paper_id, names in assignments.items():
            for name in names:
                if papers.add_tag(paper_id, name, "classifier"):
                    added.append([paper_id, name])
        cursor = database.conn.execute(
            "INSERT INTO undo_log (description, payload, created_at) VALUES (?, ?, ?)",
            (description, json.dumps({"action": "remove_tags", "items": added}), utc_now()),
        )
    return int(cursor.lastrowid)


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
        elif payload["action"] == "restore_rows":  # a merge, tag edit or note deletion (services/library/undo_entries.py)
            from scimult_desktop.services.library.undo_entries import restore_payload

            restore_payload(database, payload)
        elif payload["action"] == "restore_fields":  # a metadata edit (services/library/editing.py)
            from scimult_desktop.services.library.editing import restore_payload as restore_fields

            restore_fields(database, payload)
        database.conn.execute("UPDATE undo_log SET undone = 1 WHERE id = ?", (row["id"],))
    return str(row["description"])

