"""``activation-rm eval`` as a user runs it: a kill -9 mid-run, then the same command again, must give the same
summary as a run that was never interrupted (nothing lost, nothing scored twice)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest


def _command(model_dir, pairs, out):
    return [sys.executable, "-m", "activation_rm.apps.cli", "eval", "--pairs", str(pairs), "--criterion", "correct",
            "--pool", "8", "--model", str(model_dir), "--methods", "zeroshot_prob", "sav", "arm_pointwise",
            "--seeds", "0", "1", "--n-fewshot", "4", "--steps", "2", "--masks-per-step", "4", "--n-contexts", "3",
            "--max-length", "256", "--chunk", "2", "--threads", "1", "--no-ablations", "--out", str(out)]


def _lines(path):
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.slow  # two eval runs in fresh processes (~40 s)
def test_kill_9_mid_eval_then_rerun_gives_the_uninterrupted_summary(model_dir, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"prompt": f"What is {i} plus {i}?", "chosen": f"{2 * i}.",
                                         "rejected": f"{2 * i + 1}, as everyone knows."}) + "\n" for i in range(48)))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    subprocess.run(_command(model_dir, pairs, whole), check=True, env=env, capture_output=True, timeout=600)
    total = _lines(whole / "items.jsonl")
    assert total == 2 * 40 * 3  # seeds x evaluated pairs x methods

    process = subprocess.Popen(_command(model_dir, pairs, broken), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    items = broken / "items.jsonl"
    deadline = time.monotonic() + 300
    while _lines(items) < total // 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    written = _lines(items)
    assert 0 < written < total, "the kill did not land mid-run"

    subprocess.run(_command(model_dir, pairs, broken), check=True, env=env, capture_output=True, timeout=600)
    assert _lines(items) == total
    rows = [json.loads(line) for line in items.read_text(encoding="utf-8").splitlines()]
    assert len({(r["seed"], r["method"], r["key"]) for r in rows}) == total
    first = json.loads((whole / "summary.json").read_text())
    second = json.loads((broken / "summary.json").read_text())
    assert _without_timings(second["benchmarks"]) == _without_timings(first["benchmarks"])
    assert first["benchmarks"]["pairs"]["methods"]["arm_pointwise"]["n_rows"] == 80


def _without_timings(value):
    """The summary minus wall-clock fields (``seconds_per_pair`` ...), which no two runs share."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _parser():
    import argparse

    from activation_rm.eval.command import add_eval_arguments

    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    return parser


def test_eval_judge_flags_are_eval_settings_fields_over_the_protocols_values():
    from dataclasses import fields, replace

    from activation_rm.eval.command import PROTOCOLS, _settings
    from activation_rm.eval.settings import EvalSettings

    parser = _parser()
    fast, full = PROTOCOLS["fast"]["settings"], PROTOCOLS["full"]["settings"]
    assert _settings(parser.parse_args(["--out", "o"])) == fast
    assert _settings(parser.parse_args(["--out", "o", "--protocol", "full", "--no-ablations", "--steps", "5",
                                        "--votes", "3", "--held-out-fraction", "0.1"])) == replace(
        full, ablations=False, steps=5, votes=3, held_out_fraction=0.1)
    assert _settings(parser.parse_args(["--out", "o", "--ablations", "--max-length", "256"])) == replace(
        fast, ablations=True, max_length=256)
    helps = {action.dest: action.help for action in parser._actions}
    assert {f.name for f in fields(EvalSettings)} <= set(helps)
    assert helps["steps"].endswith("(default: fast 30, full 600)") and helps["votes"].endswith("(default: 5)")


def test_eval_shows_a_progress_bar_over_the_pairs_on_a_terminal(model_dir, tmp_path, capsys, monkeypatch):
    import activation_rm.inputs.progress as progress
    from activation_rm.apps.cli import main

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"prompt": f"What is {i} plus {i}?", "chosen": f"{2 * i}.",
                                         "rejected": f"{2 * i + 1}."}) + "\n" for i in range(8)))
    argv = ["eval", "--pairs", str(pairs), "--criterion", "correct", "--pool", "4", "--model", str(model_dir),
            "--methods", "zeroshot_prob", "--seeds", "0", "--n-fewshot", "2", "--max-length", "256", "--chunk", "2",
            "--out", str(tmp_path / "run")]
    assert main([*argv, "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert "pair/s" not in quiet.err and "seed 0 pairs: 4 pairs to judge" in quiet.out
    (tmp_path / "run" / "items.jsonl").write_text(
        "".join(line + "\n" for line in (tmp_path / "run" / "items.jsonl").read_text().splitlines()[:2]))
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(progress, "REDRAW_S", 0)
    assert main(argv) == 0
    shown = capsys.readouterr()
    assert "eval: " in shown.err and "2/2 [" in shown.err and "pair/s]" in shown.err, shown.err  # 2 pairs were left
    assert "seed 0 pairs: 2 pairs to judge" in shown.out  # the log lines still reach stdout, whole


def test_sweep_variants_take_name_key_value_and_bad_ones_fail_together_before_loading(tmp_path, monkeypatch):
    import activation_rm.eval.command as command
    import activation_rm.eval.sweep as sweep
    from activation_rm.apps.cli import main

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"prompt": f"q{i}", "chosen": "a", "rejected": "b"}) + "\n" for i in range(8)))
    argv = ["eval", "--sweep", "--pairs", str(pairs), "--criterion", "correct", "--pool", "4", "--out",
            str(tmp_path / "run"), "--variants"]
    loaded = []
    monkeypatch.setattr(command, "_load_backbone", lambda args: loaded.append(args) or "backbone")
    with pytest.raises(SystemExit) as caught:
        main([*argv, "heads_all", "sav_start:init=sav,init_heads=0", "typo:bogus=1", "nameless"])
    message = str(caught.value)
    assert "init_heads must be at least 1" in message and "'bogus'" in message and "'nameless'" in message
    assert not loaded  # rejected before any model loads

    seen = []
    monkeypatch.setattr(sweep, "run_sweep", lambda backbone, specs, seeds, n, settings, variants, out, **kw:
                        seen.append(variants))
    monkeypatch.setattr(sweep, "write_sweep_report", lambda *a, **kw: {})
    assert main([*argv, "heads_all", "sav_start:init=sav,init_top_logit=2,label=SAV start"]) == 0
    names = [(v.name, v.fit, v.label) for v in seen[0]]
    assert names[0][0] == "base" and names[1][0] == "heads_all"
    assert names[2] == ("sav_start", {"init": "sav", "init_top_logit": 2}, "SAV start")
