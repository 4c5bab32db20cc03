"""Export a TaskAwareEncoder into a model bundle (see scimult_desktop.embedding.bundle).

Design choices:
- One dense ONNX graph per *distinct* task expert: expert e's weights are folded into a
  vanilla-architecture copy (`fold_expert`), so every graph is a standard BERT graph.
  Experts with identical weights (e.g. freshly upcycled ones) share one file; identity
  is decided by a sha256 over the folded weights.
- Graph contract: int64 `input_ids`, `attention_mask`, `token_type_ids` (batch, seq),
  dynamic batch and sequence axes; output `paper_embedding` (batch, dim) float32,
  pooled as the config says (mean pooling respects the mask), never L2-normalised.
- Exporter: `torch.onnx.export(..., dynamo=False, opset_version=17)` (the TorchScript
  exporter; see environment.md for why not dynamo).
- Every graph is checked against torch with ONNX Runtime before the manifest is written;
  the minimum cosine is recorded in `export.parity_min_cosine`.
- Optional int8 variant: onnxruntime `quantize_dynamic(per_channel=True)`, kept only
  when its cosine to fp32 on the probe texts is at least `INT8_MIN_COSINE`.

Command line: see `scimult_train.build_default` and `scimult_train.convert_official`.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from scimult_desktop.domain.tasks import Task
from scimult_desktop.embedding.bundle import (
    GRAPH_INPUTS,
    GRAPH_OUTPUT,
    BundleManifest,
    TaskGraph,
    file_checksums,
    write_manifest,
)
from scimult_desktop.errors import ModelError
from scimult_desktop.hashing import sha256_file
from scimult_train.model.encoder import TaskAwareEncoder, tokenize_batch
from scimult_train.model.tokenizer import load_tokenizer, write_bundle_tokenizer
from scimult_train.model.torch_weights import CONFIG_NAME, TORCH_DIR, WEIGHTS_NAME, save_torch_weights

OPSET = 17
PARITY_MIN_COSINE = 0.9999
INT8_MIN_COSINE = 0.999

# Probe texts for the parity check: short and long, with the title [SEP] abstract form.
PROBE_TEXTS = (
    "Attention is all you need [SEP] The dominant sequence transduction models are based on recurrent networks.",
    "graph neural networks for citation recommendation",
    "Protein structure prediction with deep learning [SEP] We present a method that predicts the "
    "three-dimensional structure of proteins from their amino acid sequence with high accuracy, "
    "using attention over multiple sequence alignments and pair representations.",
    "CRISPR",
)


class _GraphModule(nn.Module):
    """Wraps a dense (folded) encoder with the bundle's graph signature."""

    def __init__(self, dense: TaskAwareEncoder) -> None:
        super().__init__()
        self.dense = dense

    def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: D102 (graph signature)
        return self.dense(input_ids, attention_mask, token_type_ids)  # (batch, dim)





def export_graph(dense: TaskAwareEncoder, path: Path, max_length: int) -> Path:
    """Trace one dense encoder into an ONNX file with the bundle's inputs and output."""
    dense = dense.eval()
    seq = min(8, max_length)
    example = (
        torch.full((2, seq), 5, dtype=torch.long),
        torch.ones((2, seq), dtype=torch.long),
        torch.zeros((2, seq), dtype=torch.long),
    )
    axes = {name: {0: "batch", 1: "sequence"} for name in GRAPH_INPUTS}
    axes[GRAPH_OUTPUT] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is chosen on purpose (environment.md); silence its deprecation notice.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.onnx.export(
            _GraphModule(dense),
            example,
            str(path),
            input_names=list(GRAPH_INPUTS),
            output_names=[GRAPH_OUTPUT],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    return Path(path)


def _ort_embed(graph: Path, batch: dict[str, torch.Tensor]) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    # MPNet graphs ignore token_type_ids, and the exporter drops an unused input.
    present = {i.name for i in session.get_inputs()}
    feeds = {name: batch[name].numpy().astype(np.int64) for name in GRAPH_INPUTS if name in present}
    return session.run([GRAPH_OUTPUT], feeds)[0]


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True).clip(1e-12)
    b = b / np.linalg.norm(b, axis=1, keepdims=True).clip(1e-12)
    return float((a * b).sum(axis=1).min())


def _quantize_int8(graph: Path, out: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # per_channel=True matters: per-tensor int8 gave cosine ~0.94 on MiniLM (environment.md).
    quantize_dynamic(str(graph), str(out), per_channel=True, weight_type=QuantType.QInt8)
    return out


def _render_card(manifest: BundleManifest, cfg_json: dict, graphs: dict[str, dict]) -> str:
    source = manifest.source
    lines = [
        f"# {manifest.name}",
        "",
        "A SciMult Desktop model bundle: a task-aware paper encoder exported to ONNX.",
        "",
        "## Source",
        "",
    ]
    for key in sorted(source):
        value = source[key]
        lines.append(f"- **{key}**: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    lines += [
        "",
        f"Licence of the weights: {source.get('licence', 'unknown (see source)')}.",
        "",
        "## Model",
        "",
        f"- architecture: {manifest.architecture}; embedding dim {manifest.dim}; max length {manifest.max_length} tokens",
        f"- pooling: {manifest.pooling}; similarity: {manifest.similarity}"
        + (" (the encoder L2-normalises; graphs do not)" if manifest.similarity == "cosine" else ""),
        f"- layers {cfg_json['num_layers']}, hidden {cfg_json['hidden_size']}, heads {cfg_json['num_heads']}, "
        f"experts {cfg_json['num_experts']} ({cfg_json['moe_type'] or 'none'})",
        "",
        "## Tasks",
        "",
        "| task | expert | graph | instruction prefix |",
        "|---|---|---|---|",
    ]
    for task, tg in manifest.tasks.items():
        variants = "".join(f" (+{k}: {v})" for k, v in tg.variants.items())
        lines.append(f"| {task} | {tg.expert} | {tg.graph}{variants} | {tg.instruction!r} |")
    lines += ["", "## Export", ""]
    for key in sorted(manifest.export):
        if key not in {"encoder_config", "graphs"}:
            lines.append(f"- {key}: {manifest.export[key]}")
    lines += ["", "| graph | sha256 |", "|---|---|"]
    for name, info in graphs.items():
        lines.append(f"| {name} | {info['sha256']} |")
    lines += [
        "",
        "Inputs: int64 input_ids, attention_mask, token_type_ids (batch, sequence); "
        "output: paper_embedding (batch, dim) float32, already pooled, not normalised.",
        "",
    ]
    return "\n".join(lines)


def export_bundle(
    model: TaskAwareEncoder,
    tokenizer_json_path: Path,
    out_dir: Path,
    name: str,
    source: dict,
    max_length: int,
    *,
    int8: bool = False,
    check_parity: bool = True,
    torch_dtype: torch.dtype = torch.float32,
) -> Path:
    """Write a complete model bundle for `model`.

    Args:
        model: the encoder (MoE or vanilla; instruction prefixes come from its config).
        tokenizer_json_path: a `tokenizers` tokenizer.json matching the model's vocabulary.
        out_dir: bundle folder; created, and must be empty or absent.
        name: bundle name (manifest `name`).
        source: provenance for the manifest and model card (e.g. `licence`, `base_model`,
            `checkpoint`, `checkpoint_sha256`); stored as given.
        max_length: tokens per text, special tokens included (<= the position table).
        int8: also write int8 dynamic-quantised variants (kept only if cosine >= 0.999).
        check_parity: compare ONNX Runtime against torch on probe texts (raises below 0.9999).
        torch_dtype: precision of the torch weights stored in `torch/` (so training can
            continue from the bundle; see `scimult_train.model.torch_weights`).

    Returns:
        The bundle folder.

    Raises:
        ModelError: bad arguments or a failed parity check.
    """
    cfg = model.cfg
    out_dir = Path(out_dir)
    if max_length > cfg.max_position_embeddings:
        raise ModelError(f"max_length {max_length} exceeds the model's {cfg.max_position_embeddings} positions")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ModelError(f"{out_dir}: bundle folder is not empty")
    out_dir.mkdir(parents=True, exist_ok=True)

    tokenizer_path = write_bundle_tokenizer(Path(tokenizer_json_path), out_dir / "tokenizer.json", max_length)
    tokenizer = load_tokenizer(tokenizer_path)
    model = model.eval()

    tasks: dict[str, TaskGraph] = {}
    graphs: dict[str, dict] = {}  # file name -> {"sha256", "weights_sha256", "expert"}
    by_fingerprint: dict[str, str] = {}
    min_cos = 1.0
    int8_cosines: dict[str, float] = {}
    for task in Task:
        expert = cfg.expert_for(task)
        instruction = cfg.instruction_for(task)
        fingerprint = model.expert_fingerprint(expert)
        graph_name = by_fingerprint.get(fingerprint)
        dense = None
        if graph_name is None:
            graph_name = "model.onnx" if expert is None else f"expert{expert}.onnx"
            dense = model.fold_expert(expert).eval()
            export_graph(dense, out_dir / graph_name, max_length)
            by_fingerprint[fingerprint] = graph_name
            graphs[graph_name] = {"weights_sha256": fingerprint, "expert": expert}
        if check_parity or int8:
            # The probe goes through the task's instruction, as real inputs will.
            texts = model.prepare_texts(list(PROBE_TEXTS), task)
            batch = tokenize_batch(tokenizer, texts, max_length)
            with torch.no_grad():
                reference = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"], expert).numpy()
            onnx_out = _ort_embed(out_dir / graph_name, batch)
            cos = _min_cosine(reference, onnx_out)
            min_cos = min(min_cos, cos)
            if check_parity and cos < PARITY_MIN_COSINE:
                raise ModelError(f"{out_dir / graph_name}: ONNX parity check failed for {task.value} (cosine {cos:.6f})")
        variants: dict[str, str] = {}
        if int8:
            int8_name = graph_name.replace(".onnx", ".int8.onnx")
            if int8_name not in graphs and dense is not None:
                _quantize_int8(out_dir / graph_name, out_dir / int8_name)
                graphs[int8_name] = {"weights_sha256": None, "expert": expert, "int8_of": graph_name}
            if int8_name in graphs:
                cos8 = _min_cosine(onnx_out, _ort_embed(out_dir / int8_name, batch))
                int8_cosines[task.value] = cos8
                if cos8 >= INT8_MIN_COSINE:
                    variants["int8"] = int8_name
        tasks[task.value] = TaskGraph(expert=expert, graph=graph_name, instruction=instruction, variants=variants)

    if int8:
        # Drop int8 files no task kept.
        used = {v for tg in tasks.values() for v in tg.variants.values()}
        for graph_name in [g for g, info in graphs.items() if "int8_of" in info and g not in used]:
            (out_dir / graph_name).unlink()
            del graphs[graph_name]
    for graph_name, info in graphs.items():
        info["sha256"] = sha256_file(out_dir / graph_name)

    import onnx
    import onnxruntime

    export_info = {
        "exporter": "torch.onnx.export(dynamo=False)",
        "opset": OPSET,
        "precision": "fp32",
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "graphs": graphs,
        "encoder_config": cfg.to_json(),
        "torch_weights": f"{TORCH_DIR}/{WEIGHTS_NAME} + {TORCH_DIR}/{CONFIG_NAME} ({str(torch_dtype).removeprefix('torch.')})",
    }
    if check_parity:
        export_info["parity_min_cosine"] = round(min_cos, 7)
    if int8:
        export_info["int8_min_cosine"] = {k: round(v, 6) for k, v in int8_cosines.items()}
        export_info["int8_threshold"] = INT8_MIN_COSINE
    manifest = BundleManifest(
        name=name,
        architecture=cfg.architecture,
        dim=cfg.hidden_size,
        max_length=max_length,
        pooling=cfg.pooling,
        similarity=cfg.similarity,
        tasks=tasks,
        source=dict(source),
        export=export_info,
    )
    save_torch_weights(model, out_dir, torch_dtype)
    (out_dir / "MODEL_CARD.md").write_text(_render_card(manifest, cfg.to_json(), graphs), encoding="utf-8")
    # Last, over the finished files: installing refuses a bundle whose files differ from these.
    manifest.export["checksums"] = file_checksums(out_dir)
    write_manifest(out_dir, manifest)
    return out_dir


def export_bundle_atomically(model: TaskAwareEncoder, tokenizer_json_path: Path, out_dir: Path, **kwargs) -> Path:
    """`export_bundle` into a temporary sibling folder, moved to `out_dir` only when complete."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ModelError(f"{out_dir}: bundle folder is not empty")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.") as tmp:
        built = export_bundle(model, tokenizer_json_path, Path(tmp) / "bundle", **kwargs)
        if out_dir.exists():
            out_dir.rmdir()
        shutil.move(str(built), str(out_dir))
    return out_dir
