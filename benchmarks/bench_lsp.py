"""Language-server latency on a 15k-paper library: completion, hover and diagnostics over real LSP messages.

Builds (once, then reuses) a library in --workdir (default: <temp>/scimult-bench-lsp): the
SciFact corpus and ACM-CR venue files (../shared/data) until --papers are reached, synthetic
records (tests/bibgen.py) when those are not there, embedded with the default model (built locally into
--workdir/models, the user's own models and settings are not touched). Then starts
`scimult --library LIB lsp` as an editor would, and drives it over stdio with pygls's
client: completion right after `\\cite{` in SciFact claims (each claim a new sentence, so
every one is ranked afresh), completion while a key prefix is typed, hover on cited keys,
and diagnostics of freshly opened drafts (didOpen -> publishDiagnostics). The first
completion, which waits for the model to load and warm, is reported apart. The same work
through the service layer in this process (`Library.suggest_at`, the key lookup,
`Library.suggest_for_text`) is the baseline; the ratio is LSP / service at the median.
Prints figures; never asserts (goal: completion p95 < 150 ms, warm).

    python benchmarks/bench_lsp.py                  # 15000 papers
    python benchmarks/bench_lsp.py --papers 3000 --completions 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from tests.bibgen import synthetic_bib  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary(name: str, values_ms: list[float], baseline_ms: list[float] | None = None) -> str:
    line = f"{name:<28} n={len(values_ms):>3}  p50 {statistics.median(values_ms):7.1f} ms  p95 {percentile(values_ms, 95):7.1f} ms"
    if baseline_ms:
        base = statistics.median(baseline_ms)
        line += f"   service p50 {base:7.1f} ms, p95 {percentile(baseline_ms, 95):7.1f} ms   ratio {statistics.median(values_ms) / base:4.2f}"
    return line


# ---- the library -------------------------------------------------------------------
def build_library(workdir: Path, papers: int) -> Path:
    """The benchmark library (reused when it already holds `papers` papers, all embedded)."""
    from scimult_desktop.domain.tasks import Task
    from scimult_desktop.services.library.facade import Library
    from scimult_desktop.services.models import bundles, indexing

    if bundles.active_model_name() is None:
        started = time.monotonic()
        bundles.build_default()
        print(f"built the default model in {time.monotonic() - started:.0f} s", file=sys.stderr)
    folder = workdir / f"library-{papers}"
    with Library.open(folder) as library:
        if library.count_papers() < papers:
            started = time.monotonic()
            # SciFact, then ACM-CR a venue-year file at a time until there are enough papers.
            sources = [_scifact_csl(workdir), *sorted((DATA / "acm_cr" / "collection_bib").rglob("*.bib"))]
            for source in sources:
                if library.count_papers() >= papers:
                    break
                if source.exists():
                    library.import_paths([source])
            real = library.count_papers()
            if real < papers:
                bib = workdir / f"synthetic-{papers - real}.bib"
                bib.write_text(synthetic_bib(papers - real), encoding="utf-8")
                library.import_paths([bib])
            print(f"imported {library.count_papers()} papers ({real} real) in {time.monotonic() - started:.0f} s", file=sys.stderr)
        name = bundles.active_model_name()
        started = time.monotonic()
        # Completion and the checks rank with the citation (link) expert only.
        result = indexing.index_library(
            library.database, library.encoder(name), bundles.model_key(name), tasks=[Task.LINK], progress=_progress
        )
        if result["embedded"]:
            print(f"\nembedded {result['embedded']} papers in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return folder


def _scifact_csl(workdir: Path) -> Path:
    out = workdir / "scifact.json"
    corpus = DATA / "scifact" / "corpus.jsonl"
    if not out.exists() and corpus.exists():
        items = [
            {"id": f"sf{d['_id']}", "title": d["title"], "abstract": d["text"], "type": "article-journal"}
            for d in map(json.loads, corpus.open(encoding="utf-8"))
        ]
        out.write_text(json.dumps(items), encoding="utf-8")
    return out


def _progress(event) -> None:
    if event.total:
        print(f"\r  {event.stage}: {event.done}/{event.total}", end="", file=sys.stderr)


def claims(count: int) -> list[str]:
    path = DATA / "scifact" / "queries.jsonl"
    if path.exists():
        texts = [q["text"].rstrip(".") for q in map(json.loads, path.open(encoding="utf-8"))]
    else:
        texts = [f"Dense retrieval of scientific papers number {i} has been shown to beat keyword search" for i in range(count)]
    # LaTeX special characters escaped ("10%" would start a comment).
    return [re.sub(r"([%&#_$])", r"\\\1", text) for text in texts[:count]]


def draft(sentences: list[str], keys: list[str]) -> str:
    """A LaTeX draft: cited and uncited claims, some keys from the library, one missing."""
    body = []
    for i, sentence in enumerate(sentences):
        cite = f" \\cite{{{keys[i % len(keys)]}}}" if i % 2 == 0 else ""
        body.append(f"{sentence}{cite}.")
    body.append(r"This key is missing \cite{no-such-key-in-the-library}.")
    return "\\begin{document}\n" + "\n".join(body) + "\n\\end{document}\n"


# ---- the server over LSP -------------------------------------------------------------
async def drive_server(library: Path, args, sentences: list[str], keys: list[str]) -> dict:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("bench-lsp", "1")
    published: dict[str, asyncio.Future] = {}
    messages: list[str] = []

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(ls, params: types.PublishDiagnosticsParams) -> None:
        waiting = published.get(params.uri)
        if waiting is not None and not waiting.done():
            waiting.set_result(len(params.diagnostics))

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def show_message(ls, params: types.ShowMessageParams) -> None:
        messages.append(params.message)

    started = time.perf_counter()
    await client.start_io(sys.executable, "-m", "scimult_desktop", "--library", str(library), "lsp")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(), process_id=os.getpid()))
    client.initialized(types.InitializedParams())
    initialize_ms = (time.perf_counter() - started) * 1000
    version = 0

    def open_text(name: str, text: str) -> str:
        nonlocal version
        version += 1
        uri = (Path(tempfile.gettempdir()) / name).as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="latex", version=version, text=text)))
        return uri

    async def complete(uri: str, line: int, character: int) -> tuple[float, list]:
        t0 = time.perf_counter()
        result = await client.text_document_completion_async(
            types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(line, character)))
        return (time.perf_counter() - t0) * 1000, result.items

    out: dict = {"initialize_ms": initialize_ms}
    # One document holds every claim, each on its own line and ending in \cite{ (as when typing).
    lines = [f"{s} \\cite{{}}." for s in sentences]
    uri = open_text("bench-complete.tex", "\n\n".join(lines))
    first_ms, items = await complete(uri, 0, len(sentences[0]) + len(" \\cite{"))
    out["first_completion_ms"], out["first_items"] = first_ms, len(items)
    timings, counts = [], []
    for i, sentence in enumerate(sentences[1:], start=1):
        ms, items = await complete(uri, 2 * i, len(sentence) + len(" \\cite{"))
        timings.append(ms)
        counts.append(len(items))
    out["completion_ms"], out["completion_items"] = timings, counts

    # Typing a key prefix in one citation: the ranking is reused, the prefix matched over the library.
    typing = []
    for i, sentence in enumerate(sentences[1:args.typing + 1], start=1):
        prefix = keys[i % len(keys)][:3]
        text = "\n\n".join(lines[:i] + [f"{sentence} \\cite{{{prefix}}}."] + lines[i + 1:])
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version), [types.TextDocumentContentChangeWholeDocument(text=text)]))
        ms, _ = await complete(uri, 2 * i, len(sentence) + len(" \\cite{") + len(prefix))
        typing.append(ms)
    out["typing_ms"] = typing

    # Hover on cited keys.
    text = " ".join(f"\\cite{{{key}}}" for key in keys[: args.hovers])
    uri = open_text("bench-hover.tex", text)
    hovers = []
    for key in keys[: args.hovers]:
        t0 = time.perf_counter()
        await client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, text.index("{" + key + "}") + 2)))
        hovers.append((time.perf_counter() - t0) * 1000)
    out["hover_ms"] = hovers

    # Diagnostics of freshly opened drafts (checked at once on open; no debounce).
    checks, found = [], []
    for i in range(args.drafts):
        chunk = sentences[(i * args.draft_sentences) % len(sentences):][: args.draft_sentences]
        name = f"bench-draft-{i}.tex"
        uri = (Path(tempfile.gettempdir()) / name).as_uri()
        published[uri] = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        open_text(name, draft(chunk, keys[i:] + keys[:i]))
        found.append(await asyncio.wait_for(published[uri], 120))
        checks.append((time.perf_counter() - t0) * 1000)
    out["diagnostics_ms"], out["diagnostics_found"] = checks, found
    out["messages"] = messages

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return out


# ---- the same work through the service ----------------------------------------------------
def service_baseline(library_folder: Path, args, sentences: list[str], keys: list[str]) -> dict:
    from scimult_desktop.services.writing import citekeys
    from scimult_desktop.services.writing.editor_library import attach_model, open_for_editor, warm_up

    library = open_for_editor(library_folder)
    attach_model(library)
    warm_up(library)
    completion = []
    for sentence in sentences[1:]:
        paragraph = f"{sentence}  ."
        t0 = time.perf_counter()
        item = library.suggest_at(paragraph, "latex", len(sentence) + 1, k=20)
        citekeys.papers_by_citekey(library, [s["citekey"] for s in item["suggestions"]])
        completion.append((time.perf_counter() - t0) * 1000)
    hover = []
    for key in keys[: args.hovers]:
        t0 = time.perf_counter()
        citekeys.papers_by_citekey(library, [key])
        hover.append((time.perf_counter() - t0) * 1000)
    checks = []
    for i in range(args.drafts):
        chunk = sentences[(i * args.draft_sentences) % len(sentences):][: args.draft_sentences]
        t0 = time.perf_counter()
        library.suggest_for_text(draft(chunk, keys[i:] + keys[:i]), kind="latex", k=1)
        checks.append((time.perf_counter() - t0) * 1000)
    library.close()
    return {"completion_ms": completion, "hover_ms": hover, "diagnostics_ms": checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "scimult-bench-lsp"))
    parser.add_argument("--papers", type=int, default=15_000)
    parser.add_argument("--completions", type=int, default=80, help="claims completed after \\cite{ (the first one apart)")
    parser.add_argument("--typing", type=int, default=30, help="completions with a typed key prefix")
    parser.add_argument("--hovers", type=int, default=40)
    parser.add_argument("--drafts", type=int, default=12, help="drafts opened for diagnostics")
    parser.add_argument("--draft-sentences", type=int, default=20)
    parser.add_argument("--build-only", action="store_true", help="build or update the library, then stop")
    args = parser.parse_args()

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    # The benchmark's own models and settings; the server inherits them.
    os.environ["SCIMULT_MODELS_DIR"] = str(workdir / "models")
    os.environ["SCIMULT_CONFIG_DIR"] = str(workdir / "config")
    library = build_library(workdir, args.papers)
    if args.build_only:
        return

    from scimult_desktop.services.library.facade import Library

    with Library.open(library, create=False) as opened:
        count = opened.count_papers()
        keys = [p.citekey for p in opened.list_papers(limit=200, offset=count // 3)]
    sentences = claims(args.completions)
    print(f"library {library}: {count} papers; {os.cpu_count()} CPUs")

    lsp = asyncio.run(drive_server(library, args, sentences, keys))
    base = service_baseline(library, args, sentences, keys)

    print(f"initialize (process start, imports)  {lsp['initialize_ms']:7.0f} ms")
    print(f"first completion (waits for model)   {lsp['first_completion_ms']:7.0f} ms ({lsp['first_items']} items)")
    print(summary("completion after \\cite{", lsp["completion_ms"], base["completion_ms"]))
    print(summary("completion, prefix typed", lsp["typing_ms"]))
    print(summary("hover", lsp["hover_ms"], base["hover_ms"]))
    print(summary("diagnostics (open->publish)", lsp["diagnostics_ms"], base["diagnostics_ms"]))
    print(f"items per completion: median {statistics.median(lsp['completion_items'])}; "
          f"diagnostics per draft: {sorted(set(lsp['diagnostics_found']))}; "
          f"drafts of {args.draft_sentences} sentences")
    for message in lsp["messages"]:
        print(f"server said: {message}")


if __name__ == "__main__":
    main()
