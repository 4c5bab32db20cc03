"""GUI test fixtures: a real tiny model bundle and a small indexed library, built once per session.

The encoder is a real (random-weight) SciMult-layout bundle from `scimult_train.testing`,
run through the same ONNX path as the app: no fake encoder. Each test gets its own copy
of the library and its own QSettings file.
"""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from tests.bibgen import bib_entry  # noqa: E402

PAPERS = [
    ("dense", "Dense passage retrieval for open domain question answering", "Dual encoders retrieve passages for questions.", 2020, "retrieval"),
    ("bm25", "The probabilistic relevance framework: BM25 and beyond", "Term weighting for document retrieval.", 2009, "retrieval"),
    ("vitd", "Vitamin D supplementation and fracture risk in older adults", "A randomised trial of vitamin D and hip fractures.", 2019, "medicine"),
    ("statins", "Statins and the risk of hip fracture", "Statin use is associated with reduced fracture risk in elderly women.", 2001, "medicine"),
    ("protein", "Protein structure prediction with deep learning", "Neural networks predict protein folding from sequence.", 2021, "biology"),
    ("gene", "Gene expression in single cells", "Single cell sequencing measures gene expression of cell types.", 2018, "biology"),
    ("graph", "Citation graph embeddings for paper recommendation", "Graph neural networks learn from citation links between papers.", 2022, "retrieval"),
    ("climate", "Climate model ensembles and regional warming", "An ensemble of climate models projects regional temperature change.", 2017, "climate"),
    ("galaxy", "Galaxy rotation curves and dark matter", "Rotation curves of spiral galaxies imply dark matter halos.", 1980, "astro"),
    ("bert", "BERT: pre-training of deep bidirectional transformers", "A transformer language model pre-trained on text.", 2019, "retrieval"),
    ("scimult", "Multi-task expert models for scientific documents", "Task-aware experts for search, classification and citation prediction.", 2023, "retrieval"),
    ("malaria", "Malaria transmission and bed nets", "Insecticide-treated bed nets reduce malaria transmission in children.", 2015, "medicine"),
]


def seed_bib() -> str:
    return "".join(
        bib_entry(key, title, abstract=abstract, year=year, author=f"{key.capitalize()}, Ann and Roe, Richard",
                  extra=f"  keywords = {{{tag}}}, journal = {{Journal of {tag.capitalize()}}}")
        for key, title, abstract, year, tag in PAPERS
    )


@pytest.fixture(scope="session")
def gui_models_dir(tmp_path_factory):
    """A models folder holding one real tiny model bundle (built and installed once)."""
    pytest.importorskip("torch")
    testing = pytest.importorskip("scimult_train.testing")
    root = tmp_path_factory.mktemp("gui-models")
    bundle = testing.build_tiny_bundle(root / "build" / "bundle", name="tiny-gui", distinct_experts=False)
    models_dir = root / "models"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCIMULT_MODELS_DIR", str(models_dir))
        patch.setenv("SCIMULT_CONFIG_DIR", str(root / "config"))
        from scimult_desktop.services.models import bundles as models

        models.install(bundle)
    return models_dir


@pytest.fixture(scope="session")
def seed_library(gui_models_dir, tmp_path_factory):
    """A library of 12 papers with tags, imported and indexed with the tiny model (copied per test)."""
    root = tmp_path_factory.mktemp("gui-seed")
    bib = root / "seed.bib"
    bib.write_text(seed_bib(), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCIMULT_MODELS_DIR", str(gui_models_dir))
        patch.setenv("SCIMULT_CONFIG_DIR", str(root / "config"))
        from scimult_desktop.services.library.facade import Library

        with Library.open(root / "library") as library:
            report = library.import_paths([bib])
            assert report.added == len(PAPERS), report.to_json()
            library.index()
    return root / "library"


@pytest.fixture
def gui_env(gui_models_dir, monkeypatch):
    """Tests see the session's models folder (settings stay per test, see tests/conftest.py)."""
    monkeypatch.setenv("SCIMULT_MODELS_DIR", str(gui_models_dir))
    return gui_models_dir


@pytest.fixture
def library_copy(seed_library, tmp_path, gui_env):
    folder = tmp_path / "library"
    shutil.copytree(seed_library, folder)
    return folder


def make_window(qtbot, folder, tmp_path, *, start: bool = True):
    from PySide6.QtCore import QSettings

    from scimult_desktop.gui.app import create_application, create_window

    create_application([])
    settings = QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)
    window = create_window(str(folder), settings=settings)
    qtbot.addWidget(window)
    window.show()
    if start:
        with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=30000):
            window.start()
    return window


@pytest.fixture
def window(qtbot, library_copy, tmp_path):
    """A started main window over a copy of the seed library."""
    win = make_window(qtbot, library_copy, tmp_path)
    yield win
    win.close()
    assert win.ops.wait(30000)


def row_of_title(window, fragment: str) -> int:
    model = window.library_panel.model
    for row in range(model.rowCount()):
        if fragment in model.row_record(row).title:
            return model.row_record(row).id
    raise AssertionError(f"no paper titled like {fragment!r}")
