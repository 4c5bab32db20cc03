import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from scimult_desktop.domain.progress import CancelToken
from scimult_desktop.errors import Cancelled
from tests.bibgen import bib_entry, synthetic_bib


def test_bib_import_then_reimport_is_incremental(fresh_library, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(synthetic_bib(5), encoding="utf-8")
    first = fresh_library.import_paths([bib])
    assert (first.added, first.updated, first.skipped, first.failed) == (5, 0, 0, [])
    again = fresh_library.import_paths([bib])
    assert (again.added, again.updated, again.skipped) == (0, 0, 5)
    assert fresh_library.count_papers() == 5


def test_changed_entry_updates_and_user_edits_survive(fresh_library, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(bib_entry("k1", "First title of the paper", abstract="old") + bib_entry("k2", "Second paper title here"))
    fresh_library.import_paths([bib])
    fresh_library.edit_paper("k2", title="The title I fixed by hand")
    bib.write_text(bib_entry("k1", "First title of the paper", abstract="new abstract")
                   + bib_entry("k2", "Second paper title here", abstract="added later"))
    report = fresh_library.import_paths([bib])
    assert (report.added, report.updated, report.skipped) == (0, 2, 0)
    assert fresh_library.get_paper("k1").abstract == "new abstract"
    k2 = fresh_library.get_paper("k2")
    assert (k2.title, k2.abstract) == ("The title I fixed by hand", "added later")


def test_same_paper_from_two_sources_becomes_one_record(fresh_library, tmp_path):
    bib = tmp_path / "a.bib"
    bib.write_text(bib_entry("smith2019", "Neural ranking models for search", author="Smith, Ann", year=2019))
    csl = tmp_path / "b.json"
    csl.write_text(json.dumps([{"id": "x", "title": "Neural Ranking Models for Search.", "DOI": "10.4321/nrm",
                                "author": [{"family": "Smith", "given": "A."}], "issued": {"date-parts": [[2019]]}}]))
    fresh_library.import_paths([bib])
    report = fresh_library.import_paths([csl])
    assert (report.added, report.updated) == (0, 1)
    papers = fresh_library.list_papers()
    assert len(papers) == 1 and papers[0].doi == "10.4321/nrm" and papers[0].citekey == "smith2019"


def test_broken_entries_are_reported_with_file_and_line_and_the_rest_imports(fresh_library, tmp_path):
    bib = tmp_path / "broken.bib"
    bib.write_text(bib_entry("good1", "A good entry about things") + "@article{bad, title={never closed\n\n"
                   + bib_entry("good2", "Another good entry about stuff"))
    report = fresh_library.import_paths([bib, tmp_path / "missing.bib", tmp_path])
    assert report.added == 2
    paths = [p.path for p in report.failed]
    assert any(p.startswith(str(bib) + ":") for p in paths)
    assert str(tmp_path / "missing.bib") in paths


def test_unsupported_file_is_a_clear_failure(fresh_library, tmp_path):
    odd = tmp_path / "notes.xyz"
    odd.write_text("hello")
    report = fresh_library.import_paths([odd])
    assert report.failed[0].path == str(odd.resolve()) and "unsupported" in report.failed[0].error


def test_cancel_keeps_finished_files_and_resume_skips_them(fresh_library, tmp_path):
    files = []
    for i in range(3):
        path = tmp_path / f"part{i}.bib"
        path.write_text(synthetic_bib(4, start=i * 4))
        files.append(path)
    token = CancelToken()
    seen_files = []

    def progress(event):
        if event.current and event.current not in seen_files:
            seen_files.append(event.current)
        if len(seen_files) == 2:
            token.cancel()

    try:
        fresh_library.import_paths(files, progress=progress, cancel=token)
        raise AssertionError("expected Cancelled")
    except Cancelled:
        pass
    assert fresh_library.count_papers() == 4
    report = fresh_library.import_paths(files)
    assert (report.added, report.skipped) == (8, 4)
    assert fresh_library.count_papers() == 12


def test_killing_an_import_leaves_a_consistent_library_that_resumes(tmp_path):
    bib = tmp_path / "big.bib"
    total = 4000
    bib.write_text(synthetic_bib(total))
    library = tmp_path / "lib"
    env = {**os.environ, "SCIMULT_LIBRARY": str(library)}
    proc = subprocess.Popen([sys.executable, "-m", "scimult_desktop", "import", str(bib)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db_path = library / "library.sqlite3"
    deadline = time.monotonic() + 60
    count = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if db_path.exists():
            try:
                with sqlite3.connect(db_path, timeout=1) as conn:
                    count = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
            except sqlite3.Error:
                continue
            if count >= 200:
                break
    assert proc.poll() is None, "import finished before it could be killed; make the file bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    assert 200 <= stored < total
    # Every stored paper is whole: its source link and FTS row were written in the same transaction.
    orphans = conn.execute(
        "SELECT count(*) FROM papers p WHERE NOT EXISTS (SELECT 1 FROM paper_sources s WHERE s.paper_id = p.id)"
    ).fetchone()[0]
    assert orphans == 0
    assert conn.execute("SELECT count(*) FROM papers_fts").fetchone()[0] == stored
    conn.close()

    done = subprocess.run([sys.executable, "-m", "scimult_desktop", "import", str(bib), "--json"], env=env,
                          capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert report["added"] + report["skipped"] == total and report["added"] == total - stored
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM papers").fetchone()[0] == total
        assert conn.execute("SELECT status FROM import_jobs ORDER BY id").fetchall() == [("interrupted",), ("done",)]
