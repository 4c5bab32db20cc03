"""Hostile model bundles: does `scimult model install` crash, hang, copy files from outside
the bundle, or install corrupted weights?

Every case is a copy of one valid tiny bundle (built with scimult_train.testing, random
weights) with one thing changed: a symlink to a secret file outside, a manifest field of
the wrong type, a graph path that leaves the bundle, flipped weight bytes, a named pipe...
Each install runs in a child process (the code found on PYTHONPATH) with fresh models
and settings folders, under a timeout, and its peak memory is read from the kernel.

Counted per case:
- crash: a Python traceback or an exit code other than 0 (installed) or 1 (one-line error);
- hang: the timeout was reached;
- leaked: the secret file's content ended up in the models folder;
- accepted: the install succeeded although the bundle is corrupt or reaches outside.

Run: PYTHONPATH=/tmp/work/before .venv/bin/python benchmarks/probe_bundles.py   (old code)
     .venv/bin/python benchmarks/probe_bundles.py                                (this tree)
Options: --only SUBSTRING, --timeout S (60), --keep (leave the work folder).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

SECRET = "SECRET-7f3a-do-not-copy"
MEMORY_BUDGET_MB = 200
TIME_BUDGET_S = 10.0


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "bundle.json").read_text(encoding="utf-8"))


def _write_manifest(folder: Path, data) -> None:
    (folder / "bundle.json").write_text(json.dumps(data), encoding="utf-8")


def _edit(**changes) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        data = _manifest(folder)
        data.update(changes)
        _write_manifest(folder, data)

    return edit


def _edit_task(field: str, value) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        data = _manifest(folder)
        data["tasks"]["search"][field] = value(outside) if callable(value) else value
        _write_manifest(folder, data)

    return edit


def _link_secret(folder: Path, outside: Path) -> None:
    os.symlink(outside / "secret.txt", folder / "notes.txt")


def _link_tokenizer(folder: Path, outside: Path) -> None:
    shutil.copy(folder / "tokenizer.json", outside / "tokenizer.json")
    (folder / "tokenizer.json").unlink()
    os.symlink(outside / "tokenizer.json", folder / "tokenizer.json")


def _link_folder(folder: Path, outside: Path) -> None:
    os.symlink(outside, folder / "extra")


def _flip_weights(folder: Path, outside: Path) -> None:
    graph = folder / _manifest(folder)["tasks"]["search"]["graph"]
    data = bytearray(graph.read_bytes())
    middle = len(data) // 2  # the float initializers fill most of the file
    for i in range(middle, middle + 64):
        data[i] ^= 0x55
    graph.write_bytes(bytes(data))


def _truncate_graph(folder: Path, outside: Path) -> None:
    graph = folder / _manifest(folder)["tasks"]["search"]["graph"]
    graph.write_bytes(graph.read_bytes()[:1000])


def _fifo(folder: Path, outside: Path) -> None:
    os.mkfifo(folder / "pipe")


def _deep_manifest(folder: Path, outside: Path) -> None:
    (folder / "bundle.json").write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")


def _raw_manifest(text: str) -> Callable[[Path, Path], None]:
    def edit(folder: Path, outside: Path) -> None:
        (folder / "bundle.json").write_text(text, encoding="utf-8")

    return edit


def _outside_graph(outside: Path) -> str:
    return str(outside / "outside.onnx")


def _prepare_outside_graph(folder: Path, outside: Path) -> None:
    shutil.copy(folder / _manifest(folder)["tasks"]["search"]["graph"], outside / "outside.onnx")


def _both(*edits):
    def edit(folder: Path, outside: Path) -> None:
        for one in edits:
            one(folder, outside)

    return edit


# name -> (edit, whether a correct app must refuse it)
CASES: dict[str, tuple[Callable[[Path, Path], None], bool]] = {
    "valid_bundle": (lambda folder, outside: None, False),
    "symlink_to_secret_file": (_link_secret, True),
    "symlinked_tokenizer": (_link_tokenizer, True),
    "symlink_to_outside_folder": (_link_folder, True),
    "named_pipe_member": (_fifo, True),
    "graph_absolute_path_outside": (_both(_prepare_outside_graph, _edit_task("graph", _outside_graph)), True),
    "graph_dotdot_path": (_both(_prepare_outside_graph, _edit_task("graph", "../outside/outside.onnx")), True),
    "tokenizer_absolute_path": (_edit(tokenizer="/etc/hostname"), True),
    "dim_not_a_number": (_edit(dim="abc"), True),
    "dim_float": (_edit(dim=64.5), True),
    "dim_negative": (_edit(dim=-64), True),
    "dim_bool": (_edit(dim=True), True),
    "max_length_string": (_edit(max_length="128"), True),
    "name_number": (_edit(name=5), True),
    "pooling_list": (_edit(pooling=["mean"]), True),
    "format_version_string": (_edit(format_version="one"), True),
    "tasks_list": (_edit(tasks=["search"]), True),
    "task_entry_string": (_edit(tasks={"search": "expert0.onnx"}), True),
    "unknown_task": (_edit(tasks={"summarize": {"expert": 0, "graph": "expert0.onnx"}}), True),
    "expert_string": (_edit_task("expert", "zero"), True),
    "variants_list": (_edit_task("variants", ["int8.onnx"]), True),
    "source_string": (_edit(source="somewhere"), True),
    "manifest_is_a_list": (_raw_manifest("[1, 2, 3]"), True),
    "manifest_deeply_nested": (_deep_manifest, True),
    "manifest_not_utf8": (lambda folder, outside: (folder / "bundle.json").write_bytes(b"\xff\xfe{}"), True),
    "weights_bytes_flipped": (_flip_weights, True),
    "graph_truncated": (_truncate_graph, True),
}


def build_base(work: Path) -> Path:
    from scimult_train.testing import build_tiny_bundle

    return build_tiny_bundle(work / "base", name="probe")


def run_case(name: str, base: Path, work: Path, timeout: float) -> dict:
    edit, must_refuse = CASES[name]
    case = work / name
    outside, folder, home = case / "outside", case / "bundle", case / "home"
    outside.mkdir(parents=True)
    (outside / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    shutil.copytree(base, folder)
    edit(folder, outside)
    env = dict(os.environ, SCIMULT_MODELS_DIR=str(home / "models"), SCIMULT_CONFIG_DIR=str(home / "config"),
               SCIMULT_LIBRARY=str(home / "library"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    command = [sys.executable, "-c", "import resource, sys\n"
               "from scimult_desktop.cli.main import main\n"
               "try:\n    main(['model', 'install', sys.argv[1]])\n"
               "finally:\n    print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)",
               str(folder)]
    started = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=case)
        rc, stderr = result.returncode, result.stderr
    except subprocess.TimeoutExpired:
        rc, stderr = None, ""
    seconds = time.monotonic() - started
    rss = [line.split()[1] for line in stderr.splitlines() if line.startswith("MAXRSS_KB")]
    models = home / "models"
    leaked = models.exists() and any(
        SECRET in p.read_text(encoding="utf-8", errors="replace") for p in models.rglob("*") if p.is_file() and not p.is_symlink()
    )
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("MAXRSS_KB")]
    return {
        "case": name,
        "rc": rc,
        "hang": rc is None,
        "crash": rc is not None and (rc not in (0, 1) or "Traceback" in stderr),
        "leaked": leaked,
        "accepted_bad": must_refuse and rc == 0,
        "refused_good": not must_refuse and rc != 0,
        "seconds": round(seconds, 2),
        "maxrss_mb": round(int(rss[0]) / 1024, 1) if rss else None,
        "message": (lines[-1] if lines else "")[:160],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="probe-bundles-"))
    try:
        base = build_base(work)
        results = [run_case(name, base, work, args.timeout) for name in CASES if args.only in name]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    baseline = next((r["maxrss_mb"] for r in results if r["case"] == "valid_bundle" and r["maxrss_mb"]), None)
    for r in results:
        flags = [k for k in ("crash", "hang", "leaked", "accepted_bad", "refused_good") if r[k]]
        print(f"{r['case']:30} rc={r['rc']!s:4} {r['seconds']:6.2f}s {r['maxrss_mb']!s:>7} MB  {' '.join(flags) or 'ok':20} {r['message']}")
    over_memory = [r for r in results if baseline and r["maxrss_mb"] and r["maxrss_mb"] - baseline > MEMORY_BUDGET_MB]
    over_time = [r for r in results if r["seconds"] > TIME_BUDGET_S]
    summary = {
        "inputs": len(results),
        "crashes": sum(r["crash"] for r in results),
        "hangs": sum(r["hang"] for r in results),
        "over_memory": len(over_memory),
        "over_time": len(over_time),
        "leaked_outside_files": sum(r["leaked"] for r in results),
        "accepted_bad": sum(r["accepted_bad"] for r in results),
        "refused_good": sum(r["refused_good"] for r in results),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
