"""Folders and files the app creates are the user's alone: folders 0700, the library database 0600.

Folders that already exist keep the permissions the user gave them.
"""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from scimult_desktop.errors import ModelError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def _permissive_umask():
    """The usual desktop umask (022), under which plain mkdir/open give 0755/0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_library_folder_and_its_database_are_private(tmp_path):
    from scimult_desktop.services.library.facade import Library

    folder = tmp_path / "new" / "library"
    library = Library.open(folder)
    try:
        library.database.execute("CREATE TABLE IF NOT EXISTS probe (x)")  # make SQLite write its -wal/-shm files
        assert mode(tmp_path / "new") == 0o700 and mode(folder) == 0o700
        files = sorted(p.name for p in folder.iterdir() if p.name.startswith("library.sqlite3"))
        assert {"library.sqlite3", "library.sqlite3-wal"} <= set(files) and {mode(folder / name) for name in files} == {0o600}, files
    finally:
        library.close()


def test_an_existing_library_folder_keeps_its_permissions(tmp_path):
    from scimult_desktop.services.library.facade import Library

    folder = tmp_path / "shared-library"
    folder.mkdir(mode=0o755)
    Library.open(folder).close()
    assert mode(folder) == 0o755  # the user chose it; only the new database inside is private
    assert mode(folder / "library.sqlite3") == 0o600


def test_the_settings_and_models_folders_are_private(tmp_path, monkeypatch):
    from scimult_desktop import config
    from scimult_desktop.services.models import bundles

    monkeypatch.setenv("SCIMULT_CONFIG_DIR", str(tmp_path / "config" / "scimult"))
    monkeypatch.setenv("SCIMULT_MODELS_DIR", str(tmp_path / "data" / "models"))
    config.Settings(engine="onnxruntime-cpu").save()
    assert mode(tmp_path / "config") == 0o700 and mode(tmp_path / "config" / "scimult") == 0o700
    assert mode(tmp_path / "config" / "scimult" / "settings.json") == 0o600
    bundle = tmp_path / "bundle"  # a well-formed manifest over files that do not load: installing stops after making the folder
    bundle.mkdir()
    (bundle / "tokenizer.json").write_text("{}")
    (bundle / "model.onnx").write_bytes(b"not a graph")
    graph = {"expert": None, "graph": "model.onnx"}
    (bundle / "bundle.json").write_text(json.dumps({
        "format": "scimult-model-bundle", "format_version": 1, "name": "broken", "architecture": "bert-vanilla",
        "dim": 8, "max_length": 16, "pooling": "mean", "similarity": "cosine",
        "tasks": {"search": graph, "link": graph, "classify": graph},
    }))
    with pytest.raises(ModelError):
        bundles.install(bundle)
    assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "models") == 0o700
