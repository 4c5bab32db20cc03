"""Training signals for local fine-tuning, read from the user's own library (no torch).

Four sources, each turned into (query, positive[, hard negatives]) examples of one task:

- **link**: citation edges between library papers (citing paper -> cited paper), the
  sentences in which library papers cite other library papers (citation contexts found in
  their PDFs: citing sentence -> cited paper), plus accepted citation suggestions from the
  feedback table (the writer's text -> the paper);
- **classify**: collections and tags the user filed papers under (paper -> the
  collection's or tag's name), for labels on at least `MIN_LABEL_PAPERS` papers; tags the
  classifier applied are left out, since training on the model's own guesses would only
  reinforce them;
- **search**: each paper's title as the query and its abstract alone as the positive
  (the title must not be inside the text it has to find), plus search results the user
  marked relevant;
- **feedback**: rejected suggestions and results marked irrelevant become hard
  negatives of the examples that share their query.

Before anything trains, the signals are split into a training part and a held-out part
(`split`): by citation edge, by paper, or by feedback query, decided by a seeded hash of
that unit alone, so a unit keeps its side when the library grows and a rerun makes the
same split. Held-out signals never reach the training file; they are what the
before/after evaluation ranks (`services.finetune_eval`).

Feedback rows (see `Library.record_feedback`) are read by `kind`: "search" (a query and
a result; value > 0 relevant, <= 0 irrelevant), "suggest" (a text and a suggested
citation; value > 0 accepted, <= 0 rejected) and "classify" (the query holds a label
name; value > 0 the label fits the paper).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from scimult_desktop.errors import ScimultError
from scimult_desktop.ingest.citation_contexts import sentence_without_markers
from scimult_desktop.store.citation_contexts import linked_contexts
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.labels import paper_collections, paper_tags
from scimult_desktop.store.papers import LIVE

TASKS = ("link", "classify", "search")
HELD_OUT_FRACTION = 0.2
SPLIT_SEED = 13
# Below this many examples a task can neither train nor be measured: 20% held out of 30
# is 6 held-out signals, already a coarse measurement.
MIN_EXAMPLES = 30
# Feedback kinds -> task (aliases accepted, see the module docstring).
FEEDBACK_TASKS = {
    "search": "search",
    "search_result": "search",
    "suggest": "link",
    "suggestion": "link",
    "citation": "link",
    "classify": "classify",
    "tag": "classify",
}
SEP = " [SEP] "
# A collection or tag on fewer papers can be neither learnt nor checked by its neighbours
# (imported keyword tags are mostly on one or two papers).
MIN_LABEL_PAPERS = 5


class NotEnoughSignals(ScimultError):
    """A task has too few examples in the library to fine-tune and measure it."""


@dataclass(frozen=True)
class Signal:
    """One training example, with the ids the held-out evaluation needs.

    Attributes:
        task: "link" | "classify" | "search".
        unit: the split unit ("edge:3>7", "paper:3", "query:<hash>"); one unit, one side.
        query: the query-side text.
        positive: the positive text (a paper text, an abstract, or a label name).
        query_paper: the paper on the query side (link edges, classify, search titles).
        positive_paper: the paper to find (link, search); None for classify.
        label: the collection/tag name (classify).
        view: how the evaluation represents candidate papers: "full" ("title [SEP]
            abstract") or "abstract" (abstract only, for title queries).
        negatives: texts of hard negatives (rejected suggestions, irrelevant results).
        source: "citations" | "contexts" | "collections" | "tags" | "titles" | "feedback".
    """

    task: str
    unit: str
    query: str
    positive: str
    query_paper: int | None = None
    positive_paper: int | None = None
    label: str | None = None
    view: str = "full"
    negatives: tuple[str, ...] = ()
    source: str = ""

    def to_jsonl(self) -> str:
        """The line of our training JSONL format (`scimult_train.data.examples`)."""
        record: dict = {"task": self.task, "query": self.query, "positive": self.positive}
        if self.negatives:
            record["negatives"] = list(self.negatives)
        if self.positive_id is not None:
            record["positive_id"] = self.positive_id
        return json.dumps(record, ensure_ascii=False)

    @property
    def positive_id(self) -> str | None:
        """The key the trainer uses to keep false negatives out of a batch: the query's identity.

        The trainer never scores a query against a context whose key (or text) equals its own
        positive's. Identical positive texts (the same cited paper, the same label) are caught
        by text already; keying by the *query* also keeps a citing paper's other citations,
        or a paper's other labels, from being its negatives when they share a batch, which
        is frequent when a library has few citing papers.
        """
        if self.query_paper is not None:
            return f"{self.task}-query:paper:{self.query_paper}"
        return f"{self.task}-query:" + hashlib.sha256(self.query.encode()).hexdigest()[:16]


@dataclass
class SignalSet:
    """All signals of the chosen tasks, split into training and held-out parts."""

    train: dict[str, list[Signal]] = field(default_factory=dict)
    held_out: dict[str, list[Signal]] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)  # why -> how many rows were unusable

    def counts(self) -> dict[str, dict[str, int]]:
        """{task: {"train": n, "held_out": n}} for every task collected."""
        return {task: {"train": len(self.train.get(task, [])), "held_out": len(self.held_out.get(task, []))} for task in self.train}

    def check_enough(self, minimum: int | None = None) -> None:
        """Raise `NotEnoughSignals` naming the first task below `minimum` (default `MIN_EXAMPLES`) examples."""
        minimum = MIN_EXAMPLES if minimum is None else minimum
        for task, count in self.counts().items():
            total = count["train"] + count["held_out"]
            if total < minimum or not count["held_out"] or not count["train"]:
                raise NotEnoughSignals(
                    f"{task}: only {total} example(s) in this library ({_what_makes(task)}); "
                    f"fine-tuning needs at least {minimum} per task (choose others with --tasks)"
                )


def parse_tasks(tasks: str | Sequence[str] | None) -> list[str]:
    """Validate a task list ("link,classify" or a sequence); None means all three."""
    if tasks is None:
        return list(TASKS)
    names = [t.strip() for t in (tasks.split(",") if isinstance(tasks, str) else tasks) if t.strip()]
    unknown = [t for t in names if t not in TASKS]
    if unknown or not names:
        raise ScimultError(f"unknown fine-tuning task(s) {', '.join(unknown) or '(none)'} (expected: {', '.join(TASKS)})")
    return list(dict.fromkeys(names))


def collect(database: LibraryDatabase, tasks: Iterable[str] = TASKS, *, seed: int = SPLIT_SEED) -> SignalSet:
    """Read every signal of `tasks` from the library and split it (see the module docstring)."""
    tasks = parse_tasks(list(tasks))
    papers = _paper_texts(database)
    ignored: dict[str, int] = {}
    found: dict[str, list[Signal]] = {task: [] for task in tasks}
    if "link" in found:
        found["link"] += _citation_signals(database, papers)
        found["link"] += _context_signals(database, papers)
    if "classify" in found:
        found["classify"] += _label_signals(database, papers)
    if "search" in found:
        found["search"] += _title_signals(papers)
    for signal in _feedback_signals(database, papers, ignored):
        if signal.task in found:
            found[signal.task].append(signal)
    result = SignalSet(ignored=ignored)
    for task, signals in found.items():
        result.train[task], result.held_out[task] = split(signals, seed=seed)
    return result


def split(signals: Sequence[Signal], *, fraction: float = HELD_OUT_FRACTION, seed: int = SPLIT_SEED) -> tuple[list[Signal], list[Signal]]:
    """Deterministic split by unit: a unit's hash decides its side, independent of the others.

    When hashing leaves one side empty (tiny sets), the unit with the lowest hash is moved,
    so both sides exist whenever there are two units.
    """
    scores = {s.unit: _unit_score(s.unit, seed) for s in signals}
    held = {unit for unit, score in scores.items() if score < fraction}
    if len(scores) >= 2 and (not held or held == set(scores)):
        ordered = sorted(scores, key=scores.get)
        held = {ordered[0]} if not held else set(ordered[:-1])
    train = [s for s in signals if s.unit not in held]
    held_out = [s for s in signals if s.unit in held]
    return train, held_out


def write_training_jsonl(path: str | Path, signal_set: SignalSet) -> int:
    """Write the training part only (atomically), in a fixed order; returns the line count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for task in sorted(signal_set.train):
            for signal in signal_set.train[task]:
                handle.write(signal.to_jsonl() + "\n")
                count += 1
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return count


# ---- sources -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Texts:
    title: str
    abstract: str

    @property
    def full(self) -> str:
        # Exactly `Paper.embedding_text()`, so training sees what the index embeds.
        return f"{self.title}{SEP}{self.abstract}".strip()


def _paper_texts(database: LibraryDatabase) -> dict[int, _Texts]:
    # Papers in the trash teach nothing: every source below looks its papers up here.
    rows = database.conn.execute(f"SELECT id, title, abstract FROM papers WHERE {LIVE} ORDER BY id")
    return {int(pid): _Texts((title or "").strip(), (abstract or "").strip()) for pid, title, abstract in rows}


def _citation_signals(database: LibraryDatabase, papers: dict[int, _Texts]) -> list[Signal]:
    rows = database.conn.execute(
        "SELECT citing_paper_id, cited_paper_id FROM citations WHERE citing_paper_id != cited_paper_id ORDER BY 1, 2"
    )
    signals = []
    for citing, cited in rows:
        a, b = papers.get(int(citing)), papers.get(int(cited))
        if a is None or b is None or not a.title or not b.title:
            continue
        signals.append(
            Signal("link", f"edge:{citing}>{cited}", a.full, b.full, int(citing), int(cited), source="citations")
        )
    return signals


def _context_signals(database: LibraryDatabase, papers: dict[int, _Texts]) -> list[Signal]:
    """Citing sentence (markers removed) -> the library paper it cites: the very form of a citation suggestion.

    Split with the citation edge it belongs to (unit "edge:citing>cited"), so a held-out edge
    holds out its sentences too and no sentence of a held-out edge is trained on.
    """
    signals: dict[tuple[str, int], Signal] = {}
    for row in linked_contexts(database):
        citing, cited = int(row["citing_paper_id"]), int(row["cited_paper_id"])
        target = papers.get(cited)
        query = sentence_without_markers(row["sentence"])
        if target is None or citing not in papers or not target.title or len(query.split()) < 5:
            continue
        key = (query, cited)
        if key not in signals:
            signals[key] = Signal("link", f"edge:{citing}>{cited}", query, target.full, None, cited, source="contexts")
    return list(signals.values())


def _label_signals(database: LibraryDatabase, papers: dict[int, _Texts]) -> list[Signal]:
    rows = sorted(
        {(pid, name, "collections") for pid, name, _ in paper_collections(database.conn)}
        | {(pid, name, "tags") for pid, name, _ in paper_tags(database.conn, user_filed_only=True)}
    )
    usable = [(pid, (name or "").strip(), kind) for pid, name, kind in rows if pid in papers and papers[pid].title]
    sizes: dict[tuple[str, str], int] = {}
    for _, name, kind in usable:
        sizes[(kind, name)] = sizes.get((kind, name), 0) + 1
    signals = []
    for pid, name, kind in usable:
        if not name or sizes[(kind, name)] < MIN_LABEL_PAPERS:
            continue
        texts = papers[pid]
        signals.append(Signal("classify", f"paper:{pid}", texts.full, name.strip(), int(pid), label=name.strip(), source=kind))
    return signals


def _title_signals(papers: dict[int, _Texts]) -> list[Signal]:
    signals = []
    for pid, texts in papers.items():
        # A title -> abstract pair teaches nothing when the abstract is missing or repeats the title.
        if len(texts.title) < 8 or len(texts.abstract) < 40 or texts.title.lower() in texts.abstract.lower():
            continue
        signals.append(Signal("search", f"paper:{pid}", texts.title, texts.abstract, pid, pid, view="abstract", source="titles"))
    return signals


def _feedback_signals(database: LibraryDatabase, papers: dict[int, _Texts], ignored: dict[str, int]) -> list[Signal]:
    """Accepted feedback as examples; rejected feedback as hard negatives of the same query."""
    rows = database.conn.execute("SELECT kind, query, paper_id, value FROM feedback ORDER BY id").fetchall()
    positives: dict[tuple[str, str], list[int]] = {}
    negatives: dict[tuple[str, str], list[int]] = {}
    for kind, query, paper_id, value in rows:
        task = FEEDBACK_TASKS.get((kind or "").strip().lower())
        if task is None or not (query or "").strip() or paper_id is None or int(paper_id) not in papers:
            _count(ignored, "feedback of an unknown kind or without a query and a paper", 1)
            continue
        key = (task, query.strip())
        (positives if value > 0 else negatives).setdefault(key, []).append(int(paper_id))
    signals = []
    for key, rejected in negatives.items():
        if key not in positives:
            _count(ignored, "rejections without an accepted answer for the same query", len(rejected))
    for (task, query), accepted in positives.items():
        unit = "query:" + hashlib.sha256(f"{task}\n{query}".encode()).hexdigest()[:16]
        hard = tuple(papers[p].full for p in dict.fromkeys(negatives.get((task, query), [])) if p in papers and p not in accepted)
        for pid in dict.fromkeys(accepted):
            if task == "classify":  # split by paper, like the collections and tags it joins
                signals.append(Signal("classify", f"paper:{pid}", papers[pid].full, query, pid, label=query, source="feedback"))
            else:
                signals.append(Signal(task, unit, query, papers[pid].full, None, pid, negatives=hard, source="feedback"))
    return signals


def _count(ignored: dict[str, int], why: str, n: int) -> None:
    ignored[why] = ignored.get(why, 0) + n


def _unit_score(unit: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _what_makes(task: str) -> str:
    return {
        "link": "citation edges between library papers and accepted citation suggestions",
        "classify": "papers filed in collections or tagged by you",
        "search": "papers with a title and an abstract, and search results marked relevant",
    }[task]
