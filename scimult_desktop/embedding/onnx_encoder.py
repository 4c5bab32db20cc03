"""`OnnxEncoder`: a model bundle run by ONNX Runtime or OpenVINO, tokenised by `tokenizers`.

Design choices:
- One graph runner per distinct graph file, created the first time a task
  needs it (a 3-expert BERT-base bundle is 3 x 435 MB; a search-only session
  never loads the other two).
- Inputs are sorted by token length before batching and the original order is
  restored afterwards, so a batch pads only to its own longest text: titles and
  short abstracts cost what they are, not 256 or 512 tokens.
- Truncation to the manifest's `max_length`; token_type_ids are all 0 (as SciMult).
- Cosine bundles are L2-normalised here, so the graph stays engine-agnostic.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.embedding.bundle import BundleManifest, read_manifest
from scimult_desktop.embedding.encoder import DEFAULT_BATCH_SIZE, EncoderBase, l2_normalize
from scimult_desktop.embedding.engines import GraphRunner, load_runner, resolve_engine
from scimult_desktop.embedding import query_adapters
from scimult_desktop.errors import ModelError

PRECISIONS = ("fp32", "int8")


class OnnxEncoder(EncoderBase):
    """Encoder over a model bundle folder.

    Args:
        bundle_dir: folder with bundle.json, tokenizer.json and the graphs.
        engine: "auto", "onnxruntime-cpu", "onnxruntime-cuda" or "openvino".
        threads: intra-op threads (default: physical cores).
        precision: "fp32", or "int8" when the bundle lists int8 variants.

    Raises:
        ModelError: the bundle is invalid, the engine is unavailable, or a file cannot be loaded.

    Example:
        >>> encoder = OnnxEncoder(models_dir / "minilm-default")
        >>> encoder.encode_query(["graph neural networks"], Task.SEARCH).shape
        (1, 384)
    """

    def __init__(
        self,
        bundle_dir: str | Path,
        *,
        engine: str | None = "auto",
        threads: int | None = None,
        precision: str = "fp32",
        manifest: BundleManifest | None = None,
    ) -> None:
        self.folder = Path(bundle_dir)
        self.manifest = manifest or read_manifest(self.folder)
        self.name = self.manifest.name
        self.dim = int(self.manifest.dim)
        self.similarity = self.manifest.similarity
        self.max_length = int(self.manifest.max_length)
        if precision not in PRECISIONS:
            raise ModelError(f"unknown precision {precision!r} (expected one of: {', '.join(PRECISIONS)})")
        self.precision = precision
        self.engine = resolve_engine(engine)
        self.threads = threads
        self._runners: dict[str, GraphRunner] = {}
        self._lock = threading.Lock()
        self._pad_id = 0
        self._tokenizer = self._load_tokenizer()
        # OpenVINO compiles a kernel per input shape; rounding the sequence length
        # to a multiple of 8 bounds the number of shapes at the cost of <8 pad tokens.
        self._seq_multiple = 8 if self.engine == "openvino" else 1
        self.query_adapters = {
            task: query_adapters.load(self.folder, graph.query_adapter, self.dim)
            for task, graph in self.manifest.tasks.items()
            if graph.query_adapter
        }

    # ---- public ----------------------------------------------------------
    def encode(
        self,
        texts: Sequence[str],
        task: Task | str,
        role: Role = Role.DOCUMENT,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> np.ndarray:
        """Embed `texts` with `task`'s expert; see `Encoder.encode`."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        task_graph = self.manifest.task_graph(task)
        if task_graph.instruction:
            # The prefix carries its own separator; it goes on both the query and the document side.
            texts = [task_graph.instruction + text for text in texts]
        runner = self._runner_for(task)
        encodings = self._tokenizer.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        # Longest first: an out-of-memory batch fails at once, not at the end.
        order = np.argsort(-lengths, kind="stable")
        output = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), max(1, batch_size)):
            rows = order[start : start + batch_size]
            input_ids, attention_mask = self._pad([encodings[i].ids for i in rows], int(lengths[rows].max()))
            vectors = runner.run(input_ids, attention_mask, np.zeros_like(input_ids))
            if vectors.shape != (len(rows), self.dim):
                raise ModelError(f"{self.folder}: graph returned shape {vectors.shape}, expected ({len(rows)}, {self.dim})")
            output[rows] = vectors
        if self.similarity == "cosine":
            l2_normalize(output)
        adapter = self.query_adapters.get(Task.parse(task).value) if Role(role) is Role.QUERY else None
        if adapter is not None:
            output = query_adapters.apply(adapter, output)
        return output

    def embedding_identity(self, task: Task | str, role: Role = Role.DOCUMENT) -> str:
        """Tasks with the same identity embed a text identically (same graph, same instruction).

        Upcycled models start with identical experts that export to one graph, so the
        library stores one computation under several tasks instead of repeating it.
        """
        task_graph = self.manifest.task_graph(task)
        adapted = task_graph.query_adapter if Role(role) is Role.QUERY and task_graph.query_adapter else ""
        return f"{self._graph_file(task)}|{task_graph.instruction or ''}" + (f"|{adapted}" if adapted else "")

    def warm_up(self, tasks: Sequence[Task | str] = ()) -> None:
        """Load the graphs of `tasks` now (all tasks when empty), e.g. before timing."""
        for task in tasks or list(self.manifest.tasks):
            self._runner_for(task)

    # ---- internals -------------------------------------------------------
    def _graph_file(self, task: Task | str) -> str:
        task_graph = self.manifest.task_graph(task)
        if self.precision == "fp32":
            return task_graph.graph
        variant = task_graph.variants.get(self.precision)
        if not variant:
            raise ModelError(f"model bundle {self.name!r} has no {self.precision} variant for task {Task.parse(task).value!r}")
        return variant

    def _runner_for(self, task: Task | str) -> GraphRunner:
        graph = self._graph_file(task)
        runner = self._runners.get(graph)
        if runner is None:
            with self._lock:
                runner = self._runners.get(graph)
                if runner is None:
                    path = self.folder / graph
                    if not path.is_file():
                        raise ModelError(f"{path}: graph file is missing from the bundle")
                    runner = load_runner(path, self.engine, self.threads)
                    self._runners[graph] = runner
        return runner

    def _load_tokenizer(self):
        from tokenizers import Tokenizer

        path = self.folder / self.manifest.tokenizer
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
            raise ModelError(f"{path}: not a valid tokenizers file ({exc})") from exc
        # The bundle's tokenizer names its pad id (MPNet: <pad> = 1, though its vocabulary also has a [PAD]).
        padding = tokenizer.padding
        self._pad_id = int(padding["pad_id"]) if padding else (tokenizer.token_to_id("[PAD]") or 0)
        # Padding is ours (per length-sorted batch); truncation follows the manifest.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self.max_length)
        return tokenizer

    def _pad(self, sequences: list[list[int]], longest: int) -> tuple[np.ndarray, np.ndarray]:
        width = -(-longest // self._seq_multiple) * self._seq_multiple
        width = min(max(width, 1), max(self.max_length, longest))
        input_ids = np.full((len(sequences), width), self._pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(sequences), width), dtype=np.int64)
        for row, ids in enumerate(sequences):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        return input_ids, attention_mask
