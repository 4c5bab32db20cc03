"""Packaging: one version, bundled read-only models, wheel contents, desktop metadata, NOTICE.

Fast checks only: the PyInstaller build itself is exercised by packaging/build_linux.sh and
packaging/smoke_test.py (minutes, not a unit test).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from scimult_desktop import __version__, config
from scimult_desktop.services.models import bundles as models

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
APP_ID = "io.github.scimult.SciMultDesktop"


# ---- one version ------------------------------------------------------------
def test_version_has_one_source():
    version_file = ROOT / "scimult_desktop" / "_version.py"
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]\d+|rc\d+|\.dev\d+)?", __version__)
    assert f'__version__ = "{__version__}"' in version_file.read_text(encoding="utf-8")
    # scimult-train reads the very same file (a symlink), so the two cannot drift apart.
    training_version = ROOT / "training" / "scimult_train" / "_version.py"
    assert training_version.is_symlink() and training_version.resolve() == version_file.resolve()
    for pyproject, attr in [
        (ROOT / "pyproject.toml", "scimult_desktop._version.__version__"),
        (ROOT / "training" / "pyproject.toml", "scimult_train._version.__version__"),
    ]:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        assert "version" not in data["project"] and "version" in data["project"]["dynamic"], pyproject
        assert data["tool"]["setuptools"]["dynamic"]["version"] == {"attr": attr}, pyproject


def test_changelog_and_metainfo_name_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert f"## [{__version__}]" in changelog
    metainfo = (PACKAGING / "linux" / f"{APP_ID}.metainfo.xml").read_text(encoding="utf-8")
    assert f'<release version="{__version__}"' in metainfo


# ---- bundled (read-only) models -------------------------------------------------
def _fake_bundle(folder: Path, name: str) -> Path:
    """A manifest and placeholder files: enough for lookup, which never runs the graphs."""
    folder.mkdir(parents=True)
    manifest = {
        "format": "scimult-model-bundle", "format_version": 1, "name": name, "architecture": "bert-vanilla",
        "dim": 8, "max_length": 16, "pooling": "mean", "similarity": "cosine",
        "tasks": {task: {"expert": None, "graph": "g.onnx"} for task in ("search", "link", "classify")},
    }  # fmt: skip
    (folder / "bundle.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "g.onnx").write_bytes(b"placeholder")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    return folder


def test_bundled_models_are_found_through_the_environment(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    _fake_bundle(shipped / "shipped-model", "shipped-model")
    monkeypatch.setenv(config.BUNDLED_MODELS_ENV, f"{tmp_path / 'absent'}{config.os.pathsep}{shipped}")
    assert config.bundled_models_dirs()[0] == shipped
    assert [m.name for m in models.list_models()] == ["shipped-model"]
    assert models.active_model_name() == "shipped-model"
    assert models.model_path() == shipped / "shipped-model"


def test_an_installed_model_wins_over_a_bundled_one_of_the_same_name(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    _fake_bundle(shipped / "default", "default")
    _fake_bundle(shipped / "other", "other")
    monkeypatch.setenv(config.BUNDLED_MODELS_ENV, str(shipped))
    installed = _fake_bundle(config.models_dir() / "default", "default")
    listed = {m.name: m.path for m in models.list_models()}
    assert listed == {"default": str(installed), "other": str(shipped / "other")}
    assert models.model_path("default") == installed


def test_bundled_models_come_from_a_model_wheel_entry_point(tmp_path, monkeypatch):
    shipped = tmp_path / "wheel-models"
    _fake_bundle(shipped / "from-wheel", "from-wheel")

    class EntryPoint:
        def load(self):
            return lambda: shipped

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [EntryPoint()] if group == config.BUNDLED_MODELS_ENTRY_POINTS else [])
    config._entry_point_models_dirs.cache_clear()
    try:
        assert config.bundled_models_dirs() == [shipped]
        assert [m.name for m in models.list_models()] == ["from-wheel"]
    finally:
        config._entry_point_models_dirs.cache_clear()


# ---- the wheel ------------------------------------------------------------------
@pytest.fixture(scope="module")
def app_wheel(tmp_path_factory) -> Path:
    """The app wheel, built without network (no build isolation) from a copy of the files a
    wheel is built from, so stale files in an old in-tree build/ folder cannot leak in."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for item in ("scimult_desktop", "resources"):
        shutil.copytree(ROOT / item, source / item, ignore=ignore)
    for item in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / item, source / item)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(f"pip wheel failed: {result.stderr[-2000:]}")
    (wheel,) = out.glob("scimult_desktop-*.whl")
    return wheel


def test_the_wheel_holds_the_app_and_no_test_data(app_wheel):
    sys.path.insert(0, str(PACKAGING))
    try:
        from check_wheel import wheel_problems
    finally:
        sys.path.remove(str(PACKAGING))
    assert app_wheel.name == f"scimult_desktop-{__version__}-py3-none-any.whl"
    assert wheel_problems(str(app_wheel)) == []
    with zipfile.ZipFile(app_wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(f"scimult_desktop-{__version__}.dist-info/entry_points.txt").decode()
    assert not [n for n in names if n.startswith(("tests/", "training/", "benchmarks/", "packaging/"))]
    assert "scimult = scimult_desktop.cli.main:main" in entry_points
    assert "scimult-desktop = scimult_desktop.gui.app:main" in entry_points


def test_wheel_check_catches_test_files(tmp_path):
    sys.path.insert(0, str(PACKAGING))
    try:
        from check_wheel import wheel_problems
    finally:
        sys.path.remove(str(PACKAGING))
    bad = tmp_path / "scimult_desktop-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("scimult_desktop/__init__.py", "")
        archive.writestr("tests/test_x.py", "")
        archive.writestr("scimult_desktop/data/sample.bib", "")
    problems = wheel_problems(str(bad))
    assert any(p.startswith("tests/test_x.py") for p in problems)
    assert any(p.startswith("scimult_desktop/data/sample.bib") for p in problems)
    assert any("scimult_desktop/cli/main.py: missing" in p for p in problems)


def test_the_wheel_carries_the_trained_default_where_the_app_looks(app_wheel, tmp_path, monkeypatch):
    """Installed from the wheel (package in site-packages, data files under <prefix>/share), the app
    and `scimult model build-default` find the trained weights shipped in resources/models."""
    from scimult_desktop import resource_folders
    from scimult_desktop.embedding import shipped_weights
    from scimult_desktop.hashing import sha256_file

    prefix = tmp_path / "prefix"
    data = f"scimult_desktop-{__version__}.data/data/"
    with zipfile.ZipFile(app_wheel) as archive:
        for name in archive.namelist():
            if name.startswith(data):
                archive.extract(name, tmp_path / "unpacked")
    shutil.copytree(tmp_path / "unpacked" / data, prefix)
    monkeypatch.delenv(resource_folders.RESOURCES_ENV, raising=False)
    monkeypatch.setattr(resource_folders, "PACKAGE_DIR", prefix / "lib" / "site-packages" / "scimult_desktop")
    monkeypatch.setattr(sys, "prefix", str(prefix))
    found = shipped_weights.find_trained_weights()
    shipped = ROOT / "resources" / "models" / "minilm-scimult-trained.safetensors"
    assert found is not None and found[0].is_relative_to(prefix / "share")
    assert sha256_file(found[0]) == sha256_file(shipped)


# ---- desktop integration files ----------------------------------------------------
@pytest.mark.parametrize(
    ("tool", "args", "path"),
    [
        ("appstreamcli", ["validate", "--no-net"], PACKAGING / "linux" / f"{APP_ID}.metainfo.xml"),
        ("desktop-file-validate", [], PACKAGING / "linux" / f"{APP_ID}.desktop"),
    ],
    ids=["appstream", "desktop-entry"],
)
def test_desktop_metadata_validates(tool, args, path):
    assert path.is_file()
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install appstream / desktop-file-utils)")
    result = subprocess.run([tool, *args, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower()


def test_desktop_entry_icon_and_metainfo_agree():
    desktop = (PACKAGING / "linux" / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    assert f"Icon={APP_ID}" in desktop and "Exec=scimult-desktop" in desktop
    metainfo = (PACKAGING / "linux" / f"{APP_ID}.metainfo.xml").read_text(encoding="utf-8")
    assert f"<id>{APP_ID}</id>" in metainfo and f'<launchable type="desktop-id">{APP_ID}.desktop</launchable>' in metainfo
    assert "<project_license>AGPL-3.0-or-later</project_license>" in metainfo
    svg = (PACKAGING / "icons" / "scimult-desktop.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and 'viewBox="0 0 128 128"' in svg
    for size in (16, 32, 48, 64, 128, 256, 512):
        png = (PACKAGING / "icons" / "png" / f"{size}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (size, size)


# ---- licences -----------------------------------------------------------------
def _requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0]


def test_notice_lists_every_runtime_dependency_and_bundled_part():
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8").lower()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    runtime = project["dependencies"] + extras["gui"] + extras["fast"] + extras["train"]
    missing = [name for name in map(_requirement_name, runtime) if name.lower() not in notice]
    assert missing == [], f"NOTICE does not mention {missing}"
    for part in ("agpl-3.0", "lgpl-3.0", "all-minilm-l6-v2", "apache-2.0", "scifact", "odc-by", "onnxruntime-gpu"):
        assert part in notice, part
    # The AGPL consequence for the bundle is spelled out, not just named.
    assert "what pymupdf's agpl means for the bundle" in notice and "complete corresponding source" in notice


def test_the_app_folder_spec_excludes_training_libraries():
    spec = (PACKAGING / "pyinstaller" / "scimult.spec").read_text(encoding="utf-8")
    excludes = re.search(r"EXCLUDES = \[(.*?)\]", spec, re.S).group(1)
    for module in ("torch", "transformers", "scimult_train", "onnx", "pymupdf.layout"):
        assert f'"{module}"' in excludes, module


def test_the_app_folder_carries_the_worthiness_model_and_citation_styles():
    """The draft path's citation-worthiness model and `scimult cite` (citeproc-py, common styles) are in the app folder."""
    spec = (PACKAGING / "pyinstaller" / "scimult.spec").read_text(encoding="utf-8")
    datas = re.search(r"datas=\[(.*?)\] \+ _citation_styles\(\)", spec, re.S).group(1)
    for folder in ("labels", "demo", "writing"):
        assert f'"resources/{folder}"' in datas, folder
    assert 'collect_data_files("citeproc")' in spec and "COMMON_STYLES" in spec
    build = (PACKAGING / "build_linux.sh").read_text(encoding="utf-8")
    assert re.search(r'pip" install --quiet "\.\[[^\]]*\bcite\b', build), "the build venv must install the cite extra"
    smoke = (PACKAGING / "smoke_test.py").read_text(encoding="utf-8")
    assert '"cite"' in smoke
