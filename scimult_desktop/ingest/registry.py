"""Which importer reads which path."""

from __future__ import annotations

from pathlib import Path

from scimult_desktop.ingest.base import Importer
from scimult_desktop.ingest.bibtex import BibtexImporter
from scimult_desktop.ingest.csl_json import CslJsonImporter
from scimult_desktop.ingest.pdf import PdfImporter
from scimult_desktop.ingest.zotero import ZoteroImporter


def builtin_importers() -> list[Importer]:
    importers: list[Importer] = [BibtexImporter(), CslJsonImporter(), PdfImporter(), ZoteroImporter()]
    return importers


def importer_for(path: Path, importers: list[Importer] | None = None) -> Importer | None:
    for importer in importers or builtin_importers():
        if importer.can_import(path):
            return importer
    return None


def importer_by_name(path: Path, importers: list[Importer] | None = None) -> Importer | None:
    """The importer for a file the user named whose content no importer recognised, chosen by its name
    (so that reading it can say what is wrong); None when no importer claims the name."""
    for importer in importers or builtin_importers():
        claims = getattr(importer, "claims_name", None)
        if claims is not None and claims(path):
            return importer
    return None
