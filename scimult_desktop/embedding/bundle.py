"""The model bundle manifest: the contract between training (export) and the app.

A bundle is a folder:

    bundle.json        this manifest
    tokenizer.json     a `tokenizers` tokenizer (WordPiece for BERT models)
    <graph>.onnx       one ONNX graph per distinct task expert (tasks whose
                       expert weights are identical share one file)
    MODEL_CARD.md      what it is, where the weights came from, licence
    link.query_adapter.npy   optional: a matrix applied to that task's query vectors,
                       written by local fine-tuning (`TaskGraph.query_adapter`)

`export["checksums"]` maps every other file (by its path inside the bundle, `/`-separated)
to its sha256, except the manifest itself, MODEL_CARD.md (notes may be appended) and the
app's fingerprint cache: installing checks them (`verify_checksums`). Links, pipes and
other special files are refused (`regular_files`): a bundle is plain files only.

Every graph takes int64 `input_ids`, `attention_mask`, `token_type_ids`
(batch, seq) and returns `paper_embedding` (batch, dim) float32, already pooled
as `pooling` says. L2 normalisation, when `similarity` is "cosine", is done by the
encoder, so the graph stays engine-agnostic.

Standard library only: `scimult_train` imports this module.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from scimult_desktop.domain.tasks import Task
from scimult_desktop.errors import ModelError
from scimult_desktop.hashing import sha256_file, update_with_file

BUNDLE_FORMAT = "scimult-model-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST_NAME = "bundle.json"
GRAPH_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
GRAPH_OUTPUT = "paper_embedding"
MANIFEST_MAX_BYTES = 4 << 20  # real manifests are a few KB
UNCHECKSUMMED = {MANIFEST_NAME, "MODEL_CARD.md", "fingerprint.sha256"}
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class TaskGraph:
    """How one task is encoded: which expert, which graph file, which instruction prefix."""

    expert: int | None  # None for the vanilla (no expert) architecture
    graph: str  # file name inside the bundle
    instruction: str | None = None  # prefix for the instruction variant
    variants: dict[str, str] = field(default_factory=dict)  # e.g. {"int8": "search.int8.onnx"}
    query_adapter: str | None = None  # .npy matrix applied to query vectors (local fine-tuning)


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
        data = asdict(self)
        for entry in data["tasks"].values():
            if entry.get("query_adapter") is None:  # absent unless fitted: older apps read the bundle as before
                entry.pop("query_adapter", None)
        return data

    @classmethod
    def from_json(cls, data: object, where: str = "bundle.json") -> "BundleManifest":
        """The manifest in `data`, every field checked (a `ModelError` naming `where` and the field)."""
        if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
            raise ModelError(f"{where}: not a SciMult model bundle manifest")
        version = data.get("format_version", 0)
        if not _is_int(version):
            raise ModelError(f"{where}: format_version must be a whole number, not {version!r}")
        if version > BUNDLE_FORMAT_VERSION:
            raise ModelError(f"{where}: bundle format {version} is newer than this app understands")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ModelError(f"{where}: unknown manifest field {unknown[0]!r}")
        check = _FieldCheck(where)
        manifest = cls(
            name=check.text(data, "name"),
            architecture=check.text(data, "architecture"),
            dim=check.positive_int(data, "dim"),
            max_length=check.positive_int(data, "max_length"),
            pooling=check.choice(data, "pooling", ("cls", "mean")),
            similarity=check.choice(data, "similarity", ("dot", "cosine")),
            tasks=_tasks_from_json(data.get("tasks"), check),
            tokenizer=check.file_name(data.get("tokenizer", "tokenizer.json"), "tokenizer"),
            source=check.mapping(data, "source"),
            export=check.mapping(data, "export"),
            format=BUNDLE_FORMAT,
            format_version=version,
        )
        return manifest

    def recorded_checksums(self, where: str = "bundle.json") -> dict[str, str]:
        """sha256 by file path as the exporter recorded them (`export.checksums`, and the
        per-graph `export.graphs[*].sha256` that older exports wrote)."""
        found: dict[str, str] = {}
        graphs = self.export.get("graphs")
        for name, info in (graphs.items() if isinstance(graphs, dict) else ()):
            if isinstance(info, dict) and info.get("sha256") is not None:
                found[name] = info["sha256"]
        checksums = self.export.get("checksums", {})
        if not isinstance(checksums, dict):
            raise ModelError(f"{where}: export.checksums must be an object of file: sha256")
        found.update(checksums)
        for name, digest in found.items():
            if not isinstance(name, str) or not isinstance(digest, str) or not _SHA256_RE.match(digest):
                raise ModelError(f"{where}: checksum of {name!r} is not a sha256 hex digest")
        return found


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _FieldCheck:
    """Type checks of manifest fields; each failure is one line naming the manifest and the field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field_name: str, expected: str, value: object) -> ModelError:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return ModelError(f"{self.where}: {field_name} must be {expected}, not {shown}")

    def text(self, data: dict, key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(key, "a non-empty string", value)
        return value

    def positive_int(self, data: dict, key: str) -> int:
        value = data.get(key)
        if not _is_int(value) or value <= 0:
            raise self.fail(key, "a positive whole number", value)
        return value

    def choice(self, data: dict, key: str, allowed: tuple[str, ...]) -> str:
        value = data.get(key)
        if not isinstance(value, str) or value not in allowed:
            raise self.fail(key, " or ".join(repr(a) for a in allowed), value)
        return value

    def mapping(self, data: dict, key: str) -> dict:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "an object", value)
        return value

    def file_name(self, value: object, field_name: str) -> str:
        """A plain file name inside the bundle: no folders, no way out of it."""
        if (
            not isinstance(value, str)
            or value in ("", ".", "..")
            or "/" in value
            or "\\" in value
            or "\0" in value
            or os.path.isabs(value)
            or (len(value) > 1 and value[1] == ":")  # a Windows drive
        ):
            raise self.fail(field_name, "a file name inside the bundle", value)
        return value


def _tasks_from_json(tasks: object, check: _FieldCheck) -> dict[str, TaskGraph]:
    if not isinstance(tasks, dict) or not tasks:
        raise check.fail("tasks", "an object of task: graph", tasks)
    known = {task.value for task in Task}
    result = {}
    for task, entry in tasks.items():
        where = f"tasks.{task}"
        if task not in known:
            raise ModelError(f"{check.where}: unknown task {task!r} (this app knows {', '.join(sorted(known))})")
        if not isinstance(entry, dict):
            raise check.fail(where, "an object", entry)
        unknown = sorted(set(entry) - {"expert", "graph", "instruction", "variants", "query_adapter"})
        if unknown:
            raise ModelError(f"{check.where}: unknown field {unknown[0]!r} in {where}")
        expert, instruction, variants = entry.get("expert"), entry.get("instruction"), entry.get("variants", {})
        if expert is not None and not (_is_int(expert) and expert >= 0):
            raise check.fail(f"{where}.expert", "a whole number or null", expert)
        if instruction is not None and not isinstance(instruction, str):
            raise check.fail(f"{where}.instruction", "a string or null", instruction)
        if not isinstance(variants, dict) or not all(isinstance(k, str) for k in variants):
            raise check.fail(f"{where}.variants", "an object of precision: file name", variants)
        result[task] = TaskGraph(
            expert=expert,
            graph=check.file_name(entry.get("graph"), f"{where}.graph"),
            instruction=instruction,
            variants={k: check.file_name(v, f"{where}.variants.{k}") for k, v in variants.items()},
            query_adapter=None if entry.get("query_adapter") is None
            else check.file_name(entry["query_adapter"], f"{where}.query_adapter"),
        )
    return result


def read_manifest(folder: Path) -> BundleManifest:
    path = Path(folder) / MANIFEST_NAME
    try:
        if path.stat().st_size > MANIFEST_MAX_BYTES:
            raise ModelError(f"{path}: manifest is too large ({path.stat().st_size} bytes)")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{folder}: not a model bundle (no {MANIFEST_NAME})") from None
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: bad JSON or not UTF-8
        raise ModelError(f"{path}: unreadable manifest ({str(exc)[:200]})") from None
    manifest = BundleManifest.from_json(data, str(path))
    for task in manifest.tasks.values():
        for name in (task.graph, task.query_adapter):
            if name is not None and not (Path(folder) / name).is_file():
                raise ModelError(f"{folder}: bundle is incomplete, {name} is missing")
    if not (Path(folder) / manifest.tokenizer).is_file():
        raise ModelError(f"{folder}: bundle is incomplete, {manifest.tokenizer} is missing")
    return manifest


def regular_files(folder: Path) -> list[str]:
    """Every file of a bundle folder by its `/`-separated path inside it; only plain files and folders.

    Raises:
        ModelError: a symbolic link (it could point anywhere: a copy would take the target
            along), a named pipe, device or socket, naming the member.
    """
    root = Path(folder)
    found = []
    for current, folders, files in os.walk(root, followlinks=False):
        for name in sorted(folders) + sorted(files):
            path = Path(current) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                raise ModelError(f"{path}: model bundles may not contain symbolic links")
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                raise ModelError(f"{path}: not a regular file (model bundles hold plain files only)")
            found.append(path.relative_to(root).as_posix())
    return sorted(found)


def file_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every checksummed file of a bundle folder (what `export.checksums` records)."""
    return {name: sha256_file(Path(folder) / name) for name in regular_files(folder) if name not in UNCHECKSUMMED}


def verify_checksums(folder: Path, manifest: BundleManifest, shown_as: Path | None = None) -> dict[str, str]:
    """Check every file against the manifest's recorded sha256; return the full map.

    Files the manifest records must be present and match. Files it does not record (bundles
    from before checksums were written) are hashed as they are: the returned map covers
    every file, so the installed copy can record it.

    Raises:
        ModelError: a recorded file is missing or its content differs (corrupt download, edit);
            the message names it under `shown_as` (default: `folder`).
    """
    folder = Path(folder)
    shown = Path(shown_as) if shown_as is not None else folder  # errors name the user's bundle, not a staging copy
    recorded = manifest.recorded_checksums(str(shown / MANIFEST_NAME))
    actual = file_checksums(folder)
    for name, digest in sorted(recorded.items()):
        if name not in actual:
            raise ModelError(f"{shown / name}: listed in the manifest's checksums but missing from the bundle")
        if actual[name] != digest:
            raise ModelError(f"{shown / name}: file is corrupted (its sha256 differs from the one the manifest records)")
    return actual


def write_manifest(folder: Path, manifest: BundleManifest) -> Path:
    path = Path(folder) / MANIFEST_NAME
    path.write_text(json.dumps(manifest.to_json(), indent=2, sort_keys=True), encoding="utf-8")
    return path


_FINGERPRINTED = {".json", ".onnx", ".data", ".npy"}


def bundle_fingerprint(folder: Path) -> str:
    """sha256 over the manifest, every graph file and query adapter: embeddings are keyed by it."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.suffix in _FINGERPRINTED):
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
        if p.suffix in _FINGERPRINTED
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
