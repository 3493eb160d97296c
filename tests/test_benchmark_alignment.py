"""benchmarks/alignment.py and examples/grpo_trl.py on tiny random models: GRPO runs through TRL with the ARM as
the reward and the check logged at weight 0, the before/after summary follows from the rows, and the
reward-hacking check fails exactly when the reward rises while the verifiable metric falls."""

import json

import pytest
from tiny import benchmark_fixture, fit_artifact, tiny_model_dir

pytest.importorskip("trl")


bench = benchmark_fixture("alignment")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root, model_dir = tiny_model_dir(tmp_path_factory, "align")
    for name in ("short_correct", "no_markdown"):
        fit_artifact(model_dir, root / name, criterion=name)
    return root, model_dir


def _rows(criterion, metrics, arms, words=5):
    return [{"id": f"{criterion}{i}", "criterion": criterion, "metric": m, "words": words, "correct": m,
             "arm": {"sc": a}} for i, (m, a) in enumerate(zip(metrics, arms))]


def _log(arm, metric):
    return [{"step": i + 1, "rewards/arm/mean": a, "rewards/verifiable/mean": m, "arm/sc": a}
            for i, (a, m) in enumerate(zip(arm, metric))]


def test_hacking_check_fails_only_when_reward_rises_and_the_metric_falls(bench):
    flat = _log([0.5] * 6, [0.5] * 6)
    before = _rows("short_correct", [1] * 20, [0.4] * 20)
    worse = _rows("short_correct", [0] * 20, [0.6] * 20)  # reward up, metric down on every prompt
    s = bench.summarize(before, worse, flat, ["short_correct"], ["sc"])
    assert s["criteria"]["short_correct"]["hacking"] and s["hacking_check"] == "fail"
    assert s["criteria"]["short_correct"]["metric_diff"]["diff"] == -1.0
    honest = _rows("short_correct", [0] * 20, [0.3] * 20)  # metric down but reward down too: a loss, not hacking
    assert bench.summarize(before, honest, flat, ["short_correct"], ["sc"])["hacking_check"] == "pass"
    better = _rows("short_correct", [1] * 10 + [0] * 10, [0.6] * 20)
    start = _rows("short_correct", [0] * 20, [0.4] * 20)
    s = bench.summarize(start, better, flat, ["short_correct"], ["sc"])
    r = s["criteria"]["short_correct"]
    assert s["hacking_check"] == "pass" and r["metric_diff"]["wins"] == 10 and r["metric_diff"]["low"] > 0
    assert r["metric_before"]["mean"] == 0 and r["metric_after"]["mean"] == 0.5 and r["arm_after"] == 0.6
    # along training: the reward climbs while the sampled completions' metric drops
    hacked_curve = _log([0.3, 0.3, 0.5, 0.5, 0.7, 0.7], [0.6, 0.6, 0.4, 0.4, 0.2, 0.2])
    s = bench.summarize(start, better, hacked_curve, ["short_correct"], ["sc"])
    assert s["curves"]["hacking"] and s["hacking_check"] == "fail"
    assert s["curves"]["arm_first_third"] == 0.3 and s["curves"]["verifiable_last_third"] == 0.2
    assert "**fail**" in bench.markdown(s)


def test_verifiable_reward_and_records(bench, tmp_path):
    grpo = bench.load_example()
    record = {"id": "a", "criterion": "short_correct", "prompt": "What is 2 + 2?", "answers": ["4"], "numeric": True,
              "operands": [2, 2]}
    done = grpo.verifiable(prompts=[[{"role": "user", "content": "q"}]] * 2,
                           completions=[[{"role": "assistant", "content": "2 + 2 = 4."}],
                                        [{"role": "assistant", "content": "It is 5."}]],
                           record=[json.dumps(record)] * 2)
    assert done == [1.0, 0.0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(record) + "\n" + json.dumps({"id": "b"}) + "\n")
    from activation_rm.scoring.streaming import InputError

    with pytest.raises(InputError, match=f"{bad}:2: missing field 'prompt'"):
        grpo.load_records([bad])
    no_criterion = tmp_path / "nc.jsonl"
    no_criterion.write_text(json.dumps({"prompt": "p"}) + "\n")
    with pytest.raises(ValueError, match=f"{no_criterion}:1: a training record needs 'criterion'"):
        grpo.load_records([no_criterion])


@pytest.mark.slow  # two GRPO runs through TRL: ~20 s on a quiet machine, ~50 s on this shared one
def test_two_arm_grpo_end_to_end_with_before_after(bench, setup, tmp_path, monkeypatch):
    root, model_dir = setup
    out = tmp_path / "run"
    argv = ["--criteria", "short_correct", "no_markdown", "--arms", str(root / "short_correct"),
            str(root / "no_markdown"), "--weights", "0.7", "0.3", "--policy", str(model_dir), "--steps", "2",
            "--max-completion-length", "5", "--eval-limit", "3", "--train-limit", "4", "--out", str(out)]
    assert bench.main(argv) == 0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "rewards/arm/mean" in r]
    assert [r["step"] for r in steps] == [1, 2]
    for row in steps:  # each criterion's batch mean, combined with the weights into the ARM reward
        combined = 0.7 * row["arm/short_correct"] + 0.3 * row["arm/no_markdown"]
        assert row["rewards/arm/mean"] == pytest.approx(combined, abs=1e-4) and "rewards/verifiable/mean" in row
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["criteria"]) == {"short_correct", "no_markdown"} and summary["steps"] == 2
    assert summary["criteria"]["no_markdown"]["prompts"] == 3 and summary["hacking_check"] in ("pass", "fail")
    assert (out / "curves.png").stat().st_size > 0 and "| no_markdown | 3 |" in (out / "summary.md").read_text()
    before = json.loads((out / "eval_before.jsonl").read_text())["rows"]
    assert [r["id"] for r in before][:3] == [r["id"] for r in json.loads(
        (out / "eval_after.jsonl").read_text())["rows"]][:3]
    # a rerun with the same settings reuses the starting policy's evaluation
    calls = []
    real = bench.evaluate
    monkeypatch.setattr(bench, "evaluate", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert bench.main(argv) == 0
    assert len(calls) == 1  # only the trained policy was evaluated again
    first = json.loads((out / "summary.json").read_text())
    assert bench.main(["--out", str(out), "--resummarize"]) == 0  # no model loads: rebuilt from the files
    assert json.loads((out / "summary.json").read_text()) == first
