import json

import pytest

from activation_rm.streaming import InputError, completed_lines, pointwise_fields, run_jsonl_job


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
    with pytest.raises(InputError, match=r"in.jsonl:2: field 'response'"):
        run_jsonl_job(src, out, pointwise_fields, _scorer([]), chunk_size=10)
    assert [json.loads(line)["line"] for line in out.read_text().splitlines()] == [1]


def test_refuses_to_append_to_a_foreign_file(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("hello\nworld\n")
    with pytest.raises(InputError, match="not a result line"):
        completed_lines(out)
