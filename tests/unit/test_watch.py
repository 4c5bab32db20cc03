"""Watch folders: stored in the library, polled by (mtime, size), changed files re-imported."""

from __future__ import annotations

import pytest

from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library.watching import (
    add_watch_folder,
    list_watch_folders,
    remove_watch_folder,
    run_watch_loop,
    scan_watch_folders,
)


def bib(title: str, key: str = "k1") -> str:
    return f"@article{{{key}, title = {{{title}}}, year = {{2020}}}}\n"


def test_add_list_remove(fresh_library, tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    add_watch_folder(fresh_library, folder)
    add_watch_folder(fresh_library, folder)  # idempotent
    assert [f.path for f in list_watch_folders(fresh_library)] == [str(folder.resolve())]
    remove_watch_folder(fresh_library, folder)
    assert list_watch_folders(fresh_library) == []
    with pytest.raises(ScimultError, match="not a watched folder"):
        remove_watch_folder(fresh_library, folder)
    with pytest.raises(ScimultError, match="not a folder"):
        add_watch_folder(fresh_library, tmp_path / "missing")


def test_new_and_changed_files_are_imported(fresh_library, tmp_path):
    folder = tmp_path / "papers"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.bib").write_text(bib("A watched paper title"), encoding="utf-8")
    (folder / "notes.txt").write_text("ignored", encoding="utf-8")
    add_watch_folder(fresh_library, folder)

    first = scan_watch_folders(fresh_library, min_age=0)
    assert first.added == 1 and not first.failed
    assert scan_watch_folders(fresh_library, min_age=0).added == 0  # nothing changed: nothing read

    (folder / "b.bib").write_text(bib("Another watched paper", "k2"), encoding="utf-8")
    changed = folder / "sub" / "a.bib"
    changed.write_text(bib("A watched paper title, revised"), encoding="utf-8")
    second = scan_watch_folders(fresh_library, min_age=0)
    assert (second.added, second.updated) == (1, 1)
    titles = sorted(p.title for p in fresh_library.list_papers())
    assert titles == ["A watched paper title, revised", "Another watched paper"]
    assert list_watch_folders(fresh_library)[0].last_report["added"] == 1


def test_young_files_wait_and_loop_stops(fresh_library, tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "a.bib").write_text(bib("A fresh paper being written"), encoding="utf-8")
    add_watch_folder(fresh_library, folder)
    assert scan_watch_folders(fresh_library, min_age=3600).added == 0
    reports = []
    run_watch_loop(fresh_library, interval=0.01, min_age=0, on_scan=reports.append, max_scans=2)
    assert [r.added for r in reports] == [1, 0]
