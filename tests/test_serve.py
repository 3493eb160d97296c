"""The reward server in-process: endpoints, exact dynamic batching, limits, errors that name the item, auth."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
httpx = pytest.importorskip("httpx", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")

import torch  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from serve_support import PROMPTS, RESPONSES, served  # noqa: E402

from activation_rm import __version__  # noqa: E402
from activation_rm.cli import build_parser, main  # noqa: E402
from activation_rm.serve.app import create_app  # noqa: E402
from activation_rm.serve.batcher import BatchConfig  # noqa: E402
from activation_rm.serve.cli import build_server  # noqa: E402
from activation_rm.serve.config import ServerConfig  # noqa: E402
from activation_rm.serve.models import ItemError, ModelSet, ScoreRequest, parse_artifact_spec, score_requests  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    return served()


@pytest.fixture(scope="module")
def models(setup):
    return ModelSet.from_artifacts(setup.specs, backbone=setup.backbone)


def make_app(models, **config):
    return create_app(models, ServerConfig(**config))


def test_health_and_info(models, setup):
    client = TestClient(make_app(models))
    assert client.get("/health").json() == {"status": "ok", "criteria": 2}
    info = client.get("/info").json()
    assert info["version"] == __version__
    assert info["backbone"]["name"] == setup.backbone.name
    assert info["backbone"]["fingerprint"] == setup.backbone.fingerprint
    by_name = {c["name"]: c for c in info["criteria"]}
    assert set(by_name) == {"short", "honest"}
    assert by_name["honest"]["criterion"] == "the answer is honest"
    assert by_name["honest"]["selected_heads"] == [[0, 1, 1.0], [2, 0, 1.0]]
    assert by_name["short"]["num_selected_heads"] == len(setup.rms["short"].selected_heads)
    assert info["server"]["batching"]["enabled"] is True and "token" not in str(info["server"]).lower()


def test_score_matches_direct_scoring(models, setup):
    client = TestClient(make_app(models))
    body = client.post("/score", json={"prompts": PROMPTS, "responses": RESPONSES}).json()
    assert body["criteria"] == ["short", "honest"]
    for name, rm in setup.rms.items():
        torch.testing.assert_close(torch.tensor(body["scores"][name]), torch.tensor(rm.score(PROMPTS, RESPONSES)))
    only = client.post("/score", json={"prompts": PROMPTS[:1], "responses": RESPONSES[:1], "criteria": ["honest"]})
    assert list(only.json()["scores"]) == ["honest"]


async def _concurrent(app, bodies):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
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
    client = TestClient(make_app(models, max_items=5, max_chars=100, max_body_bytes=4096))
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


def test_item_failing_inside_a_batch_fails_alone(models, setup, monkeypatch):
    """A request whose item breaks scoring gets a 422 naming that item; its batch-mates still get scores."""
    rm = models.models["short"]
    real = rm.score

    def fragile(prompts, responses):
        if "BOOM" in responses:
            raise ValueError("cannot judge this")
        return real(prompts, responses)

    monkeypatch.setattr(rm, "score", fragile)
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
    client = TestClient(make_app(models, token="s3cret"))
    assert client.get("/health").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        reply = client.post("/score", json={"prompts": ["a"], "responses": ["x"]}, headers=headers)
        assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Bearer"
    assert client.get("/info").status_code == 401
    ok = client.post("/score", json={"prompts": ["a"], "responses": ["x"]}, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_get_reward_openrlhf(models, setup):
    tokenizer = setup.backbone.tokenizer
    questions = ["What is two plus two?", "The capital of France is?"]
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                             add_generation_prompt=True) for q in questions]
    answers = ["Four.", "Paris."]
    queries = [prompts[0] + answers[0] + "<|im_end|>", "<pad><pad>" + prompts[1] + answers[1] + "<|im_end|><pad>"]
    client = TestClient(make_app(models))
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
    reply = TestClient(only).post("/get_reward", json={"query": queries, "prompts": prompts})
    torch.testing.assert_close(reply.json()["rewards"], direct["short"])

    bad = client.post("/get_reward", json={"query": [queries[0], "unrelated text"], "prompts": prompts})
    assert bad.status_code == 422 and bad.json()["item"] == 1 and bad.json()["field"] == "query"
    assert client.post("/get_reward", json={"query": queries}).json()["field"] == "prompts"


def test_serve_command_builds_and_runs_the_app(setup, monkeypatch):
    args = build_parser().parse_args(["serve", *setup.specs, "--max-items", "3", "--device", "cpu",
                                      "--dtype", "float32", "--token", "t"])
    app = build_server(args)
    client = TestClient(app)
    headers = {"Authorization": "Bearer t"}
    assert [c["name"] for c in client.get("/info", headers=headers).json()["criteria"]] == ["short", "honest"]
    assert client.post("/score", json={"prompts": ["a"] * 4, "responses": ["x"] * 4}, headers=headers).status_code == 413

    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setenv("ACTIVATION_RM_TOKEN", "from-env")
    assert main(["serve", setup.paths["short"], "--port", "5123", "--device", "cpu", "--dtype", "float32"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 5123
    assert seen["app"].state.config.token == "from-env"
    assert seen["app"].state.models.names == ["short"]


def test_model_set_rules(setup, tmp_path):
    from dataclasses import replace

    from activation_rm import ActivationRM

    assert parse_artifact_spec("short=/a/b").name == "short"
    assert parse_artifact_spec("/a/some_dir/").name == "some_dir"
    with pytest.raises(ValueError, match="unique"):
        ModelSet.from_artifacts([setup.paths["short"], f"short={setup.paths['honest']}"], backbone=setup.backbone)
    short = setup.rms["short"]
    pairwise = ActivationRM(setup.backbone, replace(short.template, mode="pairwise"), short.means, short.mask)
    with pytest.raises(ValueError, match="pairwise"):
        ModelSet({"p": pairwise})
    pairwise.save(tmp_path / "pairwise")
    assert main(["serve", str(tmp_path / "pairwise"), "--device", "cpu", "--dtype", "float32"]) == 2


def test_single_item_failure_is_an_item_error(models, monkeypatch):
    monkeypatch.setattr(models.models["short"], "score", lambda p, r: 1 / 0)
    [result] = score_requests(models, [ScoreRequest(["q"], ["a"], ("short",))])
    assert isinstance(result, ItemError) and result.item == 0 and "ZeroDivisionError" in result.message
