"""Readers of the published training formats: tiny files of each layout -> the right Examples, file:line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scimult_train.data import Example, read_examples, write_examples
from scimult_train.data.__main__ import main as data_cli
from scimult_train.data.jsonstream import DataFormatError, iter_object_members, iter_records
from scimult_train.data.maple import read_maple
from scimult_train.data.scirepeval import read_cite_prediction, read_search
from scimult_train.data.specter import read_specter

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def write_lines(path: Path, records) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def paper(title, abstract=None, **extra):
    return {"title": title, "abstract": abstract, **extra}


# ---- our JSONL -------------------------------------------------------------------------


def test_our_jsonl_round_trips_and_names_the_bad_line(tmp_path):
    examples = [
        Example("search", "q", "title [SEP] abstract", ("neg",)),
        Example("classify", "paper", "Physics", (), positive_id="mag:physics"),
    ]
    path = tmp_path / "ex.jsonl"
    assert write_examples(path, examples) == 2
    assert list(read_examples(path)) == examples
    path.write_text(path.read_text() + '{"task": "search", "query": "", "positive": "p"}\n')
    with pytest.raises(DataFormatError, match=rf"ex\.jsonl:3: missing or empty 'query'"):
        list(read_examples(path))


def test_failed_write_leaves_no_file(tmp_path):
    def broken():
        yield Example("link", "q", "p")
        raise DataFormatError("in.json:7: bad")

    with pytest.raises(DataFormatError):
        write_examples(tmp_path / "out.jsonl", broken())
    assert list(tmp_path.iterdir()) == []


# ---- streaming JSON ----------------------------------------------------------------------


def test_array_and_object_stream_with_line_numbers(tmp_path, monkeypatch):
    import scimult_train.data.jsonstream as js

    monkeypatch.setattr(js, "CHUNK_CHARS", 7)  # values straddle many buffer refills
    array = tmp_path / "a.json"
    array.write_text('[\n {"x": 1},\n {"x": "long string value"},\n 12345678\n]\n')
    assert list(iter_records(array)) == [(2, {"x": 1}), (3, {"x": "long string value"}), (4, 12345678)]
    obj = tmp_path / "o.json"
    obj.write_text('{\n "a": {"count": 1},\n\n "b": [1, 2]\n}')
    assert list(iter_object_members(obj)) == [(2, "a", {"count": 1}), (4, "b", [1, 2])]
    obj.write_text('{\n "a": {"count": 1},\n "b" {"count": 2}\n}')
    with pytest.raises(DataFormatError, match=r"o\.json:3: expected ':'"):
        list(iter_object_members(obj))


# ---- SciRepEval --------------------------------------------------------------------------


def test_cite_prediction_triplets(tmp_path):
    path = write_lines(tmp_path / "cite.jsonl", [
        {"query": paper("Q", "q abs", corpus_id=1), "pos": paper("P", "p abs"), "neg": paper("N", None)},
        {"query": paper("Q2"), "pos": paper("P2", "x"), "neg": {}},
    ])
    assert list(read_cite_prediction(path)) == [
        Example("link", "Q [SEP] q abs", "P [SEP] p abs", ("N [SEP]",)),
        Example("link", "Q2 [SEP]", "P2 [SEP] x", ()),
    ]
    array = tmp_path / "cite.json"
    array.write_text(json.dumps([{"query": paper("Q", "a"), "pos": paper("P", "b"), "neg": paper("N", "c")}], indent=2))
    assert [e.negatives for e in read_cite_prediction(array)] == [("N [SEP] c",)]
    write_lines(path, [{"query": paper("Q", "a"), "pos": paper("P", "b"), "neg": paper("N", "c")}, {"query": paper("Q"), "neg": paper("N")}])
    with pytest.raises(DataFormatError, match=r"cite\.jsonl:2: 'pos' has no title or abstract"):
        list(read_cite_prediction(path))


def test_search_positives_get_the_same_querys_non_relevant_candidates(tmp_path):
    path = write_lines(tmp_path / "search.jsonl", [
        {"query": "graph neural nets", "doc_id": "1", "candidates": [
            {"title": "GNN survey", "abstract": "a", "score": 2, "venue": "v", "year": 2020},
            {"title": "Cooking", "abstract": "b", "score": 0},
            {"title": "GCN", "abstract": "c", "score": 1},
            {"title": "Poetry", "abstract": None, "score": 0},
        ]},
        {"query": "nothing relevant", "candidates": [{"title": "X", "abstract": "y", "score": 0}]},
        "not json",
    ])
    examples = read_search(path, max_negatives=1)
    assert next(examples) == Example("search", "graph neural nets", "GNN survey [SEP] a", ("Cooking [SEP] b",))
    assert next(examples) == Example("search", "graph neural nets", "GCN [SEP] c", ("Poetry [SEP]",))
    with pytest.raises(DataFormatError, match=r"search\.jsonl:3: not valid JSON"):
        next(examples)


# ---- MAPLE -------------------------------------------------------------------------------


def test_maple_with_scimult_label_file_and_cooccurring_hard_negatives(tmp_path):
    labels = write_lines(tmp_path / "cs_label.json", [
        {"label": "L1", "name": ["Neural networks", "NN"], "definition": "Models of neurons."},
        {"label": "L2", "name": ["Deep learning"], "definition": "Many layers."},
        {"label": "L3", "name": "Databases", "definition": ""},
    ])
    papers = write_lines(tmp_path / "papers.json", [
        {"title": "T1", "abstract": "A1", "label": ["L1", "L2"], "year": 2014, "venue": "V", "author": [], "reference": []},
        {"title": "T2", "abstract": "A2", "label": ["L1"]},
        {"title": "T3", "abstract": "A3", "label": ["L3", "L1"]},
    ])
    examples = list(read_maple(papers, labels))
    assert examples[0] == Example("classify", "T1 [SEP] A1", "Neural networks [SEP] Models of neurons.", ("Databases",), "label:L1")
    assert examples[1] == Example("classify", "T1 [SEP] A1", "Deep learning [SEP] Many layers.", (), "label:L2")
    # T2 has only L1: its hard negatives are the labels L1 co-occurs with elsewhere (L2, L3).
    assert examples[2].negatives == ("Deep learning [SEP] Many layers.", "Databases")
    assert len(examples) == 5


def test_maple_labels_txt_and_unknown_label(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("L1\tmachine learning\nL2\tinformation retrieval\tIR\n")
    papers = write_lines(tmp_path / "papers.json", [{"title": "T", "abstract": "A", "label": ["L2"]}, {"title": "U", "abstract": "B", "label": ["L9"]}])
    examples = read_maple(papers, labels, max_negatives=0)
    assert next(examples) == Example("classify", "T [SEP] A", "information retrieval", (), "label:L2")
    with pytest.raises(DataFormatError, match=r"papers\.json:2: label 'L9' is not in"):
        next(examples)
    labels.write_text("L1 machine learning\n")
    with pytest.raises(DataFormatError, match=r"labels\.txt:1: expected 'label-id<TAB>name'"):
        list(read_maple(papers, labels))


# ---- SPECTER -----------------------------------------------------------------------------


def test_specter_triplets_follow_the_count_margin(tmp_path):
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({pid: {"paper_id": pid, "title": f"T{pid}", "abstract": f"A{pid}"} for pid in "qabcd"}, indent=2))
    graph = tmp_path / "data.json"
    graph.write_text(json.dumps({
        "q": {"a": {"count": 5}, "b": {"count": 5}, "c": {"count": 1}, "missing": {"count": 1}},
        "a": {"b": {"count": 1}, "c": {"count": 1}},
        "unknown": {"a": {"count": 5}},
    }, indent=2))
    examples = list(read_specter(graph, metadata, samples_per_query=4))
    by_query = {}
    for e in examples:
        by_query.setdefault(e.query, []).append(e)
    assert all(e.task == "link" for e in examples)
    # q: positives are the direct citations (count 5), hard negatives the count-1 candidates present in metadata.
    assert {e.positive for e in by_query["Tq [SEP] Aq"]} <= {"Ta [SEP] Aa", "Tb [SEP] Ab"}
    assert {n for e in by_query["Tq [SEP] Aq"] for n in e.negatives} == {"Tc [SEP] Ac"}
    # a: no spread of counts -> every candidate is a positive, no hard negative.
    assert sorted((e.positive, e.negatives) for e in by_query["Ta [SEP] Aa"]) == [("Tb [SEP] Ab", ()), ("Tc [SEP] Ac", ())]
    ids = tmp_path / "train.txt"
    ids.write_text("a\n")
    assert {e.query for e in read_specter(graph, metadata, query_ids=ids)} == {"Ta [SEP] Aa"}
    graph.write_text('{\n "q": {"a": {"n": 5}}\n}')
    with pytest.raises(DataFormatError, match=r"data\.json:2: candidate 'a' has no numeric 'count'"):
        list(read_specter(graph, metadata))


@pytest.mark.shared_data
def test_specter_sample_streams(tmp_path):
    folder = SHARED / "specter_sample" / "training"
    if not folder.is_dir():
        pytest.skip(f"shared data not found at {folder}")
    # The sample's graph ids do not resolve to its metadata (MANIFEST.md): it parses, and yields nothing.
    assert sum(1 for _ in iter_object_members(folder / "data.json")) == 20
    assert list(read_specter(folder / "data.json", folder / "metadata.json")) == []


# ---- CLI ---------------------------------------------------------------------------------


def test_convert_cli(tmp_path, capsys):
    source = write_lines(tmp_path / "cite.jsonl", [{"query": paper("Q", "a"), "pos": paper("P", "b"), "neg": paper("N", "c")}])
    out = tmp_path / "out.jsonl"
    assert data_cli(["convert", "--format", "scirepeval-cite", str(source), str(out)]) == 0
    assert list(read_examples(out)) == [Example("link", "Q [SEP] a", "P [SEP] b", ("N [SEP] c",))]
    assert data_cli(["convert", "--format", "maple", str(source), str(out)]) == 1
    assert "needs --labels" in capsys.readouterr().err
    write_lines(source, ["{"])
    assert data_cli(["convert", "--format", "scirepeval-cite", str(source), str(out)]) == 1
    assert "cite.jsonl:1: not valid JSON" in capsys.readouterr().err
