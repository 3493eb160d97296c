"""activation_rm.serve.body: request bodies are UTF-8 JSON objects sent as JSON, and every way a body is unreadable
gets a 4xx that says what is wrong (the endpoints' answers are in test_serve_app.py and test_serve_fuzz.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")

from pydantic import BaseModel, ConfigDict  # noqa: E402

from activation_rm.serve.body import ApiError, decode_json, is_json_type, json_kind, read_json_object  # noqa: E402


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompts: list[str]
    responses: list[str]


def _refusal(content_type, body, model=Body) -> tuple[int, str, str | None]:
    with pytest.raises(ApiError) as caught:
        read_json_object(content_type, body, model)
    return caught.value.status, caught.value.message, caught.value.field


def test_json_kinds_and_content_types():
    assert [json_kind(v) for v in (None, True, 3, 2.5, "x", [1], (1,), {"a": 1}, b"x")] == [
        "null", "a boolean", "a number", "a number", "a string", "an array", "an array", "an object", "bytes"]
    assert [is_json_type(t) for t in ("application/json", "Application/JSON; charset=utf-8",
                                      "application/merge-patch+json", "text/plain", "application/x-www-form-urlencoded",
                                      "", None)] == [True, True, True, False, False, False, False]


def test_decode_json_names_where_and_why():
    assert decode_json('\ufeff{"a": [1, 2.5]}'.encode()) == {"a": [1, 2.5]}
    cases = {b'{"a": \xff}': "the body is not UTF-8 text: byte 0xff at offset 6 (invalid start byte); JSON must be "
                              "sent as UTF-8",
             b'{"a":\n [1,}': "invalid JSON at line 2, column 5: Expecting value",
             b'{"a": NaN}': "invalid JSON: NaN is not a JSON value (use null or a number)",
             b"[" * 100_000 + b"]" * 100_000: "invalid JSON: arrays or objects are nested too deeply"}
    for body, message in cases.items():
        with pytest.raises(ApiError) as caught:
            decode_json(body)
        assert (caught.value.status, caught.value.message) == (400, message)


def test_read_json_object_checks_type_shape_and_fields():
    good = b'{"prompts": ["q"], "responses": ["a"]}'
    assert read_json_object("application/json", good, Body) == {"prompts": ["q"], "responses": ["a"]}
    status, message, _ = _refusal("text/plain", good)
    assert status == 415 and message.startswith("Content-Type 'text/plain' is not accepted: send a JSON object")
    assert message.endswith("; the body itself is valid JSON")
    status, message, _ = _refusal(None, b"{oops")
    assert status == 415 and message.startswith("the request has no Content-Type")
    assert message.endswith("; the body is not valid JSON either (invalid JSON at line 1, column 2: Expecting property "
                            "name enclosed in double quotes)")
    assert _refusal("application/json", b"")[:2] == (400, "the request body is empty; send a JSON object with "
                                                          "'Content-Type: application/json' (curl: --json BODY)")
    assert _refusal("application/json", b"[1]") == (422, "the body must be a JSON object (fields: prompts, "
                                                         "responses), not an array", None)
    assert _refusal("application/json", b'{"prompts": [], "extra": 1}') == (
        422, "unknown field 'extra'; the fields are prompts, responses", "extra")
    assert read_json_object("application/json", b'{"anything": 1}', None) == {"anything": 1}  # no model: no check
