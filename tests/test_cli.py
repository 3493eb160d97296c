import json
import shutil

import pytest
from tiny import ARITHMETIC_PAIRS, FAST_FIT, save_tiny_model, write_jsonl

from activation_rm.apps.cli import main


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
    lines = capsys.readouterr().out.splitlines()
    meta = json.loads((artifact / "arm.json").read_text())
    rows = {line.split()[0]: line.split(None, 1)[1] for line in lines[:lines.index("")] if not line.startswith(" ")}
    assert list(rows) == ["criterion", "mode", "backbone", "heads", "layers", "settings", "fit", "artifact"]
    assert rows["criterion"] == "correct" and rows["mode"].startswith("pointwise (layout compact")
    assert rows["heads"].startswith(f"{meta['num_selected_heads']} of {meta['shape']['layers'] * meta['shape']['heads']} "
                                    "selected") and rows["heads"].endswith("replaced by their means")
    assert rows["settings"].startswith("loss pair, final mask by loss of 6, 4 steps x 4 masks")
    table = lines[lines.index("layer  head  P(include)") + 1:]
    heads = [(int(row.split()[0]), int(row.split()[1])) for row in table if row.strip()[:1].isdigit()]
    assert sorted(heads) == sorted((layer, head) for layer, head, _ in meta["selected_heads"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_inspect_json_is_one_object_for_scripts(artifact, tmp_path, capsys):
    png = tmp_path / "heads.png"
    assert main(["inspect", str(artifact), "--json", "--png", str(png)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # stdout is the JSON alone; the PNG note goes to stderr
    meta = json.loads((artifact / "arm.json").read_text())
    assert report["criterion"] == "correct" and report["mode"] == "pointwise" and report["intervention"] == "replace"
    assert report["heads"]["selected"] == len(report["selected_heads"]) == meta["num_selected_heads"]
    probs = [h["p_include"] for h in report["selected_heads"]]
    assert probs == sorted(probs, reverse=True)
    assert {(h["layer"], h["head"]) for h in report["selected_heads"]} == {(layer, head) for layer, head, _ in meta["selected_heads"]}
    assert sum(report["steered_heads_per_layer"]) == meta["num_selected_heads"]
    assert report["settings"]["selection"]["steps"] == 4 and report["fit"]["n_examples"] == meta["fit"]["n_examples"]
    assert "heat map written" in captured.err and png.is_file()


@pytest.mark.parametrize("argv", [["inspect", "{artifact}"], ["inspect", "{artifact}", "--json"], ["fit", "--help"],
                                  ["--help"]])
def test_a_closed_pipe_ends_quietly(artifact, argv):
    """`activation-rm inspect ART | head -1`: the reader goes away; no BrokenPipeError text, exit 0 (the report
    was made; only its reader left)."""
    import subprocess
    import sys

    argv = [a.format(artifact=artifact) for a in argv]
    script = ("import sys\nfrom activation_rm.apps.cli import main\n"
              "sys.exit(main(sys.argv[1:]))")
    process = subprocess.Popen([sys.executable, "-c", script, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before the command writes anything: every write fails (EPIPE)
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0 and "BrokenPipe" not in err and "Traceback" not in err, err


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
                 "--held-out-fraction", "0", "--intervention", "shift", *FAST_FIT]) == 0
    meta = json.loads((out / "arm.json").read_text())
    assert meta["intervention"] == "shift" and meta["fit"]["contexts"]["intervention"] == "shift"
    assert meta["fit"]["contexts"]["demos"] == "inline" and meta["template"]["layout"] == "compact"
    assert meta["fit"]["selection"]["final_rule"] == "loss" and meta["fit"]["held_out_fraction"] == 0
    assert meta["fit"]["auto"]["chosen"] in meta["fit"]["auto"]["cv_accuracy"]
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"chose {meta['fit']['auto']['chosen']}" in printed and "final mask by loss" in printed
    assert "shifted by their means" in printed


def refuse_model_loads(monkeypatch):
    """Make any backbone load fail the test: bad input must be refused before that slow step."""
    import activation_rm.model.backbone as backbone
    import activation_rm.scoring.reward_model as reward_model

    def refuse(*args, **kwargs):
        raise AssertionError("the backbone was loaded before the input was checked")

    monkeypatch.setattr(backbone, "load_backbone", refuse)
    monkeypatch.setattr(reward_model, "load_backbone", refuse)


@pytest.fixture
def no_model_loads(monkeypatch):
    refuse_model_loads(monkeypatch)


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


# ------------------------------------------------------------------------ every option checked before slow work
def _own_lines(err):
    """stderr without the progress bars of model loading and saving."""
    return [line for line in err.splitlines() if line.strip() and "%|" not in line]


def _problems(err):
    """The problems of an error message: its one line, or one line per problem after the header."""
    lines = _own_lines(err)
    assert lines[0].startswith("error: ") and "Traceback" not in err, err
    return [lines[0].removeprefix("error: ")] if len(lines) == 1 else [line.strip() for line in lines[1:]]


def test_every_bad_fit_option_is_reported_in_one_message_before_any_model_loads(tmp_path, capsys, no_model_loads):
    examples = write_jsonl(tmp_path / "ex.jsonl", ARITHMETIC_PAIRS)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    code, err = _run(capsys, ["fit", str(examples), "--criterion", "  ", "--out", str(a_file / "arm"),
                              "--model", str(tmp_path / "no-such-model"), "--steps", "-3", "--held-out-fraction", "1.5",
                              "--n-contexts", "0", "--max-length", "5", "--dtype", "float8", "--device", "tpu"])
    problems = _problems(err)
    assert code == 2 and err.startswith("error: 9 problems; nothing was loaded or written:")
    expected = ["--criterion must be non-blank text, got '  '", "--max-length must be at least 64 tokens, got 5",
                "--n-contexts must be at least 1, got 0", "--steps must be at least 0, got -3",
                "--held-out-fraction must be in [0, 1), got 1.5",
                f"--model {tmp_path / 'no-such-model'}: model directory not found",
                "--device tpu: unknown device; use auto, cpu, cuda or cuda:N", "--dtype float8: unknown dtype",
                f"--out {a_file / 'arm'}: {a_file} is a file, not a folder"]
    assert len(problems) == len(expected) and all(p.startswith(e) for p, e in zip(problems, expected)), problems


@pytest.mark.parametrize("setup, argv, message", [
    (lambda d: (d / "c.txt").write_bytes(b"caf\xe9"), ["--criterion-file", "{d}/c.txt"],
     "--criterion-file {d}/c.txt: not valid UTF-8 (byte 0xe9 at offset 3)"),
    (lambda d: (d / "c.txt").write_text(" \n\n"), ["--criterion-file", "{d}/c.txt"],
     "--criterion-file {d}/c.txt: the file is empty or blank"),
    (None, ["--criterion-file", "{d}/none.txt"], "--criterion-file {d}/none.txt: file not found"),
    (lambda d: (d / "c.txt").write_text("short"), ["--criterion", "x", "--criterion-file", "{d}/c.txt"],
     "give the criterion with --criterion or --criterion-file, not both"),
    (None, [], "give the criterion with --criterion TEXT or --criterion-file PATH"),
    (None, ["--criterion", "c", "--n-shots", "12"],
     "--n-shots is 12: each averaging context needs 13 distinct labelled items, but the examples give only 12"),
    (None, ["--criterion", "c", "--held-out-fraction", "0.95"],
     "--held-out-fraction 0.95 leaves none of the 6 examples to train on"),
    (None, ["--criterion", "c", "--mode", "pairwise", "--examples", "pointwise"],
     "--mode pairwise needs pairs {{prompt, chosen, rejected}}; {d}/ex.jsonl holds pointwise examples"),
    (None, ["--criterion", "c", "--auto", "--examples", "three"],
     "--auto needs at least 4 examples for cross-validation; {d}/ex.jsonl has 3"),
    (None, ["--criterion", "c", "--lr", "0", "--masks-per-step", "1", "--context-tokens", "8"],
     "--context-tokens must be at least 64"),
    (None, ["--criterion", "c", "--queries-per-demo-set", "0"], "--queries-per-demo-set must be at least 1"),
])
def test_fit_criterion_and_example_problems_exit_2_before_any_model_loads(tmp_path, capsys, no_model_loads, setup,
                                                                         argv, message, model_dir):
    argv = [a.format(d=tmp_path) for a in argv]
    records = ARITHMETIC_PAIRS
    if "--examples" in argv:  # this test's own switch, not an option of fit
        kind = argv.pop(argv.index("--examples") + 1)
        argv.remove("--examples")
        records = ([{"prompt": e["prompt"], "response": e["chosen"], "label": "yes"} for e in ARITHMETIC_PAIRS]
                   if kind == "pointwise" else ARITHMETIC_PAIRS[:3])
    examples = write_jsonl(tmp_path / "ex.jsonl", records)
    if setup:
        setup(tmp_path)
    code, err = _run(capsys, ["fit", str(examples), "--out", str(tmp_path / "arm"), "--model", str(model_dir), *argv])
    assert code == 2 and any(p.startswith(message.format(d=tmp_path)) for p in _problems(err)), err
    assert not (tmp_path / "arm").exists()


def test_fit_refuses_an_existing_artifact_unless_overwrite(artifact, model_dir, tmp_path, capsys, monkeypatch):
    examples = write_jsonl(tmp_path / "ex.jsonl", ARITHMETIC_PAIRS)
    out = tmp_path / "arm"
    shutil.copytree(artifact, out)
    before = (out / "arm.json").read_text()
    argv = ["fit", str(examples), "--criterion", "another criterion", "--out", str(out), "--model", str(model_dir),
            *FAST_FIT]
    with monkeypatch.context() as patch:
        refuse_model_loads(patch)
        code, err = _run(capsys, argv)
    assert code == 2 and _problems(err) == [
        f"--out {out} already holds an artifact; pass --overwrite to replace it, or give a new directory"]
    assert (out / "arm.json").read_text() == before
    assert main([*argv, "--overwrite"]) == 0
    assert json.loads((out / "arm.json").read_text())["criterion"] == "another criterion"


def test_scoring_options_and_unwritable_output_are_refused_before_any_model_loads(artifact, tmp_path, capsys,
                                                                                  no_model_loads):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for command in ("score", "compare", "score-criteria"):
        line = ARITHMETIC_PAIRS[0] if command == "compare" else {"prompt": "p", "response": "r"}
        src = write_jsonl(tmp_path / f"{command}.jsonl", [line])
        code, err = _run(capsys, [command, str(artifact), str(src), "-o", str(a_file / "out.jsonl"), "--chunk-size", "0",
                                  "--device", "cuda:99", "--dtype", "float8", "--model", str(tmp_path / "gone")])
        problems = _problems(err)
        assert code == 2 and len(problems) == 5, (command, problems)
        assert problems[0] == "--chunk-size must be at least 1, got 0"
        assert problems[1] == f"--model {tmp_path / 'gone'}: model directory not found"
        assert problems[2].startswith("--device cuda:99: ") and problems[3].startswith("--dtype float8: ")
        assert problems[4] == f"--output {a_file / 'out.jsonl'}: {a_file} is a file, not a folder"


def test_an_artifacts_missing_backbone_is_named_before_loading(tmp_path, capsys, monkeypatch):
    import torch

    from activation_rm.judge.templates import JudgeTemplate
    from activation_rm.model.backbone import load_backbone
    from activation_rm.scoring.reward_model import ActivationRM

    model = save_tiny_model(tmp_path / "model")
    backbone = load_backbone(str(model), device="cpu")
    shape = (backbone.num_layers, backbone.num_heads)
    ActivationRM(backbone, JudgeTemplate("c"), torch.zeros(*shape, backbone.head_dim),
                 torch.zeros(shape, dtype=torch.bool)).save(tmp_path / "arm")
    shutil.rmtree(model)
    refuse_model_loads(monkeypatch)
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "p", "response": "r"}])
    code, err = _run(capsys, ["score", str(tmp_path / "arm"), str(src), "-o", str(tmp_path / "o.jsonl")])
    assert code == 2 and _problems(err) == [
        f"artifact {tmp_path / 'arm'} was fitted on backbone '{model}', which is not here ({model}: model "
        "directory not found); pass --model with that model"]


def test_best_of_n_sampling_options_are_refused_before_any_model_loads(artifact, tmp_path, capsys, no_model_loads):
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "p"}])
    code, err = _run(capsys, ["best-of-n", str(artifact), str(src), "-o", str(tmp_path / "o.jsonl"), "--n", "0",
                              "--temperature", "-1", "--top-p", "2", "--chunk-size", "0",
                              "--policy", str(tmp_path / "no-policy")])
    assert code == 2 and _problems(err) == [
        "--n must be at least 1, got 0", "--temperature must be a number above 0, got -1.0",
        "--top-p must be in (0, 1], got 2.0", "--chunk-size must be at least 1, got 0",
        f"--policy {tmp_path / 'no-policy'}: model directory not found"]


def test_demo_options_are_refused_before_any_model_loads(tmp_path, capsys, no_model_loads, artifact):
    code, err = _run(capsys, ["demo", "--criterion", "nope", "--steps", "-3", "--dtype", "float8",
                              "--out", str(artifact)])
    assert code == 2 and _problems(err) == [
        "--criterion must be one of honest_not_flattering, short_correct, got 'nope'",
        "--steps must be at least 0, got -3",
        "--dtype float8: unknown dtype; use float32, bfloat16, float16, fp32, bf16, fp16",
        f"--out {artifact} already holds an artifact; pass --overwrite to replace it, or give a new directory"]


def test_a_finished_jobs_rerun_says_so_without_loading_the_model(artifact, tmp_path, capsys, monkeypatch):
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": f"q{i}", "response": "r"} for i in range(3)])
    out = tmp_path / "out.jsonl"
    assert main(["score", str(artifact), str(src), "-o", str(out)]) == 0
    done = out.read_bytes()
    capsys.readouterr()
    refuse_model_loads(monkeypatch)
    code, err = _run(capsys, ["score", str(artifact), str(src), "-o", str(out)])
    assert code == 0 and err == (f"nothing to do: {out} already answers every line of {src}; give a new --output "
                                 "(or delete it) to run again\n")
    assert out.read_bytes() == done


def test_ctrl_c_in_a_scoring_job_says_what_was_kept_and_a_rerun_continues(artifact, tmp_path, capsys, monkeypatch):
    from activation_rm.scoring.reward_model import ActivationRM

    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": f"q{i}", "response": "r"} for i in range(6)])
    out = tmp_path / "out.jsonl"
    score = ActivationRM.score
    calls = []

    def interrupted_on_the_second_chunk(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return score(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(ActivationRM, "score", interrupted_on_the_second_chunk)
        code, err = _run(capsys, ["score", str(artifact), str(src), "-o", str(out), "--chunk-size", "2"])
    assert code == 130 and _own_lines(err) == [f"interrupted: {out} keeps the results through input line 2; rerun the same "
                                     "command to continue after it"]
    assert len(out.read_text().splitlines()) == 2
    assert main(["score", str(artifact), str(src), "-o", str(out), "--chunk-size", "2"]) == 0
    assert len(out.read_text().splitlines()) == 6 and "resumed after line 2" in capsys.readouterr().err


def test_ctrl_c_in_a_fit_says_nothing_was_saved(model_dir, tmp_path, capsys, monkeypatch):
    from activation_rm.scoring.reward_model import ActivationRM

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ActivationRM, "fit", interrupted)
    examples = write_jsonl(tmp_path / "ex.jsonl", ARITHMETIC_PAIRS)
    out = tmp_path / "arm"
    code, err = _run(capsys, ["fit", str(examples), "--criterion", "c", "--out", str(out), "--model", str(model_dir),
                              *FAST_FIT])
    assert code == 130 and _own_lines(err) == [f"interrupted: nothing was saved to {out} (a fit keeps no partial state); rerun "
                                     "the same command to start again"]
    assert not out.exists()


def test_single_class_pointwise_examples_warn_once_before_the_fit(model_dir, tmp_path, capsys, recwarn):
    from activation_rm.fit.activations import SingleVerdictWarning

    examples = write_jsonl(tmp_path / "yes.jsonl", [{"prompt": e["prompt"], "response": e["chosen"], "label": "yes"}
                                                    for e in ARITHMETIC_PAIRS])
    assert main(["fit", str(examples), "--criterion", "c", "--out", str(tmp_path / "arm"), "--model", str(model_dir),
                 *FAST_FIT]) == 0
    warning = (f"warning: {examples}: all 6 labelled examples are labelled yes: with one class only the ARM learns "
               "nothing that separates good responses from bad ones; add examples labelled no (or use pairs)")
    assert warning in capsys.readouterr().err.splitlines()
    assert not [w for w in recwarn if issubclass(w.category, SingleVerdictWarning)]  # said once, by the command


def test_score_criteria_takes_its_input_as_the_last_positional_and_still_accepts_input(artifact, tmp_path, capsys):
    first, second = tmp_path / "correct", tmp_path / "concise"
    shutil.copytree(artifact, first)
    shutil.copytree(artifact, second)
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": e["prompt"], "response": e["chosen"]} for e in ARITHMETIC_PAIRS])
    outputs = {}
    for name, argv in {"positional": [str(first), str(second), str(src), "-o", "{out}"],
                       "after an option": [str(first), str(second), "-o", "{out}", str(src)],
                       "deprecated -i": [str(first), str(second), "-i", str(src), "-o", "{out}"]}.items():
        out = tmp_path / f"{name}.jsonl"
        code, err = _run(capsys, ["score-criteria", *[a.format(out=out) for a in argv]])
        assert code == 0, (name, err)
        assert ("deprecated" in err) == (name == "deprecated -i"), (name, err)
        outputs[name] = [json.loads(line)["scores"] for line in out.read_text().splitlines()]
    assert outputs["positional"] == outputs["after an option"] == outputs["deprecated -i"]
    assert len(outputs["positional"]) == 6 and set(outputs["positional"][0]) == {"correct", "concise"}
    code, err = _run(capsys, ["score-criteria", str(src), "-o", str(tmp_path / "o.jsonl")])
    assert code == 2 and "needs at least one artifact and the input JSONL" in err


@pytest.fixture
def terminal(monkeypatch):
    """stderr counts as a terminal: the progress bars show (capsys still captures them)."""
    import activation_rm.inputs.progress as progress

    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(progress, "REDRAW_S", 0)  # every update drawn, however fast the tiny model is


@pytest.mark.parametrize("command", ["score", "compare", "score-criteria"])
def test_scoring_jobs_show_a_progress_bar_only_on_a_terminal_and_never_with_quiet(artifact, tmp_path, capsys,
                                                                                  monkeypatch, command):
    import activation_rm.inputs.progress as progress

    records = (ARITHMETIC_PAIRS if command == "compare"
               else [{"prompt": e["prompt"], "response": e["chosen"]} for e in ARITHMETIC_PAIRS])
    src = write_jsonl(tmp_path / "in.jsonl", records)
    unit = "pair" if command == "compare" else "line"
    monkeypatch.setattr(progress, "REDRAW_S", 0)
    errs = {}
    for case in ("not a terminal", "quiet", "terminal"):
        monkeypatch.setattr(progress, "stderr_is_terminal", lambda case=case: case != "not a terminal")
        argv = [command, str(artifact), str(src), "-o", str(tmp_path / f"{case}.jsonl"), "--chunk-size", "2"]
        code, errs[case] = _run(capsys, argv + (["--quiet"] if case == "quiet" else []))
        assert code == 0, errs[case]
    assert errs["not a terminal"].count("\n") == errs["quiet"].count("\n") == 1  # the summary line only
    assert f"{unit}/s" not in errs["quiet"] + errs["not a terminal"] and "\r" not in errs["quiet"]
    bar = errs["terminal"]
    assert f"{command}: " in bar and "6/6 [" in bar and f"{unit}/s]" in bar and "<00:00" in bar, bar  # rate, ETA
    assert bar.splitlines()[-1] == errs["quiet"].splitlines()[-1].replace("quiet", "terminal")


def test_a_resumed_job_starts_its_bar_at_the_lines_already_answered(artifact, tmp_path, capsys, terminal):
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": f"q{i}", "response": "r"} for i in range(6)])
    out = tmp_path / "out.jsonl"
    assert main(["score", str(artifact), str(src), "-o", str(out), "--quiet"]) == 0
    out.write_text("".join(line + "\n" for line in out.read_text().splitlines()[:4]))
    code, err = _run(capsys, ["score", str(artifact), str(src), "-o", str(out), "--chunk-size", "1"])
    assert code == 0 and "4/6 [" in err and "5/6 [" in err and "6/6 [" in err and "3/6 [" not in err, err


def test_best_of_n_shows_a_progress_bar_per_prompt(artifact, tmp_path, capsys, terminal):
    src = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": f"What is {i} plus {i}?"} for i in range(3)])
    code, err = _run(capsys, ["best-of-n", str(artifact), str(src), "-o", str(tmp_path / "best.jsonl"), "--n", "2",
                              "--max-new-tokens", "3", "--chunk-size", "1"])
    assert code == 0 and "best-of-n: " in err and "3/3 [" in err and "prompt/s]" in err, err


def test_version_names_torch_transformers_and_the_device(capsys):
    import torch
    import transformers

    import activation_rm

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    lines = capsys.readouterr().out.splitlines()
    assert stopped.value.code == 0
    assert lines[:3] == [f"activation-rm {activation_rm.__version__}", f"torch {torch.__version__}",
                         f"transformers {transformers.__version__}"]
    assert lines[3].startswith("device cuda (" if torch.cuda.is_available() else "device cpu (") and len(lines) == 4


# ----------------------------------------------------------------------------------- the help teaches itself
def _verbs():
    import argparse

    from activation_rm.apps.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return parser, sub.choices


def test_every_option_of_every_verb_has_help_with_its_default_and_every_verb_ends_with_examples():
    """The new-user probe: no option without help, no default left unsaid (a value option says its default, or
    that it is required), and every verb's --help ends with real example commands of that verb."""
    import argparse

    from activation_rm.apps.cli import VERBS

    parser, verbs = _verbs()
    assert tuple(verbs) == VERBS
    problems = []
    for name, verb in [("", parser), *verbs.items()]:
        if name:
            epilog = verb.epilog or ""
            assert epilog.startswith("examples:\n"), name
            commands = [line.strip() for line in epilog.splitlines()[1:] if line.strip().startswith("activation-rm")]
            assert commands and all(c.startswith(("activation-rm " + name, "activation-rm eval")) for c in commands), \
                (name, commands)
            assert verb.format_help().rstrip().endswith(epilog.splitlines()[-1].strip()), name
        for action in verb._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            label = f"{name or 'activation-rm'} {'/'.join(action.option_strings) or action.dest}"
            text = action.help or ""
            if not text.strip() or text == argparse.SUPPRESS:
                problems.append(f"{label}: no help")
                continue
            if not action.option_strings or action.nargs == 0:
                continue  # positionals and switches (off unless given) have no default to show
            if not action.required and "default" not in text and "required" not in text:
                problems.append(f"{label}: the help does not say the default: {text!r}")
            if action.default not in (None, False, argparse.SUPPRESS) and not action.required:
                shown = action.default if not isinstance(action.default, list) else action.default[0]
                if str(shown) not in text % {"default": action.default} and "default: " not in text:
                    problems.append(f"{label}: default {action.default!r} not shown in {text!r}")
    assert not problems, "\n".join(problems)


def test_help_shows_the_dataclass_defaults_not_a_pointer_to_the_docs():
    import dataclasses

    from activation_rm.apps.best_of_n import SamplingConfig
    from activation_rm.fit.config import ContextConfig, SelectionConfig
    from activation_rm.judge.templates import JudgeTemplate

    _, verbs = _verbs()
    assert "the library's" not in verbs["fit"].format_help() and "docs/method.md" not in verbs["fit"].format_help()
    for verb, configs in (("fit", (ContextConfig(), SelectionConfig(), JudgeTemplate("c"))),
                          ("best-of-n", (SamplingConfig(),))):
        helps = {action.dest: action.help for action in verbs[verb]._actions}
        for config in configs:
            for name, value in dataclasses.asdict(config).items():
                if name in ("criterion", "system") or "question" in name or "verdicts" in name:
                    continue  # not flags: --criterion is the command's own, the wording stays in Python
                shown = ("on" if value else "off") if isinstance(value, bool) else value
                assert helps[name].endswith(f"(default: {shown})"), (verb, name, helps[name])
