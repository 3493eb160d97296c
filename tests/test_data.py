import json

import pytest

from activation_rm.data import ExampleError, PairwiseExample, PointwiseExample, load_examples, parse_label


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
    with pytest.raises(ExampleError, match="no examples"):
        load_examples(_write(tmp_path / "e.jsonl", [""]))
    with pytest.raises(FileNotFoundError):
        load_examples(tmp_path / "missing.jsonl")


def test_parse_label_rejects_other_values():
    with pytest.raises(ValueError):
        parse_label(2)
