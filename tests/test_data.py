import json

import pytest

from activation_rm.data import (
    EmptyInputError,
    ExampleError,
    PairwiseExample,
    PointwiseExample,
    load_examples,
    parse_label,
)


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_pointwise_and_pairwise_files(tmp_path):
    point = _write(tmp_path / "p.jsonl", [json.dumps({"prompt": "q", "response": "r", "label": lab})
                                          for lab in ("yes", "No", True, 0, "1", "false")])
    examples = load_examples(point)
    assert [e.label for e in examples] == [True, False, True, False, True, False]
    assert all(isinstance(e, PointwiseExample) for e in examples)
    pair = _write(tmp_path / "q.jsonl", [json.dumps({"prompt": [{"role": "user", "content": "hi"}],
                                                     "chosen": "a", "rejected": "b"})])
    (example,) = load_examples(pair)
    assert isinstance(example, PairwiseExample) and example.prompt[0]["content"] == "hi"


def test_every_bad_line_is_reported_with_file_and_line(tmp_path):
    path = _write(tmp_path / "bad.jsonl", [
        json.dumps({"prompt": "q", "response": "r", "label": "yes"}),
        json.dumps({"prompt": "q", "response": "r"}),
        json.dumps({"prompt": "", "response": "r", "label": "no"}),
        json.dumps({"prompt": "q", "response": "r", "label": "maybe"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"prompt": "q", "chosen": "a"}),
    ])
    with pytest.raises(ExampleError) as info:
        load_examples(path)
    message = str(info.value)
    for line, text in [(2, "label"), (3, "prompt"), (4, "maybe"), (5, "JSON object"), (6, "rejected")]:
        assert f"bad.jsonl:{line}:" in message and text in message
    assert len(info.value.problems) == 5


def test_invalid_json_names_the_line(tmp_path):
    path = _write(tmp_path / "x.jsonl", [json.dumps({"prompt": "q", "response": "r", "label": 1}), "{oops"])
    with pytest.raises(ExampleError, match=r"x.jsonl:2: invalid JSON"):
        load_examples(path)


def test_mixed_kinds_and_empty_are_errors(tmp_path):
    with pytest.raises(ExampleError, match="mixes"):
        load_examples([{"prompt": "q", "response": "r", "label": 1}, {"prompt": "q", "chosen": "a", "rejected": "b"}])
    with pytest.raises(EmptyInputError, match=r"e\.jsonl: the file has no JSON examples \(it is empty or blank\)"):
        load_examples(_write(tmp_path / "e.jsonl", [""]))
    (tmp_path / "zero.jsonl").write_bytes(b"")
    with pytest.raises(EmptyInputError, match="zero.jsonl"):
        load_examples(tmp_path / "zero.jsonl")
    with pytest.raises(FileNotFoundError):
        load_examples(tmp_path / "missing.jsonl")


def test_parse_label_rejects_other_values():
    with pytest.raises(ValueError):
        parse_label(2)


def test_non_utf8_bytes_name_the_file_line_and_offset(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_bytes(json.dumps({"prompt": "q", "response": "r", "label": 1}).encode() + b"\n"
                     + b'{"prompt":"caf\xe9","response":"ok","label":1}\n')
    with pytest.raises(ExampleError) as info:
        load_examples(path)
    assert str(info.value) == f"1 malformed example(s):\n{path}:2: not valid UTF-8 (byte 0xe9 at offset 14)"


def test_every_bad_line_is_reported_even_after_invalid_json(tmp_path):
    lines = ['{"prompt": "q", "response": "r"', json.dumps({"prompt": "q", "label": 1}),
             json.dumps({"prompt": "q", "response": "r", "label": 1}), json.dumps({"prompt": "q", "response": 3, "label": 1})]
    path = _write(tmp_path / "m.jsonl", lines)
    with pytest.raises(ExampleError) as info:
        load_examples(path)
    assert info.value.problems == [
        f"{path}:1: invalid JSON (Expecting ',' delimiter at end of line: truncated?)",
        f"{path}:2: missing field 'response'",
        f"{path}:4: field 'response' must be a string, got int",
    ]


def test_json_column_is_the_column_in_the_line(tmp_path):
    path = _write(tmp_path / "c.jsonl", ['{"prompt": "q", "response": "r", "label": 1, oops}'])
    with pytest.raises(ExampleError, match=r"c\.jsonl:1: invalid JSON \(Expecting property name enclosed in double "
                                           r"quotes at column 46\)"):
        load_examples(path)


def test_long_problem_lists_are_capped_with_a_count(tmp_path):
    path = _write(tmp_path / "many.jsonl", ["[]"] * 25)
    with pytest.raises(ExampleError) as info:
        load_examples(path)
    message = str(info.value)
    assert len(info.value.problems) == 25 and message.startswith("25 malformed example(s):")
    assert f"{path}:20:" in message and f"{path}:21:" not in message and message.endswith("... and 5 more")


def test_examples_remember_where_they_were_read(tmp_path):
    path = _write(tmp_path / "s.jsonl", ["", json.dumps({"prompt": "q", "response": "r", "label": 1})])
    assert load_examples(path)[0].source == f"{path}:2"
