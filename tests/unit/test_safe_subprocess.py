"""No code from the current folder: the Python subprocesses the app starts never import a
`torch.py` or `scimult_train/` planted where the user happened to `cd`.

Each planted module writes a marker file when imported; the tests run the app's real paths
(model install of a checkpoint, `scimult train`, the fine-tuning trainer command, the GPU
probe, `python -m scimult_desktop`) from such a folder and check that no marker appears.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scimult_desktop.errors import ModelError

PLANTED = 'open({marker!r}, "a").write({name!r} + "\\n")\n'


@pytest.fixture
def hostile_cwd(tmp_path, monkeypatch):
    """A current folder holding a planted torch.py, click.py and scimult_train package; returns the marker file."""
    folder, marker = tmp_path / "downloads", tmp_path / "imported.txt"
    package = folder / "scimult_train"
    package.mkdir(parents=True)
    (folder / "torch.py").write_text(PLANTED.format(marker=str(marker), name="torch.py") + "raise SystemExit(0)\n")
    (folder / "click.py").write_text(PLANTED.format(marker=str(marker), name="click.py"))
    for module in ("__init__", "__main__", "build_default", "convert_official"):
        (package / f"{module}.py").write_text(PLANTED.format(marker=str(marker), name=f"scimult_train/{module}.py"))
    monkeypatch.chdir(folder)
    return marker


def planted_imports(marker: Path) -> list[str]:
    return marker.read_text().splitlines() if marker.exists() else []


def needs_training():
    pytest.importorskip("torch")
    pytest.importorskip("scimult_train")


def test_installing_a_checkpoint_runs_the_real_converter(hostile_cwd, tmp_path):
    needs_training()
    from scimult_desktop.services.models import bundles

    ckpt, vocab = tmp_path / "model.ckpt", tmp_path / "vocab.txt"
    ckpt.write_bytes(b"PK\x03\x04 not really a checkpoint")
    vocab.write_text("[PAD]\n[UNK]\n")
    with pytest.raises(ModelError, match="conversion failed"):  # the real converter refuses the bogus file
        bundles.install(ckpt, vocab=vocab)
    assert planted_imports(hostile_cwd) == []


def test_scimult_train_runs_the_real_trainer(hostile_cwd):
    needs_training()
    from scimult_desktop.cli.main import cli

    result = CliRunner().invoke(cli, ["train", "--preset", "no-such-preset"])
    assert result.exit_code not in (0, None)  # the real trainer knows no such preset; the planted one exits 0
    assert planted_imports(hostile_cwd) == []


def test_the_finetuning_trainer_command_ignores_the_current_folder(hostile_cwd, tmp_path):
    needs_training()
    from scimult_desktop.services.finetuning import pipeline

    command = pipeline.trainer_command(tmp_path / "missing_config.json", resume=False)
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "missing_config.json" in result.stderr  # the real trainer looked for the config
    assert planted_imports(hostile_cwd) == []


def test_the_gpu_probe_imports_the_real_torch(hostile_cwd, monkeypatch):
    needs_training()
    from scimult_desktop.services.finetuning import pipeline

    monkeypatch.setattr(pipeline, "_device_cache", {})
    assert pipeline.detect_device() in {"cpu", "cuda"}
    assert planted_imports(hostile_cwd) == []


def test_python_dash_m_scimult_desktop_ignores_the_current_folder(hostile_cwd):
    result = subprocess.run([sys.executable, "-m", "scimult_desktop", "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert planted_imports(hostile_cwd) == []


def test_commands_are_python_with_safe_path():
    from scimult_desktop.services.models import tools

    assert tools.module_command("scimult_train", "--x") == [sys.executable, "-P", "-m", "scimult_train", "--x"]
    assert tools.python_command("-c", "pass") == [sys.executable, "-P", "-c", "pass"]


def test_safe_env_drops_current_folder_entries_from_pythonpath():
    from scimult_desktop.services.models import tools

    absolute = os.path.abspath("/opt/lib")
    env = tools.safe_env({"PYTHONPATH": os.pathsep.join(["", ".", "src", absolute, ""]), "HOME": "/home/u"})
    assert env == {"PYTHONPATH": absolute, "HOME": "/home/u", "PYTHONSAFEPATH": "1"}
    assert "PYTHONPATH" not in tools.safe_env({"PYTHONPATH": "."})


def test_tool_runs_in_an_empty_folder_unless_told(tmp_path):
    from scimult_desktop.services.models import tools

    seen = tools.run(tools.python_command("-c", "import os; print(os.getcwd())"), capture_output=True, text=True).stdout.strip()
    assert seen != os.getcwd() and not Path(seen).exists()  # a private temporary folder, removed after
    told = tools.run(tools.python_command("-c", "import os; print(os.getcwd())"), cwd=tmp_path, capture_output=True, text=True)
    assert Path(told.stdout.strip()) == tmp_path


def test_a_frozen_app_refuses_to_run_modules(monkeypatch):
    from scimult_desktop.services.models import tools

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(ModelError, match="packaged app"):
        tools.module_command("scimult_train")
