import json
from pathlib import Path

import pytest
from tiny import load_benchmark

scaling = load_benchmark("scaling")

TASK = "nat: 3 biases"


def _summary(folder: Path, methods: dict[str, tuple[float, list[int]]]) -> None:
    """A summary.json as benchmarks/accuracy.py writes it, with one pooled task."""
    cell = {m: {"mean": mean, "ci": [mean - 5, mean + 5], "seeds": seeds,
                "splits": {"nat-length/bias": mean - 10, "nat-length/control": mean + 10}}
            for m, (mean, seeds) in methods.items()}
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"summary": {f"test|n10|noise0.0|{TASK}": cell}}))


def test_table_merges_a_runs_folders_and_leaves_missing_methods_empty(tmp_path, capsys):
    _summary(tmp_path / "small", {"default": (51.0, [0, 1]), "zeroshot": (53.8, [0])})
    _summary(tmp_path / "big-zs", {"zeroshot": (60.0, [0])})
    _summary(tmp_path / "big-arm", {"default": (70.0, [0]), "zeroshot": (99.0, [0])})
    code = scaling.main(["--task", TASK, "--run", f"S=0.135={tmp_path / 'small'}",
                         "--run", f"B=1.5={tmp_path / 'big-zs'},{tmp_path / 'big-arm'}",
                         "--out", str(tmp_path / "fig.png")])
    out = capsys.readouterr().out
    assert code == 0
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in out.splitlines()
            if line.startswith("| ") and "method" not in line}
    assert rows["Activation RM"] == ["**51.0** [46, 56] (41 / 61; 2 seeds)", "**70.0** [65, 75] (60 / 80; 1 seed)"]
    # the first folder of a run wins for a method found in two of them
    assert rows["zero-shot P(Yes)"] == ["**53.8** [49, 59] (44 / 64; 1 seed)", "**60.0** [55, 65] (50 / 70; 1 seed)"]
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"


def test_a_missing_summary_is_exit_2_naming_it(tmp_path, capsys):
    assert scaling.main(["--run", f"S=0.1={tmp_path / 'nope'}"]) == 2
    assert str(tmp_path / "nope" / "summary.json") in capsys.readouterr().err
    with pytest.raises(SystemExit):
        scaling.main(["--run", "no-equals-signs"])


def _rows(folder: Path, method: str, per_task: dict[str, list[list[float]]]) -> None:
    """rows.jsonl lines as benchmarks/accuracy.py appends them: one per (task, seed, method)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "rows.jsonl").open("a") as f:
        for task, seeds in per_task.items():
            for seed, correct in enumerate(seeds):
                f.write(json.dumps({"tag": "test", "task": task, "seed": seed, "n_fit": 10, "noise": 0.0,
                                    "method": method, "correct": correct}) + "\n")


def test_versus_pairs_two_backbones_on_the_same_pairs(tmp_path):
    small, big = tmp_path / "small", tmp_path / "big"
    parts = ["nat-length", "nat-format", "nat-positivity"]
    _rows(small, "default", {t: [[1.0, 1.0], [1.0, 0.0]] for t in parts})  # two seeds: per pair 1.0 and 0.5
    _rows(big, "zeroshot", {t: [[0.0, 0.0]] for t in parts})
    runs = [scaling.Run.parse(f"S=0.5={small}"), scaling.Run.parse(f"B=1.5={big}")]
    line = scaling.versus(runs, "S:default", "B:zeroshot", TASK)
    assert line.startswith("S:default (2 seeds) 75.0% vs B:zeroshot (1 seed) 0.0% on the same 6 pairs")
    assert "+75.0 points" in line and "sign test p = 0.031" in line  # 6 wins, 0 losses: 2 * 0.5**6
    with pytest.raises(SystemExit, match="no rows of sav"):
        scaling.versus(runs, "S:sav", "B:zeroshot", TASK)


def test_versus_with_same_seeds_drops_the_seeds_only_one_side_has(tmp_path):
    run = tmp_path / "run"
    parts = ["nat-length", "nat-format", "nat-positivity"]
    _rows(run, "default", {t: [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]] for t in parts})  # seeds 0, 1, 2
    _rows(run, "fast", {t: [[1.0, 0.0]] for t in parts})  # seed 0 only
    runs = [scaling.Run.parse(f"S=0.5={run}")]
    every = scaling.versus(runs, "S:fast", "S:default", TASK)
    assert "S:fast (1 seed) 50.0% vs S:default (3 seeds) 33.3%" in every
    same = scaling.versus(runs, "S:fast", "S:default", TASK, same_seeds=True)
    assert same.startswith("seed 0 of each: S:fast (1 seed) 50.0% vs S:default (1 seed) 100.0% on the same 6 pairs")
    assert "-50.0 points" in same
    other = tmp_path / "other"
    _rows(other, "fast", {t: [[1.0, 0.0]] for t in parts})  # seed 0
    with (other / "rows.jsonl").open("a") as f:  # the defaults at seed 1 only
        for t in parts:
            f.write(json.dumps({"tag": "test", "task": t, "seed": 1, "n_fit": 10, "noise": 0.0,
                                "method": "default", "correct": [1.0, 0.0]}) + "\n")
    with pytest.raises(SystemExit, match="no seed in common"):
        scaling.versus([scaling.Run.parse(f"S=0.5={other}")], "S:fast", "S:default", TASK,
                       same_seeds=True)
