import json

import pytest

from activation_rm.data import EmptyInputError
from activation_rm.streaming import (
    InputError,
    check_input,
    completed_lines,
    pair_fields,
    pointwise_fields,
    run_jsonl_job,
)


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _scorer(calls):
    def score_chunk(chunk):
        calls.append(len(chunk))
        return [{"score": len(r) / 10} for _, r in chunk]
    return score_chunk


def test_job_streams_in_chunks_and_resumes(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(src, [{"prompt": "p", "response": "x" * i, "id": i} for i in range(7)])
    calls = []
    stats = run_jsonl_job(src, out, pointwise_fields, _scorer(calls), chunk_size=3)
    assert stats.scored == 7 and calls == [3, 3, 1]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in lines] == list(range(1, 8)) and lines[2]["id"] == 2 and lines[2]["score"] == 0.2
    # a crash left a torn last line: it is dropped and redone, nothing else is rescored
    text = out.read_text().splitlines(keepends=True)
    out.write_text("".join(text[:4]) + text[4][:10])
    calls.clear()
    stats = run_jsonl_job(src, out, pointwise_fields, _scorer(calls), chunk_size=3)
    assert stats.done_before == 4 and stats.scored == 3
    assert [json.loads(line)["line"] for line in out.read_text().splitlines()] == list(range(1, 8))


def test_bad_line_stops_after_writing_earlier_results(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"prompt": "p", "response": "a"}) + "\n" + json.dumps({"prompt": "p"}) + "\n")
    with pytest.raises(InputError, match=r"in.jsonl:2: missing field 'response'"):
        run_jsonl_job(src, out, pointwise_fields, _scorer([]), chunk_size=10)
    assert [json.loads(line)["line"] for line in out.read_text().splitlines()] == [1]


def test_refuses_to_append_to_a_foreign_file(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("hello\nworld\n")
    with pytest.raises(InputError, match="not a result line"):
        completed_lines(out)


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
    assert stats.scored == len(filled) and [row["line"] for row in written] == filled


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
