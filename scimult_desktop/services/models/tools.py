"""Running the training package's Python (`python -m scimult_train...`) in a subprocess, safely.

A plain `python -m pkg` puts the current folder first on `sys.path`, so a `torch.py` or a
`scimult_train/` folder wherever the user happened to `cd` would run instead of the real
one. Every Python subprocess the app starts is built here:

- `-P` and `PYTHONSAFEPATH=1`: no current or script folder on `sys.path` (the variable also
  reaches the trainer's own child processes);
- `PYTHONPATH` without empty or relative entries (each means "the current folder" or a
  folder below it);
- a fixed working folder chosen by the caller (a run folder, a private temporary folder),
  never wherever the app was started, unless the caller means the user's folder on purpose
  (`scimult train`, whose config paths are relative to it).

A packaged (frozen) app has no Python to run modules with and ships no training package.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Mapping

from scimult_desktop.errors import ModelError


def python_command(*args: str) -> list[str]:
    """`[python, "-P", *args]` for this interpreter (e.g. `python_command("-m", "scimult_train")`)."""
    if getattr(sys, "frozen", False):
        raise ModelError("the packaged app cannot run the training package; install scimult-desktop with pip to train")
    return [sys.executable, "-P", *args]


def module_command(module: str, *args: str) -> list[str]:
    """`python -P -m MODULE ARGS...`."""
    return python_command("-m", module, *args)


def safe_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `env` (default: this process's) that keeps the current folder off `sys.path`."""
    env = dict(os.environ if env is None else env)
    env["PYTHONSAFEPATH"] = "1"
    if "PYTHONPATH" in env:
        kept = [entry for entry in env["PYTHONPATH"].split(os.pathsep) if entry and os.path.isabs(entry)]
        if kept:
            env["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            del env["PYTHONPATH"]
    return env


def run(command: list[str], *, env: Mapping[str, str] | None = None, cwd: str | os.PathLike | None = None,
        **kwargs) -> subprocess.CompletedProcess:
    """`subprocess.run` with `safe_env(env)`, in `cwd` or else an empty private temporary folder."""
    if cwd is not None:
        return subprocess.run(command, env=safe_env(env), cwd=cwd, **kwargs)
    with tempfile.TemporaryDirectory(prefix="scimult-tool-") as empty:
        return subprocess.run(command, env=safe_env(env), cwd=empty, **kwargs)


def popen(command: list[str], *, cwd: str | os.PathLike, env: Mapping[str, str] | None = None, **kwargs) -> subprocess.Popen:
    """`subprocess.Popen` with `safe_env(env)` in `cwd` (required: a long-running child needs a folder that outlives it)."""
    return subprocess.Popen(command, env=safe_env(env), cwd=Path(cwd), **kwargs)
