import json

import pytest
from tiny import ARITHMETIC_PAIRS, FAST_FIT

from activation_rm.cli import main


def test_fit_options_reach_the_artifact(model_dir, tmp_path):
    examples = tmp_path / "ex.jsonl"
    examples.write_text("".join(json.dumps(e) + "\n" for e in ARITHMETIC_PAIRS))
    out = tmp_path / "arm"
    assert main(["fit", str(examples), "--criterion", "correct", "--out", str(out), "--model", str(model_dir),
                 "--layout", "criterion_last", "--balance-classes", "--max-length", "300", *FAST_FIT]) == 0
    meta = json.loads((out / "arm.json").read_text())
    assert meta["template"]["layout"] == "criterion_last" and meta["template"]["max_length"] == 300
    assert meta["fit"]["contexts"]["balance_classes"] is True


def test_fit_score_resume(artifact, model_dir, tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"prompt": e["prompt"], "response": e["chosen"]}) + "\n" for e in ARITHMETIC_PAIRS))
    assert main(["score", str(artifact), str(src), "-o", str(out), "--chunk-size", "4"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 6 and all(0 <= r["score"] <= 1 for r in rows)
    out.write_text("".join(line + "\n" for line in out.read_text().splitlines()[:2]))
    assert main(["score", str(artifact), str(src), "-o", str(out)]) == 0
    resumed = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["activation_rm"]["line"] for r in resumed] == list(range(1, 7))
    assert [r["score"] for r in resumed] == pytest.approx([r["score"] for r in rows], abs=1e-6)
    assert "resumed after line 2" in capsys.readouterr().err


def test_compare_reports_accuracy(artifact, tmp_path, capsys):
    src, out = tmp_path / "pairs.jsonl", tmp_path / "cmp.jsonl"
    src.write_text("".join(json.dumps(e) + "\n" for e in ARITHMETIC_PAIRS))
    assert main(["compare", str(artifact), str(src), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["preferred"] for r in rows} <= {"a", "b", "tie"} and len(rows) == 6
    assert "accuracy on chosen/rejected pairs" in capsys.readouterr().err


def test_inspect_prints_table_and_writes_png(artifact, tmp_path, capsys):
    png = tmp_path / "heads.png"
    assert main(["inspect", str(artifact), "--png", str(png)]) == 0
    text = capsys.readouterr().out
    assert "layer  head  P(include)" in text and "criterion: correct" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_examples_exit_2_naming_the_line(model_dir, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ARITHMETIC_PAIRS[0]) + "\n" + json.dumps({"prompt": "x", "chosen": "y"}) + "\n")
    code = main(["fit", str(bad), "--criterion", "c", "--out", str(tmp_path / "a"), "--model", str(model_dir), *FAST_FIT])
    assert code == 2 and "bad.jsonl:2" in capsys.readouterr().err


def test_missing_artifact_exit_2(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"prompt": "p", "response": "r"}) + "\n")
    assert main(["score", str(tmp_path / "none"), str(src), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "artifact not found" in capsys.readouterr().err


def test_fit_auto_and_selection_options_reach_the_artifact_and_inspect(model_dir, tmp_path, capsys):
    examples = tmp_path / "ex.jsonl"
    examples.write_text("".join(json.dumps(e) + "\n" for e in ARITHMETIC_PAIRS))
    out = tmp_path / "arm"
    assert main(["fit", str(examples), "--criterion", "correct", "--out", str(out), "--model", str(model_dir),
                 "--auto", "--demos", "inline", "--layout", "compact", "--final-rule", "loss",
                 "--held-out-fraction", "0", *FAST_FIT]) == 0
    meta = json.loads((out / "arm.json").read_text())
    assert meta["fit"]["contexts"]["demos"] == "inline" and meta["template"]["layout"] == "compact"
    assert meta["fit"]["selection"]["final_rule"] == "loss" and meta["fit"]["held_out_fraction"] == 0
    assert meta["fit"]["auto"]["chosen"] in meta["fit"]["auto"]["cv_accuracy"]
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"chose {meta['fit']['auto']['chosen']}" in printed and "final mask by loss" in printed


@pytest.fixture
def no_model_loads(monkeypatch):
    """Fail the test if any command loads a backbone: bad input must be refused before that slow step."""
    import activation_rm.backbone as backbone
    import activation_rm.reward_model as reward_model

    def refuse(*args, **kwargs):
        raise AssertionError("the backbone was loaded before the input was checked")

    monkeypatch.setattr(backbone, "load_backbone", refuse)
    monkeypatch.setattr(reward_model, "load_backbone", refuse)


def _run(capsys, argv):
    code = main(argv)
    return code, capsys.readouterr().err


def test_bad_input_is_refused_before_any_model_loads(artifact, model_dir, tmp_path, capsys, no_model_loads):
    """The probe's reproductions: non-UTF-8 bytes, a missing file, every bad line, empty files; all exit 2 with
    the file and line, and none loads the backbone (loading would raise here)."""
    latin = tmp_path / "b.jsonl"
    latin.write_bytes(b'{"prompt":"caf\xe9","response":"ok"}\n')
    out = tmp_path / "o.jsonl"
    code, err = _run(capsys, ["score", str(artifact), str(latin), "-o", str(out), "--model", str(model_dir)])
    assert code == 2 and f"{latin}:1: not valid UTF-8 (byte 0xe9 at offset 14)" in err
    code, err = _run(capsys, ["compare", str(artifact), str(tmp_path / "missing.jsonl"), "-o", str(out)])
    assert code == 2 and "input file not found" in err and "missing.jsonl" in err
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"prompt": "p", "chosen": "a"\n' + json.dumps({"prompt": "p", "chosen": "a"}) + "\n"
                     + json.dumps(ARITHMETIC_PAIRS[0]) + "\n" + json.dumps({"prompt": 3, "chosen": "a", "rejected": "b"}) + "\n")
    code, err = _run(capsys, ["compare", str(artifact), str(mixed), "-o", str(out)])
    assert code == 2 and "3 bad input line(s)" in err
    assert all(f"mixed.jsonl:{n}:" in err for n in (1, 2, 4)) and "mixed.jsonl:3:" not in err
    assert "missing field 'rejected'" in err and "at end of line: truncated?" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    for argv in (["score", str(artifact), str(empty), "-o", str(out)],
                 ["compare", str(artifact), str(empty), "-o", str(out)],
                 ["fit", str(empty), "--criterion", "c", "--out", str(tmp_path / "a"), "--model", str(model_dir)]):
        code, err = _run(capsys, argv)
        assert code == 2 and "empty.jsonl: the file has no JSON" in err and "malformed" not in err, argv
    code, err = _run(capsys, ["fit", str(latin), "--criterion", "c", "--out", str(tmp_path / "a"),
                              "--model", str(model_dir)])
    assert code == 2 and f"{latin}:1: not valid UTF-8" in err
    assert not out.exists()


def test_score_names_a_missing_response_and_a_foreign_output_file(artifact, tmp_path, capsys, no_model_loads):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"prompt": "p"}) + "\n")
    code, err = _run(capsys, ["score", str(artifact), str(src), "-o", str(out)])
    assert code == 2 and "in.jsonl:1: missing field 'response'" in err  # the artifact is pointwise
    src.write_text(json.dumps({"prompt": "p", "response": "a"}) + "\n")
    out.write_text("not a result line\n{}\n")
    code, err = _run(capsys, ["score", str(artifact), str(src), "-o", str(out)])
    assert code == 2 and "out.jsonl:1: not a result line of this tool" in err


def test_fit_warns_about_and_records_truncated_examples(model_dir, tmp_path, capsys):
    examples = tmp_path / "long.jsonl"
    long = dict(ARITHMETIC_PAIRS[0], chosen="word " * 2000)
    examples.write_text("".join(json.dumps(e) + "\n" for e in [long, *ARITHMETIC_PAIRS[1:]]))
    out = tmp_path / "arm"
    with pytest.warns(UserWarning, match="1 of 6 fit examples exceeded max_length=300"):
        code = main(["fit", str(examples), "--criterion", "c", "--out", str(out), "--model", str(model_dir),
                     "--max-length", "300", *FAST_FIT])
    assert code == 0 and "warning: 1 of 6 examples exceeded max_length=300" in capsys.readouterr().err
    meta = json.loads((out / "arm.json").read_text())
    assert meta["fit"]["truncated_examples"] == 1 and meta["fit"]["truncated_sources"] == [f"{examples}:1"]
