import json

import pytest
from tiny import tiny_backbone

from activation_rm.apps.cli import main
from activation_rm.eval.records import PairRecord
from activation_rm.eval.report import write_reports
from activation_rm.eval.runner import BenchmarkSpec, RunConfig, read_rows, run_eval
from activation_rm.eval.settings import EvalSettings


def _records(n, subsets=("alpacaeval-hard", "math-prm")):
    return [PairRecord(str(i), subsets[i % len(subsets)], f"What is {i} plus {i}?", f"{2 * i}.",
                       f"{2 * i + 1}, the quick brown fox.", None) for i in range(n)]


METHODS = ["zeroshot_prob", "sav", "arm_pointwise"]
SETTINGS = EvalSettings(max_length=256, steps=2, masks_per_step=4, n_contexts=3, n_shots=1, sav_heads=4)


def test_run_writes_rows_resumes_and_reports(tmp_path):
    backbone = tiny_backbone("llama")
    records = _records(14)
    for r in records:
        object.__setattr__(r, "section", "Chat" if r.subset.startswith("alpaca") else "Reasoning")
    spec = BenchmarkSpec("RB", records[:6], records[6:], "the answer is correct", scoring="rewardbench")
    config = RunConfig(methods=METHODS, seeds=[0, 1], n_fewshot=4, chunk=3, settings=SETTINGS)
    items = run_eval(backbone, [spec], config, tmp_path, log=lambda m: None)
    rows = read_rows(items)
    assert len(rows) == 2 * 8 * 3  # seeds x pairs x methods
    assert {r["method"] for r in rows} == set(METHODS)
    # a torn last line (crash mid-write) is ignored, and the rerun writes only what is missing
    lines = items.read_text().splitlines()
    items.write_text("\n".join(lines[:-5]) + "\n" + lines[-5][:20])
    run_eval(backbone, [spec], config, tmp_path, log=lambda m: None)
    rows = read_rows(items)
    keys = [(r["seed"], r["method"], r["key"]) for r in rows]
    assert len(keys) == len(set(keys)) == 48
    # zero-shot does not depend on the seed; the fitted ARM is saved per seed
    zs = {(r["seed"], r["key"]): r["correct"] for r in rows if r["method"] == "zeroshot_prob"}
    assert all(zs[(0, k)] == zs[(1, k)] for _, k in zs)
    assert (tmp_path / "artifacts" / "RB" / "seed1" / "arm_pointwise").exists()
    paths = write_reports(tmp_path, {"RB": "rewardbench"}, {})
    summary = json.loads(paths["summary"].read_text())["benchmarks"]["RB"]
    assert set(summary["methods"]["arm_pointwise"]["sections"]) == {"Chat", "Reasoning", "Overall"}
    assert set(summary["paired"]["arm_pointwise"]) == {"zeroshot_prob", "sav"}
    md = paths["markdown"].read_text()
    assert "Activation RM, pointwise" in md and "sign-test p" in md
    assert paths["chart"].stat().st_size > 1000


def test_corrupt_middle_line_is_an_error(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(ValueError, match="items.jsonl:2"):
        read_rows(path)


def test_cli_build_and_report_only(shared_data, tmp_path, capsys):
    out = tmp_path / "ph.jsonl"
    assert main(["build-preferencehack", "--rewardbench", f"{shared_data}/rewardbench/filtered.jsonl",
                 "--out", str(out)]) == 0
    assert out.exists()
    # report-only on an empty run directory: nothing evaluated, but the command and loaders work
    assert main(["eval", "--out", str(tmp_path / "run"), "--preferencehack", str(out), "--evalbiasbench",
                 f"{shared_data}/evalbiasbench/biasbench.json", "--report-only"]) == 0


def test_cli_user_pairs_needs_criterion(tmp_path):
    pairs = tmp_path / "mine.jsonl"
    pairs.write_text(json.dumps({"prompt": "q", "chosen": "a", "rejected": "b"}) + "\n")
    with pytest.raises(SystemExit, match="--criterion"):
        main(["eval", "--out", str(tmp_path / "o"), "--pairs", str(pairs), "--report-only"])


def test_ablation_shard_reuses_fitted_arm_and_skips_done_rows(tmp_path):
    backbone = tiny_backbone("llama")
    records = _records(12)
    spec = BenchmarkSpec("T", records[:6], records[6:], "the answer is correct")
    base = RunConfig(methods=["arm_pointwise"], seeds=[0], n_fewshot=4, chunk=3, settings=SETTINGS, shard="main")
    run_eval(backbone, [spec], base, tmp_path, log=lambda m: None)
    first = read_rows(tmp_path / "items-main.jsonl")
    ablation = RunConfig(methods=["arm_pointwise"], seeds=[0], n_fewshot=4, chunk=3, shard="abl",
                         settings=EvalSettings(**{**SETTINGS.to_dict(), "ablations": True}))
    run_eval(backbone, [spec], ablation, tmp_path, log=lambda m: None)
    extra = read_rows(tmp_path / "items-abl.jsonl")
    assert {r["method"] for r in extra} == {"arm_all_heads", "arm_random_heads", "arm_sav_heads"}
    assert len(extra) == 3 * len(first)
    fits = read_rows(tmp_path / "fits-abl.jsonl")
    assert any(f["group"] == "ZeroShotGroup/ranking" for f in fits)
