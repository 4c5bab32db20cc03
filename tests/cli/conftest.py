"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    """A tiny random model bundle named "tiny-cli" (built once; installing it copies it)."""
    pytest.importorskip("torch")
    testing = pytest.importorskip("scimult_train.testing")
    return testing.build_tiny_bundle(tmp_path_factory.mktemp("cli") / "bundle", name="tiny-cli")
