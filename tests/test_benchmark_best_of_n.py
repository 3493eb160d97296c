"""benchmarks/best_of_n.py on a tiny random model: its ARM pick is the `best-of-n` command's pick, the summary's
numbers follow from the rows, and a rerun resumes."""

import json
import sys

import pytest
from tiny import ROOT, benchmark_fixture, fit_artifact, tiny_model_dir

from activation_rm.apps.cli import main as cli

bench = benchmark_fixture("best_of_n")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root, model_dir = tiny_model_dir(tmp_path_factory, "bon")
    return root, model_dir, fit_artifact(model_dir, root / "arm")


def _row(metric, words, arm, zero):
    return {"checks": [{"metric": m, "words": w, "correct": m} for m, w in zip(metric, words)], "arm": arm,
            "zero_shot": zero, "seconds": {"sample": 1.0, "judge": 0.5}}


def test_summary_follows_from_the_rows(bench):
    rows = [_row([0, 1, 0], [30, 5, 9], [0.1, 0.9, 0.2], [0.8, 0.1, 0.2]),
            _row([0, 0, 0], [12, 12, 40], [0.5, 0.1, 0.2], [0.1, 0.2, 0.3]),
            _row([1, 1, 0], [3, 4, 50], [0.2, 0.1, 0.3], [0.9, 0.1, 0.0])]
    s = bench.summarize(rows, "short_correct", 3)
    m = s["methods"]
    assert m["arm"]["mean"] == pytest.approx(1 / 3, abs=1e-4) and m["zero_shot"]["mean"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["random"]["mean"] == pytest.approx((1 / 3 + 0 + 2 / 3) / 3, abs=1e-4)
    assert m["oracle"]["mean"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["arm"]["mean_words"] == pytest.approx((5 + 12 + 50) / 3, abs=0.01)
    assert s["paired"]["arm-zero_shot"]["wins"] == 1 and s["paired"]["arm-zero_shot"]["losses"] == 1
    assert s["paired"]["oracle-arm"]["losses"] == 0 and s["sample_parts"] == {"correct": pytest.approx(3 / 9, abs=1e-4)}
    assert s["seconds"] == {"sample": 3.0, "judge": 1.5}
    assert "| ARM pick | 0.333 |" in bench.markdown(s) and m["arm"]["correct"] == pytest.approx(1 / 3, abs=1e-4)


def test_end_to_end_matches_the_command_and_resumes(bench, setup, tmp_path, capsys):
    root, model_dir, artifact = setup
    prompts = tmp_path / "held.jsonl"
    records = [{"id": f"x{i}", "criterion": "short_correct", "prompt": f"What is {i} plus {i}?",
                "answers": [str(2 * i)], "numeric": True, "operands": [i, i]} for i in range(1, 4)]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "out"
    argv = ["--criterion", "short_correct", "--artifact", str(artifact), "--out", str(out), "--prompts", str(prompts),
            "--model", str(model_dir), "--n", "3", "--max-new-tokens", "5", "--temperature", "1.0",
            "--chunk-size", "1", "--device", "cpu"]
    assert bench.main(argv) == 0
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(len(r["samples"]) == len(r["arm"]) == len(r["checks"]) == 3 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["prompts"] == 3 and (out / "best_of_n.png").stat().st_size > 0
    # the command with the same seed and settings samples the same completions and picks the same one
    picks = tmp_path / "picks.jsonl"
    assert cli(["best-of-n", str(artifact), str(prompts), "-o", str(picks), "--n", "3", "--max-new-tokens", "5",
                "--temperature", "1.0", "--model", str(model_dir)]) == 0
    for row, picked in zip(rows, [json.loads(line) for line in picks.read_text().splitlines()]):
        assert picked["samples"] == row["samples"]
        assert picked["pick"] == max(range(3), key=lambda i: (row["arm"][i], -i))
    # a rerun after a crash redoes only the missing prompt and gives the same rows
    lines = (out / "samples.jsonl").read_text().splitlines(keepends=True)
    (out / "samples.jsonl").write_text("".join(lines[:2]))
    assert bench.main(argv) == 0
    again = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [{**r, "seconds": None} for r in again] == [{**r, "seconds": None} for r in rows]
    first = json.loads((out / "summary.json").read_text())
    assert bench.main(["--criterion", "short_correct", "--out", str(out), "--resummarize"]) == 0  # no model loads
    assert json.loads((out / "summary.json").read_text()) == first
    capsys.readouterr()


def test_bad_prompts_fail_before_the_model_loads(bench, setup, tmp_path):
    _, model_dir, artifact = setup
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"id": 1}\n')
    from activation_rm.scoring.streaming import InputError

    with pytest.raises(InputError, match=f"{bad}:2: missing field 'prompt'"):
        bench.main(["--criterion", "short_correct", "--artifact", str(artifact), "--out", str(tmp_path / "o"),
                    "--prompts", str(bad), "--model", "/nonexistent/model"])


def test_the_verifiable_checks(bench):
    from checks import check

    arith = {"criterion": "short_correct", "answers": ["12"], "numeric": True, "operands": [7, 5]}
    assert check(arith, "7 + 5 = 12.")["metric"] == 1 and check(arith, "twelve")["metric"] == 1
    assert check(arith, "It is 18, which is 7 + 5 = 12.")["metric"] == 0  # a wrong number is stated too
    assert check(arith, "7 + 5 = 13.")["correct"] == 0
    padded = "7 + 5 = 12. " + "This is a very common question that many people ask about. " * 2
    assert check(arith, padded) == {"metric": 0, "correct": 1, "words": 25}  # correct but padded
    fact = {"criterion": "short_correct", "answers": ["Rome"]}
    assert check(fact, "The capital of Italy is Rome.")["metric"] == 1 and check(fact, "Romes.")["metric"] == 0
    symbol = {"criterion": "short_correct", "answers": ["Au"], "case_sensitive": True}
    assert check(symbol, "It is Au.")["metric"] == 1 and check(symbol, "It is AU.")["metric"] == 0
    plain = {"criterion": "no_markdown", "keyword": "sleep"}
    assert check(plain, "Go to sleep at the same time and keep the room dark.")["metric"] == 1
    for text in ("1. Sleep early and often every single night", "- Sleep early and often every single night",
                 "## Sleep\nSleep early and often every night", "Sleep **early** and often every single night",
                 "Sleep *early* and often every single night", "| sleep | early |"):
        assert check(plain, text)["plain"] == 0, text
    assert check(plain, "Sleep well.")["metric"] == 0  # too short to be an answer
    assert check(plain, "Keep a regular routine every night and avoid screens.")["on_topic"] == 0
    with pytest.raises(ValueError, match="unknown criterion"):
        check({"id": "x", "criterion": "other"}, "text")


def test_task_sets_match_a_fresh_build():
    import subprocess

    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "data" / "alignment" / "make_alignment_data.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
