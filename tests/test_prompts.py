"""activation_rm.inputs.prompts: what a prompt and a response are, the errors that say why not, and the training
adapters' prompts and completions turned into the judge's input."""

from __future__ import annotations

import pytest

from activation_rm.inputs.prompts import (
    check_prompt,
    completion_text,
    content_text,
    field_value,
    kind_name,
    prompt_input,
    prompt_problem,
    response_problem,
    text_field,
)

CHAT = [{"role": "system", "content": "Be short."}, {"role": "user", "content": "What is two plus two?"}]
FORMS = 'a non-empty string or a list of {"role", "content"} messages'


def test_kind_names_are_json_names_for_json_values_else_python_names():
    assert [kind_name(v) for v in (None, False, 3, 2.5, "x", [1], {"a": 1}, (1,), b"x")] == [
        "null", "a boolean", "a number", "a number", "a string", "an array", "an object", "tuple", "bytes"]


@pytest.mark.parametrize("prompt", ["What is two plus two?", " x ", CHAT, [{"role": "user", "content": ""}]])
def test_prompts_are_accepted_and_returned_as_they_are(prompt):
    assert prompt_problem(prompt) is None and prompt_problem(prompt, strict=True) is None
    assert check_prompt(prompt) is prompt


LENIENT_ONLY = [  # files and Python callers may give any role and content (the judge renders them with str())
    ([{"role": "user", "content": 5}], "message 0's 'content' must be a string, not a number"),
    ([{"role": None, "content": "hi"}], "message 0's 'role' must be a string, not null"),
    ([*CHAT, {"role": "user", "content": [{"type": "text", "text": "hi"}]}],
     "message 2's 'content' must be a string, not an array"),
]


@pytest.mark.parametrize("prompt, strict_problem", LENIENT_ONLY)
def test_strict_prompts_need_string_roles_and_contents(prompt, strict_problem):
    assert check_prompt(prompt) is prompt
    assert prompt_problem(prompt, strict=True) == strict_problem
    with pytest.raises(ValueError) as refused:
        check_prompt(prompt, strict=True)
    assert str(refused.value) == f"prompt {strict_problem}"


REFUSED = [  # refused in both modes, with the same words
    ("", "is empty"),
    (" \n\t", "is empty"),
    ([], f"must be {FORMS}, not an empty array"),
    (None, f"must be {FORMS}, not null"),
    (3, f"must be {FORMS}, not a number"),
    ({"role": "user", "content": "hi"}, f"must be {FORMS}, not an object"),
    (("hi",), f"must be {FORMS}, not tuple"),
    (["hi"], "message 0 must be an object with 'role' and 'content', not a string"),
    ([CHAT[0], None], "message 1 must be an object with 'role' and 'content', not null"),
    ([{"role": "user"}], "message 0 must be an object with 'role' and 'content', not an object without 'content'"),
    ([CHAT[0], {}], "message 1 must be an object with 'role' and 'content', not an object without 'role' and "
                    "'content'"),
]


@pytest.mark.parametrize("prompt, problem", REFUSED)
def test_bad_prompts_are_named_with_what_is_wrong(prompt, problem):
    assert prompt_problem(prompt) == problem == prompt_problem(prompt, strict=True)
    with pytest.raises(ValueError) as refused:
        check_prompt(prompt)
    assert str(refused.value) == f"prompt {problem}"


def test_the_text_check_sees_every_string_in_order_and_follows_its_name():
    seen = []

    def long(text):
        seen.append(text)
        return f"has {len(text)} characters" if len(text) > 5 else None

    assert prompt_problem("abcdef", text=long) == "has 6 characters"
    assert prompt_problem("   ", text=long) == "is empty" and seen == ["abcdef"]  # an empty prompt is not measured
    seen.clear()
    prompt = [{"role": "user", "content": "ok"}, {"role": "bot", "content": "longer"}, {"role": "user", "content": "x"}]
    assert prompt_problem(prompt, strict=True, text=long) == "message 1's 'content' has 6 characters"
    assert seen == ["user", "ok", "bot", "longer"]  # each role before its content; the check stops at the first
    seen.clear()
    assert prompt_problem(prompt, text=long) is None and seen == []  # lenient: contents need not be strings
    assert prompt_problem([{"role": 7, "content": "x"}], strict=True, text=long) == (
        "message 0's 'role' must be a string, not a number")


def test_responses_are_strings_and_record_fields_are_named():
    assert response_problem("") is None and response_problem("Four.") is None
    assert response_problem(3) == "must be a string, got int" and response_problem(None) == "must be a string, got NoneType"
    record = {"prompt": " ", "response": 4, "chosen": "a", "label": "yes"}
    assert text_field(record, "chosen") == "a"
    for key, message in (("response", "field 'response' must be a string, got int"),
                         ("rejected", "missing field 'rejected'")):
        with pytest.raises(ValueError) as refused:
            text_field(record, key)
        assert str(refused.value) == message
    assert field_value({"prompt": CHAT}, "prompt", check_prompt) is CHAT
    with pytest.raises(ValueError) as refused:
        field_value(record, "prompt", check_prompt)
    assert str(refused.value) == "field 'prompt': prompt is empty"
    with pytest.raises(ValueError, match=r"^missing field 'prompt'$"):
        field_value({}, "prompt", check_prompt)
    with pytest.raises(TypeError):  # only a ValueError is about the value; anything else is the caller's bug
        field_value({"n": "x"}, "n", lambda v: v + 1)


def test_content_is_turned_into_text():
    parts = [{"type": "image", "image": object()}, {"type": "text", "text": "What is "}, {"type": "text", "text": "it?"}]
    assert content_text("as is ") == "as is "
    assert content_text(parts) == "What is it?" and content_text(tuple(parts)) == "What is it?"
    assert content_text(["raw", {"type": "image"}]) == "raw"
    assert content_text(None) == "" and content_text(7) == "7"


class Array:
    """Stands in for the numpy array of dicts that Arrow and Parquet hand back for a messages column."""

    def __init__(self, items):
        self.items = list(items)

    def __iter__(self):
        return iter(self.items)


def test_prompt_input_normalises_the_adapters_formats():
    assert prompt_input("plain") == "plain" and prompt_input("") == ""  # not checked here: check_prompt does that
    parts = [{"role": "user", "content": [{"type": "image", "image": "a.png"}, {"type": "text", "text": "Caption."}]}]
    assert prompt_input(parts) == [{"role": "user", "content": "Caption."}]
    assert prompt_input(Array([{"content": "hi"}, {"role": "assistant", "content": None}])) == [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]
    assert prompt_input(({"role": 1, "content": 2},)) == [{"role": "1", "content": "2"}]
    assert prompt_input([]) == []
    for value, message in ((None, "prompt must be a string or a list of messages, got NoneType"),
                           (3, "prompt must be a string or a list of messages, got int"),
                           (b"hi", "prompt must be a string or a list of messages, got bytes"),
                           ({"role": "user", "content": "hi"}, "prompt must be a string or a list of messages, got dict"),
                           ([CHAT[0], "hi"], "prompt message 1 must be a dict with 'role' and 'content', got str")):
        with pytest.raises(TypeError) as refused:
            prompt_input(value)
        assert str(refused.value) == message


def test_completion_text_takes_the_assistant_turns():
    assert completion_text("Four.") == "Four." and completion_text("") == ""
    assert completion_text({"role": "assistant", "content": [{"type": "text", "text": "Four."}]}) == "Four."
    turns = [{"role": "assistant", "content": "Four."}, {"role": "tool", "content": "ignored"}, "ignored too",
             {"content": [{"type": "text", "text": "Five."}]}]
    assert completion_text(turns) == "Four.\nFive."
    assert completion_text([]) == ""
    with pytest.raises(TypeError, match=r"^completion must be a string or a list of messages, got int$"):
        completion_text(12345)
