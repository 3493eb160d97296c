"""The accuracy benchmark's protocol (benchmarks/accuracy.py) on a tiny random model: splits, draws, label
noise, pooling, and a resumable end-to-end run with the curve and the noise levels."""

import json

import pytest
from tiny import load_benchmark, save_tiny_model


@pytest.fixture(scope="module")
def accuracy():
    return load_benchmark("accuracy")


def test_own_tasks_keep_evaluated_questions_out_of_the_pool(accuracy):
    for half in ("dev", "test"):
        tasks = accuracy.own_tasks(half, 50)
        assert [t.name for t in tasks] == list(accuracy.BIASES)
        for task in tasks:
            assert len(task.evaluate) == 100 and {k: len(v) for k, v in task.pool.items()} == {"bias": 30,
                                                                                             "control": 30}
            question = lambda r: r.id.rsplit("-", 1)[1]  # noqa: E731
            pool_questions = {question(r) for rs in task.pool.values() for r in rs}
            assert not pool_questions & {question(r) for r in task.evaluate}
            assert sorted(task.split_of[r.key] for r in task.evaluate).count("bias") == 50
    dev, test = accuracy.own_tasks("dev", 50)[0], accuracy.own_tasks("test", 50)[0]
    assert not {r.prompt for r in dev.evaluate} & {r.prompt for r in test.evaluate}


def test_fewshot_draws_of_the_benchmark_tasks_fill_every_split(accuracy):
    from activation_rm.eval.protocol import draw_fewshot

    task = accuracy.own_tasks("dev", 50)[1]
    assert [task.split_of[r.key] for r in draw_fewshot(task, 10, seed=3)] == ["bias", "control"] * 10
    assert [len(draw_fewshot(t, 10, seed=0)) for t in accuracy.bundled_tasks()] == [20, 20]


def test_pooled_rows_average_the_six_splits(accuracy):
    rows = []
    for task, score in zip(accuracy.BIASES, (1.0, 0.5, 0.0)):
        rows.append({"key": f"t|{task}|0|m", "tag": "t", "task": task, "seed": 0, "n_fit": 10, "noise": 0.0,
                     "method": "m", "correct": [score, 1.0], "splits": ["bias", "control"]})
        rows.append({**rows[-1], "key": f"t|ph-{task}|0|m", "task": f"ph-{task}", "correct": [0.0, score]})
    summary = accuracy.summarise(rows)
    pooled = summary[f"t|n10|noise0.0|{accuracy.POOLED}"]["m"]
    assert pooled["mean"] == pytest.approx(100 * (1.0 + 0.5 + 0.0 + 3) / 6)
    assert summary["t|n10|noise0.0|format"]["m"]["splits"] == {"bias": 50.0, "control": 100.0}
    ph = summary[f"t|n10|noise0.0|ph: {accuracy.POOLED}"]["m"]  # each set pooled on its own
    assert accuracy.bias_and_control(f"ph: {accuracy.POOLED}", ph["splits"]) == (0.0, 50.0)
    assert accuracy.bias_and_control(accuracy.POOLED, pooled["splits"]) == (50.0, 100.0)


def test_curve_tables_use_the_seeds_every_point_has(accuracy):
    def row(method, seed, n_fit, noise, bias, control):
        return {"key": f"t|length|{seed}|{n_fit}|{noise}|{method}", "tag": "t", "task": "length", "seed": seed,
                "n_fit": n_fit, "noise": noise, "method": method, "correct": [bias, control],
                "splits": ["bias", "control"]}

    rows = [row("zeroshot", 0, 10, 0.0, 0.0, 1.0), row("zeroshot", 1, 10, 0.0, 0.0, 1.0),
            row("default", 0, 10, 0.0, 1.0, 1.0), row("default", 1, 10, 0.0, 0.0, 0.0),  # seed 1 only at n=10
            row("default", 0, 4, 0.0, 1.0, 0.0), row("default", 0, 10, 0.3, 0.0, 1.0)]
    text = accuracy.curve_markdown(rows, n_fit=10)
    few_shot, noise = text.split("####")[1:]
    assert "(seeds 0)" in few_shot and "| default | 50.0 (100 / 0) | 100.0 (100 / 100) |" in few_shot
    assert "| zeroshot | 50.0 (0 / 100) | 50.0 (0 / 100) |" in few_shot  # read once, shown at every point
    assert "| 0% | 30% |" in noise and "| default | 100.0 (100 / 100) | 50.0 (0 / 100) |" in noise
    assert accuracy.curve_markdown(rows[:4], n_fit=10) == "\n"  # one point is no curve
    summary = accuracy.summarise(rows)  # the noisy fit is tested against the task's one zero-shot result
    assert summary["t|n10|noise0.3|length"]["default"]["vs"]["zeroshot"]["diff"] == 0.0
    assert "zeroshot" not in summary["t|n10|noise0.3|length"]


def test_end_to_end_on_a_tiny_model_with_curve_noise_and_resume(accuracy, tmp_path):
    model_dir = tmp_path / "tiny"
    save_tiny_model(model_dir)
    args = ["--half", "dev", "--biases", "format", "--seeds", "0", "--n-eval", "3", "--model", str(model_dir),
            "--variants", "default:steps=3,masks_per_step=4,n_contexts=3,final_samples=2",
            "--curve", "--noise", "--out", str(tmp_path / "out")]
    assert accuracy.main(args) == 0
    rows = [json.loads(line) for line in (tmp_path / "out" / "rows.jsonl").read_text().splitlines()]
    plan = {(r["n_fit"], r["noise"]) for r in rows}
    assert plan == {(4, 0.0), (10, 0.0), (20, 0.0), (30, 0.0), (10, 0.1), (10, 0.2), (10, 0.3)}
    assert {r["method"] for r in rows if (r["n_fit"], r["noise"]) == (10, 0.0)} == {"default", "zeroshot", "icl",
                                                                                   "sav"}
    assert all(len(r["correct"]) == 6 for r in rows)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["summary"]
    assert "dev|n10|noise0.2|format" in summary
    tables = (tmp_path / "out" / "summary.md").read_text()
    assert "| method | 4 | 10 | 20 | 30 |" in tables and "| method | 0% | 10% | 20% | 30% |" in tables
    assert accuracy.main(args) == 0  # a rerun finds every row done and adds none
    assert len((tmp_path / "out" / "rows.jsonl").read_text().splitlines()) == len(rows)


def test_a_rerun_with_other_fit_settings_under_the_same_name_stops_before_loading(accuracy, tmp_path, capsys):
    model_dir = tmp_path / "tiny"
    save_tiny_model(model_dir)
    args = ["--half", "dev", "--biases", "format", "length", "--seeds", "0", "--n-eval", "3", "--model",
            str(model_dir), "--baselines", "zeroshot", "--out", str(tmp_path / "out"), "--variants"]
    assert accuracy.main([*args, "default:steps=3,masks_per_step=4,n_contexts=3,final_samples=2"]) == 0
    before = (tmp_path / "out" / "rows.jsonl").read_text()
    (model_dir / "config.json").unlink()  # loading the model now fails: the check must come first
    with pytest.raises(SystemExit):
        accuracy.main([*args, "default:steps=3,masks_per_step=4,n_contexts=5,final_samples=2"])
    error = capsys.readouterr().err
    assert "2 row(s) already in" in error and "contexts.n_contexts=3 (now 5)" in error
    assert "'dev|format|seed0|n10|noise0.0|default'" in error and "'dev|length|seed0|n10|noise0.0|default'" in error
    assert (tmp_path / "out" / "rows.jsonl").read_text() == before


def test_natural_tasks_are_prefixed_split_and_disjoint_across_halves(accuracy):
    tasks = {half: accuracy.own_tasks(half, 40, accuracy.NATURAL_PAIRS, "nat-") for half in ("dev", "test")}
    for half_tasks in tasks.values():
        assert [t.name for t in half_tasks] == [f"nat-{b}" for b in accuracy.BIASES]
        for task in half_tasks:
            assert len(task.evaluate) == 80 and {k: len(v) for k, v in task.pool.items()} == {"bias": 20,
                                                                                            "control": 20}
            assert sorted(task.split_of[r.key] for r in task.evaluate).count("bias") == 40
            pool_prompts = {r.prompt for rs in task.pool.values() for r in rs}
            assert not pool_prompts & {r.prompt for r in task.evaluate}
    assert not {r.prompt for r in tasks["dev"][0].evaluate} & {r.prompt for r in tasks["test"][0].evaluate}
    assert accuracy.POOLED_TASKS["nat: 3 biases"] == tuple(t.name for t in tasks["test"])


def test_natural_pairs_file_is_the_generators_output_and_keeps_its_rules():
    """natural_pairs.jsonl is rebuilt from the hand-written content files (``--check``), every content rule holds,
    and the cue sits on the wrong side in bias pairs and on the right side in control pairs."""
    import importlib.util

    from tiny import ROOT

    spec = importlib.util.spec_from_file_location("make_natural_pairs", ROOT / "benchmarks/data/make_natural_pairs.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    questions = make.load_questions()
    assert len(questions) == 120 and make.validate(questions) == []
    assert make.main(["--check"]) == 0
    records = make.build_records(questions)
    for record in records:
        chosen_field, rejected_field = make.PAIRS[(record["bias"], record["split"])]
        cued = {"length": "long", "format": "markdown", "positivity": "warm"}[record["bias"]]
        assert (cued in rejected_field) == (record["split"] == "bias") and chosen_field.endswith("_correct")
    bad = dict(questions[0], markdown_wrong="no markdown at all here")
    assert any("markdown_wrong has no markdown" in p for p in make.validate([bad]))
