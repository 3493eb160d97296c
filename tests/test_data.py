"""activation_rm.inputs.data: reading few-shot example files, with errors that name the file, line and field."""

import json

import pytest

from activation_rm.inputs.data import (
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


def test_prompts_are_checked_with_their_example_named(tmp_path):
    lenient = load_examples([{"prompt": [{"role": "user", "content": 3}], "response": "r", "label": 1}])
    assert lenient[0].prompt == [{"role": "user", "content": 3}]  # any content: the judge renders it with str()
    with pytest.raises(ExampleError) as refused:
        load_examples([{"prompt": [{"role": "user"}], "response": "r", "label": 1},
                       {"prompt": [], "chosen": "a", "rejected": "b"}])
    assert refused.value.problems == [
        "examples[0]: field 'prompt': prompt message 0 must be an object with 'role' and 'content', not an object "
        "without 'content'",
        'examples[1]: field \'prompt\': prompt must be a non-empty string or a list of {"role", "content"} messages, '
        "not an empty array"]


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


# ---------------------------------------------------------------------------------------------- fuzzing
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
    | st.sampled_from(["", " ", "x" * 5000, "\u00e9\u4e2d\U0001f600", "\ud800", "yes", "no", "1"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
NASTY_TEXT = st.sampled_from(["a\ud800b", "\udfff", "\ud83d\ude00", "\x00", "\u2028", "x" * 200_000, "\t\n"])
FIELDS = ("prompt", "response", "label", "chosen", "rejected", "images")


@st.composite
def jsonl_lines(draw) -> bytes:
    """One JSONL line: a valid example with fields dropped or replaced by fuzz, any JSON value, or raw bytes."""
    kind = draw(st.sampled_from(["near", "near", "value", "bytes", "blank"]))
    if kind == "blank":
        return b"  "
    if kind == "bytes":
        return draw(st.binary(max_size=40)).replace(b"\n", b" ").replace(b"\r", b" ")
    if kind == "value":
        return json.dumps(draw(JSON_VALUES)).encode()
    record = dict(draw(st.sampled_from([{"prompt": "q", "response": "r", "label": "yes"},
                                        {"prompt": "q", "chosen": "a", "rejected": "b"}])))
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=2)):
        if draw(st.booleans()):
            record.pop(key, None)
        else:
            record[key] = draw(JSON_VALUES | NASTY_TEXT)
    text = json.dumps(record, ensure_ascii=draw(st.booleans()))
    text = text[: draw(st.integers(1, len(text)))] if draw(st.integers(0, 9)) == 0 else text
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate written raw is invalid UTF-8


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(jsonl_lines(), max_size=8))
def test_fuzzed_files_give_examples_or_errors_naming_every_bad_line(tmp_path, lines):
    """Never a traceback: either one example per non-blank line, or an input error; and the lines it names are
    exactly the lines that fail on their own (nothing bad is skipped, nothing good is blamed)."""
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    filled = [n for n, line in enumerate(lines, start=1) if line.strip()]

    def alone(number: int) -> bool:
        single = tmp_path / "single.jsonl"
        single.write_bytes(b"\n" * (number - 1) + lines[number - 1] + b"\n")
        try:
            load_examples(single)
            return True
        except ExampleError:
            return False

    try:
        examples = load_examples(path)
    except EmptyInputError:
        assert not filled
        return
    except ExampleError as err:
        if len(err.problems) == 1 and "mixes pointwise and pairwise" in err.problems[0]:
            assert all(alone(n) for n in filled)
            return
        named = sorted({int(p.split(f"{path}:", 1)[1].split(":", 1)[0]) for p in err.problems})
        assert named == [n for n in filled if not alone(n)]
        assert str(err).startswith(f"{len(err.problems)} malformed example(s):")
        return
    assert len(examples) == len(filled) and [e.source for e in examples] == [f"{path}:{n}" for n in filled]


def test_examples_with_missing_images_name_file_and_line(tmp_path):
    from tiny_vision import write_caption_examples

    path = write_caption_examples(tmp_path, 3)
    lines = open(path).read().splitlines()
    lines[1] = lines[1].replace("img/1.png", "img/nowhere.png")
    open(path, "w").write("\n".join(lines) + "\n")
    with pytest.raises(ExampleError, match=r"captions\.jsonl:2: image file not found: .*nowhere\.png"):
        load_examples(path)
    examples = load_examples(write_caption_examples(tmp_path, 3))
    assert examples[0].images == (str(tmp_path / "img" / "0.png"),)
    assert [e.label for e in examples] == [True, False, True]
    assert [e.images for e in examples] == [(str(tmp_path / "img" / f"{i}.png"),) for i in range(3)]
