"""Layering rules, checked by importing in a fresh interpreter and by reading the source.

- importing the CLI or the services loads neither PySide6 nor torch (nor other heavy libraries);
- no module under scimult_desktop (outside gui/) imports Qt; none imports torch/transformers/scimult_train;
- the CLI never reaches past the service layer into store/ingest/embedding/index.
- the GUI imports only services/domain/config/errors from the core, and loads no torch or inference library.
- the language server (lsp/) is a front end too: services/domain/config/errors only, no Qt, no torch,
  and its pure cite-context module loads neither pygls nor an inference library.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scimult_desktop"
HEAVY = ["PySide6", "shiboken6", "torch", "transformers", "scimult_train", "fitz", "faiss", "onnxruntime", "tokenizers"]


@pytest.mark.parametrize("module", ["scimult_desktop.cli.main", "scimult_desktop.services", "scimult_desktop.services.library.facade"])
def test_importing_front_end_modules_loads_no_heavy_library(module):
    code = f"import json, sys, {module}; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert loaded == []


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """(module, at_top_level) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top_level))
    return found


def package_files(exclude_gui: bool = True):
    for path in sorted(PACKAGE.rglob("*.py")):
        if exclude_gui and "gui" in path.relative_to(PACKAGE).parts[:1]:
            continue
        yield path


def test_core_never_imports_qt_torch_or_training():
    offenders = []
    for path in package_files():
        for module, _ in imports_of(path):
            root = module.split(".")[0]
            if root in {"PySide6", "shiboken6", "PyQt5", "PyQt6", "torch", "transformers", "sentence_transformers", "scimult_train"}:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offenders == []


def test_heavy_libraries_are_imported_lazily_inside_functions():
    offenders = []
    for path in package_files(exclude_gui=False):
        for module, top_level in imports_of(path):
            if top_level and module.split(".")[0] in {"fitz", "pymupdf", "faiss", "onnxruntime", "tokenizers", "openvino"}:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module} at module level")
    assert offenders == []


def test_front_ends_only_talk_to_the_service_layer():
    forbidden = ("scimult_desktop.store", "scimult_desktop.ingest", "scimult_desktop.embedding", "scimult_desktop.index")
    offenders = []
    for front_end in ("cli", "gui", "lsp"):
        for path in sorted((PACKAGE / front_end).rglob("*.py")):
            for module, _ in imports_of(path):
                if module.startswith(forbidden):
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offenders == []


def test_training_package_imports_only_shared_contract_from_the_app():
    training = PACKAGE.parent / "training" / "scimult_train"
    if not training.is_dir():
        pytest.skip("training package not present")
    # embedding.shipped_weights: where the trained default's weights ship (the build applies them,
    # the app compares their digest), so both sides look in the same folders.
    allowed = ("scimult_desktop.domain", "scimult_desktop.embedding.bundle", "scimult_desktop.embedding.shipped_weights",
               "scimult_desktop.errors", "scimult_desktop.hashing")
    offenders = []
    for path in sorted(training.rglob("*.py")):
        for module, _ in imports_of(path):
            if module.startswith("scimult_desktop") and not module.startswith(allowed):
                offenders.append(f"{path.name} imports {module}")
            if module.split(".")[0] in {"PySide6", "shiboken6"}:
                offenders.append(f"{path.name} imports {module}")
    assert offenders == []


def test_gui_imports_only_services_domain_config_errors_from_the_core():
    allowed = ("scimult_desktop.services", "scimult_desktop.domain", "scimult_desktop.config", "scimult_desktop.errors",
               "scimult_desktop.privacy", "scimult_desktop.gui")
    offenders = []
    for path in sorted((PACKAGE / "gui").rglob("*.py")):
        for module, _ in imports_of(path):
            if module.startswith("scimult_desktop.") and not module.startswith(allowed):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offenders == []


def test_importing_the_gui_loads_no_torch_and_no_inference_library():
    pytest.importorskip("PySide6")
    code = (
        "import json, sys, scimult_desktop.gui.main_window; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules and m not in ('PySide6', 'shiboken6'))))"
    )
    env = dict(__import__("os").environ, QT_QPA_PLATFORM="offscreen")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout)
    assert loaded == []


def test_language_server_imports_only_the_service_layer_from_the_core():
    allowed = ("scimult_desktop.services", "scimult_desktop.domain", "scimult_desktop.config", "scimult_desktop.errors",
               "scimult_desktop.lsp", "scimult_desktop._version")
    offenders = []
    for path in sorted((PACKAGE / "lsp").rglob("*.py")):
        for module, _ in imports_of(path):
            root = module.split(".")[0]
            if module.startswith("scimult_desktop.") and not module.startswith(allowed):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
            if root in {"PySide6", "shiboken6", "PyQt5", "PyQt6", "torch", "transformers", "scimult_train"}:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offenders == []


def test_lsp_command_and_cite_context_load_no_pygls_and_no_heavy_library():
    """`scimult --help` stays light: pygls loads only when `scimult lsp` runs."""
    code = (
        "import json, sys, scimult_desktop.cli.main, scimult_desktop.lsp.cite_context; "
        f"print(json.dumps(sorted(m for m in {HEAVY + ['pygls', 'lsprotocol']!r} if m in sys.modules)))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert loaded == []


def test_importing_the_language_server_loads_no_torch_and_no_inference_library():
    pytest.importorskip("pygls")
    code = f"import json, sys, scimult_desktop.lsp.server; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert loaded == []
