"""Screenshots of the paper context menu, the trash view and the column chooser.

Usage (a real X server, as users see it):
    xvfb-run -s "-screen 0 1280x800x24" python tools/screenshot_library_menus.py [--out docs/screenshots]

Builds a small library of well-known papers (two collections, tags) in a temporary folder
and saves each view at 1024x700 and 1280x800.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from screenshot_support import close_window, grab_screen, open_window, settle, wait_until

PAPERS = [
    # key, type, title, authors, year, venue, doi, keywords, collection
    ("karpukhin2020dense", "inproceedings", "Dense Passage Retrieval for Open-Domain Question Answering",
     "Karpukhin, Vladimir and Oguz, Barlas and Min, Sewon", 2020, "EMNLP", "10.18653/v1/2020.emnlp-main.550", "retrieval", "Thesis/Chapter 2"),
    ("cohan2020specter", "inproceedings", "SPECTER: Document-level Representation Learning using Citation-informed Transformers",
     "Cohan, Arman and Feldman, Sergey and Beltagy, Iz", 2020, "ACL", "10.18653/v1/2020.acl-main.207", "embeddings", "Thesis/Chapter 2"),
    ("khattab2020colbert", "inproceedings", "ColBERT: Efficient and Effective Passage Search via Contextualized Late Interaction over BERT",
     "Khattab, Omar and Zaharia, Matei", 2020, "SIGIR", "10.1145/3397271.3401075", "retrieval", "Thesis"),
    ("beltagy2019scibert", "inproceedings", "SciBERT: A Pretrained Language Model for Scientific Text",
     "Beltagy, Iz and Lo, Kyle and Cohan, Arman", 2019, "EMNLP", "10.18653/v1/D19-1371", "language models", "Reading group"),
    ("devlin2019bert", "inproceedings", "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
     "Devlin, Jacob and Chang, Ming-Wei and Lee, Kenton and Toutanova, Kristina", 2019, "NAACL", "10.18653/v1/N19-1423",
     "language models", "Reading group"),
    ("reimers2019sentence", "inproceedings", "Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks",
     "Reimers, Nils and Gurevych, Iryna", 2019, "EMNLP", "10.18653/v1/D19-1410", "embeddings", "Thesis"),
    ("robertson2009bm25", "article", "The Probabilistic Relevance Framework: BM25 and Beyond",
     "Robertson, Stephen and Zaragoza, Hugo", 2009, "Foundations and Trends in Information Retrieval", "10.1561/1500000019",
     "retrieval", "Thesis"),
    ("vaswani2017attention", "inproceedings", "Attention Is All You Need", "Vaswani, Ashish and Shazeer, Noam and Parmar, Niki",
     2017, "NeurIPS", None, "language models", "Reading group"),
    ("izacard2022contriever", "article", "Unsupervised Dense Information Retrieval with Contrastive Learning",
     "Izacard, Gautier and Caron, Mathilde and Hosseini, Lucas", 2022, "Transactions on Machine Learning Research", None,
     "retrieval", ""),
    ("lo2020s2orc", "inproceedings", "S2ORC: The Semantic Scholar Open Research Corpus", "Lo, Kyle and Wang, Lucy Lu and Neumann, Mark",
     2020, "ACL", "10.18653/v1/2020.acl-main.447", "datasets", ""),
    ("wadden2020scifact", "inproceedings", "Fact or Fiction: Verifying Scientific Claims", "Wadden, David and Lin, Shanchuan and Lo, Kyle",
     2020, "EMNLP", "10.18653/v1/2020.emnlp-main.609", "datasets", "Reading group"),
    ("zhang2023scimult", "inproceedings", "Pre-training Multi-task Contrastive Learning Models for Scientific Literature Understanding",
     "Zhang, Yu and Cheng, Hao and Shen, Zhihong", 2023, "Findings of EMNLP", "10.18653/v1/2023.findings-emnlp.815",
     "embeddings", "Thesis/Chapter 2"),
]
TRASHED = ("vaswani2017attention", "lo2020s2orc", "wadden2020scifact")


def bib_text() -> str:
    parts = []
    for key, kind, title, authors, year, venue, doi, keywords, group in PAPERS:
        venue_field = "booktitle" if kind == "inproceedings" else "journal"
        fields = [f"  title = {{{title}}}", f"  author = {{{authors}}}", f"  year = {{{year}}}", f"  {venue_field} = {{{venue}}}",
                  f"  keywords = {{{keywords}}}"]
        if doi:
            fields.append(f"  doi = {{{doi}}}")
        if group:
            fields.append(f"  groups = {{{group}}}")
        parts.append(f"@{kind}{{{key},\n" + ",\n".join(fields) + "\n}\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="scimult-shots-"))
    bib = work / "thesis.bib"
    bib.write_text(bib_text(), encoding="utf-8")

    from PySide6.QtCore import QPoint

    from scimult_desktop.gui.app import create_application
    from scimult_desktop.gui.context_menus import open_trash, paper_menu
    from scimult_desktop.gui.item_models import COLUMN_TITLES
    from scimult_desktop.services.library import trash
    from scimult_desktop.services.library.facade import Library

    with Library.open(work / "library") as library:
        library.import_paths([bib])
        trash.trash_papers(library, TRASHED)

    app = create_application([])
    window = open_window(app, work / "library", work)
    panel = window.library_panel
    wait_until(app, lambda: panel.model.rowCount() == len(PAPERS) - len(TRASHED), what="rows")
    chooser = window.column_chooser
    for title, shown in (("Date added", True), ("Citation key", True), ("Venue", False), ("Fields", False), ("PDF", False)):
        column = COLUMN_TITLES.index(title)
        chooser.set_visible(column, shown)

    for width, height in ((1024, 700), (1280, 800)):
        window.resize(width, height)
        window._default_dock_sizes()
        window.show_tab(panel)
        settle(app)
        # Two papers chosen, the menu open over the table.
        panel.table.selectRow(1)
        panel.table.selectionModel().select(panel.proxy.index(3, 0), panel.table.selectionModel().SelectionFlag.Select
                                            | panel.table.selectionModel().SelectionFlag.Rows)
        settle(app)
        menu = paper_menu(window, panel.selected_ids())
        rect = panel.table.visualRect(panel.proxy.index(3, 0))
        menu.popup(panel.table.viewport().mapToGlobal(QPoint(rect.x() + 160, rect.y() + rect.height())))
        grab_screen(app, window, out, f"context-menu-{width}x{height}")
        menu.close()

        header = panel.table.horizontalHeader()
        columns = chooser.menu()
        columns.popup(header.mapToGlobal(QPoint(header.sectionViewportPosition(2) + 20, header.height())))
        grab_screen(app, window, out, f"column-chooser-{width}x{height}")
        columns.close()

        view = open_trash(window)
        view.resize(min(760, width - 80), min(420, height - 160))
        view.move(window.frameGeometry().x() + 60, window.frameGeometry().y() + 120)
        wait_until(app, lambda: view.table.rowCount() == len(TRASHED), what="trash")
        view.table.selectRow(0)
        grab_screen(app, window, out, f"trash-{width}x{height}")
        view.close()
        settle(app)
    close_window(window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
