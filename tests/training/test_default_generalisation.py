"""The default recipe's generalisation machinery: link pairs in the app's format, label sets held
out of training and evaluated zero-shot, and each task's expert chosen so that no task loses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from scimult_train.config import load_config
from scimult_train.data import Example
from scimult_train.data.default_data import CitedPapers, reference_title, unseen_examples
from scimult_train.recipes.default_minilm import compose_experts, select_experts, task_measures


@pytest.mark.parametrize(
    ("reference", "title"),
    [
        ("J. Zhang and S. Singh, \u201cLOAM: Lidar Odometry and Mapping in Real-time,\u201d in Robotics: Science and Systems, 2014.",
         "LOAM: Lidar Odometry and Mapping in Real-time"),
        ("He, K.; Zhang, X.; Ren, S.; and Sun, J. 2016. Deep residual learning for image recognition. In Proceedings of CVPR.",
         "Deep residual learning for image recognition"),
        ("Gordon D. Plotkin and John Power. Semantics for algebraic operations. In MFPS, volume 45 of ENTCS, pages 332-345, 2001.",
         "Semantics for algebraic operations"),
        ("C. H. Bennett \u00a6et al., \u00a6 Phys. Rev. Lett. \u00a670\u00a6 (1993) 1895.", None),  # no title in the string
        ("S. L. Braunstein, H. J. Kimble, Phys. Rev. Lett. 80, 869 (1998).", None),
    ],
)
def test_reference_title_reads_the_cited_title_or_nothing(reference, title):
    assert reference_title(reference) == title


def test_cited_papers_are_written_as_the_app_embeds_them():
    cited = CitedPapers([("Dense Passage Retrieval for Open-Domain QA", "We retrieve passages with dense vectors.")])
    assert cited.text("Dense passage retrieval for open-domain QA") == (
        "Dense passage retrieval for open-domain QA [SEP] We retrieve passages with dense vectors.")
    assert cited.text("A paper the shared data does not hold") == "A paper the shared data does not hold [SEP]"
    assert cited.matched == 1


def test_unseen_label_set_examples_are_one_per_paper_with_one_label_text():
    examples = [
        Example("classify", "paper A", "Physics", ("Biology",), "mag:physics"),
        Example("classify", "paper A", "A research paper in Chemistry.", (), "mag:chemistry"),
        Example("classify", "paper B", "Biology: life.", ("Physics",), "mag:biology"),
        Example("classify", "paper C", "x", (), "mag:unknown"),
    ]
    texts = {"mag:physics": "Physics [SEP] matter", "mag:chemistry": "Chemistry [SEP] molecules", "mag:biology": "Biology [SEP] life"}
    out = unseen_examples(examples, texts)
    assert [(e.query, e.positive, e.negatives) for e in out] == [
        ("paper A", "Physics [SEP] matter", ()), ("paper B", "Biology [SEP] life", ())]


def test_eval_unseen_paths_resolve_and_a_run_reports_the_zero_shot_sets(tmp_path):
    from scimult_train.train import run

    tiny_data = Path(load_config(preset="tiny").data[0])
    rows = [json.loads(line) for line in tiny_data.read_text().splitlines()]
    (tmp_path / "zero_shot.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows if r["task"] == "classify"))
    (tmp_path / "run.json").write_text(json.dumps({
        "init": "tiny-random", "data": [str(tiny_data)], "eval_data": [str(tiny_data)],
        "eval_unseen": {"labels": "zero_shot.jsonl"}, "max_steps": 2, "batch_size": 4, "max_length": 32,
        "eval_every": 0, "save_every": 0, "export_bundle": False, "device": "cpu", "out_dir": "out", "num_threads": 1,
    }))
    cfg = load_config(tmp_path / "run.json")
    assert cfg.eval_unseen == {"labels": str(tmp_path / "zero_shot.jsonl")}
    assert run(cfg) == 0
    evals = [json.loads(line)["eval"] for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines() if '"eval"' in line]
    assert evals and all("unseen:labels" in e and "classify" in e for e in evals)
    assert evals[0]["unseen:labels"]["n"] == sum(r["task"] == "classify" for r in rows)


def _evaluation(step, **mrr):
    names = {"unseen_mag": "unseen:mag_fields"}
    return {"step": step, "eval": {names.get(k, k): {"acc@1": 0.0, "mrr": v, "n": 10} for k, v in mrr.items()}}


def _saved(run: Path, *steps):
    for step in steps:
        (run / "checkpoints" / f"step_{step:06d}").mkdir(parents=True)
        (run / "checkpoints" / f"step_{step:06d}" / "state.pt").write_bytes(b"")


def test_each_expert_comes_from_its_best_step_where_no_measure_of_its_task_loses(tmp_path):
    run = tmp_path / "run"
    _saved(run, 50, 100, 150)
    unseen = {"unseen:mag_fields": "classify"}
    evals = [
        _evaluation(0, search=0.90, link=0.60, classify=0.30, unseen_mag=0.64),
        _evaluation(50, search=0.92, link=0.62, classify=0.40, unseen_mag=0.60),   # classify learns its sets, forgets MAG
        _evaluation(100, search=0.93, link=0.61, classify=0.45, unseen_mag=0.50),
        _evaluation(150, search=0.91, link=0.63, classify=0.50, unseen_mag=0.40),
        _evaluation(175, search=0.99, link=0.99, classify=0.99, unseen_mag=0.99),  # evaluated, never saved
    ]
    assert task_measures(evals[1]["eval"], "classify", unseen) == {"classify": 0.40, "unseen:mag_fields": 0.60}
    choice = select_experts(run, evals, unseen)
    assert {task: picked["step"] for task, picked in choice.items()} == {"search": 100, "link": 150, "classify": 0}
    assert choice["classify"]["checkpoint"] is None  # the untrained expert is kept
    assert choice["link"]["checkpoint"] == run / "checkpoints" / "step_000150"
    assert choice["classify"]["untrained"] == {"classify": 0.30, "unseen:mag_fields": 0.64}


def test_a_step_that_generalises_is_chosen_for_classify(tmp_path):
    run = tmp_path / "run"
    _saved(run, 50)
    unseen = {"unseen:mag_fields": "classify"}
    evals = [_evaluation(0, classify=0.30, unseen_mag=0.64), _evaluation(50, classify=0.35, unseen_mag=0.66)]
    assert select_experts(run, evals, unseen)["classify"]["step"] == 50


def test_compose_takes_only_the_chosen_tasks_expert_tensors(tmp_path, monkeypatch):
    from scimult_train.recipes import default_minilm

    base = {"layers.1.attn.q.0.weight": torch.zeros(2), "layers.1.attn.q.1.weight": torch.zeros(2),
            "layers.1.attn.q.2.weight": torch.zeros(2), "embeddings.word.weight": torch.zeros(2)}
    trained = {name: tensor + 1 if ".attn." in name else tensor for name, tensor in base.items()}
    monkeypatch.setattr(default_minilm, "trained_state", lambda checkpoint: (trained, {}))
    choice = {"search": {"checkpoint": Path("a")}, "link": {"checkpoint": None}, "classify": {"checkpoint": Path("b")}}
    state = compose_experts(base, choice, {"search": 0, "link": 1, "classify": 2}.__getitem__)
    assert [float(state[f"layers.1.attn.q.{i}.weight"][0]) for i in range(3)] == [1.0, 0.0, 1.0]
    trained["embeddings.word.weight"] = torch.ones(2)  # a shared weight trained: experts cannot be mixed
    with pytest.raises(SystemExit, match="no task expert"):
        compose_experts(base, choice, {"search": 0, "link": 1, "classify": 2}.__getitem__)
