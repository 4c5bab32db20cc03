"""Build the pip wheels and prove they install and run offline in a clean venv.

    build/pack/venv/bin/python packaging/build_wheels.py [--skip-check]

(any Python with `build` installed works: the `package` extra brings it.)

1. `dist/wheels/scimult_desktop-V-py3-none-any.whl`: the app (core, CLI, GUI, label sets and
   the demo library as data files). No model: model graphs are ~90 MB and change on their own.
2. `dist/wheels/scimult_desktop_model-V-py3-none-any.whl`: the default model bundle (ONNX,
   no torch weights), found by the app through the `scimult_desktop.models` entry point.
   Built from build/pack/staging-models (made by build_linux.sh, or `scimult model
   build-default` with SCIMULT_MODELS_DIR=build/pack/staging-models in the source venv).
3. Check: each wheel's contents (packaging/check_wheel.py); then a fresh venv, the
   dependencies downloaded once into build/pack/wheelhouse, and -- with the network cut off
   (`unshare -n`) where possible -- `pip install --no-index --find-links ...` of both wheels,
   `scimult --help`, a demo import and hybrid + semantic searches; torch must be absent.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from check_wheel import wheel_problems  # noqa: E402

WHEELS = ROOT / "dist" / "wheels"
WORK = ROOT / "build" / "pack"
STAGING_MODELS = WORK / "staging-models"
MODEL_PACKAGE = "scimult_desktop_model"
QUERY = "vitamin D supplementation and bone fractures"

MODEL_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "scimult-desktop-model"
version = "{version}"
description = "The default model of SciMult Desktop (all-MiniLM-L6-v2 upcycled to the SciMult expert layout, ONNX)."
requires-python = ">=3.10"
license = {{ text = "Apache-2.0" }}
dependencies = ["scimult-desktop>={version}"]

[project.entry-points."scimult_desktop.models"]
default = "{package}:models_dir"

[tool.setuptools]
packages = ["{package}"]
include-package-data = false

[tool.setuptools.package-data]
{package} = ["models/*/*"]
"""

MODEL_INIT = '''"""Read-only model bundles for SciMult Desktop, found through the `scimult_desktop.models` entry point."""

from pathlib import Path


def models_dir() -> Path:
    """The folder holding one sub-folder per model bundle."""
    return Path(__file__).resolve().parent / "models"
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-check", action="store_true", help="build only; no clean-venv install")
    args = parser.parse_args(argv)
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "scimult_desktop" / "_version.py").read_text()).group(1)
    WHEELS.mkdir(parents=True, exist_ok=True)
    for old in WHEELS.glob("scimult_desktop*.whl"):
        old.unlink()
    try:
        app_wheel = build_wheel(ROOT)
        model_wheel = build_wheel(stage_model_project(version))
        for wheel in (app_wheel, model_wheel):
            problems = wheel_problems(str(wheel))
            if problems:
                raise RuntimeError(f"{wheel.name}:\n  " + "\n  ".join(problems))
            print(f"ok  {wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB, contents checked")
        if not args.skip_check:
            check_clean_install(app_wheel, model_wheel, version)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"WHEEL CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    print("wheel check passed")
    return 0


def build_wheel(project: Path) -> Path:
    before = set(WHEELS.glob("*.whl"))
    # sdist first, then the wheel from it: stale files of an in-tree build/lib cannot leak in.
    with tempfile.TemporaryDirectory(prefix="scimult-sdist-") as sdist_dir:
        run([sys.executable, "-m", "build", "--outdir", sdist_dir, str(project)], quiet=True)
        for built in Path(sdist_dir).glob("*.whl"):
            shutil.move(str(built), WHEELS / built.name)
    (wheel,) = set(WHEELS.glob("*.whl")) - before
    return wheel


def stage_model_project(version: str) -> Path:
    """A throw-away project folder for the model wheel, holding the staged bundle(s)."""
    bundles = [p for p in sorted(STAGING_MODELS.glob("*")) if (p / "bundle.json").is_file()]
    if not bundles:
        raise RuntimeError(f"no staged model in {STAGING_MODELS}: run packaging/build_linux.sh first")
    project = WORK / "model-wheel"
    shutil.rmtree(project, ignore_errors=True)
    package = project / MODEL_PACKAGE
    for bundle in bundles:
        target = package / "models" / bundle.name
        target.mkdir(parents=True)
        for file in bundle.iterdir():  # top-level files only: torch/ weights are for training, not for the app
            if file.is_file():
                shutil.copy2(file, target / file.name)
    (package / "__init__.py").write_text(MODEL_INIT, encoding="utf-8")
    (project / "pyproject.toml").write_text(MODEL_PYPROJECT.format(version=version, package=MODEL_PACKAGE), encoding="utf-8")
    return project


def check_clean_install(app_wheel: Path, model_wheel: Path, version: str) -> None:
    wheelhouse = WORK / "wheelhouse"
    print(f"..  dependencies into {wheelhouse} (the one online step)")
    run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(wheelhouse), str(app_wheel)], quiet=True)
    offline = ["unshare", "-n"] if _unshare_works() else []
    with tempfile.TemporaryDirectory(prefix="scimult-wheel-") as tmp:
        tmp = Path(tmp)
        venv = tmp / "venv"
        run([sys.executable, "-m", "venv", str(venv)])
        pip_install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index",
                       "--find-links", str(wheelhouse), "--find-links", str(WHEELS),
                       f"scimult-desktop=={version}", f"scimult-desktop-model=={version}"]  # fmt: skip
        run([*offline, *pip_install], quiet=True)
        print(f"ok  installed both wheels into a clean venv {'with no network' if offline else '(network not isolated)'}")
        absent = run([str(venv / "bin" / "python"), "-c", "import importlib.util as u; print([m for m in ('torch', 'transformers', 'scimult_train', 'PySide6') if u.find_spec(m)])"])
        if absent.strip() != "[]":
            raise RuntimeError(f"the clean venv has {absent.strip()} installed; the base wheel must not pull them in")
        env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp / "home"), "SCIMULT_LIBRARY": str(tmp / "library"),
               "SCIMULT_CONFIG_DIR": str(tmp / "config"), "SCIMULT_MODELS_DIR": str(tmp / "models")}  # fmt: skip
        scimult = [*offline, str(venv / "bin" / "scimult")]
        help_text = run([*scimult, "--help"], env=env)
        print("ok  scimult --help: " + help_text.splitlines()[0])
        models = json.loads(run([*scimult, "model", "list", "--json"], env=env))
        if not (models and models[0]["active"] and MODEL_PACKAGE in models[0]["path"]):
            raise RuntimeError(f"the model wheel's bundle is not the active model: {models}")
        if models[0].get("outdated"):  # the app wheel carries the trained weights it compares against
            raise RuntimeError(f"the model wheel's default is outdated ({models[0]['outdated']}): "
                               "rebuild the staged model with packaging/build_linux.sh --rebuild-model")
        print(f"ok  model from the model wheel: {models[0]['name']} ({models[0]['path']})")
        demo = venv / "share" / "scimult-desktop" / "resources" / "demo" / "scifact-demo.json"
        imported = json.loads(run([*scimult, "import", str(demo), "--json"], env=env))
        if imported["added"] != 300:
            raise RuntimeError(f"demo import from {demo}: {imported}")
        print(f"ok  demo import from the wheel's data files: {imported['added']} papers")
        for mode in ("hybrid", "semantic", "keyword"):
            hits = json.loads(run([*scimult, "search", QUERY, "--k", "3", "--mode", mode, "--json"], env=env))
            if len(hits) != 3:
                raise RuntimeError(f"{mode} search returned {hits}")
            print(f"ok  {mode} search: {hits[0]['title'][:70]!r}")


def run(command: list[str], *, env: dict | None = None, quiet: bool = False) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"`{' '.join(command)}` exited {result.returncode}:\n{tail}")
    return "" if quiet else result.stdout


def _unshare_works() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


if __name__ == "__main__":
    sys.exit(main())
