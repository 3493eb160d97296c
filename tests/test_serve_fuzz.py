"""Hypothesis fuzzing of the reward server's HTTP bodies on every POST endpoint (/score, /compare, /get_reward).

The property, for any body: the reply is JSON with a status below 500 and nothing is logged as an error; a 4xx
names what is wrong (the field, and the item when one is to blame); a 200 has exactly one result per item (no lost
or extra lines). Bodies come from strategies for arbitrary JSON (wrong types, unicode, empty and very long
strings, huge numbers, nesting), for near-valid bodies (a valid body with one field or one item replaced by such a
value) and for raw bytes under various content types. The app is built once per module on the tiny served models
(two pointwise criteria and a pairwise one), with small limits so that long strings and many items hit them.
"""

from __future__ import annotations

import json
import logging

import pytest

pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
pytest.importorskip("httpx", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
pytest.importorskip("hypothesis", reason="hypothesis is not installed: pip install 'activation-rm[test]'")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from serve_support import local_client, served  # noqa: E402

from activation_rm.scoring.engine import ModelSet  # noqa: E402
from activation_rm.serve.app import create_app  # noqa: E402
from activation_rm.serve.config import ServerConfig  # noqa: E402

MAX_CHARS, MAX_ITEMS, MAX_BODY = 300, 6, 64 * 1024
POINTWISE, PAIRWISE = ["short", "honest"], ["prefer"]
FIELDS = {"/score": ["prompts", "responses", "criteria", "images"],
          "/compare": ["prompts", "responses_a", "responses_b", "criteria", "images"],
          "/get_reward": ["query", "prompts", "labels", "criteria"]}
PATHS = sorted(FIELDS)
TOKEN = "fuzz-token"
#: words a 4xx about the body as a whole (not one field) must use
BODY_WORDS = ("body", "JSON", "Content-Type", "items")

FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])


class Errors(logging.Handler):
    """ERROR records (tracebacks) any logger writes while the module runs: there must be none."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


ERRORS = Errors()


@pytest.fixture(scope="module", autouse=True)
def no_logged_errors():
    logging.getLogger().addHandler(ERRORS)
    yield
    logging.getLogger().removeHandler(ERRORS)


@pytest.fixture(scope="module")
def models():
    from dataclasses import replace

    from activation_rm import ActivationRM

    setup = served()
    short = setup.rms["short"]
    prefer = ActivationRM(setup.backbone, replace(short.template, mode="pairwise", criterion="the better answer"),
                          short.means, short.mask)
    return ModelSet({**setup.rms, "prefer": prefer})


@pytest.fixture(scope="module")
def client(models):
    config = ServerConfig(max_chars=MAX_CHARS, max_items=MAX_ITEMS, max_body_bytes=MAX_BODY)
    with local_client(create_app(models, config), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def locked(models):
    """The same server with a token."""
    config = ServerConfig(max_chars=MAX_CHARS, max_items=MAX_ITEMS, max_body_bytes=MAX_BODY, token=TOKEN)
    with local_client(create_app(models, config), raise_server_exceptions=False) as test_client:
        yield test_client


# ------------------------------------------------------------------------------------------------ strategies
CHARS = st.characters(codec="utf-8")  # every code point UTF-8 can carry: any unicode but lone surrogates
SHORT_TEXT = st.text(CHARS, max_size=30)
LONG_TEXT = st.builds(lambda piece, n: piece * n, st.text(CHARS, min_size=1, max_size=3),
                      st.integers(MAX_CHARS // 3, 4 * MAX_CHARS))
TEXT = st.one_of(st.just(""), SHORT_TEXT, LONG_TEXT)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(10**40), 10**40),
                    st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(SHORT_TEXT, inner, max_size=4)),
                           max_leaves=12)

PROMPT_TEXT = st.text(CHARS, min_size=1, max_size=40).filter(str.strip)
MESSAGES = st.lists(st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant"]),
                                           "content": st.text(CHARS, max_size=40)}), min_size=1, max_size=3)
PROMPTS = st.one_of(PROMPT_TEXT, MESSAGES)
RESPONSE = st.text(CHARS, max_size=60)


def _criteria(names: list[str]) -> st.SearchStrategy:
    return st.one_of(st.none(), st.lists(st.sampled_from(names), min_size=1, max_size=3))


@st.composite
def valid_bodies(draw, path: str) -> dict:
    """A body the endpoint must score: 1-3 items of any unicode, criteria optional."""
    n = draw(st.integers(1, 3))
    several = lambda strategy: draw(st.lists(strategy, min_size=n, max_size=n))  # noqa: E731
    if path == "/score":
        body = {"prompts": several(PROMPTS), "responses": several(RESPONSE)}
        criteria = draw(_criteria(POINTWISE))
    elif path == "/compare":
        body = {"prompts": several(PROMPTS), "responses_a": several(RESPONSE), "responses_b": several(RESPONSE)}
        criteria = draw(_criteria(POINTWISE + PAIRWISE))
    else:
        prompts, responses = several(PROMPT_TEXT), several(RESPONSE)
        body = {"query": [p + r for p, r in zip(prompts, responses)], "prompts": prompts}
        body.update({"labels": several(SHORT_TEXT)} if draw(st.booleans()) else {})
        criteria = draw(_criteria(POINTWISE))
    return body if criteria is None else {**body, "criteria": criteria}


@st.composite
def near_valid_bodies(draw, path: str) -> tuple[dict, str]:
    """A valid body with one field (or an unknown one) set to any JSON value; also returns that field."""
    body = draw(valid_bodies(path))
    key = draw(st.sampled_from(FIELDS[path] + ["unexpected"]))
    body[key] = draw(JSON_VALUES)
    return body, key


@st.composite
def one_bad_item(draw, path: str) -> tuple[dict, str, int]:
    """A valid body with one item of one list field replaced by any JSON value; also returns field and index."""
    body = draw(valid_bodies(path))
    key = draw(st.sampled_from([k for k in FIELDS[path] if isinstance(body.get(k), list)]))
    index = draw(st.integers(0, len(body[key]) - 1))
    body[key][index] = draw(JSON_VALUES)
    return body, key, index


# ------------------------------------------------------------------------------------------------ the property
def post_json(client, path: str, value):
    """``value`` as a UTF-8 JSON body (httpx's ``json=None`` would send no body at all)."""
    data = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return client.post(path, content=data, headers={"content-type": "application/json"})


def _items(path: str, body: dict) -> int:
    return len(body["query"] if path == "/get_reward" else body["prompts"])


def check_result(path: str, body: dict, result: dict) -> None:
    """One score (or comparison) per item, for every criterion the reply names."""
    n = _items(path, body)
    if path == "/score":
        assert result["criteria"] == list(result["scores"]) and result["criteria"]
        for scores in result["scores"].values():
            assert len(scores) == n and all(0.0 <= s <= 1.0 for s in scores)
    elif path == "/compare":
        assert result["criteria"] == list(result["comparisons"]) and result["criteria"]
        for judged in result["comparisons"].values():
            assert len(judged["preferred"]) == len(judged["score_a"]) == len(judged["score_b"]) == n
            assert set(judged["preferred"]) <= {"a", "b", "tie"}
    else:
        assert len(result["rewards"]) == len(result["scores"]) == n
        assert result["extra_logs"] and all(len(v) == n for v in result["extra_logs"].values())


def check_reply(path: str, body, reply) -> dict:
    """Below 500, JSON; a 4xx names its field (its message starts with it) and item, or the body as a whole."""
    assert reply.status_code < 500, (path, body, reply.text)
    assert not ERRORS.records, [r.getMessage() for r in ERRORS.records]
    result = reply.json()
    if reply.status_code == 200:
        check_result(path, body, result)
        return result
    assert set(result) == {"error", "item", "field"} and result["error"], result
    field, item, error = result["field"], result["item"], result["error"]
    if field in FIELDS[path]:
        assert error.startswith(field), result
    elif field is not None:  # a field the endpoint does not have
        assert "unknown field" in error, result
    else:
        assert any(word in error for word in (*FIELDS[path], *BODY_WORDS)), result
    if item is not None:
        assert field is not None and f"[{item}]" in error, result
    return result


# ------------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("path", PATHS)
@FUZZ
@given(data=st.data())
def test_valid_bodies_get_one_result_per_item(client, path, data):
    body = data.draw(valid_bodies(path))
    reply = post_json(client, path, body)
    assert reply.status_code == 200, (body, reply.text)
    check_reply(path, body, reply)


@pytest.mark.parametrize("path", PATHS)
@FUZZ
@given(value=JSON_VALUES)
def test_any_json_body_gets_a_clear_answer(client, path, value):
    reply = post_json(client, path, value)
    result = check_reply(path, value, reply)
    if not isinstance(value, dict) and reply.status_code != 413:
        assert reply.status_code == 422 and "must be a JSON object" in result["error"], result


@pytest.mark.parametrize("path", PATHS)
@FUZZ
@given(data=st.data())
def test_one_bad_field_is_named(client, path, data):
    body, key = data.draw(near_valid_bodies(path))
    reply = post_json(client, path, body)
    result = check_reply(path, body, reply)
    if reply.status_code not in (200, 413):  # 413: too large a body or too many items, whatever the field
        assert key in result["error"], (key, result)


def test_get_reward_without_prompts_names_the_field(client):
    """The draw the fuzzer found: the message began with a quote instead of the field's name."""
    reply = post_json(client, "/get_reward", {"query": ["0"], "prompts": None})
    assert reply.status_code == 422 and check_reply("/get_reward", {}, reply)["field"] == "prompts"


@pytest.mark.parametrize("path", PATHS)
@FUZZ
@given(data=st.data())
def test_one_bad_item_is_named_with_its_index(client, path, data):
    body, key, index = data.draw(one_bad_item(path))
    reply = post_json(client, path, body)
    result = check_reply(path, body, reply)
    if reply.status_code == 422 and result["field"] == key and result["item"] is not None:
        assert result["item"] == index, (key, index, result)


CONTENT_TYPES = [None, "application/json", "application/json; charset=utf-8", "application/problem+json",
                 "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/html"]
RAW = st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
                JSON_VALUES.map(lambda v: json.dumps(v).encode()))


@pytest.mark.parametrize("path", PATHS)
@FUZZ
@given(raw=RAW, content_type=st.sampled_from(CONTENT_TYPES))
def test_raw_bytes_under_any_content_type(client, path, raw, content_type):
    headers = {"content-type": content_type} if content_type else {}
    reply = client.post(path, content=raw, headers=headers)
    result = check_reply(path, raw, reply)
    if not raw:
        assert reply.status_code == 400 and "empty" in result["error"]
    elif content_type is None or "json" not in content_type:
        assert reply.status_code == 415 and "Content-Type: application/json" in result["error"], result


AUTHORIZATION = st.one_of(st.none(), st.sampled_from(["Bearer", "Bearer ", f"bearer {TOKEN}x", TOKEN,
                                                       f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}"]),
                          st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
HOSTS = st.one_of(st.sampled_from(["localhost", "127.0.0.1:5000", "[::1]", "evil.example", "localhost.evil.example",
                                   "10.0.0.1", ""]),
                  st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30))


@FUZZ
@given(path=st.sampled_from([*PATHS, "/info", "/docs", "/openapi.json", "/nowhere"]), raw=RAW,
       content_type=st.sampled_from(CONTENT_TYPES), authorization=AUTHORIZATION, host=HOSTS)
def test_without_the_token_every_request_gets_401_or_400_for_its_host(locked, path, raw, content_type,
                                                                       authorization, host):
    """Whatever the body, content type, path and Authorization header (short of the token), the answer is 401,
    or 400 for a Host the server does not answer to, and says only that."""
    headers = {"host": host, **({"content-type": content_type} if content_type else {}),
               **({"authorization": authorization} if authorization is not None else {})}
    reply = locked.post(path, content=raw, headers=headers) if path in PATHS else locked.get(path, headers=headers)
    answered = host and ServerConfig().accepts_host(host)
    assert reply.status_code == (401 if answered else 400), (path, headers, reply.text)
    assert not ERRORS.records, [r.getMessage() for r in ERRORS.records]
    error = reply.json()["error"]
    assert error == "missing or wrong bearer token" if answered else "Host" in error, error


# ------------------------------------------------------------------------------------------------ edge cases
def _post_raw(client, path: str, text: str, content_type: str = "application/json"):
    return client.post(path, content=text.encode("utf-8", "surrogatepass"), headers={"content-type": content_type})


SCORE = '{"prompts": ["What is two plus two?"], "responses": [%s]}'


@pytest.mark.parametrize(("text", "status", "words"), [
    ("[" * 50_000, 400, "nested too deeply"),
    (SCORE % ("1" * 5000), 400, "4300 digits"),
    (SCORE % "NaN", 400, "NaN is not a JSON value"),
    ('{"prompts": ["a"],\n "responses": ["x",]}', 400, "line 2, column"),
    ("\ufeff" + SCORE % '"Four."', 200, ""),
    (SCORE % '"\\ud800 lone"', 422, "responses[0] has a lone surrogate U+D800"),
    ('{"prompts": [[{"role": "user", "content": "\\udfff"}]], "responses": ["x"]}', 422, "prompts[0] message 0's"),
    ('{"prompts": ["a"], "responses": ["x"], "\\ud800": 1}', 422, "unknown field '\\ud800'"),
    ('{"prompts": [[{"role": 1, "content": "hi"}]], "responses": ["x"]}', 422, "'role' must be a string, not a number"),
    ('{"prompts": [[]], "responses": ["x"]}', 422, "not an empty array"),
    ('{"prompts": ["a", [{"role": "user"}]], "responses": ["x", "y"]}', 422,
     "prompts[1] message 0 must be an object with 'role' and 'content', not an object without 'content'"),
    ('{"prompts": [{"role": "user", "content": "hi"}], "responses": ["x"]}', 422, "prompts[0] must be a non-empty"),
])
def test_body_edge_cases_name_what_is_wrong(client, text, status, words):
    reply = _post_raw(client, "/score", text)
    assert reply.status_code == status, reply.text
    if status == 200:
        check_result("/score", {"prompts": ["q"]}, reply.json())
    else:
        assert words in reply.json()["error"], reply.json()


def test_valid_json_with_a_wrong_content_type_gets_415_saying_what_to_send(client):
    body = SCORE % '"Four."'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        reply = _post_raw(client, "/score", body, content_type)
        assert reply.status_code == 415, reply.text
        error = reply.json()["error"]
        assert f"Content-Type {content_type!r} is not accepted" in error and "application/json" in error
        assert "the body itself is valid JSON" in error
    reply = client.post("/score", content=b"prompts=a", headers={"content-type": "text/plain"})
    assert "not valid JSON either (invalid JSON at line 1, column 1" in reply.json()["error"]
    missing = client.post("/score", content=body.encode())
    assert missing.status_code == 415 and "no Content-Type" in missing.json()["error"]


def test_deep_but_parsable_nesting_in_ignored_labels_is_scored(client):
    labels = "[" * 900 + "]" * 900
    text = '{"query": ["What is two plus two? Four."], "prompts": ["What is two plus two?"], "labels": ' + labels + "}"
    reply = _post_raw(client, "/get_reward", text)
    assert reply.status_code == 200, reply.text
    check_result("/get_reward", {"query": ["q"]}, reply.json())


def test_get_reward_prompt_left_empty_by_the_markers_is_a_422(client):
    reply = client.post("/get_reward", json={"query": ["<|im_start|>user\n<|im_end|> hello"],
                                             "prompts": ["<|im_start|>user\n<|im_end|>"]})
    assert reply.status_code == 422 and reply.json()["field"] in ("prompts", "query"), reply.text
    assert client.get("/health").status_code == 200
