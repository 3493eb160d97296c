"""activation_rm.scoring.streaming, resumable JSONL jobs: streaming and resume, and the output's safety: nothing
of the user's is overwritten or dropped (a foreign file, the input itself, a field named like the bookkeeping),
another job never appends to an output, and no NaN is ever written; the command line's score, compare and
score-criteria jobs on them, with image paths relative to the input file."""

import json
import math

import pytest

from activation_rm.inputs.data import EmptyInputError
from activation_rm.scoring.streaming import (
    BOOKKEEPING_KEY,
    InputError,
    Job,
    OutputError,
    check_input,
    check_output,
    completed_lines,
    job_file,
    pair_fields,
    pointwise_fields,
    run_jsonl_job,
)


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _scorer(calls):
    def score_chunk(chunk):
        calls.append(len(chunk))
        return [{"score": len(r) / 10} for _, r in chunk]
    return score_chunk


def _strict_rows(path):
    """The output's lines as JSON, refusing NaN and Infinity (which ``json.loads`` would accept)."""
    def refuse(constant):
        raise AssertionError(f"{path} holds {constant}, which is not JSON")
    return [json.loads(line, parse_constant=refuse) for line in path.read_text(encoding="utf-8").splitlines()]


def _lines(path):
    return [row[BOOKKEEPING_KEY]["line"] for row in _strict_rows(path)]


def test_job_streams_in_chunks_and_resumes(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(src, [{"prompt": "p", "response": "x" * i, "id": i} for i in range(7)])
    calls = []
    stats = run_jsonl_job(src, out, pointwise_fields, _scorer(calls), chunk_size=3)
    assert stats.scored == 7 and calls == [3, 3, 1]
    rows = _strict_rows(out)
    assert _lines(out) == list(range(1, 8))
    assert rows[2] == {"prompt": "p", "response": "xx", "id": 2, "score": 0.2, BOOKKEEPING_KEY: {"line": 3}}
    record = json.loads(job_file(out).read_text())
    assert record["done"]["line"] == 7 and record["done"]["bytes"] == src.stat().st_size
    # a crash left a torn last line: it is dropped and redone, nothing else is rescored
    text = out.read_text().splitlines(keepends=True)
    out.write_text("".join(text[:4]) + text[4][:10])
    calls.clear()
    stats = run_jsonl_job(src, out, pointwise_fields, _scorer(calls), chunk_size=3)
    assert stats.done_before == 4 and stats.scored == 3
    assert _strict_rows(out) == rows


def test_bad_line_stops_after_writing_earlier_results(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"prompt": "p", "response": "a"}) + "\n" + json.dumps({"prompt": "p"}) + "\n")
    with pytest.raises(InputError, match=r"in.jsonl:2: missing field 'response'"):
        run_jsonl_job(src, out, pointwise_fields, _scorer([]), chunk_size=10)
    assert _lines(out) == [1]


# ------------------------------------------------------------------------------------ nothing of the user's lost
def test_the_input_itself_as_output_is_refused_and_left_alone(tmp_path):
    """`head -1 resp.jsonl > self.jsonl; score ART self.jsonl -o self.jsonl` emptied the file: its one line is not
    a result line, and the last line was taken for a torn one."""
    src = _write(tmp_path / "self.jsonl", [{"prompt": "p", "response": "a"}])
    before = src.read_bytes()
    link = tmp_path / "alias.jsonl"
    link.symlink_to(src)
    for output in (src, link):
        with pytest.raises(OutputError, match="is the input file itself"):
            check_output(output, src)
        with pytest.raises(OutputError, match="is the input file itself"):
            run_jsonl_job(src, output, pointwise_fields, _scorer([]))
    assert src.read_bytes() == before


def test_a_complete_foreign_line_is_refused_never_dropped(tmp_path):
    """`printf 'my note\\n' > note.txt; score ART resp.jsonl -o note.txt` wiped the note with exit 0."""
    src = _write(tmp_path / "in.jsonl", [{"prompt": "p", "response": "a"}, {"prompt": "p", "response": "b"}])
    note = tmp_path / "note.txt"
    for content in ("my note\n", '{"prompt": "p", "response": "a"}\n', "\n", '{"x": 1}\n{"y": 2}'):
        note.write_text(content)
        with pytest.raises(OutputError, match=r"note.txt:1: not a result line of this tool"):
            run_jsonl_job(src, note, pointwise_fields, _scorer([]))
        assert note.read_text() == content and not job_file(note).exists()
    # a complete foreign line after this tool's own results, or as the last line, is refused too
    out = tmp_path / "out.jsonl"
    run_jsonl_job(src, out, pointwise_fields, _scorer([]), chunk_size=1)
    first = out.read_text().splitlines(keepends=True)[0]
    for content in (first + "my note\n", first + "my note", first + "my note\n" + first):
        out.write_text(content)
        with pytest.raises(OutputError, match=r"out.jsonl:2: not a result line"):
            run_jsonl_job(src, out, pointwise_fields, _scorer([]))
        assert out.read_text() == content
    # only a last line without its newline that starts like a result line is torn, dropped and redone
    out.write_text(first + first[:7])
    assert run_jsonl_job(src, out, pointwise_fields, _scorer([])).scored == 1 and _lines(out) == [1, 2]


def test_an_output_without_its_job_record_is_refused(tmp_path):
    src = _write(tmp_path / "in.jsonl", [{"prompt": "p", "response": "a"}, {"prompt": "p", "response": "b"}])
    out = tmp_path / "out.jsonl"
    run_jsonl_job(src, out, pointwise_fields, _scorer([]))
    job_file(out).unlink()
    before = out.read_bytes()
    with pytest.raises(OutputError, match=r"out.jsonl has no job record out.jsonl.job.json"):
        run_jsonl_job(src, out, pointwise_fields, _scorer([]))
    assert out.read_bytes() == before
    # an empty output holds nothing to lose: it is simply used
    out.write_bytes(b"")
    assert run_jsonl_job(src, out, pointwise_fields, _scorer([])).scored == 2


def test_an_input_field_named_like_the_bookkeeping_cannot_move_the_resume_point(tmp_path):
    """`{"line": n, **record, **result}` let an input field `line` overwrite the resume counter: a rerun skipped
    lines silently or refused the tool's own output. The user's fields now come through untouched."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    records = [{"prompt": "p", "response": "x" * i, "line": line} for i, line in enumerate([40, "two", 1, None])]
    _write(src, records)
    run_jsonl_job(src, out, pointwise_fields, _scorer([]), chunk_size=2)
    assert [row["line"] for row in _strict_rows(out)] == [40, "two", 1, None] and _lines(out) == [1, 2, 3, 4]
    out.write_text("".join(out.read_text().splitlines(keepends=True)[:1]))
    calls = []
    stats = run_jsonl_job(src, out, pointwise_fields, _scorer(calls), chunk_size=2)
    assert stats.done_before == 1 and calls == [2, 1] and _lines(out) == [1, 2, 3, 4]


def test_rescoring_an_earlier_output_keeps_every_value_it_replaces(tmp_path):
    src, first, second = tmp_path / "in.jsonl", tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    _write(src, [{"prompt": "p", "response": "ab", "line": 7}, {"prompt": "q", "response": "abc", "score": "A+"}])
    run_jsonl_job(src, first, pointwise_fields, lambda chunk: [{"score": 0.25}] * len(chunk))
    run_jsonl_job(first, second, pointwise_fields, lambda chunk: [{"score": 0.75}] * len(chunk))
    earlier, rows = _strict_rows(first), _strict_rows(second)
    assert earlier[1]["score"] == 0.25 and earlier[1][BOOKKEEPING_KEY]["replaced"] == {"score": "A+"}
    assert [row["score"] for row in rows] == [0.75, 0.75] and rows[0]["line"] == 7
    for before, row in zip(earlier, rows):
        assert row[BOOKKEEPING_KEY]["replaced"] == {"score": before["score"], BOOKKEEPING_KEY: before[BOOKKEEPING_KEY]}
    assert completed_lines(second) == 2


# ------------------------------------------------------------------------------------ nothing of another job mixed in
def _fake_artifact(path, text):
    path.mkdir()
    (path / "arm.json").write_text(text)
    return path


def test_another_job_never_appends_to_an_output(tmp_path):
    src = _write(tmp_path / "in.jsonl", [{"prompt": "p", "response": c} for c in "abcd"])
    other_input = _write(tmp_path / "other.jsonl", [{"prompt": "p", "response": c} for c in "abcd"])
    art_a, art_b = _fake_artifact(tmp_path / "a", '{"criterion": "a"}'), _fake_artifact(tmp_path / "b", '{"c": "b"}')
    job = Job("score", (art_a,), {"without_steering": False})
    out = tmp_path / "out.jsonl"
    run_jsonl_job(src, out, pointwise_fields, _scorer([]), job=job)
    out.write_text("".join(out.read_text().splitlines(keepends=True)[:2]))  # an interrupted run
    before = out.read_bytes()
    refused = {"artifact": (src, Job("score", (art_b,), {"without_steering": False})),
               "without_steering": (src, Job("score", (art_a,), {"without_steering": True})),
               "command": (src, Job("compare", (art_a,), {"without_steering": False})),
               "input": (other_input, job)}
    for differ, (source, other) in refused.items():
        with pytest.raises(OutputError, match=rf"out.jsonl was written by another job, with other settings "
                                              rf"\({differ} differ"):
            run_jsonl_job(source, out, pointwise_fields, _scorer([]), job=other)
        assert out.read_bytes() == before
    # the same artifact under another path is the same job: it resumes
    moved = tmp_path / "moved"
    art_a.rename(moved)
    stats = run_jsonl_job(src, out, pointwise_fields, _scorer([]), job=Job("score", (moved,), {"without_steering": False}))
    assert stats.done_before == 2 and _lines(out) == [1, 2, 3, 4]


def test_an_input_changed_under_its_consumed_prefix_is_refused(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(src, [{"prompt": "p", "response": c} for c in "ab"])
    run_jsonl_job(src, out, pointwise_fields, _scorer([]))
    # lines appended to the input are new work: the rerun scores just those
    with open(src, "a") as handle:
        handle.write(json.dumps({"prompt": "p", "response": "c"}) + "\n")
    assert run_jsonl_job(src, out, pointwise_fields, _scorer([])).scored == 1 and _lines(out) == [1, 2, 3]
    # an edit inside the part already scored is refused: those results answer other lines
    _write(src, [{"prompt": "p", "response": c} for c in "xbcd"])
    before = out.read_bytes()
    with pytest.raises(OutputError, match=r"in.jsonl changed since .*out.jsonl was written from it"):
        check_output(out, src)
    with pytest.raises(OutputError, match="changed since"):
        run_jsonl_job(src, out, pointwise_fields, _scorer([]))
    assert out.read_bytes() == before


# ------------------------------------------------------------------------------------------------ no NaN written
def test_a_result_that_is_not_a_finite_number_fails_the_item_with_a_reason(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(src, [{"prompt": "p", "response": c} for c in "abc"])
    results = iter([{"score": 0.5}, {"score": math.nan, "extra": "x"}, {"scores": [0.1, -math.inf]}])
    stats = run_jsonl_job(src, out, pointwise_fields, lambda chunk: [next(results) for _ in chunk])
    rows = _strict_rows(out)
    assert stats.failed == 2 and "2 item(s) failed" in stats.failure_note()
    assert rows[0]["score"] == 0.5 and "error" not in rows[0][BOOKKEEPING_KEY]
    assert rows[1]["score"] is None and rows[1]["extra"] is None
    assert rows[1][BOOKKEEPING_KEY]["error"] == "no result: score is NaN, not a finite number"
    assert rows[2]["scores"] is None and rows[2][BOOKKEEPING_KEY]["error"] == (
        "no result: scores[1] is -Infinity, not a finite number")


def test_input_numbers_that_are_not_valid_json_are_refused(tmp_path):
    """Python's json reads NaN and Infinity; copied to the output they made it invalid JSON."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "p", "response": "a", "meta": {"w": [1, NaN]}}\n'
                   '{"prompt": "p", "response": "a", "x": -Infinity}\n')
    with pytest.raises(InputError) as info:
        check_input(src, pointwise_fields)
    assert str(info.value).splitlines()[1:] == [
        f"{src}:1: field 'meta.w[1]' is NaN, which is not valid JSON",
        f"{src}:2: field 'x' is -Infinity, which is not valid JSON"]
    with pytest.raises(InputError, match="is NaN"):
        run_jsonl_job(src, tmp_path / "out.jsonl", pointwise_fields, _scorer([]))


def test_check_input_reports_every_bad_line_at_once(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"prompt": "p", "response": "a"}\n{"prompt": "p"\n[1]\n\n{"prompt": "caf\xe9", "response": "x"}\n'
                    b'{"response": "a"}\n{"prompt": "p", "response": null}\n')
    with pytest.raises(InputError) as info:
        check_input(src, pointwise_fields)
    assert str(info.value).splitlines() == [
        f"5 bad input line(s) in {src}:",
        f"{src}:2: invalid JSON (Expecting ',' delimiter at end of line: truncated?)",
        f"{src}:3: expected a JSON object, got list",
        f"{src}:5: not valid UTF-8 (byte 0xe9 at offset 15)",
        f"{src}:6: missing field 'prompt'",
        f"{src}:7: field 'response' must be a string, got NoneType",
    ]


def test_check_input_counts_lines_and_refuses_empty_files(tmp_path):
    src = tmp_path / "in.jsonl"
    _write(src, [{"prompt": "p", "response": "a"}, {"prompt": "q", "response": "b"}])
    assert check_input(src, pointwise_fields) == 2
    for content in (b"", b"\n  \n"):
        src.write_bytes(content)
        with pytest.raises(EmptyInputError, match="in.jsonl: the file has no JSON lines"):
            check_input(src, pointwise_fields)
        with pytest.raises(EmptyInputError):
            run_jsonl_job(src, tmp_path / "out.jsonl", pointwise_fields, _scorer([]))


def test_pair_fields_say_which_field_is_missing_or_wrong(tmp_path):
    path = tmp_path / "p.jsonl"
    with pytest.raises(InputError, match=r"p.jsonl:3: missing field 'rejected'"):
        pair_fields(path, 3, {"prompt": "q", "chosen": "a"})
    with pytest.raises(InputError, match=r"p.jsonl:3: field 'response_b' must be a string, got list"):
        pair_fields(path, 3, {"prompt": "q", "response_a": "a", "response_b": ["b"]})
    assert pair_fields(path, 3, {"prompt": "q", "a": "x", "b": "y"}) == ("q", "x", "y", ("a", "b"))
    with pytest.raises(InputError, match=r"p.jsonl:3: missing field 'b'$"):  # a missing one is named before a wrong one
        pair_fields(path, 3, {"prompt": "q", "a": 1})


def test_prompt_and_response_fields_say_what_is_wrong(tmp_path):
    path = tmp_path / "p.jsonl"
    chat = [{"role": "user", "content": "q"}]
    assert pointwise_fields(path, 2, {"prompt": chat, "response": ""}) == (chat, "")
    for record, problem in (
            ({"response": "r"}, "missing field 'prompt'"),
            ({"prompt": "  ", "response": "r"}, "field 'prompt': prompt is empty"),
            ({"prompt": 7, "response": "r"},
             'field \'prompt\': prompt must be a non-empty string or a list of {"role", "content"} messages, not a number'),
            ({"prompt": [{"content": "q"}], "response": "r"}, "field 'prompt': prompt message 0 must be an object with "
                                                               "'role' and 'content', not an object without 'role'"),
            ({"prompt": "q"}, "missing field 'response'"),
            ({"prompt": "q", "response": None}, "field 'response' must be a string, got NoneType")):
        with pytest.raises(InputError) as refused:
            pointwise_fields(path, 2, record)
        assert str(refused.value) == f"{path}:2: {problem}"


# ---------------------------------------------------------------------------------------------- fuzzing
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_data import jsonl_lines  # noqa: E402


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(jsonl_lines(), max_size=8), pairs=st.booleans())
def test_fuzzed_inputs_are_refused_whole_or_scored_line_for_line(tmp_path, lines, pairs):
    """check_input either refuses the file naming lines of it, or the job writes exactly one result per
    non-blank input line, in order, as valid UTF-8 JSON (a lone surrogate in the input must not tear a line)."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out.unlink(missing_ok=True)
    parse = pair_fields if pairs else pointwise_fields
    filled = [n for n, line in enumerate(lines, start=1) if line.strip()]
    try:
        assert check_input(src, parse) == len(filled)
    except EmptyInputError:
        assert not filled
        return
    except InputError as err:
        named = [line for line in str(err).splitlines()[1:] if not line.startswith("... and")]
        assert named and all(line.startswith(f"{src}:") for line in named)
        assert {int(line.split(f"{src}:", 1)[1].split(":", 1)[0]) for line in named} <= set(filled)
        return
    stats = run_jsonl_job(src, out, parse, lambda chunk: [{"n": len(fields)} for fields in chunk], chunk_size=3)
    written = [json.loads(line) for line in out.read_bytes().decode("utf-8").split("\n")[:-1]]
    assert stats.scored == len(filled) and [row[BOOKKEEPING_KEY]["line"] for row in written] == filled


def test_resume_keeps_records_holding_unicode_line_separators(tmp_path):
    """U+2028 is written raw (ensure_ascii=False); splitting the output with str.splitlines tore such a record in
    two and the rerun refused the file. A lone surrogate escape is refused at the input instead."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(src, [{"prompt": "p", "response": "one\u2028two"}, {"prompt": "p", "response": "x"}])
    run_jsonl_job(src, out, pointwise_fields, lambda chunk: [{"s": 1}] * len(chunk))
    assert "\u2028" in out.read_text(encoding="utf-8")
    assert completed_lines(out) == 2
    src.write_text('{"prompt": "p", "response": "a\\ud800b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"in.jsonl:1: a lone UTF-16 surrogate escape \(\\ud800\)"):
        check_input(src, pointwise_fields)


# ------------------------------------------------------------------------------------------ the score command
def test_score_refuses_unsafe_outputs_before_the_model_loads(artifact, model_dir, tmp_path, capsys, monkeypatch):
    from activation_rm.apps.cli import main
    from activation_rm.scoring import reward_model

    src = _write(tmp_path / "resp.jsonl", [{"prompt": "What is 2 plus 2?", "response": r} for r in ("4.", "5.")])
    out = tmp_path / "scores.jsonl"
    common = ["--model", str(model_dir), "--chunk-size", "1"]
    assert main(["score", str(artifact), str(src), "-o", str(out), *common]) == 0
    out.write_text(out.read_text().splitlines(keepends=True)[0])  # an interrupted run
    capsys.readouterr()

    def no_load(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(reward_model.ActivationRM, "load", no_load)
    note = tmp_path / "note.txt"
    note.write_text("my note\n")
    other = _write(tmp_path / "other.jsonl", [{"prompt": "q", "response": "r"}])
    refusals = [(["score", str(artifact), str(src), "-o", str(src)], "is the input file itself"),
                (["score", str(artifact), str(src), "-o", str(note)], "note.txt:1: not a result line"),
                (["score", str(artifact), str(other), "-o", str(out)], "other settings (input differ"),
                (["score", str(artifact), str(src), "-o", str(out), "--without-steering"],
                 "other settings (without_steering differ")]
    for argv, message in refusals:
        before = {path: path.read_bytes() for path in (src, note, out)}
        assert main([*argv, *common]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        assert {path: path.read_bytes() for path in (src, note, out)} == before


def test_score_writes_a_nan_score_as_a_failed_item(artifact, model_dir, tmp_path, capsys, monkeypatch):
    from activation_rm.apps.cli import main
    from activation_rm.scoring import reward_model

    real_score = reward_model.ActivationRM.score

    def score_with_a_nan(self, prompts, responses, **kwargs):
        scores = real_score(self, prompts, responses, **kwargs)
        return [math.nan if response == "broken" else score for response, score in zip(responses, scores)]

    monkeypatch.setattr(reward_model.ActivationRM, "score", score_with_a_nan)
    src = _write(tmp_path / "resp.jsonl", [{"prompt": "p", "response": r} for r in ("4.", "broken", "5.")])
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(artifact), str(src), "-o", str(out), "--model", str(model_dir)]) == 1
    rows = _strict_rows(out)
    assert [row["score"] is None for row in rows] == [False, True, False] and 0 < rows[0]["score"] < 1
    assert rows[1][BOOKKEEPING_KEY]["error"] == "no result: score is NaN, not a finite number"
    assert "1 item(s) failed" in capsys.readouterr().err


# ------------------------------------------------------------------------------- the command line's JSONL jobs
def test_cli_score_criteria_equals_each_reward_model_alone(tmp_path, capsys):
    import torch
    from tiny import random_rm, save_tiny_model

    from activation_rm.apps.cli import main
    from activation_rm.model.backbone import load_backbone
    from activation_rm.scoring.reward_model import ActivationRM

    prompts = ["What is two plus two?", "The capital of France?", "What is two plus two?"]
    responses = ["Four.", "Paris is the capital of France.", "It is 5, the quick brown fox."]
    backbone = load_backbone(str(save_tiny_model(tmp_path / "model")), device="cpu")
    paths = [str(random_rm(backbone, criterion, 20 + k).save(tmp_path / f"arm_{criterion}"))
             for k, criterion in enumerate(["correct", "short"])]
    src, out = _write(tmp_path / "in.jsonl", [{"prompt": p, "response": r} for p, r in zip(prompts, responses)]), \
        tmp_path / "out.jsonl"
    assert main(["score-criteria", *paths, "-i", str(src), "-o", str(out), "--chunk-size", "2"]) == 0
    rows = _strict_rows(out)
    assert _lines(out) == [1, 2, 3]
    for path, name in zip(paths, ["arm_correct", "arm_short"]):
        alone = ActivationRM.load(path, backbone=backbone).score(prompts, responses)
        torch.testing.assert_close(torch.tensor([r["scores"][name] for r in rows]), torch.tensor(alone),
                                   rtol=1e-5, atol=1e-5)
    assert "under 2 criteria" in capsys.readouterr().err


def test_cli_fit_score_compare_with_image_jsonl(tmp_path, capsys):
    """Image paths in JSONL jobs are relative to the file; a broken image or a URL without --allow-network fails
    the job with the line named."""
    import re

    import torch
    from tiny_vision import CAPTION_CRITERION, tiny_vision_backbone, write_caption_examples

    from activation_rm.apps.cli import main
    from activation_rm.scoring.reward_model import ActivationRM, preference

    family_dir = tmp_path / "tiny-qwen2-vl"
    backbone = tiny_vision_backbone("qwen2_vl")
    backbone.model.save_pretrained(family_dir)
    backbone.processor.save_pretrained(family_dir)  # no video processor: loading falls back to images only
    examples = write_caption_examples(tmp_path)
    artifact = tmp_path / "artifact"
    assert main(["fit", examples, "--model", str(family_dir), "--criterion", CAPTION_CRITERION, "--out",
                 str(artifact), "--steps", "3", "--n-contexts", "4", "--n-shots", "1", "--masks-per-step", "4",
                 "--max-length", "512", "--quiet", "--device", "cpu"]) == 0

    lines = [{"prompt": "Caption the image.", "response": "Coloured noise.", "images": ["img/0.png"]},
             {"prompt": "What is two plus two?", "response": "Four."},
             {"prompt": "Caption both.", "response": "Two noisy squares.", "images": ["img/1.png", "img/2.png"]}]
    inputs = _write(tmp_path / "to_score.jsonl", lines)
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(artifact), str(inputs), "-o", str(out), "--chunk-size", "2"]) == 0
    scored = _strict_rows(out)
    assert _lines(out) == [1, 2, 3]
    rm = ActivationRM.load(artifact)
    assert rm.backbone.processor is not None
    expected = rm.score([line["prompt"] for line in lines], [line["response"] for line in lines],
                        images=[[tmp_path / p for p in line.get("images", [])] for line in lines])
    assert [r["score"] for r in scored] == pytest.approx(expected, abs=1e-6)

    pairs = _write(tmp_path / "pairs.jsonl", [{"prompt": "Caption.", "chosen": "Noise.", "rejected": "A cat.",
                                                "images": ["img/3.png"]}])
    assert main(["compare", str(artifact), str(pairs), "-o", str(tmp_path / "cmp.jsonl")]) == 0
    (compared,) = _strict_rows(tmp_path / "cmp.jsonl")
    (direct,) = rm.compare(["Caption."], ["Noise."], ["A cat."], images=[[tmp_path / "img" / "3.png"]])
    torch.testing.assert_close([compared["score_a"], compared["score_b"]], [direct.score_a, direct.score_b])
    assert compared["preferred"] == direct.preferred == preference(direct.score_a, direct.score_b)
    assert compared["images"] == ["img/3.png"]

    (tmp_path / "img" / "4.png").write_bytes(b"corrupt")
    broken = _write(tmp_path / "broken.jsonl", [lines[1], {**lines[0], "images": ["img/4.png"]}])
    capsys.readouterr()
    assert main(["score", str(artifact), str(broken), "-o", str(tmp_path / "broken_out.jsonl")]) == 2
    assert re.search(r"broken\.jsonl:2: cannot read image .*4\.png", capsys.readouterr().err)
    url = _write(tmp_path / "url.jsonl", [{**lines[0], "images": ["https://example.com/a.png"]}])
    assert main(["score", str(artifact), str(url), "-o", str(tmp_path / "url_out.jsonl")]) == 2
    assert "--allow-network" in capsys.readouterr().err
