"""Label sets: the shipped MAG and arXiv sets, user JSON/CSV files, and SciMult's label text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scimult_desktop.errors import ScimultError
from scimult_desktop.services.finding.label_sets import (
    RESOURCES_ENV,
    Label,
    LabelSetError,
    builtin_label_set_names,
    label_text,
    load_builtin_label_set,
    load_label_set,
    load_label_set_file,
    resources_dir,
)

ARXIV_CODE = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")


def test_builtin_sets_are_listed_and_load():
    assert builtin_label_set_names() == ["arxiv", "mag"]
    for name in builtin_label_set_names():
        label_set = load_builtin_label_set(name)
        assert label_set.name == name
        assert label_set.version and label_set.source and label_set.licence_note
        assert all(label.description.strip() for label in label_set)


def test_mag_set_has_the_19_level0_fields_with_informative_descriptions():
    mag = load_label_set("mag")
    assert len(mag) == 19
    expected = {"art", "biology", "business", "chemistry", "computer science", "economics", "engineering",
                "environmental science", "geography", "geology", "history", "materials science", "mathematics",
                "medicine", "philosophy", "physics", "political science", "psychology", "sociology"}
    assert {name.casefold() for name in mag.names()} == expected
    # Descriptions carry vocabulary, not a restatement of the name.
    assert all(len(label.description.split()) >= 15 for label in mag)


def test_mag_names_match_the_field_strings_in_s2orc(shared_data):
    mag = load_label_set("mag")
    fields = set()
    with open(shared_data / "s2orc_sample" / "metadata_sample.jsonl", encoding="utf-8") as handle:
        for line in handle:
            fields.update(json.loads(line).get("mag_field_of_study") or [])
    assert fields, "the sample has field labels"
    for field_name in fields:
        assert field_name in mag, field_name
        assert mag.get(field_name).name == field_name  # same spelling, case included


def test_arxiv_set_covers_every_archive_with_unique_codes():
    arxiv = load_label_set("arxiv")
    codes = arxiv.names()
    assert len(codes) == len({c.casefold() for c in codes})
    assert all(ARXIV_CODE.match(code) for code in codes)
    prefixes = {code.split(".")[0] for code in codes}
    for archive in ["cs", "math", "astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph",
                    "nlin", "nucl-ex", "nucl-th", "physics", "quant-ph", "q-bio", "q-fin", "stat", "eess", "econ"]:
        assert archive in prefixes, archive
    assert all(label.title and label.group for label in arxiv)
    assert arxiv.get("cs.IR").title == "Information Retrieval"
    assert arxiv.get("CS.ir").name == "cs.IR"


def test_arxiv_aliases_point_inside_the_set_and_canonical_drops_them():
    arxiv = load_label_set("arxiv")
    aliases = [label for label in arxiv if label.alias_of]
    assert aliases
    assert all(label.alias_of in arxiv and not arxiv.get(label.alias_of).alias_of for label in aliases)
    canonical = arxiv.canonical()
    assert len(canonical) == len(arxiv) - len(aliases)
    assert "cs.NA" not in canonical.names() and "math.NA" in canonical.names()


def test_label_text_is_scimult_format():
    assert label_text(Label("Physics", "Matter and energy.")) == "Physics [SEP] Matter and energy."
    assert label_text(Label("cs.IR", "Search engines.", title="Information Retrieval")) == "Information Retrieval [SEP] Search engines."
    assert label_text(Label("Misc")) == "Misc"
    mag = load_label_set("mag")
    assert mag.texts()[0].startswith(mag.labels[0].name + " [SEP] ")


def test_synonyms_resolve_case_insensitively():
    mag = load_label_set("mag")
    synonym = next(label for label in mag if label.synonyms)
    assert mag.get(synonym.synonyms[0].upper()) is synonym
    with pytest.raises(KeyError):
        mag.get("Alchemy")


def test_resources_env_override(tmp_path, monkeypatch):
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "mag_fields.json").write_text(
        json.dumps({"name": "mag", "version": "0-test", "labels": [{"name": "Only", "description": "One field."}]}),
        encoding="utf-8",
    )
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    assert resources_dir() == tmp_path
    assert load_label_set("mag").names() == ["Only"]
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path / "absent"))
    with pytest.raises(LabelSetError, match="absent"):
        resources_dir()


def test_resources_found_beside_the_package_without_override(monkeypatch):
    monkeypatch.delenv(RESOURCES_ENV, raising=False)
    assert (resources_dir() / "labels" / "mag_fields.json").is_file()


def test_user_json_full_form_list_form_and_mapping_form(tmp_path):
    full = tmp_path / "mine.json"
    full.write_text(json.dumps({"name": "lab-topics", "version": "3", "labels": [
        {"name": "Retrieval", "description": "Search and ranking.", "synonyms": ["IR"]},
        "Graphs",
    ]}), encoding="utf-8")
    label_set = load_label_set(full)
    assert (label_set.name, label_set.version, label_set.path) == ("lab-topics", "3", full)
    assert label_set.get("ir").name == "Retrieval"
    assert label_set.get("Graphs").description == ""

    listed = tmp_path / "listed.json"
    listed.write_text(json.dumps([{"name": "A", "description": "x"}]), encoding="utf-8")
    assert load_label_set(listed).name == "listed"

    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"A": "first", "B": "second"}), encoding="utf-8")
    assert [label_text(l) for l in load_label_set(mapping)] == ["A [SEP] first", "B [SEP] second"]


def test_user_csv_with_and_without_header(tmp_path):
    with_header = tmp_path / "fields.csv"
    with_header.write_text('name,description,synonyms\nRetrieval,"Search, ranking and indexing.",IR;search\nGraphs,Graph mining.,\n',
                           encoding="utf-8")
    label_set = load_label_set_file(with_header)
    assert label_set.names() == ["Retrieval", "Graphs"]
    assert label_set.get("retrieval").description == "Search, ranking and indexing."
    assert label_set.get("search").name == "Retrieval"

    bare = tmp_path / "bare.csv"
    bare.write_text("Retrieval,Search.\nGraphs,Graph mining.\n", encoding="utf-8")
    assert [label.description for label in load_label_set_file(bare)] == ["Search.", "Graph mining."]


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("broken.json", "{\"labels\": [", "invalid JSON at line 1"),
        ("empty.json", "{\"labels\": []}", "no labels"),
        ("noname.json", "{\"labels\": [{\"description\": \"x\"}]}", "label 1 has no \"name\""),
        ("twice.json", "[\"Art\", \"art\"]", "'art' appears twice"),
        ("alias.json", "[{\"name\": \"a\", \"alias_of\": \"b\"}]", "alias of 'b'"),
        ("wide.csv", "name,description\nA,x,y\n", "row 2 has more columns"),
        ("blank.csv", "name,description\n,x\n", "row 2 has no name"),
        ("labels.txt", "A", "unsupported label set file type"),
    ],
)
def test_bad_user_files_give_errors_naming_the_file(tmp_path, file_name, content, message):
    path = tmp_path / file_name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelSetError) as caught:
        load_label_set(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    assert isinstance(caught.value, ScimultError)


def test_missing_file_and_unknown_builtin(tmp_path):
    with pytest.raises(LabelSetError, match="not found"):
        load_label_set(tmp_path / "nope.json")
    with pytest.raises(LabelSetError, match="built-in sets: arxiv, mag"):
        load_builtin_label_set("acm")


def test_non_utf8_file(tmp_path):
    path = Path(tmp_path / "latin1.csv")
    path.write_bytes("name,description\nSoci\xe9t\xe9,x\n".encode("latin-1"))
    with pytest.raises(LabelSetError, match="not UTF-8"):
        load_label_set(path)
