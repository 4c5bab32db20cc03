"""Smoke-test the BUILT app folder (dist/SciMult) the way a user runs it; exit 1 on any failure.

    python3 packaging/smoke_test.py [--app dist/SciMult] [--timing-runs 5] [--source-venv .venv]

Standard library only (it runs with any Python 3.10+). Every app command runs in a fresh
temporary user folder (library, settings, an empty models folder) and, where `unshare -n`
works, with no network at all. Checks:
  1. `scimult --version` prints the version of scimult_desktop/_version.py;
  2. the bundled default model is listed from `<app>/models` (nothing installed by the user);
  3. the demo library imports (300 papers), a tiny generated PDF imports (PyMuPDF inside);
  4. hybrid and semantic search, a citation suggestion and a MAG classification answer;
  5. the GUI executable (when built) runs its `--self-test`: window offscreen, import, search;
  6. nothing under `<app>/models` was written.
With --timing-runs N it then times start-up of the built app against the source venv
(same commands, same library, same model), N runs each, and prints medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_PAPERS = 300
QUERY = "vitamin D supplementation and bone fractures"
GUI_SECONDS = 300
GUI_UP_SECONDS = 15
PDF_TITLE = "Task-Aware Encoders for Offline Literature Search"
CLAIM = "Statins have been shown to lower the risk of hip fractures in older patients."


class SmokeFailure(Exception):
    """A check failed; the message says which and why."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=ROOT / "dist" / "SciMult", help="the built app folder")
    parser.add_argument("--timing-runs", type=int, default=0, help="also time start-up, N runs per command")
    parser.add_argument("--source-venv", type=Path, default=ROOT / ".venv", help="the venv to compare start-up against")
    args = parser.parse_args(argv)
    app = args.app.resolve()
    try:
        with tempfile.TemporaryDirectory(prefix="scimult-smoke-") as tmp:
            runner = AppRunner(app, Path(tmp))
            check_app(runner)
            if args.timing_runs:
                report_timing(runner, args.source_venv.resolve(), args.timing_runs)
    except SmokeFailure as exc:
        print(f"SMOKE TEST FAILED: {exc}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


class AppRunner:
    """Runs the app's executables in an isolated user folder, offline where possible."""

    def __init__(self, app: Path, tmp: Path):
        self.app = app
        self.tmp = tmp
        self.library = tmp / "library"
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith(("SCIMULT_", "PYTHON", "QT_"))
        }
        self.env.update(
            SCIMULT_LIBRARY=str(self.library),
            SCIMULT_CONFIG_DIR=str(tmp / "config"),
            SCIMULT_MODELS_DIR=str(tmp / "models"),  # empty: the model must come from the app folder
            QT_QPA_PLATFORM="offscreen",
            HOME=str(tmp / "home"),
        )
        self.offline_prefix = ["unshare", "-n"] if _unshare_works() else []

    def executable(self, name: str) -> Path:
        return self.app / name

    def run(self, exe: Path | str, *args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        command = [*self.offline_prefix, str(exe), *args]
        try:
            result = subprocess.run(command, capture_output=True, text=True, env=env or self.env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SmokeFailure(f"`{' '.join(command)}` did not finish within {timeout:.0f} s") from None
        if result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
            raise SmokeFailure(f"`{' '.join(command)}` exited {result.returncode}:\n{tail}")
        return result

    def cli_json(self, *args: str):
        result = self.run(self.executable("scimult"), *args, "--json")
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError:
            raise SmokeFailure(f"`scimult {' '.join(args)} --json` printed no JSON: {result.stdout[:300]!r}") from None


def check_app(runner: AppRunner) -> None:
    app = runner.app
    cli = runner.executable("scimult")
    if not cli.is_file():
        raise SmokeFailure(f"{cli}: no such executable (build with packaging/build_linux.sh)")
    step(f"app folder {app} ({_size_mb(app):.0f} MB); network: {'none (unshare -n)' if runner.offline_prefix else 'not isolated'}")
    models_before = _snapshot(app / "models")

    expected = re.search(r'__version__ = "([^"]+)"', (ROOT / "scimult_desktop" / "_version.py").read_text()).group(1)
    version = runner.run(cli, "--version").stdout.strip()
    expect(version.endswith(expected), f"`scimult --version` says {version!r}, expected {expected}")
    step(f"version: {version}")

    listed = runner.cli_json("model", "list")
    active = [m for m in listed if m["active"]]
    expect(len(active) == 1, f"expected one active model, got {listed}")
    expect(Path(active[0]["path"]).resolve().parent == (app / "models").resolve(), f"active model is not the bundled one: {active[0]['path']}")
    step(f"bundled model: {active[0]['name']} (dim {active[0]['dim']})")

    demo = app / "_internal" / "resources" / "demo" / "scifact-demo.json"
    expect(demo.is_file(), f"{demo}: the demo library is not in the bundle")
    imported = runner.cli_json("import", str(demo))
    expect(imported["added"] == DEMO_PAPERS and not imported["failed"], f"demo import: {imported}")
    pdf = write_tiny_pdf(runner.tmp / "tiny-paper.pdf")
    imported_pdf = runner.cli_json("import", str(pdf))
    expect(imported_pdf["added"] == 1 and not imported_pdf["failed"], f"PDF import (PyMuPDF): {imported_pdf}")
    titles = [paper["title"] for paper in runner.cli_json("list", "--limit", "1000")]
    expect(PDF_TITLE in titles, f"the PDF's title was not read by PyMuPDF (titles: {titles[-3:]})")
    step(f"imported {imported['added']} demo papers and 1 generated PDF")

    index = runner.cli_json("index")
    expect(index["papers"] == DEMO_PAPERS + 1, f"index: {index}")
    for mode in ("hybrid", "semantic"):
        hits = runner.cli_json("search", QUERY, "--k", "5", "--mode", mode)
        expect(len(hits) == 5 and all(h["title"] for h in hits), f"{mode} search returned {hits}")
        scores = [h["score"] for h in hits]
        expect(scores == sorted(scores, reverse=True), f"{mode} search scores are not ranked: {scores}")
        step(f"{mode} search: top hit {hits[0]['title'][:70]!r}")
    suggestions = runner.cli_json("suggest", "--text", CLAIM, "--k", "3")
    expect(len(suggestions) == 3, f"suggest returned {suggestions}")
    classified = runner.cli_json("classify", str(hits[0]["id"]), "--labels", "mag", "--k", "3")
    expect(len(classified) == 1 and len(classified[0]["labels"]) == 3, f"classify returned {classified}")
    step(f"suggest and classify answer (label {classified[0]['labels'][0]['label']!r})")
    for style in ("apa", "ieee"):  # citeproc-py and the common CSL styles travel with the app
        cited = runner.cli_json("cite", str(hits[0]["id"]), "--style", style, "--bibliography")
        expect(cited["style_id"] == style and cited["bibliography"] and cited["bibliography"][0].strip(), f"cite --style {style}: {cited}")
    step(f"cite answers in apa and ieee ({cited['bibliography'][0][:60]!r})")

    # Training tools run as `sys.executable -m scimult_train`; frozen, that would be the app
    # itself, so the app must refuse clearly instead (scimult_train is not in the bundle).
    refused = subprocess.run([*runner.offline_prefix, str(cli), "model", "build-default"], capture_output=True, text=True, env=runner.env, timeout=120)
    expect(refused.returncode == 1 and "training package" in refused.stderr, f"`scimult model build-default` in the app: exit {refused.returncode}, {refused.stderr.strip()[-300:]!r}")
    step("training-only commands refuse with a clear message (no torch in the app)")

    gui = runner.executable("scimult-desktop")
    if gui.is_file():
        check_gui(runner, gui)
        check_cli_opens_the_window(runner)
    else:
        step("GUI executable not built (scimult_desktop.gui absent at build time): GUI not tested")

    expect(_snapshot(app / "models") == models_before, "the app wrote into its read-only models folder")


def check_gui(runner: AppRunner, gui: Path) -> None:
    """The GUI's own `--self-test` when it has one; else open it on an empty library with
    `--demo`, wait (polling the library through the CLI) until the demo is imported, close it."""
    if "--self-test" in runner.run(gui, "--help").stdout:
        # A new library, created by the window itself: its first queries open it from several
        # threads at once (this caught a migration race in the store, fixed in 193600a).
        result = runner.run(gui, "--self-test", "--self-test-library", str(runner.tmp / "gui-self-test-library"), timeout=900)
        lines = result.stdout.strip().splitlines()
        step(f"GUI self-test: {lines[-1] if lines else 'exit 0'}")
        return
    # No self-test: start the window on an empty library with --demo and watch, through the
    # CLI, until its demo import has landed (under load this takes from seconds to minutes).
    library = runner.tmp / "gui-library"
    command = [*runner.offline_prefix, str(gui), "--library", str(library), "--demo", "--quit-after", str(GUI_SECONDS)]
    window = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=runner.env)
    papers, deadline = 0, time.monotonic() + GUI_SECONDS
    try:
        while papers < DEMO_PAPERS and time.monotonic() < deadline and window.poll() is None:
            time.sleep(2)
            if (library / "library.sqlite3").is_file():
                try:
                    papers = runner.cli_json("--library", str(library), "status")["papers"]
                except SmokeFailure:
                    continue  # the GUI may still be creating the library; ask again
        crashed = window.poll()
    finally:
        window.terminate()
        output = window.communicate(timeout=60)[0]
    expect(crashed is None, f"the GUI exited early with code {crashed}:\n{output[-2000:]}")
    expect(papers == DEMO_PAPERS, f"the GUI did not import the demo library within {GUI_SECONDS} s ({papers} papers):\n{output[-2000:]}")
    hits = runner.cli_json("--library", str(library), "search", QUERY, "--k", "5")
    expect(len(hits) == 5, f"search on the GUI's library returned {hits}")
    step(f"GUI opened offscreen and imported the demo library ({papers} papers); search on it answers")


def check_cli_opens_the_window(runner: AppRunner) -> None:
    """`scimult gui` runs the window from the CLI executable, which is built without PySide6's
    runtime hook: the window must still come up (Qt finds its plugins) and stay up."""
    command = [*runner.offline_prefix, str(runner.executable("scimult")), "--library", str(runner.library), "gui"]
    window = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=runner.env)
    try:
        exited = window.wait(timeout=GUI_UP_SECONDS)
    except subprocess.TimeoutExpired:
        exited = None
    finally:
        window.terminate()
        output = window.communicate(timeout=60)[0]
    expect(exited is None, f"`scimult gui` exited with {exited} within {GUI_UP_SECONDS} s:\n{output[-2000:]}")
    step(f"`scimult gui` (CLI executable) keeps the window up for {GUI_UP_SECONDS} s")


def report_timing(runner: AppRunner, venv: Path, runs: int) -> None:
    """Wall time of the same commands, built app vs source venv (library already indexed).

    Runs alternate built/source, so a load change on a shared machine hits both alike.
    """
    if not (venv / "bin" / "python").is_file():
        raise SmokeFailure(f"{venv}: no source venv to compare with")
    source_env = dict(runner.env, SCIMULT_BUNDLED_MODELS=str(runner.app / "models"))  # the very same model files
    python = [str(venv / "bin" / "python"), "-m"]
    cases = [  # (label, built command, source venv command)
        ("scimult --help", ["scimult", "--help"], [*python, "scimult_desktop", "--help"]),
        ("scimult status", ["scimult", "status", "--json"], [*python, "scimult_desktop", "status", "--json"]),
        ("scimult search (hybrid, model load)", ["scimult", "search", QUERY, "--k", "5", "--json"], [*python, "scimult_desktop", "search", QUERY, "--k", "5", "--json"]),
    ]  # fmt: skip
    if runner.executable("scimult-desktop").is_file():
        # The window up on the indexed library, the event loop entered, closed at once.
        window = ["--library", str(runner.library), "--quit-after", "0"]
        cases.append(("scimult-desktop (window open+close)", ["scimult-desktop", *window], [*python, "scimult_desktop.gui.app", *window]))
    print(f"\nstart-up wall time, median of {runs} runs (first run in brackets), built app vs source venv ({venv}):")
    print(f"  {'command':38} {'built':>15} {'source venv':>15} {'built/source':>13}")
    # Last, the search again with the engine pinned to ONNX Runtime CPU in the settings: the
    # source venv may pick OpenVINO automatically (the `fast` extra), which the app leaves out.
    cases.append(("scimult search, engine onnxruntime-cpu", *cases[2][1:]))
    for label, (exe, *args), source_command in cases:
        if label.endswith("onnxruntime-cpu"):
            _set_engine(Path(runner.env["SCIMULT_CONFIG_DIR"]), "onnxruntime-cpu")
        built, source = [], []
        for _ in range(runs):
            built.append(_timed(runner, runner.executable(exe), args, runner.env))
            source.append(_timed(runner, source_command[0], source_command[1:], source_env))
        b, s = statistics.median(built), statistics.median(source)
        print(f"  {label:38} {b:6.2f} s [{built[0]:5.2f}] {s:6.2f} s [{source[0]:5.2f}] {b / s:12.2f}x")


def _set_engine(config_dir: Path, engine: str) -> None:
    path = config_dir / "settings.json"
    settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    settings["engine"] = engine
    config_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings), encoding="utf-8")


def _timed(runner: AppRunner, exe: Path | str, args: list[str], env: dict) -> float:
    start = time.perf_counter()
    runner.run(exe, *args, env=env)
    return time.perf_counter() - start


def write_tiny_pdf(path: Path) -> Path:
    """A one-page PDF with a title and an abstract-like paragraph (no PDF library needed)."""
    lines = [
        (18, 720, PDF_TITLE),
        (11, 690, "Ada Example and Ben Sample"),
        (10, 660, "Abstract. We study dense retrieval of scientific papers on a personal computer."),
        (10, 645, "Experts specialised per task improve search, citation and classification."),
    ]
    text = "".join(f"BT /F1 {size} Tf 72 {y} Td ({line}) Tj ET\n" for size, y, line in lines)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}endstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def step(message: str) -> None:
    print(f"ok  {message}", flush=True)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")} if folder.is_dir() else {}


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def _unshare_works() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


if __name__ == "__main__":
    sys.exit(main())
