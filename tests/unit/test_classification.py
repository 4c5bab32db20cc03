"""Classification: label texts by meaning (codes never embedded as strings), the calibrated few-shot
mixture (helps when tags are informative, stays zero-shot when they are absent or useless), own tags
as labels (a code-like tag by its papers' centroid), and the service's output fields."""

from __future__ import annotations

import numpy as np
import pytest

from scimult_desktop.domain.records import Paper
from scimult_desktop.services.finding import classifying, few_shot
from scimult_desktop.services.finding.label_sets import Label, LabelSet, load_label_set
from scimult_desktop.services.finding.label_texts import find_label, label_meaning, label_texts, looks_like_code
from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.store.papers import PaperStore
from tests.fakes import bag_of_words_backend, hash_embed


@pytest.mark.parametrize("name", ["cs.CV", "10002951.10003317", "H.3.3", "q-bio.NC", "p2", "ml_todo", "NLP", "xyz", "SIGIR", "cs"])
def test_codes_are_recognised(name):
    assert looks_like_code(name)


@pytest.mark.parametrize("name", ["Physics", "machine learning", "toread", "Computer Science", "retrieval", "self-supervised"])
def test_words_are_not_codes(name):
    assert not looks_like_code(name)


def test_a_coded_label_is_written_with_its_title_and_description_never_its_code():
    label = Label("cs.CV", "Image and video understanding.", title="Computer Vision and Pattern Recognition")
    for similarity in ("cosine", "dot"):
        texts = label_texts(label, similarity)
        assert all("cs.CV" not in t for t in texts)
        assert all("Computer Vision and Pattern Recognition" in t and "Image and video understanding." in t for t in texts)
    assert label_texts(Label("10003317", "Ranking documents for queries."), "cosine") == ["Ranking documents for queries."]
    assert label_texts(Label("Physics", "Matter and energy."), "cosine") == ["Physics: Matter and energy."]
    assert label_texts(Label("ranking"), "cosine") == ["A research paper in ranking."]
    assert label_texts(Label("ranking"), "dot") == ["ranking"]
    assert label_meaning(Label("p2")) is None


def test_every_builtin_arxiv_label_text_names_its_title_not_its_code():
    arxiv = load_label_set("arxiv")
    for label in arxiv.canonical():
        [text] = label_texts(label, "cosine")
        assert label.title in text and label.name not in text.split(":")[0]


def test_a_tag_finds_its_label_by_name_synonym_title_and_alias():
    arxiv = load_label_set("arxiv")
    assert find_label(arxiv, "cs.cv").name == "cs.CV"
    assert find_label(arxiv, "computer vision and pattern recognition").name == "cs.CV"
    assert find_label(arxiv, "cs.NA").name == arxiv.get("cs.NA").alias_of
    assert find_label(arxiv, "my reading list") is None


# ---- few-shot calibration ------------------------------------------------------------------
def _clusters(rng, per_class: int, classes: int = 4, dim: int = 32, spread: float = 0.35):
    centres = rng.normal(size=(classes, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(classes), per_class)
    vectors = centres[labels] + spread * rng.normal(size=(len(labels), dim)) / np.sqrt(dim) * 4
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, labels


def _uninformed_zero_shot(rng, n: int, classes: int = 4) -> np.ndarray:
    logits = rng.normal(size=(n, classes))
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)


def test_informative_tags_get_weight_and_improve_accuracy():
    rng = np.random.default_rng(0)
    vectors, labels = _clusters(rng, per_class=12)
    onehot = np.eye(4)[labels]
    zero_shot = _uninformed_zero_shot(rng, len(labels))
    train = np.arange(len(labels)) % 3 == 0  # 4 tagged papers per class
    calibration = few_shot.calibrate(zero_shot[train], vectors[train], onehot[train])
    assert calibration.weight > 0 and calibration.method == "few-shot" and calibration.tagged_papers == train.sum()
    vote = few_shot.knn_vote(vectors[~train], vectors[train], onehot[train], temperature=calibration.temperature)
    mixed = few_shot.combine(zero_shot[~train], vote, calibration.weight)
    accuracy = np.mean(mixed.argmax(1) == labels[~train])
    assert accuracy > np.mean(zero_shot[~train].argmax(1) == labels[~train]) + 0.3


def test_tags_the_vectors_cannot_predict_do_not_move_a_good_zero_shot():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(40, 32))  # neighbours carry no information about the labels
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    truth = rng.integers(0, 4, size=40)
    zero_shot = np.full((40, 4), 0.1)
    zero_shot[np.arange(40), truth] = 0.7
    zero_shot[:6] = np.roll(zero_shot[:6], 1, axis=1)  # and zero-shot is wrong on a few
    tags = np.eye(4)[truth]
    calibration = few_shot.calibrate(zero_shot, vectors, tags)
    assert calibration.weight <= 0.2
    vote = few_shot.knn_vote(vectors, vectors, tags, temperature=calibration.temperature, exclude=np.arange(40))
    mixed = few_shot.combine(zero_shot, vote, calibration.weight)
    assert np.mean(mixed.argmax(1) == truth) >= np.mean(zero_shot.argmax(1) == truth)


def test_no_tags_or_only_single_tags_stay_zero_shot():
    rng = np.random.default_rng(2)
    vectors, labels = _clusters(rng, per_class=1)
    zero_shot = _uninformed_zero_shot(rng, 4)
    empty = few_shot.calibrate(zero_shot, vectors, np.zeros((4, 4)))
    assert (empty.weight, empty.tagged_papers, empty.describe()) == (0.0, 0, "zero-shot")
    singles = few_shot.calibrate(zero_shot, vectors, np.eye(4)[labels])
    assert singles.weight == 0 and singles.tagged_papers == 4 and singles.judged_papers == 0
    assert few_shot.combine(zero_shot, np.zeros_like(zero_shot), 0.5) is not None
    np.testing.assert_allclose(few_shot.combine(zero_shot, np.zeros_like(zero_shot), 0.5), zero_shot)


def test_knn_vote_leaves_the_query_itself_out():
    examples = np.eye(3)
    vote = few_shot.knn_vote(examples, examples, np.eye(3), temperature=0.05, exclude=np.arange(3))
    assert np.all(np.diag(vote) == 0) and np.allclose(vote.sum(axis=1), 1)


# ---- through the service, with a bag-of-words encoder ----------------------------------------
TOPICS = {
    "Biology": ["cell membrane protein gene expression", "gene regulation in cell cultures", "protein folding inside the cell",
                "enzyme kinetics of cell metabolism", "gene editing of plant cells"],
    "Astronomy": ["galaxy rotation curves and dark matter", "telescope survey of distant galaxy clusters", "star formation in a spiral galaxy",
                  "supernova light curves seen by a telescope", "exoplanet transits of a nearby star"],
}


@pytest.fixture
def topic_library(fresh_library):
    store = PaperStore(fresh_library.database)
    ids = {}
    with fresh_library.database.transaction():
        for topic, titles in TOPICS.items():
            for n, title in enumerate(titles):
                ids[(topic, n)] = store.insert(Paper(title=title, citekey=f"{topic[:3]}{n}"))
    return fresh_library, ids


def _classify(library, label_set, *, fit_to_library: bool = False):
    backend = bag_of_words_backend(library.database)
    ids = library.papers.all_ids()
    vectors = backend.stored_vectors(None, ids)
    matrix = np.stack([vectors[i] for i in ids])
    return ids, classifying.classify_papers(library.database, backend, ids, matrix, label_set,
                                            lambda wanted: backend.stored_vectors(None, wanted), k=2,
                                            library_vectors=vectors if fit_to_library else None)


CODED = LabelSet("codes", (Label("B01", "Research on living things."), Label("A02", "Research on the sky.")))


def test_classify_reports_zero_shot_then_few_shot_from_tagged_papers(topic_library):
    library, ids = topic_library
    _, items = _classify(library, CODED)
    assert {i["method"] for i in items} == {"zero-shot"} and items[0]["method_note"] == "zero-shot"
    assert items[0]["few_shot"]["tagged_papers"] == 0 and items[0]["tags"] == [] and items[0]["tags_method"] is None
    store = PaperStore(library.database)
    with library.database.transaction():
        for n in range(3):
            store.add_tag(ids[("Biology", n)], "B01", "user")
            store.add_tag(ids[("Astronomy", n)], "a02", "user")  # matched case-insensitively
    order, items = _classify(library, CODED)
    by_id = dict(zip(order, items))
    assert {i["method"] for i in items} == {"few-shot"}
    assert items[0]["method_note"] == "few-shot from 6 tagged papers" and items[0]["few_shot"]["knn_weight"] > 0
    for topic, code in (("Biology", "B01"), ("Astronomy", "A02")):
        for n in (3, 4):  # papers nobody tagged
            assert by_id[ids[(topic, n)]]["labels"][0]["label"] == code


def test_classifier_tags_are_not_examples(topic_library):
    library, ids = topic_library
    store = PaperStore(library.database)
    with library.database.transaction():
        for n in range(3):
            store.add_tag(ids[("Biology", n)], "B01", "classifier")
    _, items = _classify(library, CODED)
    assert items[0]["method"] == "zero-shot" and items[0]["tags"] == []


def test_a_code_like_own_tag_is_scored_by_its_papers_centroid(topic_library):
    library, ids = topic_library
    store = PaperStore(library.database)
    with library.database.transaction():
        for n in range(3):
            store.add_tag(ids[("Biology", n)], "t1", "user")
            store.add_tag(ids[("Astronomy", n)], "t2", "user")
    order, items = _classify(library, CODED)
    by_id = dict(zip(order, items))
    assert by_id[ids[("Biology", 4)]]["tags"][0]["label"] == "t1"
    assert by_id[ids[("Astronomy", 4)]]["tags"][0]["label"] == "t2"
    assert all(s["source"] == "tags" for s in by_id[ids[("Biology", 4)]]["tags"])


def test_zero_shot_does_not_embed_a_label_code(topic_library):
    library, _ = topic_library
    seen: list[str] = []
    base = bag_of_words_backend(library.database)

    def encode(texts, task, role):
        seen.extend(texts)
        return hash_embed(list(texts))

    backend = SemanticBackend(base.model_name, base.similarity, encode, base.neighbours, base.stored_vectors, base.embedded_count)
    arxiv = load_label_set("arxiv")
    from scimult_desktop.services.finding.paper_classification import label_vectors

    assert label_vectors(backend, list(arxiv.canonical())).shape[0] == len(arxiv.canonical())
    assert seen and not any(text.startswith(("cs.", "math.", "A research paper in cs.")) for text in seen)


def test_only_the_most_used_own_tags_become_labels(topic_library, monkeypatch):
    from scimult_desktop.services.finding import paper_classification

    library, ids = topic_library
    store = PaperStore(library.database)
    with library.database.transaction():
        for n in range(4):
            store.add_tag(ids[("Biology", n)], "cells", "user")
        store.add_tag(ids[("Astronomy", 0)], "rare keyword", "user")
    monkeypatch.setattr(paper_classification, "OWN_LABELS_MAX", 1)
    _, items = _classify(library, CODED)
    assert {s["label"] for item in items for s in item["tags"]} == {"cells"}


def test_large_vote_is_computed_in_chunks_like_one_block(monkeypatch):
    rng = np.random.default_rng(3)
    vectors, labels = _clusters(rng, per_class=10)
    onehot = np.eye(4)[labels]
    whole = few_shot.knn_vote(vectors, vectors, onehot, temperature=0.05, exclude=np.arange(40))
    monkeypatch.setattr(few_shot, "CHUNK", 7)
    np.testing.assert_allclose(few_shot.knn_vote(vectors, vectors, onehot, temperature=0.05, exclude=np.arange(40)), whole)
