"""Hostile import inputs: does any of them crash, hang, blow the memory budget or lose stored papers?

Each case is a generated file (nothing binary is committed). For each one a child
process, running the code found on PYTHONPATH, opens a fresh library, imports
`earlier.bib` (papers stored before), then imports `a.bib CASE b.bib` in one call,
under a hard timeout and an address-space cap so the machine survives the worst
case. A second child then checks that the earlier papers are still there and that
the library passes `PRAGMA integrity_check`.

Budget (issue 15): no input under 1 MB may cost more than ~200 MB of memory above
a plain import's, or ~10 s.

Run: PYTHONPATH=/tmp/work/before .venv/bin/python benchmarks/probe_inputs.py   (old code)
     .venv/bin/python benchmarks/probe_inputs.py                                (this tree)
Options: --only SUBSTRING, --timeout S (60), --cap-mb MB (3072).

The generators (`csl_cases`, `bibtex_cases`, `pdf_text_bomb`, `write_zotero_db`...)
are also used by tests/unit/test_import_robustness.py and test_import_fuzz.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Callable

MEMORY_BUDGET_MB = 200
TIME_BUDGET_S = 10.0


# ---- CSL-JSON -------------------------------------------------------------
def _good_item(n: int) -> dict:
    return {"id": f"good{n}", "type": "article-journal", "title": f"A perfectly ordinary paper number {n}",
            "author": [{"family": "Doe", "given": "Jane"}], "issued": {"date-parts": [[2020]]}}


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# name -> raw JSON text of one bad item (raw text, since some are not expressible with json.dumps)
CSL_BAD_ITEMS: dict[str, str] = {
    "author_as_string": '{"title": "Author as one string", "author": "Doe, Jane"}',
    "author_list_of_strings": '{"title": "Authors as strings", "author": ["Doe, Jane", "Roe, R."]}',
    "author_list_with_null": '{"title": "Author null", "author": [null, {"family": "Doe"}]}',
    "author_family_list": '{"title": "Family as list", "author": [{"family": ["Doe"], "given": {"x": 1}}]}',
    "author_as_number": '{"title": "Author number", "author": 7}',
    "title_list": '{"title": ["First part", "Second part"]}',
    "title_dict": '{"title": {"value": "A title in an object"}}',
    "doi_number": '{"title": "DOI as number", "DOI": 10.1234}',
    "doi_list": '{"title": "DOI as list", "DOI": ["10.1234/abc"]}',
    "url_number": '{"title": "URL as number", "URL": 42}',
    "arxiv_number": '{"title": "arXiv as number", "arxiv": 1706.03762}',
    "container_title_list": '{"title": "Venue as list", "container-title": ["J. Things", "J. Stuff"]}',
    "publisher_dict": '{"title": "Publisher as object", "publisher": {"name": "ACM"}}',
    "abstract_list": '{"title": "Abstract as list", "abstract": ["one", "two"]}',
    "citation_key_list": '{"title": "Key as list", "citation-key": ["k1", "k2"]}',
    "type_number": '{"title": "Type as number", "type": 3}',
    "lone_surrogate_title": '{"title": "Broken \\ud800 surrogate"}',
    "lone_surrogate_author": '{"title": "Surrogate author", "author": [{"family": "D\\udc00e"}]}',
    "lone_surrogate_abstract": '{"title": "Surrogate abstract", "abstract": "x\\udfff y"}',
    "infinite_date": '{"title": "Infinite date", "issued": {"date-parts": [[1e999]]}}',
    "nan_date": '{"title": "NaN date", "issued": {"date-parts": [[NaN]]}}',
    "year_10e30": '{"title": "Year ten to the thirty", "issued": {"date-parts": [[1000000000000000000000000000000]]}}',
    "negative_huge_year": '{"title": "Negative year", "issued": {"date-parts": [[-99999999999999999999]]}}',
    "issued_string": '{"title": "Issued as string", "issued": "2019"}',
    "date_parts_strings": '{"title": "Date parts strings", "issued": {"date-parts": [["2019", "x"]]}}',
    "deep_nesting_5k": '{"title": "Deeply nested note", "note": ' + _deep(5000) + "}",
    "item_is_list": '[{"title": "nested list item"}]',
    "item_is_null": "null",
    "id_is_object": '{"title": "Object id", "id": {"a": [1, 2]}}',
    "huge_title_number": '{"title": 1e308}',
}


def csl_case_text(name: str) -> str:
    """A CSL-JSON file: a good item, the bad one, another good item."""
    good1, good2 = json.dumps(_good_item(1)), json.dumps(_good_item(2))
    return f"[{good1}, {CSL_BAD_ITEMS[name]}, {good2}]"


# ---- BibTeX ---------------------------------------------------------------
def crossref_chain(n: int) -> str:
    """`n` entries, each the crossref parent of the one before it."""
    parts = [f"@inproceedings{{c{i}, title = {{Chained entry {i}}}, crossref = {{c{i + 1}}}}}\n" for i in range(n - 1)]
    parts.append(f"@proceedings{{c{n - 1}, title = {{The root proceedings}}, year = {{2001}}, publisher = {{ACM}}}}\n")
    return "".join(parts)


def string_laughs(levels: int, fanout: int, base: str = "ha") -> str:
    """An @string "billion laughs": each macro is `fanout` copies of the one before."""
    lines = [f'@string{{l0 = "{base}"}}']
    for level in range(1, levels + 1):
        lines.append(f"@string{{l{level} = " + " # ".join([f"l{level - 1}"] * fanout) + "}")
    lines.append(f"@article{{laugh, title = {{Laughing}}, abstract = l{levels} # l{levels}, note = l{levels}}}")
    return "\n".join(lines) + "\n"


def file_field_many_paths(count: int) -> str:
    paths = ";".join(f":papers/attachment-number-{i}.pdf:PDF" for i in range(count))
    return f"@article{{files, title = {{An entry with many files}}, file = {{{paths}}}}}\n"


def crossref_big_parent(children: int, abstract_chars: int) -> str:
    """One proceedings with a huge abstract, and many children that crossref it."""
    words = ("lorem ipsum dolor sit amet consectetur " * (abstract_chars // 39 + 1))[:abstract_chars]
    parent = f"@proceedings{{proc, title = {{Big Proceedings}}, year = {{2010}}, abstract = {{{words}}}}}\n"
    kids = "".join(f"@inproceedings{{p{i}, title = {{Child paper {i}}}, crossref = {{proc}}}}\n" for i in range(children))
    return kids + parent


def bibtex_cases() -> dict[str, str]:
    return {
        "bib_crossref_chain_1000": crossref_chain(1000),
        "bib_crossref_chain_5000": crossref_chain(5000),
        "bib_string_laughs_small": string_laughs(13, 4),
        "bib_string_laughs_large": string_laughs(15, 4),
        "bib_file_field_25k_paths": file_field_many_paths(25_000),
        "bib_crossref_400k_abstract_x2000": crossref_big_parent(2000, 400_000),
    }


# ---- PDF ------------------------------------------------------------------
def pdf_text_bomb(content_mib: float = 40) -> bytes:
    """A small PDF whose one page carries `content_mib` MiB of (compressed) text-showing operators."""
    line = b"(Lorem ipsum dolor sit amet, consectetur adipiscing elit) Tj 0 -1 Td\n"
    content = b"BT /F1 1 Tf 72 720 Td\n" + line * int(content_mib * 1024 * 1024 // len(line)) + b"ET\n"
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# ---- Zotero ---------------------------------------------------------------
ZOTERO_SCHEMA = """
CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT);
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT);
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT, libraryID INT, key TEXT);
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID INT);
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT);
CREATE TABLE itemCreators (itemID INT, creatorID INT, creatorTypeID INT, orderIndex INT);
CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE itemTags (itemID INT, tagID INT, type INT);
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT, parentCollectionID INT,
                          libraryID INT, key TEXT);
CREATE TABLE collectionItems (collectionID INT, itemID INT);
CREATE TABLE itemNotes (itemID INTEGER PRIMARY KEY, parentItemID INT, note TEXT);
CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT, contentType TEXT,
                              path TEXT);
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY);
"""


def write_zotero_db(path: Path, items: int = 3) -> None:
    """A minimal Zotero 5-shaped database with `items` journal articles, a tag, a collection, a note."""
    conn = sqlite3.connect(path)
    conn.executescript(ZOTERO_SCHEMA)
    conn.execute("INSERT INTO libraries VALUES (1, 'user')")
    conn.executemany("INSERT INTO itemTypes VALUES (?, ?)", [(1, "journalArticle"), (2, "note"), (3, "attachment")])
    conn.executemany("INSERT INTO fields VALUES (?, ?)",
                     [(1, "title"), (2, "date"), (3, "DOI"), (4, "abstractNote"), (5, "publicationTitle"), (6, "extra")])
    conn.executemany("INSERT INTO creatorTypes VALUES (?, ?)", [(1, "author"), (2, "editor")])
    conn.execute("INSERT INTO tags VALUES (1, 'to read')")
    conn.execute("INSERT INTO collections VALUES (1, 'Reading', NULL, 1, 'COLL0001')")
    value_id = 0
    for n in range(1, items + 1):
        conn.execute("INSERT INTO items VALUES (?, 1, 1, ?)", (n, f"ITEM{n:04d}"))
        for field_id, value in ((1, f"Zotero paper number {n}"), (2, f"20{n:02d}-01-00 20{n:02d}"),
                                (3, f"10.5555/z.{n}"), (4, f"Abstract of paper {n}."), (5, "Journal of Tests"),
                                (6, f"Citation Key: zot{n}")):
            value_id += 1
            conn.execute("INSERT INTO itemDataValues VALUES (?, ?)", (value_id, value))
            conn.execute("INSERT INTO itemData VALUES (?, ?, ?)", (n, field_id, value_id))
        conn.execute("INSERT INTO creators VALUES (?, ?, ?, 0)", (n, "Jane", f"Doe{n}"))
        conn.execute("INSERT INTO itemCreators VALUES (?, ?, 1, 0)", (n, n))
        conn.execute("INSERT INTO itemTags VALUES (?, 1, 0)", (n,))
        conn.execute("INSERT INTO collectionItems VALUES (1, ?)", (n,))
        conn.execute("INSERT INTO items VALUES (?, 2, 1, ?)", (100 + n, f"NOTE{n:04d}"))
        conn.execute("INSERT INTO itemNotes VALUES (?, ?, ?)", (100 + n, n, f"<p>Note {n}</p>"))
    conn.commit()
    conn.close()


def zotero_cases() -> dict[str, Callable[[sqlite3.Connection], None]]:
    """name -> a change that breaks a generated zotero.sqlite."""
    return {
        "zotero_invalid_utf8_value": lambda c: c.execute(
            "UPDATE itemDataValues SET value = CAST(X'4162FF6364' AS TEXT) WHERE valueID = 1"),
        "zotero_null_collection_name": lambda c: c.execute("UPDATE collections SET collectionName = NULL"),
        "zotero_blob_title": lambda c: c.execute("UPDATE itemDataValues SET value = X'00FF10' WHERE valueID = 7"),
        "zotero_null_item_key": lambda c: c.execute("UPDATE items SET key = NULL WHERE itemID = 2"),
        "zotero_missing_tags_table": lambda c: c.execute("DROP TABLE tags"),
        "zotero_collection_name_number": lambda c: c.execute("UPDATE collections SET collectionName = 7"),
    }


# ---- cases ----------------------------------------------------------------
def write_case(name: str, folder: Path) -> Path:
    """Write case `name` under `folder` and return the path to import."""
    folder.mkdir(parents=True, exist_ok=True)
    if name.startswith("csl_"):
        path = folder / f"{name}.json"
        path.write_text(csl_case_text(name[len("csl_"):]), encoding="utf-8", errors="surrogatepass")
        return path
    if name.startswith("bib_"):
        path = folder / f"{name}.bib"
        path.write_text(bibtex_cases()[name], encoding="utf-8")
        return path
    if name == "pdf_text_bomb_40mib":
        path = folder / f"{name}.pdf"
        path.write_bytes(pdf_text_bomb(40))
        return path
    if name.startswith("zotero_"):
        data = folder / name
        data.mkdir()
        path = data / "zotero.sqlite"
        write_zotero_db(path)
        conn = sqlite3.connect(path)
        zotero_cases()[name](conn)
        conn.commit()
        conn.close()
        return path
    raise KeyError(name)


def case_names() -> list[str]:
    names = [f"csl_{name}" for name in CSL_BAD_ITEMS]
    names += list(bibtex_cases())
    names.append("pdf_text_bomb_40mib")
    names += list(zotero_cases())
    return names


def _bib(prefix: str, n: int) -> str:
    return "".join(f"@article{{{prefix}{i}, title = {{Stored paper {prefix} {i}}}, author = {{Doe, Jane}},"
                   f" year = {{2019}}, doi = {{10.7777/{prefix}.{i}}}}}\n" for i in range(n))


# The child: import earlier.bib, then `a.bib CASE b.bib`; print one JSON line.
_CHILD = r"""
import json, resource, sys, time
cap = int(sys.argv[4]) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from scimult_desktop.services import open_library
lib = open_library(sys.argv[1])
lib.import_paths([sys.argv[2]])
start = time.perf_counter()
result = {}
try:
    report = lib.import_paths(json.loads(sys.argv[3]))
    result = {"ok": True, "added": report.added, "failed": [p.path for p in report.failed]}
except BaseException as exc:
    result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:160]}"}
result["seconds"] = time.perf_counter() - start
import scimult_desktop
result["code"] = scimult_desktop.__file__
print("RESULT " + json.dumps(result, ensure_ascii=True), flush=True)
"""

_VERIFY = r"""
import json, sqlite3, sys
from pathlib import Path
conn = sqlite3.connect(Path(sys.argv[1]) / "library.sqlite3")
integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
keys = {r[0] for r in conn.execute("SELECT citekey FROM papers")}
print(json.dumps({"integrity": integrity, "keys": sorted(k for k in keys if k)}))
"""


def run_case(name: str, root: Path, timeout: float, cap_mb: int) -> dict:
    folder = root / name
    folder.mkdir(parents=True)
    earlier, a_bib, b_bib = folder / "earlier.bib", folder / "a.bib", folder / "b.bib"
    earlier.write_text(_bib("earlier", 5))
    a_bib.write_text(_bib("abib", 3))
    b_bib.write_text(_bib("bbib", 3))
    if name == "baseline_pdf":  # a plain one-page PDF: what loading PyMuPDF costs by itself
        (folder / "plain.pdf").write_bytes(pdf_text_bomb(0.01))
        case = [str(folder / "plain.pdf")]
    else:
        case = [str(write_case(name, folder / "case"))] if name != "baseline" else []
    paths = [str(a_bib)] + case + [str(b_bib)]
    library = folder / "lib"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", SCIMULT_NO_OCR="1")
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(library), str(earlier), json.dumps(paths), str(cap_mb)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=folder)
    hung = False
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > timeout:
            child.kill()
            pid, status, usage = os.wait4(child.pid, 0)
            hung = True
            break
        time.sleep(0.05)
    child.returncode = os.waitstatus_to_exitcode(status)
    out = child.stdout.read().decode(errors="replace")
    err = child.stderr.read().decode(errors="replace")
    line = next((l for l in out.splitlines() if l.startswith("RESULT ")), None)
    result = json.loads(line[len("RESULT "):]) if line else {"ok": False, "error": (err.strip().splitlines() or ["killed"])[-1][:160]}
    verify = subprocess.run([sys.executable, "-c", _VERIFY, str(library)], capture_output=True, text=True, env=env,
                            cwd=folder)
    try:
        state = json.loads(verify.stdout)
    except json.JSONDecodeError:
        state = {"integrity": "unreadable", "keys": []}
    stored_before = {f"earlier{i}" for i in range(5)} | {f"abib{i}" for i in range(3)}
    lost = state["integrity"] != "ok" or not stored_before <= set(state["keys"])
    failed_paths = result.get("failed", [])
    return {
        "case": name,
        "crashed": not hung and not result.get("ok"),
        "hung": hung,
        "peak_mb": usage.ru_maxrss / 1024,
        "seconds": result.get("seconds", time.perf_counter() - start),
        "data_lost": lost,
        "rest_imported": {f"bbib{i}" for i in range(3)} <= set(state["keys"]),
        "reported": any(name in p for p in failed_paths),
        "error": result.get("error", ""),
        "code": str(Path(result.get("code", "?")).parent),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--cap-mb", type=int, default=3072, help="address-space cap of each child (MB)")
    args = parser.parse_args()
    print(f"PYTHONPATH: {os.environ.get('PYTHONPATH', '(unset)')}")
    names = [n for n in case_names() if args.only in n]
    with tempfile.TemporaryDirectory(prefix="scimult-probe-") as tmp:
        root = Path(tmp)
        baselines = {kind: run_case(kind, root, args.timeout, args.cap_mb) for kind in ("baseline", "baseline_pdf")}
        print(f"code under test: {baselines['baseline'].get('code')}")
        for kind, baseline in baselines.items():
            print(f"{kind} (plain import): peak {baseline['peak_mb']:.0f} MB, {baseline['seconds']:.2f} s")
        rows = []
        header = f"{'case':42} {'crashed':>7} {'hung':>5} {'peak MB':>8} {'+MB':>6} {'s':>6} {'over':>5} {'lost':>5} {'rest':>5}"
        print(header)
        for name in names:
            row = run_case(name, root, args.timeout, args.cap_mb)
            baseline = baselines["baseline_pdf" if name.startswith("pdf_") else "baseline"]
            row["extra_mb"] = row["peak_mb"] - baseline["peak_mb"]
            crash_for_memory = "MemoryError" in row["error"]
            row["over_budget"] = (row["extra_mb"] > MEMORY_BUDGET_MB or row["seconds"] > TIME_BUDGET_S
                                  or row["hung"] or crash_for_memory)
            rows.append(row)
            print(f"{name:42} {'yes' if row['crashed'] else '-':>7} {'yes' if row['hung'] else '-':>5}"
                  f" {row['peak_mb']:8.0f} {row['extra_mb']:6.0f} {row['seconds']:6.1f}"
                  f" {'yes' if row['over_budget'] else '-':>5} {'yes' if row['data_lost'] else '-':>5}"
                  f" {'yes' if row['rest_imported'] else 'NO':>5}  {row['error'][:70]}", flush=True)
    totals = {
        "inputs tried": len(rows),
        "crashes": sum(r["crashed"] for r in rows),
        "hangs": sum(r["hung"] for r in rows),
        "memory/time over budget": sum(r["over_budget"] for r in rows),
        "data lost": sum(r["data_lost"] for r in rows),
        "rest of the import not done": sum(not r["rest_imported"] for r in rows),
    }
    print("totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
