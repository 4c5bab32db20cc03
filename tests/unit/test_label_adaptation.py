"""Zero-shot label vectors fitted to the library's papers (services/finding/label_adaptation.py)."""

from __future__ import annotations

import numpy as np
import pytest

from scimult_desktop.services.finding import label_adaptation
from scimult_desktop.services.finding.label_sets import Label, LabelSet
from scimult_desktop.store.papers import PaperStore


def _unit(m):
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def _gap_world(rng, classes=6, per_class=40, dim=48):
    """Papers in `classes` topic clusters around a shared "abstract" direction; labels written
    around another shared "label text" direction, one of them (a broad label) nearer the papers' mass."""
    topics = _unit(rng.normal(size=(classes, dim)))
    paper_style, label_style = _unit(rng.normal(size=(2, dim)))
    gold = np.repeat(np.arange(classes), per_class)
    papers = _unit(0.45 * topics[gold] + paper_style + 0.25 * rng.normal(size=(len(gold), dim)))
    labels = 0.45 * topics + label_style
    labels[0] += 0.6 * paper_style  # the broad label: close to every paper
    return papers, _unit(labels), gold


def test_fitting_labels_to_the_papers_stops_a_broad_label_winning_everything():
    papers, labels, gold = _gap_world(np.random.default_rng(0))
    before = (papers @ labels.T).argmax(axis=1)
    after = (papers @ label_adaptation.adapt_label_vectors(labels, papers).T).argmax(axis=1)
    assert np.mean(before == 0) > 0.5  # the broad label takes most papers as written
    assert np.mean(after == gold) > np.mean(before == gold) + 0.3
    assert np.allclose(np.linalg.norm(label_adaptation.adapt_label_vectors(labels, papers), axis=1), 1.0)


def test_the_shift_puts_the_labels_mean_on_the_papers_mean_before_normalising():
    rng = np.random.default_rng(1)
    papers, labels, _ = _gap_world(rng)
    raw = labels + (papers.mean(axis=0) - labels.mean(axis=0))
    assert np.allclose(raw.mean(axis=0), papers.mean(axis=0))
    assert np.allclose(label_adaptation.shift_labels_to_papers(labels, papers), _unit(raw))


def test_the_library_fit_is_the_shift_and_too_few_papers_change_nothing():
    rng = np.random.default_rng(2)
    papers, labels, _ = _gap_world(rng, classes=6, per_class=2)
    assert np.allclose(label_adaptation.adapt_label_vectors(labels, papers), label_adaptation.shift_labels_to_papers(labels, papers))
    too_few = papers[: label_adaptation.MIN_REFERENCE_PAPERS - 1]  # no distribution: one paper's "mean" is itself
    assert label_adaptation.adapt_label_vectors(labels, too_few) is labels


def _selection_tool():
    """tools/select_label_adaptation.py, where the rejected pull step lives for its comparison."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "tools" / "select_label_adaptation.py"
    spec = importlib.util.spec_from_file_location("select_label_adaptation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pull_moves_each_label_towards_its_nearest_papers():
    rng = np.random.default_rng(3)
    papers, labels, gold = _gap_world(rng)
    shifted = label_adaptation.shift_labels_to_papers(labels, papers)
    pulled = _selection_tool().pull_labels_to_nearest_papers(shifted, papers, 0.25)
    centroids = _unit(np.stack([papers[gold == k].mean(axis=0) for k in range(labels.shape[0])]))
    assert np.all(np.sum(pulled * centroids, axis=1) >= np.sum(shifted * centroids, axis=1) - 1e-9)


def test_reference_sample_spreads_over_a_large_library(monkeypatch):
    monkeypatch.setattr(label_adaptation, "REFERENCE_PAPERS_MAX", 10)
    ids = list(range(100))
    sample = label_adaptation.reference_sample(ids)
    assert len(sample) == 10 and sample[0] == 0 and sample[-1] >= 90 and sample == sorted(set(sample))
    assert label_adaptation.reference_sample(ids[:7]) == ids[:7]


# ---- through Library.classify -----------------------------------------------------------------
@pytest.fixture
def library_with_topics(fresh_library):
    from tests.unit.test_classification import TOPICS
    from scimult_desktop.domain.records import Paper

    store = PaperStore(fresh_library.database)
    with fresh_library.database.transaction():
        for topic, titles in TOPICS.items():
            for n, title in enumerate(titles):
                store.insert(Paper(title=title, citekey=f"{topic[:3]}{n}"))
    return fresh_library


def test_classify_fits_labels_of_a_cosine_model_and_says_so(library_with_topics):
    from tests.unit.test_classification import _classify

    labels = LabelSet("topics", (Label("biology"), Label("astronomy")))
    _, items = _classify_with_library(library_with_topics, labels)
    assert items and all(item["few_shot"]["labels_fitted_to_library"] for item in items)
    _, plain = _classify(library_with_topics, labels)  # no library vectors given: labels as written
    assert not any(item["few_shot"]["labels_fitted_to_library"] for item in plain)


def _classify_with_library(library, label_set):
    from tests.unit.test_classification import _classify

    return _classify(library, label_set, fit_to_library=True)


def test_tags_that_cannot_be_judged_leave_zero_shot_exactly_as_without_tags(library_with_topics):
    labels = LabelSet("topics", (Label("biology"), Label("astronomy")))
    _, before = _classify_with_library(library_with_topics, labels)
    first = library_with_topics.papers.all_ids()[0]
    with library_with_topics.database.transaction():
        PaperStore(library_with_topics.database).add_tag(first, "biology", "user")  # one tag: nothing to judge
    _, after = _classify_with_library(library_with_topics, labels)
    assert [i["labels"] for i in after] == [i["labels"] for i in before]
    assert after[0]["method"] == "zero-shot" and after[0]["few_shot"]["tagged_papers"] == 1


def test_a_library_too_small_to_fit_keeps_labels_as_written_and_says_so(fresh_library):
    from scimult_desktop.domain.records import Paper

    store = PaperStore(fresh_library.database)
    with fresh_library.database.transaction():
        for n in range(3):
            store.insert(Paper(title=f"Galaxies and stars, part {n}", citekey=f"ast{n}"))
    labels = LabelSet("topics", (Label("biology"), Label("astronomy")))
    _, items = _classify_with_library(fresh_library, labels)
    assert items and not any(item["few_shot"]["labels_fitted_to_library"] for item in items)


def test_label_weights_follow_the_librarys_mix_and_keep_rows_normalised():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.5, 0.1, 0.4], [0.8, 0.1, 0.1]])
    weights = label_adaptation.prior_weights(probabilities)
    share = probabilities.mean(axis=0) * 3
    assert np.allclose(weights, np.sqrt(share)) and weights[0] > weights[1]
    reweighted = label_adaptation.reweight(probabilities, weights)
    assert np.allclose(reweighted.sum(axis=1), 1.0) and np.all(reweighted[:, 0] >= probabilities[:, 0])
    assert label_adaptation.reweight(probabilities, None) is probabilities


def test_a_single_field_library_keeps_its_field_with_the_label_weights():
    """Papers from 2 of 8 topics: the shift alone spreads them over absent topics; the label-mix weights pull them back."""
    from scimult_desktop.services.finding.paper_classification import softmax_rows

    rng = np.random.default_rng(4)
    papers, labels, gold = _gap_world(rng, classes=8, per_class=60)
    keep = gold < 2
    papers, gold = papers[keep], gold[keep]
    shifted = label_adaptation.shift_labels_to_papers(labels, papers)
    shift_only = (papers @ shifted.T).argmax(axis=1)
    probabilities = softmax_rows(papers @ shifted.T, 0.05)
    weighted = label_adaptation.reweight(probabilities, label_adaptation.prior_weights(probabilities)).argmax(axis=1)
    assert np.mean(weighted < 2) > np.mean(shift_only < 2)
