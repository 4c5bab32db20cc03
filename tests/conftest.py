"""Shared fixtures: isolated settings and model folders, fresh libraries, real-data paths."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path_factory, monkeypatch):
    """No test reads or writes the real user's settings, models or library."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("SCIMULT_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("SCIMULT_MODELS_DIR", str(home / "models"))
    monkeypatch.setenv("SCIMULT_LIBRARY", str(home / "library"))
    monkeypatch.delenv("SCIMULT_BUNDLED_MODELS", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def shared_data() -> Path:
    """`../shared/data`, or a skip with the reason when this clone has none beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real-data fixtures not found at {SHARED_DATA} (clone outside the workplace)")
    return SHARED_DATA


@pytest.fixture
def fresh_library(tmp_path):
    """An empty library in a temporary folder."""
    from scimult_desktop.services.library.facade import Library

    library = Library.open(tmp_path / "lib")
    yield library
    library.close()
