"""`finetune --adapter-only`: the link query adapter fitted into a copy of the base bundle, end to end.

A tiny bundle (built with torch here, run by ONNX Runtime) and a small library; the fitting
maths have their own tests (tests/unit/test_query_adapter.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.embedding.bundle import read_manifest
from scimult_desktop.hashing import sha256_file
from scimult_desktop.services.finetuning import adapter_fitting, query_adapter
from scimult_desktop.services.finetuning import pipeline as finetuning
from scimult_desktop.services.finetuning.query_adapter import AdapterFit
from scimult_desktop.services.models import bundles as models
from scimult_desktop.store.vectors import VectorStore
from tests.unit.test_finetune_signals import make_library


@pytest.fixture
def tiny_base(tmp_path, monkeypatch):
    testing = pytest.importorskip("scimult_train.testing")
    bundle = testing.build_tiny_bundle(tmp_path / "tiny-bundle", name="tiny")
    models.install(bundle, name="tiny")
    models.use("tiny")
    monkeypatch.setattr(finetuning, "detect_device", lambda: "cpu")
    return bundle


def forced_fit(matrix, calls):
    """choose_and_fit replaced by one that always keeps `matrix` (the plumbing is under test here)."""

    def fake(problem, train, **_):
        calls.append(len(train))
        return AdapterFit(matrix, 0.1, 0.05, 0.01, [], reason="forced by the test")

    return fake


def test_adapter_only_installs_a_model_whose_link_queries_are_adapted_and_documents_are_the_bases(
    fresh_library, tiny_base, monkeypatch
):
    make_library(fresh_library, papers=48)
    fresh_library.index()  # the base model's vectors, as a user's library has them
    base_key = models.model_key("tiny")
    dim = read_manifest(tiny_base).dim
    matrix = (np.eye(dim) + 0.2 * np.random.default_rng(0).normal(size=(dim, dim))).astype(np.float32)
    calls: list[int] = []
    monkeypatch.setattr(query_adapter, "choose_and_fit", forced_fit(matrix, calls))
    monkeypatch.setattr(models, "training_available", lambda: False)  # no torch needed on this path
    result = finetuning.finetune(fresh_library, "link", adapter_only=True, min_examples=5)

    report = result.to_json()
    assert report["model"] == "tiny-ft-1" and report["query_adapter"]["fitted"] is True and calls
    folder = models.model_path("tiny-ft-1")
    manifest = read_manifest(folder)
    name = manifest.tasks["link"].query_adapter
    assert name == query_adapter.FILE_NAME and manifest.export["checksums"][name] == sha256_file(folder / name)
    assert all(manifest.tasks[t].query_adapter is None for t in ("search", "classify"))
    assert {m.name: m.query_adapters for m in models.list_models()} == {"tiny": [], "tiny-ft-1": ["link"]}

    texts = ["graph neural networks for molecules", "a survey of retrieval"]
    base, tuned = models.load_encoder("tiny"), models.load_encoder("tiny-ft-1")
    assert np.allclose(tuned.encode(texts, Task.LINK, Role.QUERY), query_adapter.apply(matrix, base.encode(texts, Task.LINK, Role.QUERY)), atol=1e-5)
    assert np.allclose(tuned.encode(texts, Task.LINK, Role.DOCUMENT), base.encode(texts, Task.LINK, Role.DOCUMENT))
    assert np.allclose(tuned.encode(texts, Task.SEARCH, Role.QUERY), base.encode(texts, Task.SEARCH, Role.QUERY))

    store, new_key = VectorStore(fresh_library.database), models.model_key("tiny-ft-1")
    for task in ("search", "link", "classify"):  # moved from the base, not embedded again
        assert store.count(new_key, task) == store.count(base_key, task) == 48
        assert np.array_equal(store.vectors(new_key, task)[1], store.vectors(base_key, task)[1])
    run = json.loads((result.run_folder / "run.json").read_text())
    assert run["settings"]["trainable"] == finetuning.ADAPTER_ONLY and run["status"] == "evaluated"


def test_a_rerun_after_a_crash_inside_the_adapter_stage_does_not_apply_the_adapter_twice(fresh_library, tiny_base, monkeypatch):
    make_library(fresh_library, papers=48)
    dim = read_manifest(tiny_base).dim
    matrix = (np.eye(dim) + 0.2 * np.random.default_rng(1).normal(size=(dim, dim))).astype(np.float32)
    monkeypatch.setattr(query_adapter, "choose_and_fit", forced_fit(matrix, []))
    real_install = finetuning._install

    def crash(*_):
        raise KeyboardInterrupt  # the app dies after the adapter is written, before installing

    monkeypatch.setattr(finetuning, "_install", crash)
    with pytest.raises(KeyboardInterrupt):
        finetuning.finetune(fresh_library, "link", adapter_only=True, min_examples=5)
    monkeypatch.setattr(finetuning, "_install", real_install)
    [run] = finetuning.runs(fresh_library)
    (finetuning._Run(fresh_library.folder / "finetune" / "run-001", run)).update(status="trained")  # as if it died mid-stage
    finetuning.finetune(fresh_library, "link", adapter_only=True, min_examples=5)
    stored = np.load(models.model_path("tiny-ft-1") / query_adapter.FILE_NAME)
    assert np.allclose(stored, matrix)  # not matrix @ matrix


def test_a_real_fit_reports_what_cross_validation_decided(fresh_library, tiny_base):
    make_library(fresh_library, papers=48)
    result = finetuning.finetune(fresh_library, "link", adapter_only=True, min_examples=5)
    adapter = result.to_json()["query_adapter"]
    assert set(adapter) == {"fitted", "l2", "cv_recall@10_change", "cv_paired_se", "settings", "reason"}
    assert [row["l2"] for row in adapter["settings"]] == list(query_adapter.GRID)
    has_file = read_manifest(models.model_path(result.model)).tasks["link"].query_adapter is not None
    assert adapter["fitted"] is has_file and adapter["reason"]
    assert result.tasks["link"]["before"] is not None and result.tasks["link"]["after"] is not None


def test_adapter_only_needs_the_link_task(fresh_library, tiny_base):
    make_library(fresh_library, papers=48)
    with pytest.raises(Exception, match="include the link task"):
        finetuning.finetune(fresh_library, "search", adapter_only=True, min_examples=5)


def test_the_stage_skips_dot_product_models_with_a_reason(fresh_library, tmp_path):
    testing = pytest.importorskip("scimult_train.testing")
    from scimult_desktop.services.finetuning import signals as finetune_signals

    make_library(fresh_library, papers=48)
    bundle = testing.build_tiny_bundle(tmp_path / "dot", name="dot", similarity="dot")
    signals = finetune_signals.collect(fresh_library.database, ["link"])
    fitted = adapter_fitting.fit_into_bundle(fresh_library.database, bundle, signals, "dot@test")
    assert fitted.matrix is None and "dot product" in fitted.reason
    assert read_manifest(bundle).tasks["link"].query_adapter is None


def test_cancel_inside_the_adapter_stage_stops_it_and_the_next_call_finishes(fresh_library, tiny_base):
    from scimult_desktop.domain.progress import CancelToken
    from scimult_desktop.errors import Cancelled

    make_library(fresh_library, papers=48)
    cancel, stages = CancelToken(), []

    def stop_when_fitting(event):
        stages.append(event.stage)
        if event.stage == adapter_fitting.STAGE:
            cancel.cancel()

    with pytest.raises(Cancelled):
        finetuning.finetune(fresh_library, "link", adapter_only=True, min_examples=5, progress=stop_when_fitting, cancel=cancel)
    [run] = finetuning.runs(fresh_library)
    assert run["status"] == "trained" and adapter_fitting.STAGE in stages
    result = finetuning.finetune(fresh_library, "link", adapter_only=True, min_examples=5)
    assert result.run_folder == Path(run["folder"]) and result.query_adapter is not None


def test_an_adapter_only_run_whose_adapter_is_not_kept_installs_nothing(fresh_library, tiny_base, monkeypatch):
    from click.testing import CliRunner

    from scimult_desktop.cli.main import cli

    make_library(fresh_library, papers=48)
    monkeypatch.setattr(query_adapter, "choose_and_fit",
                        lambda problem, train, **_: AdapterFit(None, 0.1, 0.0, 0.01, [], reason="no gain, said the test"))
    result = finetuning.finetune(fresh_library, "link", adapter_only=True, min_examples=5)
    assert result.model == result.base_model == "tiny" and not result.recommended
    assert result.tasks["link"]["before"] == result.tasks["link"]["after"]
    assert [m.name for m in models.list_models()] == ["tiny"]  # no copy of the base installed
    shown = CliRunner().invoke(cli, ["--library", str(fresh_library.folder), "finetune", "--tasks", "link", "--adapter-only"])
    assert shown.exit_code == 0, shown.stderr
    assert "Nothing new to install; tiny stays as it is. No query adapter: no gain, said the test." in shown.stdout
