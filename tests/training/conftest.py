"""Training-side tests need torch and scimult_train; without them the folder is not collected."""

from __future__ import annotations

import importlib.util

import pytest

collect_ignore_glob = []
if importlib.util.find_spec("torch") is None or importlib.util.find_spec("scimult_train") is None:
    collect_ignore_glob = ["test_*.py", "official_layout.py"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/training" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.train)
