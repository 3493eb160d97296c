"""benchmarks/fit_cost.py on a tiny random model: the real-length pair draw, the timed fit rows and the check
that a context budget leaves the accuracy benchmark's contexts as they were."""

import json
import sys

import pytest
from tiny import ROOT, load_benchmark

sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def fit_cost():
    return load_benchmark("fit_cost")


def test_long_pairs_are_seeded_disjoint_and_real_length(fit_cost, shared_data):
    fit, held = fit_cost.long_pairs(40, 60, seed=0)
    assert len(fit) == 40 and len(held) == 60
    assert not {p["prompt"] + p["chosen"] for p in fit} & {p["prompt"] + p["chosen"] for p in held}
    assert all(150 <= len(p[k].split()) <= 300 for p in fit + held for k in ("chosen", "rejected"))
    assert fit_cost.long_pairs(40, 60, seed=0) == (fit, held) and fit_cost.long_pairs(40, 60, seed=1)[0] != fit


def test_fit_rows_time_each_variant_and_score_the_held_out_pairs(fit_cost, model_dir, tmp_path, shared_data):
    fast = "steps=2,masks_per_step=4,n_contexts=3,n_shots=1"
    assert fit_cost.main(["--model", str(model_dir), "--pairs", "4", "--eval", "4", "--threads", "1",
                          "--variants", f"full:{fast}", f"cut:{fast},context_tokens=256",
                          "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "fit_cost.json").read_text())["results"]
    assert set(results) == {"full", "cut"}
    assert results["cut"]["context_tokens_max"] <= 256 + 64 < results["full"]["context_tokens_max"]
    for row in results.values():
        assert row["fit_seconds"] > 0 and row["fit_cpu_seconds"] > 0 and 0 <= row["held_out_accuracy"] <= 1
        assert row["zero_shot_accuracy"] == results["full"]["zero_shot_accuracy"]


def test_unchanged_counts_the_contexts_a_budget_changes(fit_cost, model_dir, tmp_path):
    from activation_rm.model.backbone import load_backbone

    backbone = load_backbone(str(model_dir))
    few = {"seeds": range(1), "sizes": (4,), "base": {"n_contexts": 4}}
    same = fit_cost.unchanged_contexts(backbone, {}, **few)
    assert len(same) == 8 and all(differ == 0 < total for differ, total in same.values())
    tight = fit_cost.unchanged_contexts(backbone, {"context_tokens": 64}, **few)
    assert any(differ > 0 for differ, _ in tight.values())
