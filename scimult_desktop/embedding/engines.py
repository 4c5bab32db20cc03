"""Inference engines that run one bundle graph: ONNX Runtime (CPU/CUDA) and OpenVINO.

Both read the same ONNX file and take the same int64 inputs, so the encoder
does not care which one runs. `resolve_engine("auto")` picks:

1. `onnxruntime-cuda` when ONNX Runtime offers the CUDA provider;
2. `openvino` when it is installed and the CPU has AMX (bf16 matrix units;
   measured ~4-5x ONNX Runtime fp32 at cosine 0.99999 on BERT-base);
3. `onnxruntime-cpu` otherwise.

onnxruntime and openvino are imported inside the functions that use them, through
`_onnxruntime()` / `_openvino()`, which switch their telemetry off first (see privacy.py).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from scimult_desktop.embedding.bundle import GRAPH_INPUTS, GRAPH_OUTPUT
from scimult_desktop.errors import ModelError
from scimult_desktop.privacy import disable_telemetry

ENGINES = ("auto", "onnxruntime-cpu", "onnxruntime-cuda", "openvino")


class GraphRunner(Protocol):
    """One loaded graph: int64 inputs (batch, seq) in, `paper_embedding` (batch, dim) out."""

    engine: str

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray) -> np.ndarray: ...


# ---- hardware facts ------------------------------------------------------
@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_has_amx() -> bool:
    return "amx_bf16" in cpu_flags()


def cpu_has_native_bf16() -> bool:
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


@lru_cache(maxsize=1)
def physical_cores() -> int:
    """Physical cores this process may use: the right intra-op thread count for matmul-heavy graphs."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        available = os.cpu_count() or 1
    cores = None
    try:
        import psutil

        cores = psutil.cpu_count(logical=False)
    except ImportError:
        pass
    return max(1, min(available, cores or available))


# ---- importing -----------------------------------------------------------
def _onnxruntime():
    """onnxruntime, imported with its telemetry off (the switch is read when it initialises)."""
    disable_telemetry()
    import onnxruntime

    onnxruntime.disable_telemetry_events()  # the API switch as well, should the variable be ignored
    return onnxruntime


def _openvino():
    """openvino, imported with its usage events off (they are sent from its import)."""
    disable_telemetry()
    import openvino

    return openvino


# ---- choosing ------------------------------------------------------------
def openvino_available() -> bool:
    return importlib.util.find_spec("openvino") is not None


def cuda_available() -> bool:
    return "CUDAExecutionProvider" in _onnxruntime().get_available_providers()


def resolve_engine(engine: str | None) -> str:
    """A concrete engine name for a setting ("auto" or one of `ENGINES`).

    Raises:
        ModelError: the engine is unknown or not installed on this machine.
    """
    engine = (engine or "auto").lower()
    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r} (expected one of: {', '.join(ENGINES)})")
    if engine == "auto":
        if cuda_available():
            return "onnxruntime-cuda"
        # OpenVINO runs the same ONNX graph in bf16 on CPUs with native bf16 math (AMX or
        # AVX512-BF16): measured here 2.2x ONNX Runtime fp32 (MiniLM) and 2.3x (BERT-base)
        # at cosine >= 0.99998 vs fp32 (benchmarks/bench_encoder.py).
        if openvino_available() and cpu_has_native_bf16():
            return "openvino"
        return "onnxruntime-cpu"
    if engine == "openvino" and not openvino_available():
        raise ModelError("engine 'openvino' is not installed (pip install openvino)")
    if engine == "onnxruntime-cuda" and not cuda_available():
        raise ModelError("engine 'onnxruntime-cuda' needs onnxruntime-gpu and a CUDA GPU; neither is available here")
    return engine


def load_runner(graph_path: Path, engine: str, threads: int | None = None) -> GraphRunner:
    """Load `graph_path` on a concrete engine (see `resolve_engine`).

    Raises:
        ModelError: the file is not a loadable ONNX graph of the bundle contract.
    """
    threads = threads or physical_cores()
    if engine == "openvino":
        return OpenVinoRunner(graph_path, threads)
    return OrtRunner(graph_path, threads, cuda=(engine == "onnxruntime-cuda"))


# ---- runners -------------------------------------------------------------
class OrtRunner:
    """ONNX Runtime session over one graph."""

    def __init__(self, graph_path: Path, threads: int, *, cuda: bool = False) -> None:
        ort = _onnxruntime()
        self.engine = "onnxruntime-cuda" if cuda else "onnxruntime-cpu"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # No busy-waiting between runs: in an app, encoding alternates with FAISS
        # searches and the GUI, and spinning ORT threads starve them (measured: a
        # 10k-vector query went from ~1 ms to ~100 ms on 2 cores with spinning on).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else ["CPUExecutionProvider"]
        try:
            self.session = ort.InferenceSession(str(graph_path), options, providers=providers)
        except Exception as exc:  # ORT raises its own exception types for bad files
            raise ModelError(f"{graph_path}: not a loadable ONNX graph ({_first_line(exc)})") from exc
        self.input_names = _check_io(graph_path, [i.name for i in self.session.get_inputs()], [o.name for o in self.session.get_outputs()])

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray) -> np.ndarray:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        (output,) = self.session.run([GRAPH_OUTPUT], {name: feed[name] for name in self.input_names})
        return np.asarray(output, dtype=np.float32)


class OpenVinoRunner:
    """OpenVINO compiled model over the same ONNX graph; bf16 inference where the CPU has bf16 units."""

    engine = "openvino"

    def __init__(self, graph_path: Path, threads: int, precision: str | None = None) -> None:
        ov = _openvino()
        core = ov.Core()
        self.precision = precision or ("bf16" if cpu_has_native_bf16() else "f32")
        config = {
            "INFERENCE_PRECISION_HINT": self.precision,
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
        }
        try:
            model = core.read_model(str(graph_path))
            self.compiled = core.compile_model(model, "CPU", config)
        except Exception as exc:
            raise ModelError(f"{graph_path}: OpenVINO cannot load this graph ({_first_line(exc)})") from exc
        self.input_names = _check_io(
            graph_path,
            [port.get_any_name() for port in self.compiled.inputs],
            [name for port in self.compiled.outputs for name in port.get_names()],
        )
        self.output = self.compiled.output(GRAPH_OUTPUT)
        self.request = self.compiled.create_infer_request()
        self._lock = threading.Lock()  # one infer request: calls from several threads take turns

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray) -> np.ndarray:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        with self._lock:
            result = self.request.infer({name: feed[name] for name in self.input_names})
            return np.array(result[self.output], dtype=np.float32)  # copy: the request reuses its buffers


def _check_io(graph_path: Path, inputs: list[str], outputs: list[str]) -> list[str]:
    unknown = [name for name in inputs if name not in GRAPH_INPUTS]
    if unknown or "input_ids" not in inputs:
        raise ModelError(f"{graph_path}: graph inputs {inputs} do not match the bundle contract {list(GRAPH_INPUTS)}")
    if GRAPH_OUTPUT not in outputs:
        raise ModelError(f"{graph_path}: graph has no {GRAPH_OUTPUT!r} output (has {outputs})")
    return inputs


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
