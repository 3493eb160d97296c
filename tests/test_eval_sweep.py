import json

import torch
from tiny import tiny_backbone

from activation_rm.eval.records import PairRecord
from activation_rm.eval.runner import BenchmarkSpec, read_all_rows
from activation_rm.eval.settings import EvalSettings
from activation_rm.eval.sweep import BY_NAME, derive_mask, run_sweep, write_sweep_report
from activation_rm.judge.templates import JudgeTemplate
from activation_rm.scoring.reward_model import ActivationRM

SETTINGS = EvalSettings(max_length=256, steps=2, masks_per_step=4, n_contexts=3, n_shots=1, sav_heads=4)
NAMES = ["base", "heads_all", "heads_random", "heads_sav", "heads_top8", "balanced_means", "criterion_last",
         "question_alt", "pairwise", "fewshot_8"]


def _records(n, subsets=("length", "length-control")):
    return [PairRecord(f"{subsets[i % 2]}/{i}", subsets[i % 2], f"What is {i} plus {i}?", f"{2 * i}.",
                       f"{2 * i + 1}, the quick brown fox.", None) for i in range(n)]


def test_sweep_rows_resume_and_report(tmp_path):
    backbone = tiny_backbone("llama")
    records = _records(20)
    spec = BenchmarkSpec("PH", records[:12], records[12:], "the answer is correct", pool_group_by="subset",
                         pairs_with={"length": "length-control"})
    variants = [BY_NAME[n] for n in NAMES]
    heard: list[tuple[int, int]] = []
    items = run_sweep(backbone, [spec], [0, 1], 4, SETTINGS, variants, tmp_path, chunk=3, log=lambda m: None,
                      progress=lambda judged, skipped: heard.append((judged, skipped)))
    assert [j for j, _ in heard if j] == [3, 3, 2] and sum(s for _, s in heard) == 0  # the 8 pairs, by chunk
    rows = read_all_rows(tmp_path, "sweep-items")
    methods = set(NAMES) | {"zeroshot_prob", "sav", "sav_n8"}
    assert {r["method"] for r in rows} == methods
    assert len(rows) == 2 * 8 * len(methods)  # seeds x pairs x methods, each once
    # head variants reuse the base fit; the others have their own artifact (one per fit, shared by equal fits)
    fits = [json.loads(line) for line in (tmp_path / "sweep-fits.jsonl").read_text().splitlines()]
    assert {f["variant"] for f in fits if f["seed"] == 0} == {"base", "balanced_means", "criterion_last",
                                                              "question_alt", "pairwise", "fewshot_8"}
    # a torn line and a rerun: nothing is written twice, the fits are reloaded
    lines = items.read_text().splitlines()
    items.write_text("\n".join(lines[:-4]) + "\n" + lines[-4][:15])
    heard.clear()
    run_sweep(backbone, [spec], [0, 1], 4, SETTINGS, variants, tmp_path, chunk=3, log=lambda m: None,
              progress=lambda judged, skipped: heard.append((judged, skipped)))
    assert sum(j for j, _ in heard) + sum(s for _, s in heard) == 8 and sum(s for _, s in heard) >= 6  # resumed
    again = read_all_rows(tmp_path, "sweep-items")
    keys = [(r["seed"], r["method"], r["key"]) for r in again]
    assert len(keys) == len(set(keys)) == len(rows)
    paths = write_sweep_report(tmp_path, {"PH": "mean"}, {"PH": {"length": "length-control"}}, variants, base_n=4)
    assert paths["chart"].stat().st_size > 1000
    summary = json.loads(paths["summary"].read_text())["benchmarks"]["PH"]
    assert "vs_base" in summary["heads_all"] and "vs_base" not in summary["base"]
    assert summary["base"]["bias"] is not None and summary["base"]["control"] is not None
    md = paths["markdown"].read_text()
    assert "Few-shot curve" in md and "bias splits vs their controls" in md


def test_sweep_scores_equal_the_reward_models_own(tmp_path):
    """The fused last-token scoring of many variants gives what each ActivationRM computes alone."""
    backbone = tiny_backbone("llama")
    records = _records(14)
    spec = BenchmarkSpec("PH", records[:8], records[8:], "the answer is correct", pool_group_by="subset")
    variants = [BY_NAME[n] for n in ("base", "heads_all", "criterion_last", "pairwise")]
    run_sweep(backbone, [spec], [3], 4, SETTINGS, variants, tmp_path, log=lambda m: None)
    rows = {(r["method"], r["key"]): r for r in read_all_rows(tmp_path, "sweep-items")}
    test = records[8:]
    for name in ("base", "criterion_last", "pairwise"):
        rm = ActivationRM.load(tmp_path / "artifacts" / "PH" / "seed3" / name, backbone)
        got = rm.compare([r.prompt for r in test], [r.chosen for r in test], [r.rejected for r in test])
        for record, comparison in zip(test, got):
            row = rows[(name, record.key)]
            torch.testing.assert_close(row["score_chosen"], comparison.score_a, atol=1e-4, rtol=0)
            torch.testing.assert_close(row["score_rejected"], comparison.score_b, atol=1e-4, rtol=0)


def test_derive_mask_counts():
    backbone = tiny_backbone("llama")
    shape = (backbone.num_layers, backbone.num_heads)
    mask = torch.zeros(shape, dtype=torch.bool)
    mask[0, 0] = mask[1, 1] = True
    probs = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    rm = ActivationRM(backbone, JudgeTemplate("c"), torch.zeros(*shape, backbone.head_dim), mask, probs)
    assert derive_mask(rm, "all", 0, None).all()
    assert int(derive_mask(rm, "random", 0, None).sum()) == 2
    assert torch.equal(derive_mask(rm, "random", 0, None), derive_mask(rm, "random", 0, None))
    ranking = torch.arange(mask.numel()).flip(0)
    assert derive_mask(rm, "sav", 0, ranking).flatten()[-2:].all()
    top = derive_mask(rm, "top:3", 0, None)
    assert int(top.sum()) == 3 and bool(top.flatten()[probs.flatten().argmax()])


def test_score_variants_shares_one_encoding_per_template(tmp_path, monkeypatch):
    import activation_rm.scoring.reward_model as reward_model

    backbone = tiny_backbone("llama")
    records = _records(12)
    spec = BenchmarkSpec("PH", records[:8], records[8:], "the answer is correct", pool_group_by="subset")
    calls = []
    original = reward_model.multi_steering_logits
    monkeypatch.setattr(reward_model, "multi_steering_logits",
                        lambda b, q, s, **kw: calls.append(len(s)) or original(b, q, s, **kw))
    encoded = []
    encode = ActivationRM.encode
    monkeypatch.setattr(ActivationRM, "encode", lambda self, items: encoded.append(len(items)) or encode(self, items))
    run_sweep(backbone, [spec], [0, 1], 4, SETTINGS, [BY_NAME[n] for n in ("base", "heads_all", "heads_top8")],
              tmp_path, chunk=10, log=lambda m: None)
    assert calls == [6]  # one pass: 2 seeds x 3 head variants as per-row steerings
    assert encoded == [8]  # the 4 evaluated pairs' 8 queries, encoded once for all six (seed, variant) models
