"""Settings: library folder, model, engine, watch folders, citation format."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.errors import ScimultError
from scimult_desktop.gui.operations import Operations
from scimult_desktop.services.writing import citing
from scimult_desktop.services.models import bundles as models
from scimult_desktop.services.models import engine_check
from scimult_desktop.services.library import preferences
from scimult_desktop.services.library.preferences import Preferences


class SettingsDialog(QDialog):
    """Edits `services.preferences`; watch folders are edited on the Import page (they belong to a library)."""

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.resize(560, 260)
        self.ops = ops
        self.saved: Preferences | None = None
        current = preferences.load_preferences()
        self.folder = QLineEdit(ops.session.folder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.model = QComboBox()
        self.model.addItem("(active model)", None)
        self.engine = QComboBox()
        for value, label in preferences.ENGINES.items():
            self.engine.addItem(label, value)
        self.engine.setCurrentIndex(max(self.engine.findData(current.engine), 0))
        self.engine_warning = QLabel()  # why the chosen engine cannot run here (checked off the UI thread)
        self.engine_warning.setWordWrap(True)
        self.engine_warning.setStyleSheet("color: #c0392b")
        self.engine_warning.hide()
        self.engine_problem: str | None = None
        self.engine.currentIndexChanged.connect(lambda _i: self._check_engine())
        self.citation = QComboBox()
        for style in citing.CITATION_STYLES:
            self.citation.addItem(style, style)
        self.citation.setCurrentIndex(max(self.citation.findData(current.citation_format), 0))
        self.passage_search = QCheckBox("Search inside PDF text (embed passages when indexing)")
        self.passage_search.setChecked(current.passage_search)
        self.passage_search.setToolTip(
            "Results then show the matching passage and its page. Indexing embeds every PDF passage: "
            "turn it off for very large libraries to save time and disk space.")
        self.watch = QPushButton("Watch folders are on the Import page")
        self.watch.setFlat(True)
        self.watch.setEnabled(False)
        form = QFormLayout()
        form.addRow("Library folder", folder_row)
        form.addRow("Model", self.model)
        form.addRow("Engine", self.engine)
        form.addRow("", self.engine_warning)
        form.addRow("Citation format", self.citation)
        from scimult_desktop.gui.dialogs.cite_style import CiteStyleBox

        self.cite_style = CiteStyleBox(current.csl_style)  # Copy citation / Copy bibliography
        form.addRow("Citation style", self.cite_style)
        form.addRow("Passage search", self.passage_search)
        form.addRow("Watch folders", self.watch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        ops.run_query(lambda library, ctx: models.list_models(), on_success=self._fill_models, key="settings-models")
        self._check_engine()  # a saved engine may have stopped working (GPU driver gone)

    def _check_engine(self) -> None:
        engine = self.engine.currentData()
        self.ops.run_query(lambda library, ctx: engine_check.engine_problem(engine), key="settings-engine",
                           on_success=lambda problem: self._show_engine_problem(engine, problem))

    def _show_engine_problem(self, engine: str, problem: str | None) -> None:
        if engine != self.engine.currentData():
            return  # the user picked another engine meanwhile
        self.engine_problem = problem
        self.engine_warning.setText(f"Cannot run here: {problem}. Searches would use keywords only." if problem else "")
        self.engine_warning.setVisible(bool(problem))
        self.adjustSize()  # room for the wrapped warning

    def _fill_models(self, installed: list) -> None:
        for info in installed:
            self.model.addItem(info.name, info.name)
            if info.active:
                self.model.setCurrentIndex(self.model.count() - 1)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Library folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def preferences(self) -> Preferences:
        return Preferences(
            library_folder=self.folder.text().strip() or None,
            engine=self.engine.currentData(),
            citation_format=self.citation.currentData(),
            csl_style=self.cite_style.style(),
            active_model=self.model.currentData(),
            passage_search=self.passage_search.isChecked(),
        )

    def save(self) -> None:
        chosen = self.preferences()
        problem = engine_check.engine_problem(chosen.engine) if chosen.engine != "auto" else None
        if problem and QMessageBox.question(
            self, "Settings", f"The engine “{self.engine.currentText()}” cannot run here: {problem}.\n\n"
            "Semantic search and indexing will not work with it until it is installed. Save it anyway?",
        ) != QMessageBox.StandardButton.Yes:
            self._show_engine_problem(chosen.engine, problem)
            return
        try:
            preferences.save_preferences(chosen)
        except ScimultError as exc:
            QMessageBox.warning(self, "Settings", str(exc))
            return
        self.saved = chosen
        self.accept()
