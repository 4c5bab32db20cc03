"""Several processes saving the same index file at once: none fails, the file is always whole.

Each writer once wrote to the same `<index>.tmp`, so one writer's rename took another's
file away (FileNotFoundError) or moved a half-written file into place.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

WRITERS = 6
SAVES_PER_WRITER = 30

# One writer: build an index of its own, save it SAVES times to the same path, print how many failed.
WRITER = """
import json, sys, time
import numpy as np
from pathlib import Path
from scimult_desktop.index.{module} import {cls}

path, seed, saves, go = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
while not go.exists():  # start together, after every writer has imported
    time.sleep(0.005)
rng = np.random.default_rng(seed)
index = {cls}(16)
vectors = rng.standard_normal((200, 16)).astype(np.float32)
index.add(np.arange(200) + seed * 1000, vectors)
errors = []
for _ in range(saves):
    try:
        index.save(path)
    except Exception as exc:
        errors.append(type(exc).__name__)
print(json.dumps(errors))
"""


@pytest.mark.parametrize("module, cls", [("faiss_index", "FaissIndex"), ("exact_index", "ExactIndex")])
def test_concurrent_saves_of_one_index_file_all_succeed(tmp_path, module, cls):
    if module == "faiss_index":
        pytest.importorskip("faiss")
    folder, go = tmp_path / "indexes", tmp_path / "go"
    folder.mkdir()
    path = folder / "search.index"
    code = WRITER.format(module=module, cls=cls)
    writers = [
        subprocess.Popen([sys.executable, "-c", code, str(path), str(seed), str(SAVES_PER_WRITER), str(go)], stdout=subprocess.PIPE, text=True)
        for seed in range(WRITERS)
    ]
    time.sleep(1.0)
    go.touch()
    errors = [error for writer in writers for error in json.loads(writer.communicate(timeout=300)[0])]
    assert errors == [], f"{len(errors)} of {WRITERS * SAVES_PER_WRITER} saves failed: {errors}"
    _assert_whole_index(module, cls, path)
    assert sorted(p.name for p in folder.iterdir()) == [path.name], "temporary files were left behind"


def _assert_whole_index(module: str, cls: str, path: Path) -> None:
    """The file left is one writer's complete index."""
    import importlib

    index = getattr(importlib.import_module(f"scimult_desktop.index.{module}"), cls).load(path)
    ids = np.sort(index.ids())
    assert len(ids) == 200 and ids[0] % 1000 == 0 and np.array_equal(ids, np.arange(200) + ids[0])


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    from scimult_desktop.index import exact_index
    from scimult_desktop.index.exact_index import ExactIndex

    path = tmp_path / "search.index"
    index = ExactIndex(4)
    index.add([1, 2], np.eye(2, 4, dtype=np.float32))
    index.save(path)
    before = path.read_bytes()

    def broken_savez(handle, **arrays):
        handle.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(exact_index.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        index.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
