"""The model bundle manifest: the contract between training (export) and the app.

A bundle is a folder:

    bundle.json        this manifest
    tokenizer.json     a `tokenizers` tokenizer (WordPiece for BERT models)
    <graph>.onnx       one ONNX graph per distinct task expert (tasks whose
                       expert weights are identical share one file)
    MODEL_CARD.md      what it is, where the weights came from, licence

Every graph takes int64 `input_ids`, `attention_mask`, `token_type_ids`
(batch, seq) and returns `paper_embedding` (batch, dim) float32, already pooled
as `pooling` says. L2 normalisation, when `similarity` is "cosine", is done by the
encoder, so the graph stays engine-agnostic.

Standard library only: `scimult_train` imports this module.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scimult_desktop.domain.tasks import Task
from scimult_desktop.errors import ModelError
from scimult_desktop.hashing import update_with_file

BUNDLE_FORMAT = "scimult-model-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST_NAME = "bundle.json"
GRAPH_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
GRAPH_OUTPUT = "paper_embedding"


@dataclass
class TaskGraph:
    """How one task is encoded: which expert, which graph file, which instruction prefix."""

    expert: int | None  # None for the vanilla (no expert) architecture
    graph: str  # file name inside the bundle
    instruction: str | None = None  # prefix for the instruction variant
    variants: dict[str, str] = field(default_factory=dict)  # e.g. {"int8": "search.int8.onnx"}


@dataclass
class BundleManifest:
    name: str
    architecture: str  # "bert-moe-attn" | "bert-moe-ffn" | "bert-vanilla"
    dim: int
    max_length: int
    pooling: str  # "cls" | "mean"
    similarity: str  # "dot" | "cosine"
    tasks: dict[str, TaskGraph]
    tokenizer: str = "tokenizer.json"
    source: dict = field(default_factory=dict)  # what the weights came from, with sha256
    export: dict = field(default_factory=dict)  # opset, exporter versions, precision
    format: str = BUNDLE_FORMAT
    format_version: int = BUNDLE_FORMAT_VERSION

    def task_graph(self, task: Task | str) -> TaskGraph:
        key = Task.parse(task).value
        try:
            return self.tasks[key]
        except KeyError:
            raise ModelError(f"model bundle {self.name!r} has no graph for task {key!r}") from None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict, where: str = "bundle.json") -> "BundleManifest":
        if data.get("format") != BUNDLE_FORMAT:
            raise ModelError(f"{where}: not a SciMult model bundle manifest")
        if int(data.get("format_version", 0)) > BUNDLE_FORMAT_VERSION:
            raise ModelError(f"{where}: bundle format {data['format_version']} is newer than this app understands")
        try:
            tasks = {k: TaskGraph(**v) for k, v in data["tasks"].items()}
            values = {k: v for k, v in data.items() if k != "tasks"}
            manifest = cls(tasks=tasks, **values)
        except (KeyError, TypeError) as exc:
            raise ModelError(f"{where}: invalid manifest ({exc})") from exc
        if manifest.pooling not in {"cls", "mean"} or manifest.similarity not in {"dot", "cosine"}:
            raise ModelError(f"{where}: unsupported pooling/similarity {manifest.pooling}/{manifest.similarity}")
        return manifest


def read_manifest(folder: Path) -> BundleManifest:
    path = Path(folder) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{folder}: not a model bundle (no {MANIFEST_NAME})") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable manifest ({exc})") from exc
    manifest = BundleManifest.from_json(data, str(path))
    for task in manifest.tasks.values():
        if not (Path(folder) / task.graph).is_file():
            raise ModelError(f"{folder}: bundle is incomplete, {task.graph} is missing")
    if not (Path(folder) / manifest.tokenizer).is_file():
        raise ModelError(f"{folder}: bundle is incomplete, {manifest.tokenizer} is missing")
    return manifest


def write_manifest(folder: Path, manifest: BundleManifest) -> Path:
    path = Path(folder) / MANIFEST_NAME
    path.write_text(json.dumps(manifest.to_json(), indent=2, sort_keys=True), encoding="utf-8")
    return path


def bundle_fingerprint(folder: Path) -> str:
    """sha256 over the manifest and every graph file: embeddings are keyed by it."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.suffix in {".json", ".onnx", ".data"}):
        digest.update(path.name.encode())
        update_with_file(digest, path)
    return digest.hexdigest()


# ---- cached fingerprint ------------------------------------------------------
# Hashing 90-400 MB of graphs on every start is too slow, so the fingerprint is
# computed once (at install) and stored beside the files with their sizes and
# modification times; a changed file invalidates it. The `.sha256` suffix keeps
# the cache itself out of `bundle_fingerprint`.
FINGERPRINT_NAME = "fingerprint.sha256"


def _fingerprinted_files(folder: Path) -> dict[str, list[int]]:
    return {
        p.name: [p.stat().st_size, p.stat().st_mtime_ns]
        for p in sorted(folder.iterdir())
        if p.suffix in {".json", ".onnx", ".data"}
    }


def write_fingerprint(folder: Path) -> str:
    """Compute `bundle_fingerprint(folder)` and store it in the folder; returns it."""
    folder = Path(folder)
    fingerprint = bundle_fingerprint(folder)
    record = {"sha256": fingerprint, "files": _fingerprinted_files(folder)}
    try:
        (folder / FINGERPRINT_NAME).write_text(json.dumps(record, indent=1), encoding="utf-8")
    except OSError:
        pass  # a read-only bundle still works; it is just hashed again next time
    return fingerprint


def stored_fingerprint(folder: Path) -> str:
    """The bundle fingerprint from the stored cache when it is still valid, else computed and stored."""
    folder = Path(folder)
    try:
        record = json.loads((folder / FINGERPRINT_NAME).read_text(encoding="utf-8"))
        if record.get("files") == _fingerprinted_files(folder) and isinstance(record.get("sha256"), str):
            return record["sha256"]
    except (OSError, json.JSONDecodeError, AttributeError):
        pass
    return write_fingerprint(folder)
