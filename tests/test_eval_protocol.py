"""activation_rm.eval.protocol: the bias + control protocol's few-shot draws, its cached-prefix scorer (equal to
ActivationRM.compare) and a resumable run unit, on a tiny random model."""

import pytest
import torch
from tiny import QA_PROMPTS, QA_RESPONSES, random_rm, tiny_backbone

from activation_rm.eval.protocol import (
    EvalScorer,
    ProtocolRun,
    Task,
    baseline_settings,
    draw_fewshot,
    fit_settings,
    stale_rows,
)
from activation_rm.eval.records import PairRecord
from activation_rm.eval.rows import RowStore
from activation_rm.eval.variants import Variant
from activation_rm.scoring.reward_model import ActivationRM


def task(n_pool: int = 6, n_eval: int = 3) -> Task:
    def records(split: str, n: int, start: int) -> list[PairRecord]:
        return [PairRecord(f"{split}{i}", f"length-{split}", QA_PROMPTS[i % len(QA_PROMPTS)],
                           QA_RESPONSES[i % len(QA_RESPONSES)], QA_RESPONSES[(i + 1) % len(QA_RESPONSES)], "length")
                for i in range(start, start + n)]

    evaluate = records("bias", n_eval, 100) + records("control", n_eval, 200)
    out = Task("length", "the answer is correct", {"bias": records("bias", n_pool, 0),
                                                   "control": records("control", n_pool, 0)}, evaluate)
    out.split_of = {r.key: r.id.rstrip("0123456789") for r in [*evaluate, *out.pool["bias"], *out.pool["control"]]}
    return out


def test_draws_are_seeded_interleaved_and_flip_the_noise_share():
    t = task()
    clean = draw_fewshot(t, 3, seed=3)
    assert clean == draw_fewshot(t, 3, seed=3) and clean != draw_fewshot(t, 3, seed=4)
    assert [t.split_of[r.key] for r in clean] == ["bias", "control"] * 3
    noisy = draw_fewshot(t, 3, seed=3, noise=0.5)
    flipped = [(a, b) for a, b in zip(clean, noisy) if a != b]
    assert len(flipped) == 3 and all(a.chosen == b.rejected and a.rejected == b.chosen for a, b in flipped)
    with pytest.raises(ValueError, match=r"length: 7 few-shot pairs asked from a pool of 6 \(bias\)"):
        draw_fewshot(t, 7, seed=0)


def test_scorer_equals_the_reward_models_own_scores_steered_and_not():
    backbone = tiny_backbone("llama")
    t = task()
    rm = random_rm(backbone, t.criterion, seed=1)
    scorer = EvalScorer(backbone, rm.template, t.evaluate)
    chosen = rm.score([r.prompt for r in t.evaluate], [r.chosen for r in t.evaluate])
    rejected = rm.score([r.prompt for r in t.evaluate], [r.rejected for r in t.evaluate])
    expected = torch.logit(torch.tensor(chosen + rejected, dtype=torch.float64))
    torch.testing.assert_close(scorer.log_odds(rm.mask, rm.means), expected, rtol=1e-4, atol=1e-4)
    plain = rm.without_steering().score([r.prompt for r in t.evaluate], [r.chosen for r in t.evaluate])
    torch.testing.assert_close(torch.sigmoid(scorer.plain[: len(t.evaluate)]), torch.tensor(plain, dtype=torch.float64),
                               rtol=1e-4, atol=1e-5)
    scorer.check(rm, t.evaluate)
    shifted = ActivationRM(backbone, rm.template, rm.means * 0.1, rm.mask, intervention="shift")
    shifted_scores = shifted.score([r.prompt for r in t.evaluate], [r.chosen for r in t.evaluate])
    torch.testing.assert_close(torch.sigmoid(scorer.log_odds(shifted.mask, shifted.means, True)[: len(t.evaluate)]),
                               torch.tensor(shifted_scores, dtype=torch.float64), rtol=1e-4, atol=1e-5)
    scorer.check(shifted, t.evaluate)
    chosen_then_rejected = torch.tensor([2.0, 0.0, 1.0, 1.0, 3.0, 1.0] + [1.0, 1.0, 1.0, 0.0, 4.0, 0.0])
    assert scorer.correct(chosen_then_rejected) == [1.0, 0.0, 0.5, 1.0, 0.0, 1.0]


def test_a_run_unit_writes_one_row_per_method_and_a_rerun_adds_none(tmp_path):
    backbone = tiny_backbone("llama")
    rows = RowStore(tmp_path / "rows.jsonl")
    run = ProtocolRun(backbone, rows, "dev", icl_pairs=2, sav_heads=4, log=lambda message: None)
    tiny = Variant("default", dict(steps=2, masks_per_step=4, n_contexts=2, final_samples=2, max_length=256))
    run.run(task(), 0, 2, 0.0, [tiny], ["zeroshot", "sav", "icl"])
    written = [r for r in RowStore(tmp_path / "rows.jsonl").by_key.values()]
    assert [r["method"] for r in written] == ["default", "zeroshot", "sav", "icl"]
    assert all(len(r["correct"]) == 6 and r["splits"] == ["bias"] * 3 + ["control"] * 3 for r in written)
    assert written[0]["key"] == "dev|length|seed0|n2|noise0.0|default" and written[0]["fit"] == tiny.fit
    run.run(task(), 0, 2, 0.0, [tiny], ["zeroshot", "sav", "icl"])
    assert len((tmp_path / "rows.jsonl").read_text().splitlines()) == 4
    with pytest.raises(ValueError, match="unknown baseline"):
        run.run(task(), 1, 2, 0.0, [], ["majority"])


def test_rows_record_their_fit_settings_and_a_changed_or_unrecorded_one_is_stale(tmp_path):
    backbone = tiny_backbone("llama")
    path = tmp_path / "rows.jsonl"
    run = ProtocolRun(backbone, RowStore(path), "dev", log=lambda message: None)
    tiny = Variant("default", dict(steps=2, masks_per_step=4, n_contexts=2, final_samples=2, max_length=256))
    run.run(task(), 0, 2, 0.0, [tiny], [])
    rows = RowStore(path)
    (row,) = rows.by_key.values()
    assert row["settings"] == fit_settings(tiny, task().criterion)
    assert row["settings"]["contexts"]["n_contexts"] == 2 and "criterion" not in row["settings"]["template"]
    assert stale_rows(rows, "dev", [(task(), 0, 2, 0.0, [tiny], [])]) == []
    assert stale_rows(rows, "dev", [(task(), 1, 2, 0.0, [tiny], [])]) == []  # not there yet: nothing to keep
    wider = Variant("default", {**tiny.fit, "n_contexts": 3, "queries_per_demo_set": 1})
    (message,) = stale_rows(rows, "dev", [(task(), 0, 2, 0.0, [wider], [])])
    assert "'dev|length|seed0|n2|noise0.0|default'" in message
    assert "contexts.n_contexts=2 (now 3)" in message and "contexts.queries_per_demo_set=4 (now 1)" in message
    (message,) = stale_rows(rows, "dev", [(task(), 0, 2, 0.0, [Variant("default", tiny.fit, readout="delta")], [])])
    assert "scoring.readout='p_yes' (now 'delta')" in message
    del row["settings"]  # a row written before rows kept their settings
    (message,) = stale_rows(rows, "dev", [(task(), 0, 2, 0.0, [tiny], [])])
    assert "records no settings" in message


def test_baseline_rows_record_their_settings_and_a_changed_one_is_stale(tmp_path):
    backbone = tiny_backbone("llama")
    path = tmp_path / "rows.jsonl"
    run = ProtocolRun(backbone, RowStore(path), "dev", icl_pairs=2, sav_heads=4, log=lambda message: None)
    run.run(task(), 0, 2, 0.0, [], ["zeroshot", "sav", "icl"])
    rows = RowStore(path)
    criterion = task().criterion
    for method in ("zeroshot", "sav", "icl"):
        row = rows.by_key[f"dev|length|seed0|n2|noise0.0|{method}"]
        assert row["settings"] == baseline_settings(method, criterion, icl_pairs=2, sav_heads=4)
        assert "criterion" not in row["settings"]["template"]
    assert baseline_settings("icl", criterion, 2, 4)["baseline"] == {"icl_pairs": 2}
    assert baseline_settings("sav", criterion, 2, 4)["baseline"] == {"sav_heads": 4}
    unit = (task(), 0, 2, 0.0, [], ["zeroshot", "sav", "icl"])
    assert stale_rows(rows, "dev", [unit], icl_pairs=2, sav_heads=4) == []
    messages = stale_rows(rows, "dev", [unit], icl_pairs=3, sav_heads=5)
    assert len(messages) == 2
    assert "'dev|length|seed0|n2|noise0.0|icl'" in messages[1] and "baseline.icl_pairs=2 (now 3)" in messages[1]
    assert "'dev|length|seed0|n2|noise0.0|sav'" in messages[0] and "baseline.sav_heads=4 (now 5)" in messages[0]
    del rows.by_key["dev|length|seed0|n2|noise0.0|zeroshot"]["settings"]  # a row from before rows kept them
    (message,) = stale_rows(rows, "dev", [unit], icl_pairs=2, sav_heads=4)
    assert "'dev|length|seed0|n2|noise0.0|zeroshot' records no settings" in message
