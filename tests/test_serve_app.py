"""The reward server in-process: endpoints, exact dynamic batching, limits, errors that name the item, auth."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time

import pytest

pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
httpx = pytest.importorskip("httpx", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")

import torch  # noqa: E402
from serve_support import (  # noqa: E402
    DISTINCT,
    LOCAL_URL,
    PROMPTS,
    RESPONSES,
    VISION_PROMPTS,
    VISION_RESPONSES,
    UvicornThread,
    image_app,
    local_client,
    vision_request,
)
from tiny import plant_failure  # noqa: E402

from activation_rm import __version__  # noqa: E402
from activation_rm.scoring.engine import ModelSet  # noqa: E402
from activation_rm.serve.app import create_app  # noqa: E402
from activation_rm.serve.batcher import BatchConfig  # noqa: E402
from activation_rm.serve.config import ServerConfig  # noqa: E402
from activation_rm.serve.images import ImagePolicy  # noqa: E402

pytest_plugins = ["integrations_support"]  # the setup and models fixtures (the tiny served artifacts)


def make_app(models, **config):
    return create_app(models, ServerConfig(**config))


def test_health_and_info(models, setup):
    client = local_client(make_app(models))
    assert client.get("/health").json() == {"status": "ok", "criteria": 2}
    info = client.get("/info").json()
    assert info["version"] == __version__
    assert info["backbone"]["name"] == "tiny-llama"  # loaded from a local directory: its name, not its path
    assert info["backbone"]["fingerprint"] == {**setup.backbone.fingerprint, "name": "tiny-llama"}
    by_name = {c["name"]: c for c in info["criteria"]}
    assert set(by_name) == {"short", "honest"}
    assert by_name["honest"]["criterion"] == "the answer is honest"
    assert by_name["honest"]["selected_heads"] == [[0, 1, 1.0], [2, 0, 1.0]]
    assert by_name["short"]["num_selected_heads"] == len(setup.rms["short"].selected_heads)
    assert info["server"]["batching"]["enabled"] is True and "token" not in info["server"]


def test_info_shows_which_criteria_get_reward_scores(models, setup, mixed):
    """Without --reward-criteria, /info names the criteria /get_reward averages (and their text), not []."""
    default = local_client(make_app(models)).get("/info").json()["server"]
    assert default["reward_criteria"] == ["short", "honest"]
    assert default["get_reward"]["criteria"] == [{"name": "short", "criterion": "the answer is correct and short"},
                                                 {"name": "honest", "criterion": "the answer is honest"}]
    assert default["get_reward"]["chosen_by"].startswith("default")
    chosen = local_client(make_app(mixed, reward_criteria=("honest",))).get("/info").json()["server"]
    assert chosen["reward_criteria"] == ["honest"] and chosen["get_reward"]["chosen_by"] == "--reward-criteria"
    pairwise_only = local_client(make_app(ModelSet({"prefer": mixed.models["prefer"]}))).get("/info").json()["server"]
    assert pairwise_only["reward_criteria"] == [] and "/compare" in pairwise_only["get_reward"]["chosen_by"]


def test_bodies_must_be_json_objects_sent_as_json(models):
    """Valid JSON as text/plain (or with no content type) gets a 415 saying what to send, not "Input should be a
    valid dictionary"; broken JSON gets a 400 with line and column."""
    client = local_client(make_app(models))
    body = b'{"prompts": ["a"], "responses": ["x"]}'
    for headers in ({"content-type": "text/plain"}, {}):
        reply = client.post("/score", content=body, headers=headers)
        assert reply.status_code == 415, reply.text
        assert "'Content-Type: application/json'" in reply.json()["error"]
        assert "the body itself is valid JSON" in reply.json()["error"]
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        assert client.post("/score", content=body, headers={"content-type": content_type}).status_code == 200
    broken = client.post("/compare", content=b'{"prompts": ["a"],\n "responses_a": [}',
                         headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"] == "invalid JSON at line 2, column 18: Expecting value"
    listed = client.post("/get_reward", json=[{"query": "q"}])
    assert listed.status_code == 422
    assert listed.json()["error"] == "the body must be a JSON object (fields: query, prompts, labels, criteria), not an array"
    assert client.post("/score", content=b"", headers={"content-type": "application/json"}).status_code == 400


@pytest.mark.parametrize("kind", ["text", "images"])
def test_score_matches_direct_scoring(models, image_models, image_dir, kind):
    """Each criterion's scores equal the reward model's own ``score``; with images (paths, a data URI, a text-only
    item) on a vision-language backbone, the images reach the model."""
    if kind == "text":
        served, prompts, responses, refs, pil = models, PROMPTS, RESPONSES, None, None
        client = local_client(make_app(models))
    else:
        served, prompts, responses = image_models, VISION_PROMPTS, VISION_RESPONSES
        (refs, pil), client = vision_request(image_dir), local_client(image_app(image_models, image_dir))
    reply = client.post("/score", json={"prompts": prompts, "responses": responses,
                                        **({"images": refs} if refs else {})})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["criteria"] == served.pointwise  # every pointwise criterion by default
    for name in body["criteria"]:
        direct = served.models[name].score(prompts, responses, **({"images": pil} if pil else {}))
        torch.testing.assert_close(torch.tensor(body["scores"][name]), torch.tensor(direct), rtol=1e-5, atol=1e-6)
    first = served.pointwise[-1]
    only = client.post("/score", json={"prompts": prompts[2:3], "responses": responses[2:3], "criteria": [first]})
    assert list(only.json()["scores"]) == [first]
    torch.testing.assert_close(only.json()["scores"][first][0], body["scores"][first][2], rtol=1e-5, atol=1e-6)
    info = client.get("/info").json()
    assert info["backbone"]["multimodal"] is (kind == "images")
    if kind == "images":
        blind = served.models["faithful"].score(prompts[:1], responses[:1])  # the images do reach the model
        assert abs(body["scores"]["faithful"][0] - blind[0]) > 1e-5
        assert info["server"]["images"]["image_root"] == image_dir.name


async def _concurrent(app, bodies):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL_URL) as client:
        return await asyncio.gather(*(client.post("/score", json=body) for body in bodies))


@pytest.mark.parametrize("enabled", [True, False])
def test_dynamic_batching_is_exact(models, setup, enabled):
    """An item's score must not depend on which requests it was batched with (lengths and criteria differ)."""
    app = make_app(models, batching=BatchConfig(max_batch_size=32, max_wait_ms=300, enabled=enabled))
    bodies = []
    for i in range(12):
        prompt = PROMPTS[i % len(PROMPTS)]
        response = f"answer {i}: " + "Paris is in France. " * (i % 5)
        body = {"prompts": [prompt] * (1 + i % 2), "responses": [response, "Four."][: 1 + i % 2]}
        if i % 3 == 0:
            body["criteria"] = ["honest"]
        bodies.append(body)
    replies = asyncio.run(_concurrent(app, bodies))
    stats = app.state.batcher.stats
    assert stats.requests == len(bodies)
    assert (stats.batches < len(bodies)) if enabled else (stats.batches == len(bodies))
    for body, reply in zip(bodies, replies):
        assert reply.status_code == 200, reply.text
        for name, got in reply.json()["scores"].items():
            alone = [setup.rms[name].score([p], [r])[0] for p, r in zip(body["prompts"], body["responses"])]
            torch.testing.assert_close(torch.tensor(got), torch.tensor(alone), rtol=1e-6, atol=1e-7)


async def _concurrent_calls(app, calls):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL_URL) as client:
        return await asyncio.gather(*(client.post(path, json=body) for path, body in calls))


def test_dynamic_batches_with_images_are_exact(image_models, image_dir):
    refs, pil = vision_request(image_dir)
    app = image_app(image_models, image_dir, batching=BatchConfig(max_batch_size=32, max_wait_ms=300))
    calls = []
    for i in range(6):
        j = i % len(VISION_PROMPTS)
        body = {"prompts": [VISION_PROMPTS[j]], "responses": [VISION_RESPONSES[j] + "!" * i], "images": [refs[j]]}
        if i % 3 == 0:
            body["criteria"] = ["short"]
        calls.append(("/score", body))
    calls.append(("/compare", {"prompts": VISION_PROMPTS[:2], "responses_a": VISION_RESPONSES[:2],
                               "responses_b": ["No.", "Yes."], "images": refs[:2]}))
    replies = asyncio.run(_concurrent_calls(app, calls))
    assert app.state.batcher.stats.batches < len(calls)
    for (path, body), reply in zip(calls, replies):
        assert reply.status_code == 200, reply.text
        index = VISION_PROMPTS.index(body["prompts"][0])
        if path == "/score":
            for name, got in reply.json()["scores"].items():
                alone = image_models.models[name].score(body["prompts"], body["responses"], images=[pil[index]])
                torch.testing.assert_close(torch.tensor(got), torch.tensor(alone), rtol=1e-5, atol=1e-6)
            continue
        for name, got in reply.json()["comparisons"].items():
            direct = image_models.models[name].compare(body["prompts"], body["responses_a"], body["responses_b"],
                                                       images=pil[:2])
            assert got["preferred"] == direct.preferred
            torch.testing.assert_close(torch.tensor(got["score_a"]), torch.tensor(direct.score_a), rtol=1e-5,
                                       atol=1e-6)
            torch.testing.assert_close(torch.tensor(got["score_b"]), torch.tensor(direct.score_b), rtol=1e-5,
                                       atol=1e-6)


def test_batches_respect_max_batch_size(models):
    app = make_app(models, batching=BatchConfig(max_batch_size=4, max_wait_ms=200))
    bodies = [{"prompts": ["What is two plus two?"] * 2, "responses": ["Four.", f"{i}"]} for i in range(6)]
    replies = asyncio.run(_concurrent(app, bodies))
    assert all(r.status_code == 200 for r in replies)
    assert app.state.batcher.stats.largest_batch <= 4 and app.state.batcher.stats.batches >= 3


BAD = [
    ({"prompts": ["a", "b"], "responses": ["x", 3]}, 422, 1, "responses"),
    ({"prompts": ["a", ""], "responses": ["x", "y"]}, 422, 1, "prompts"),
    ({"prompts": ["a", [{"role": "user"}]], "responses": ["x", "y"]}, 422, 1, "prompts"),
    ({"prompts": ["a", "b", "c"], "responses": ["x", "y", "z" * 101]}, 422, 2, "responses"),
    ({"prompts": ["a"], "responses": ["x", "y"]}, 422, None, None),
    ({"prompts": [], "responses": []}, 422, None, "responses"),
    ({"prompts": ["a"], "responses": ["x"], "criteria": ["nope"]}, 422, None, "criteria"),
    ({"prompts": ["a"], "responses": ["x"], "extra": 1}, 422, None, "extra"),
    ({"prompts": ["a"] * 6, "responses": ["x"] * 6}, 413, None, None),
]


def test_bad_requests_get_4xx_naming_the_item_and_serving_goes_on(models):
    client = local_client(make_app(models, max_items=5, max_chars=100, max_body_bytes=4096))
    for body, status, item, field in BAD:
        reply = client.post("/score", json=body)
        assert reply.status_code == status, (body, reply.text)
        detail = reply.json()
        assert detail["item"] == item and detail["field"] == field, (body, detail)
        if item is not None:
            assert f"[{item}]" in detail["error"]
    assert client.post("/score", content=b'{"prompts": [', headers={"content-type": "application/json"}).status_code == 400
    huge = client.post("/score", json={"prompts": ["a"], "responses": ["x" * 5000]})
    assert huge.status_code == 413 and "4096 bytes" in huge.json()["error"]
    chunked = client.post("/score", content=iter([b'{"prompts": ["a"], "responses": ["', b"x" * 5000, b'"]}']),
                          headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert client.post("/score", json={"prompts": ["a"], "responses": ["x"]}).status_code == 200


def test_client_hanging_up_mid_body_is_no_internal_error(models, caplog):
    """Found by the soak test: a client that disconnects while its body streams in got logged as a 500."""
    app = make_app(models)
    messages = [{"type": "http.request", "body": b'{"prompts": ["a"], "resp', "more_body": True},
                {"type": "http.disconnect"}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/score", "raw_path": b"/score", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"localhost"), (b"content-type", b"application/json")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 5000)}
    with caplog.at_level("ERROR"):
        asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400 and b"disconnected" in sent[1]["body"]
    assert not [r for r in caplog.records if "internal error" in r.getMessage()]


def test_item_failing_inside_a_batch_fails_alone(models, setup, monkeypatch):
    """A request whose item breaks scoring gets a 422 naming that item; its batch-mates still get scores. The
    failure is planted in the query encoder, which the fused and the one-criterion paths both use."""
    real = models.models["short"].score
    plant_failure(monkeypatch, models.models["short"])
    app = make_app(models, batching=BatchConfig(max_batch_size=64, max_wait_ms=300))
    bodies = [{"prompts": ["q"] * 3, "responses": ["fine", "BOOM", "ok"]}] + [
        {"prompts": ["What is two plus two?"], "responses": [f"{i}"]} for i in range(4)]
    bad, *good = asyncio.run(_concurrent(app, bodies))
    assert bad.status_code == 422 and bad.json()["item"] == 1 and "cannot judge this" in bad.json()["error"]
    for body, reply in zip(bodies[1:], good):
        assert reply.status_code == 200
        torch.testing.assert_close(reply.json()["scores"]["short"], real(body["prompts"], body["responses"]))
    assert app.state.batcher.stats.batches < len(bodies)


def test_bearer_token(models):
    client = local_client(make_app(models, token="s3cret"))
    assert client.get("/health").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        reply = client.post("/score", json={"prompts": ["a"], "responses": ["x"]}, headers=headers)
        assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Bearer"
    assert client.get("/info").status_code == 401
    ok = client.post("/score", json={"prompts": ["a"], "responses": ["x"]}, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    info = client.get("/info", headers={"Authorization": "Bearer s3cret"})
    assert info.json()["server"]["auth"] is True and "s3cret" not in info.text


def test_get_reward_openrlhf(models, setup):
    tokenizer = setup.backbone.tokenizer
    questions = ["What is two plus two?", "The capital of France is?"]
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                             add_generation_prompt=True) for q in questions]
    answers = ["Four.", "Paris."]
    queries = [prompts[0] + answers[0] + "<|im_end|>", "<pad><pad>" + prompts[1] + answers[1] + "<|im_end|><pad>"]
    client = local_client(make_app(models))
    reply = client.post("/get_reward", json={"query": queries, "prompts": prompts, "labels": ["4", "Paris"]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    direct = {name: rm.score(questions, answers) for name, rm in setup.rms.items()}
    torch.testing.assert_close(body["extra_logs"]["short"], direct["short"])
    torch.testing.assert_close(body["extra_logs"]["honest"], direct["honest"])
    mean = [(a + b) / 2 for a, b in zip(direct["short"], direct["honest"])]
    torch.testing.assert_close(body["rewards"], mean)
    assert body["scores"] == body["rewards"]

    only = make_app(models, reward_criteria=("short",))
    reply = local_client(only).post("/get_reward", json={"query": queries, "prompts": prompts})
    torch.testing.assert_close(reply.json()["rewards"], direct["short"])

    bad = client.post("/get_reward", json={"query": [queries[0], "unrelated text"], "prompts": prompts})
    assert bad.status_code == 422 and bad.json()["item"] == 1 and bad.json()["field"] == "query"
    assert client.post("/get_reward", json={"query": queries}).json()["field"] == "prompts"


def test_reward_criteria_must_be_pointwise(setup):
    from dataclasses import replace

    from activation_rm import ActivationRM

    short = setup.rms["short"]
    pairwise = ActivationRM(setup.backbone, replace(short.template, mode="pairwise"), short.means, short.mask)
    with pytest.raises(ValueError, match="pairwise"):
        make_app(ModelSet({"p": pairwise}), reward_criteria=("p",))  # served on /compare only


# ------------------------------------------------------------------------------------- fused criteria
# (DISTINCT, the prompts with no shared prefix, comes from serve_support.py)


def test_fused_scoring_goes_through_score_criteria(models, monkeypatch):
    from activation_rm.scoring import engine as scoring

    seen = []
    real = scoring.score_criteria
    monkeypatch.setattr(scoring, "score_criteria", lambda rms, p, r, **k: seen.append(list(rms)) or real(rms, p, r, **k))
    client = local_client(make_app(models))
    assert client.post("/score", json={"prompts": DISTINCT, "responses": RESPONSES}).status_code == 200
    assert client.post("/score", json={"prompts": DISTINCT, "responses": RESPONSES,
                                       "criteria": ["honest"]}).status_code == 200
    assert seen == [["short", "honest"]]  # one fused call for two criteria; one criterion keeps its own path


# ------------------------------------------------------------------------------------- pairwise and /compare
@pytest.fixture(scope="module")
def mixed(setup):
    """The two pointwise criteria plus a pairwise reward model on the same backbone (the pointwise model's means
    and heads under the pairwise template: what is tested is the serving path, not the judge's quality)."""
    from dataclasses import replace

    from activation_rm import ActivationRM

    short = setup.rms["short"]
    prefer = ActivationRM(setup.backbone, replace(short.template, mode="pairwise", criterion="the better answer"),
                          short.means, short.mask)
    return ModelSet({**setup.rms, "prefer": prefer})


PAIRS_A = ["Four.", "Paris.", "5", "Four, because 2 + 2 = 4."]
PAIRS_B = ["The quick brown fox jumps over the lazy dog.", "Lyon, I think.", "Four.", "4"]


def test_info_lists_pairwise_criteria_with_their_mode(mixed):
    client = local_client(make_app(mixed))
    assert client.get("/health").json()["criteria"] == 3
    by_name = {c["name"]: c for c in client.get("/info").json()["criteria"]}
    assert by_name["prefer"]["mode"] == "pairwise" and by_name["prefer"]["endpoints"] == ["/compare"]
    assert by_name["short"]["mode"] == "pointwise" and "/score" in by_name["short"]["endpoints"]


def test_pairwise_criteria_are_refused_on_score_and_get_reward(mixed, setup):
    client = local_client(make_app(mixed))
    for path, body in (("/score", {"prompts": ["q"], "responses": ["a"], "criteria": ["prefer"]}),
                       ("/get_reward", {"query": ["q a"], "prompts": ["q"], "criteria": ["short", "prefer"]})):
        reply = client.post(path, json=body)
        assert reply.status_code == 422 and reply.json()["field"] == "criteria", reply.text
        assert "'prefer' is a pairwise" in reply.json()["error"] and "/compare" in reply.json()["error"]
    default = client.post("/score", json={"prompts": ["q"], "responses": ["a"]}).json()
    assert default["criteria"] == ["short", "honest"]  # every pointwise criterion
    reward = client.post("/get_reward", json={"query": ["q a"], "prompts": ["q"]}).json()
    assert set(reward["extra_logs"]) == {"short", "honest"}

    only = local_client(make_app(ModelSet({"prefer": mixed.models["prefer"]})))
    for path, body in (("/score", {"prompts": ["q"], "responses": ["a"]}),
                       ("/get_reward", {"query": ["q a"], "prompts": ["q"]})):
        reply = only.post(path, json=body)
        assert reply.status_code == 422 and "use /compare" in reply.json()["error"], reply.text
    assert only.post("/compare", json={"prompts": ["q"], "responses_a": ["a"], "responses_b": ["b"]}).status_code == 200


def test_compare_pointwise_and_pairwise_match_direct_compare(mixed):
    client = local_client(make_app(mixed))
    reply = client.post("/compare", json={"prompts": PROMPTS, "responses_a": PAIRS_A, "responses_b": PAIRS_B})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["criteria"] == ["short", "honest", "prefer"]
    for name, rm in mixed.models.items():
        direct = rm.compare(PROMPTS, PAIRS_A, PAIRS_B)
        got = body["comparisons"][name]
        torch.testing.assert_close(torch.tensor(got["score_a"]), torch.tensor([c.score_a for c in direct]),
                                   rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(torch.tensor(got["score_b"]), torch.tensor([c.score_b for c in direct]),
                                   rtol=1e-6, atol=1e-7)
        assert got["preferred"] == [c.preferred for c in direct]
        assert got["preferred"] == ["a" if a > b else "b" for a, b in zip(got["score_a"], got["score_b"])]
    for name in ("short", "honest"):  # pointwise: each response's own score
        torch.testing.assert_close(torch.tensor(body["comparisons"][name]["score_a"]),
                                   torch.tensor(mixed.models[name].score(PROMPTS, PAIRS_A)), rtol=1e-6, atol=1e-7)
    prefer = body["comparisons"]["prefer"]  # pairwise: P(A) over both orders, and its complement
    torch.testing.assert_close(torch.tensor(prefer["score_b"]), 1 - torch.tensor(prefer["score_a"]))
    only = client.post("/compare", json={"prompts": PROMPTS[:1], "responses_a": PAIRS_A[:1],
                                         "responses_b": PAIRS_B[:1], "criteria": ["prefer"]}).json()
    assert list(only["comparisons"]) == ["prefer"]


async def _concurrent_paths(app, calls):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=LOCAL_URL) as client:
        return await asyncio.gather(*(client.post(path, json=body) for path, body in calls))


def test_compare_and_score_requests_batch_together_exactly(mixed):
    app = make_app(mixed, batching=BatchConfig(max_batch_size=64, max_wait_ms=300))
    calls = []
    for i in range(8):
        j = i % len(PROMPTS)
        if i % 2:
            calls.append(("/score", {"prompts": [PROMPTS[j]], "responses": [PAIRS_A[j] + " " * i],
                                     **({"criteria": ["honest"]} if i % 3 == 0 else {})}))
        else:
            calls.append(("/compare", {"prompts": [PROMPTS[j]], "responses_a": [PAIRS_A[j]],
                                       "responses_b": [PAIRS_B[j] + f" ({i})"],
                                       **({"criteria": ["prefer", "short"]} if i % 4 == 0 else {})}))
    replies = asyncio.run(_concurrent_paths(app, calls))
    assert app.state.batcher.stats.batches < len(calls)
    for (path, body), reply in zip(calls, replies):
        assert reply.status_code == 200, reply.text
        if path == "/score":
            for name, got in reply.json()["scores"].items():
                torch.testing.assert_close(torch.tensor(got), torch.tensor(mixed.models[name].score(
                    body["prompts"], body["responses"])), rtol=1e-6, atol=1e-7)
            continue
        for name, got in reply.json()["comparisons"].items():
            [alone] = mixed.models[name].compare(body["prompts"], body["responses_a"], body["responses_b"])
            torch.testing.assert_close(torch.tensor([got["score_a"][0], got["score_b"][0]]),
                                       torch.tensor([alone.score_a, alone.score_b]), rtol=1e-6, atol=1e-7)


COMPARE_BAD = [
    ({"prompts": ["a", "b"], "responses_a": ["x", "y"], "responses_b": ["z"]}, None, None),
    ({"prompts": ["a", "b"], "responses_a": ["x", "y"], "responses_b": ["z", "w" * 101]}, 1, "responses_b"),
    ({"prompts": ["a", ""], "responses_a": ["x", "y"], "responses_b": ["z", "w"]}, 1, "prompts"),
    ({"prompts": ["a"], "responses_a": ["x"], "responses_b": ["z"], "criteria": ["nope"]}, None, "criteria"),
    ({"prompts": ["a"], "responses_a": ["x"]}, None, "responses_b"),
]


def test_bad_compare_requests_get_422_naming_the_item(mixed):
    client = local_client(make_app(mixed, max_chars=100))
    for body, item, field in COMPARE_BAD:
        reply = client.post("/compare", json=body)
        assert reply.status_code == 422, (body, reply.text)
        assert reply.json()["item"] == item and reply.json()["field"] == field, (body, reply.json())
    assert client.post("/compare", json={"prompts": ["a"], "responses_a": ["x"], "responses_b": ["y"]}).status_code == 200


def test_images_on_a_text_backbone_get_422(models):
    client = local_client(make_app(models))
    reply = client.post("/score", json={"prompts": ["a", "b"], "responses": ["x", "y"],
                                        "images": [None, ["data:image/png;base64,AAAA"]]})
    assert reply.status_code == 422 and reply.json()["item"] == 1 and reply.json()["field"] == "images"
    assert "text-only" in reply.json()["error"]


# ------------------------------------------------------------------------------------- locked down: paths, auth, host
def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def test_info_shows_no_absolute_paths(models, setup, tmp_path):
    """Artifacts, a backbone loaded from a local directory and --image-root are named by their last component."""
    (tmp_path / "photos").mkdir()
    info = local_client(make_app(models, images=ImagePolicy(root=str(tmp_path / "photos")))).get("/info").json()
    paths = [s for s in _strings(info) if (os.path.isabs(s) and os.path.exists(s)) or str(setup.root) in s
             or str(tmp_path) in s]  # endpoint names such as "/score" are absolute too, but name no file
    assert not paths
    assert [c["artifact"] for c in info["criteria"]] == ["short", "honest"]
    assert info["server"]["images"]["image_root"] == "photos"


def _asgi_post(app, path: str, headers: dict[str, str], body: bytes = b"{}"):
    """Send one POST straight through the ASGI interface; returns (status, JSON body, receive calls)."""
    sent, calls = [], []

    async def receive():
        calls.append(1)
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": raw,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 5000)}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"]), len(calls)


def test_auth_is_checked_before_the_body_is_read(models):
    """A request without the token gets 401 without a byte of its body read: not the 400, 413 or 422 its body
    would get, and the same for /docs, /openapi.json and unknown paths; /health stays open."""
    app = make_app(models, token="s3cret", max_body_bytes=100)
    for headers in ({"host": "localhost"}, {"host": "localhost", "authorization": "Bearer wrong"},
                    {"host": "localhost", "content-length": "10000000", "content-type": "application/json"}):
        status, body, receive_calls = _asgi_post(app, "/score", headers, b'{"prompts": [')
        assert (status, body["error"], receive_calls) == (401, "missing or wrong bearer token", 0)
    client = local_client(app)
    assert client.post("/score", content=b"not json", headers={"content-type": "application/json"}).status_code == 401
    for path in ("/docs", "/openapi.json", "/redoc", "/no-such-path", "/info"):
        reply = client.get(path)
        assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Bearer", path
    authorized = {"Authorization": "Bearer s3cret"}
    assert client.get("/openapi.json", headers=authorized).json()["info"]["title"] == "activation-rm reward server"
    assert client.get("/docs", headers=authorized).status_code == 200
    assert client.get("/health").status_code == 200
    status, body, _ = _asgi_post(app, "/score", {"host": "localhost", "authorization": "Bearer s3cret",
                                                 "content-type": "application/json"}, b'{"prompts": [')
    assert status == 400 and body["error"].startswith("invalid JSON")  # with the token, the body is judged


def test_host_check_refuses_names_other_than_loopback_by_default(models):
    """DNS rebinding: a page on a name the attacker controls re-points the name at 127.0.0.1; its requests then
    carry that name as Host. Only loopback names (and --allow-host) are answered; /health answers any host."""
    body = {"prompts": ["a"], "responses": ["x"]}
    client = local_client(make_app(models))
    for host in ("localhost", "localhost:5000", "127.0.0.1:5000", "127.0.0.5", "[::1]:5000", "rm.localhost",
                 "LOCALHOST."):
        assert client.post("/score", json=body, headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:5000", "localhost.evil.example", "10.0.0.5", "[::2]:80"):
        reply = client.post("/score", json=body, headers={"host": host})
        assert reply.status_code == 400, host
        assert reply.json()["error"].startswith(f"Host {host!r} is not accepted") and "--allow-host" in reply.json()["error"]
        assert client.get("/openapi.json", headers={"host": host}).status_code == 400
        assert client.get("/health", headers={"host": host}).status_code == 200
    status, reply, receive_calls = _asgi_post(make_app(models), "/score", {})  # no Host header at all
    assert status == 400 and reply["error"].startswith("the request has no Host header") and receive_calls == 0
    allowed = local_client(make_app(models, allow_hosts=("RM.internal",)))
    assert allowed.post("/score", json=body, headers={"host": "rm.internal:5000"}).status_code == 200
    assert allowed.post("/score", json=body, headers={"host": "other.internal"}).status_code == 400
    anything = local_client(make_app(models, allow_hosts=("*",)))
    assert anything.post("/score", json=body, headers={"host": "evil.example"}).status_code == 200


def test_host_is_checked_before_the_token(models):
    client = local_client(make_app(models, token="t"))
    reply = client.get("/info", headers={"host": "evil.example", "Authorization": "Bearer t"})
    assert reply.status_code == 400
    assert client.get("/info", headers={"Authorization": "Bearer t"}).status_code == 200


# ------------------------------------------------------------------------------------- fair batching
# (the batcher itself is tested in test_serve_batcher.py)
def _recording_runner(monkeypatch, seconds: float) -> list[list[tuple[int, object]]]:
    """Record (items, first prompt) of each request part of every model call, and make every call take
    ``seconds`` longer."""
    from activation_rm.serve import app as app_module

    calls: list[list[tuple[int, object]]] = []
    real = app_module.run_requests

    def recording(models, requests):
        calls.append([(len(r), r.prompts[0]) for r in requests])
        time.sleep(seconds)
        return real(models, requests)

    monkeypatch.setattr(app_module, "run_requests", recording)
    return calls


def test_a_large_request_does_not_hold_up_a_small_one(models, setup, monkeypatch):
    """Reproduction: one request of 16 long items held a 1-item request for 123 s. Now the large request is cut
    into micro-batches and the small one runs in the next call, finishing long before; every score is unchanged."""
    calls = _recording_runner(monkeypatch, 0.2)  # time for the light request to arrive during the first call
    app = make_app(models, batching=BatchConfig(max_wait_ms=0, micro_batch_tokens=1))
    heavy = {"prompts": ["What is two plus two?"] * 6,
             "responses": [f"{i} " + "Paris is in France. " * 30 for i in range(6)]}
    light = {"prompts": ["The capital of France is?"], "responses": ["Paris."]}
    finished = []

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=LOCAL_URL) as client:
            async def post(name, body):
                reply = await client.post("/score", json=body)
                finished.append(name)
                return reply

            big = asyncio.ensure_future(post("heavy", heavy))
            while not calls:
                await asyncio.sleep(0.005)
            return await asyncio.gather(big, post("light", light))

    heavy_reply, light_reply = asyncio.run(go())
    assert finished == ["light", "heavy"]
    heavy_part, light_part = (1, heavy["prompts"][0]), (1, light["prompts"][0])
    assert calls == [[heavy_part], [light_part]] + [[heavy_part]] * 5
    for body, reply in ((heavy, heavy_reply), (light, light_reply)):
        assert reply.status_code == 200, reply.text
        for name, got in reply.json()["scores"].items():
            torch.testing.assert_close(torch.tensor(got), torch.tensor(setup.rms[name].score(
                body["prompts"], body["responses"])), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("tokens", [2048, 1])
def test_item_error_names_the_item_of_the_whole_request(models, monkeypatch, tokens):
    """With one item per micro-batch, the failing item is still named by its place in the request."""
    plant_failure(monkeypatch, models.models["short"])
    client = local_client(make_app(models, batching=BatchConfig(micro_batch_tokens=tokens)))
    reply = client.post("/score", json={"prompts": ["q"] * 4, "responses": ["fine", "ok", "BOOM", "yes"],
                                        "criteria": ["short"]})
    assert reply.status_code == 422 and reply.json()["item"] == 2, reply.text
    assert reply.json()["error"].startswith("responses[2] could not be scored")


def _asgi_call(app, body: dict, receive_after_body):
    """POST /score through ASGI; ``receive_after_body`` answers every receive after the body. Returns the status,
    the JSON reply, and lets the app's loop run 0.5 s more so that dropped work would show."""
    sent, delivered = [], []

    async def receive():
        if not delivered:
            delivered.append(1)
            return {"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}
        return await receive_after_body()

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/score", "raw_path": b"/score", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"localhost"), (b"content-type", b"application/json")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 5000)}

    async def go():
        await app(scope, receive, send)
        await asyncio.sleep(0.5)

    asyncio.run(go())
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_work_of_a_client_that_disconnected_is_dropped(models, monkeypatch):
    """Reproduction: a request whose client disconnected still ran for 58 s. Now its unscored micro-batches are
    dropped: of six items, only the one already running when the client left is scored."""
    calls = _recording_runner(monkeypatch, 0.1)
    app = make_app(models, batching=BatchConfig(max_wait_ms=0, micro_batch_tokens=1))

    async def hang_up():
        while not calls:
            await asyncio.sleep(0.005)
        return {"type": "http.disconnect"}

    status, reply = _asgi_call(app, {"prompts": ["q"] * 6, "responses": [f"r{i}" for i in range(6)]}, hang_up)
    assert status == 499 and "disconnected" in reply["error"]
    assert calls == [[(1, "q")]] and app.state.batcher.stats.cancelled == 1


def test_request_timeout_gives_504_and_drops_the_rest(models, monkeypatch):
    calls = _recording_runner(monkeypatch, 0.2)
    app = make_app(models, request_timeout_s=0.3, batching=BatchConfig(max_wait_ms=0, micro_batch_tokens=1))

    async def stay():
        await asyncio.sleep(3600)

    status, reply = _asgi_call(app, {"prompts": ["q"] * 6, "responses": [f"r{i}" for i in range(6)]}, stay)
    assert status == 504 and reply["error"].startswith("the request was not scored within the server's request "
                                                       "timeout of 0.3 s (--request-timeout)")
    assert sum(n for call in calls for n, _ in call) in (1, 2)  # the part running at the timeout ends, no other


def test_stalled_upload_gets_408_and_the_connection_is_closed(models):
    """A client that sends part of its body and stops cannot hold a connection past --read-timeout."""
    with UvicornThread(make_app(models, read_timeout_s=0.5)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"prompts\": [")
            started = time.monotonic()
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
            waited = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"read timeout of 0.5 s (--read-timeout)" in reply and 0.4 < waited < 5


def test_micro_batch_budget_defaults_by_device(models):
    """One forward pass of the scoring core on a GPU (large requests keep full batches), 2048 tokens on a CPU."""
    from types import SimpleNamespace

    from activation_rm.forward.batching import DEFAULT_BATCH_TOKENS
    from activation_rm.serve.app import default_micro_batch_tokens

    on = lambda device: SimpleNamespace(backbone=SimpleNamespace(input_device=torch.device(device)))  # noqa: E731
    assert default_micro_batch_tokens(on("cpu")) == 2048
    assert default_micro_batch_tokens(on("cuda:0")) == DEFAULT_BATCH_TOKENS == 8192
    info = local_client(make_app(models)).get("/info").json()["server"]["batching"]
    assert info["micro_batch_tokens"] == 2048
    given = local_client(make_app(models, batching=BatchConfig(micro_batch_tokens=300))).get("/info").json()
    assert given["server"]["batching"]["micro_batch_tokens"] == 300
