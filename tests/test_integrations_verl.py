"""verl adapter (activation_rm.integrations.verl): the sync, async (Reward Loop) and batch forms, called with
verl's documented call shapes (checked against verl 0.9.1 and 0.5.0), on a real server and in-process."""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
import textwrap

import hypothesis
import pytest
import torch
from hypothesis import strategies as st
from integrations_support import mean_of
from serve_support import PROMPTS, RESPONSES, UvicornThread, free_port

from activation_rm.integrations import verl as verl_adapter

pytest_plugins = ["integrations_support"]  # the setup, models and server fixtures


def reward_loop_call(fn, reward_kwargs, **call):
    """What verl 0.9.1's Reward Loop does with a custom async reward function: reward_kwargs merged over the
    call's keywords (they win), awaited with keyword arguments only."""
    return fn(**{**call, **reward_kwargs})


def item(i):
    """One sample as the naive reward loop manager passes it (extra_info gains num_turns and rollout scores)."""
    return {"data_source": "x", "solution_str": RESPONSES[i], "ground_truth": "",
            "extra_info": {"prompt": PROMPTS[i], "num_turns": None, "rollout_reward_scores": {}}}


def test_verl_compute_score_local_and_batch(setup):
    kwargs = {"artifacts": ",".join(setup.specs), "device": "cpu", "dtype": "float32"}
    one = verl_adapter.compute_score("gsm8k", "Four.", "4", {"question": "What is two plus two?"}, **kwargs)
    torch.testing.assert_close(one, mean_of(setup, ["What is two plus two?"], ["Four."])[0])
    infos = [{"prompt": p} for p in PROMPTS]
    batch = verl_adapter.compute_score_batch(data_sources=["x"] * 4, solution_strs=RESPONSES, ground_truths=[""] * 4,
                                             extra_infos=infos, criteria=["short"], **kwargs)
    torch.testing.assert_close(batch, setup.rms["short"].score(PROMPTS, RESPONSES))
    with pytest.raises(ValueError, match="prompt is not in extra_info"):
        verl_adapter.compute_score("x", "Four.", "4", {"index": 3}, **kwargs)
    with pytest.raises(ValueError, match="reward_kwargs.url"):
        verl_adapter.compute_score("x", "Four.", "4", {"prompt": "q"})


def test_verl_async_compute_score_in_process(setup):
    kwargs = {"artifacts": ",".join(setup.specs), "device": "cpu", "dtype": "float32"}

    async def loop():
        return await asyncio.gather(*(reward_loop_call(verl_adapter.compute_score_async, kwargs, **item(i))
                                      for i in range(4)))

    torch.testing.assert_close(asyncio.run(loop()), mean_of(setup, PROMPTS, RESPONSES))


def test_verl_async_compute_score_with_the_reward_loop_call_shape(server, setup):
    fn = verl_adapter.compute_score_async
    assert inspect.iscoroutinefunction(fn) and not inspect.iscoroutinefunction(verl_adapter.compute_score)
    assert {"data_source", "solution_str", "ground_truth", "extra_info", "reward_router_address",
            "reward_model_tokenizer"} <= set(inspect.signature(fn).parameters)
    kwargs = {"url": server.url, "max_concurrency": 2, "weights": {"short": 3, "honest": 1}}

    async def loop():  # verl passes the router address only when it serves a reward model itself
        return await asyncio.gather(*(reward_loop_call(fn, kwargs, **item(i), reward_router_address="127.0.0.1:1",
                                                       reward_model_tokenizer=None) for i in range(4)))

    got = asyncio.run(loop())
    short, honest = (setup.rms[n].score(PROMPTS, RESPONSES) for n in ("short", "honest"))
    torch.testing.assert_close(got, [(3 * s + h) / 4 for s, h in zip(short, honest)])


@pytest.fixture(scope="module")
def fake():
    """A stand-in reward server that records how many requests are in flight at once and can fail on demand."""
    pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    log = {"in_flight": 0, "peak": 0, "calls": 0, "unavailable": 0, "auth": set()}

    async def score(request):
        body = await request.json()
        log["calls"] += 1
        log["auth"].add(request.headers.get("authorization"))
        if log["unavailable"] > 0:
            log["unavailable"] -= 1
            return JSONResponse({"error": "starting up"}, status_code=503)
        if "bad" in body["responses"]:
            return JSONResponse({"error": "responses[0] could not be scored", "item": 0}, status_code=422)
        log["in_flight"] += 1
        log["peak"] = max(log["peak"], log["in_flight"])
        await asyncio.sleep(0.05)
        log["in_flight"] -= 1
        n = len(body["responses"])
        return JSONResponse({"scores": {"a": [len(r) / 100 for r in body["responses"]], "b": [0.5] * n}})

    app = Starlette(routes=[Route("/score", score, methods=["POST"])])
    with UvicornThread(app) as running:
        running.log = log
        yield running


def test_verl_async_compute_score_bounds_requests_in_flight(fake, monkeypatch):
    monkeypatch.setattr(verl_adapter, "_backoff", lambda attempt: 0.0)
    fake.log.update(peak=0, calls=0, auth=set())
    kwargs = {"url": fake.url, "max_concurrency": 3, "token": "s3cret", "criteria": "a"}
    texts = ["x" * n for n in range(1, 13)]

    async def loop():
        calls = [verl_adapter.compute_score_async("x", t, "", {"prompt": "q"}, **kwargs) for t in texts]
        return await asyncio.gather(*calls)

    got = asyncio.run(loop())
    assert got == pytest.approx([(len(t) / 100 + 0.5) / 2 for t in texts])
    assert fake.log["peak"] == 3 and fake.log["calls"] == 12  # concurrent, but never more than max_concurrency
    assert fake.log["auth"] == {"Bearer s3cret"}

    fake.log.update(calls=0, unavailable=2)  # 5xx are retried, up to `retries` times
    assert asyncio.run(verl_adapter.compute_score_async("x", "ab", "", {"prompt": "q"}, url=fake.url)) == \
        pytest.approx((0.02 + 0.5) / 2)
    assert fake.log["calls"] == 3
    fake.log.update(calls=0, unavailable=5)
    with pytest.raises(verl_adapter.RewardServerError, match="HTTP 503: starting up"):
        asyncio.run(verl_adapter.compute_score_async("x", "ab", "", {"prompt": "q"}, url=fake.url, retries=1))
    fake.log.update(calls=0, unavailable=0)
    with pytest.raises(verl_adapter.RewardServerError, match="HTTP 422: responses.0. could not be scored"):
        asyncio.run(verl_adapter.compute_score_async("x", "bad", "", {"prompt": "q"}, url=fake.url))
    assert fake.log["calls"] == 1  # a refused item is not retried
    with pytest.raises(verl_adapter.RewardServerError, match="unreachable"):
        asyncio.run(verl_adapter.compute_score_async("x", "ab", "", {"prompt": "q"},
                                                     url=f"http://127.0.0.1:{free_port()}", retries=0))


def test_verl_sync_forms_retry_refuse_and_chunk(fake, monkeypatch):
    monkeypatch.setattr(verl_adapter, "_backoff", lambda attempt: 0.0)
    fake.log.update(calls=0, unavailable=1)
    assert verl_adapter.compute_score("x", "abc", "", {"prompt": "q"}, url=fake.url) == pytest.approx(0.265)
    assert fake.log["calls"] == 2
    fake.log.update(calls=0)
    texts = ["x" * n for n in range(1, 6)]
    got = verl_adapter.compute_score_batch(["x"] * 5, texts, [""] * 5, [{"prompt": "q"}] * 5, url=fake.url,
                                           chunk_size=2, weights={"a": 1})
    assert got == pytest.approx([len(t) / 100 for t in texts]) and fake.log["calls"] == 3
    with pytest.raises(verl_adapter.RewardServerError, match="HTTP 422"):
        verl_adapter.compute_score("x", "bad", "", {"prompt": "q"}, url=fake.url)


def test_verl_file_works_by_path_without_activation_rm_installed(server, setup):
    """verl loads the file by path (no package, not in sys.modules); in a verl environment activation-rm itself
    may not be installable (verl 0.9.1 pins transformers<5.11), so the server forms must not import it."""
    script = textwrap.dedent(f"""
        import asyncio, importlib.abc, importlib.util, json, sys

        class NoActivationRM(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "activation_rm":
                    raise ImportError("activation_rm is not installed here")

        sys.meta_path.insert(0, NoActivationRM())
        spec = importlib.util.spec_from_file_location("custom_module_1", {verl_adapter.__file__!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        url = {server.url!r}
        prompts, responses = {PROMPTS!r}, {RESPONSES!r}
        one = module.compute_score("x", responses[0], "", {{"prompt": prompts[0]}}, url=url)
        batch = module.compute_score_batch(["x"] * 4, responses, [""] * 4, [{{"prompt": p}} for p in prompts],
                                           url=url, chunk_size=3)

        async def loop():
            return await asyncio.gather(*(module.compute_score_async(data_source="x", solution_str=r,
                                                                     ground_truth="", extra_info={{"prompt": p}},
                                                                     url=url) for p, r in zip(prompts, responses)))

        print(json.dumps({{"one": one, "batch": batch, "async": asyncio.run(loop()),
                          "imported": sorted(m for m in sys.modules if m.startswith("activation_rm"))}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    expected = mean_of(setup, PROMPTS, RESPONSES)
    torch.testing.assert_close(out["batch"], expected)
    torch.testing.assert_close(out["async"], expected)
    torch.testing.assert_close(out["one"], expected[0])
    assert out["imported"] == []


# ------------------------------------------------------------------------------ parity with the package's client
# verl.py runs where activation-rm cannot be installed, so it keeps standard-library copies of the package's HTTP
# client (integrations/client.py: POST /score, RewardServerError), of scoring.engine.combine and of the prompt
# normaliser (inputs/prompts.py: prompt_input, content_text). These tests hold the copies to the originals: the same
# server and the same inputs give the same scores, refusals, rewards and prompts.
COMBINE_CASES = [  # scores, weights, the reward per item
    ({"a": [0.2, 0.9], "b": [0.6, 0.1]}, None, [0.4, 0.5]),
    ({"a": [0.2, 0.9], "b": [0.6, 0.1]}, {}, [0.4, 0.5]),
    ({"a": [0.2, 0.9], "b": [0.6, 0.1]}, {"a": 3, "b": 1}, [0.3, 0.7]),
    ({"a": [0.2, 0.9], "b": [0.6, 0.1]}, {"b": 2.5}, [0.6, 0.1]),  # once any is named, the others weigh nothing
    ({"a": [0.25], "b": [0.75], "c": [1.0]}, {"a": 1, "c": 0.5, "unscored": 9}, [0.5]),
    ({"a": []}, None, []),
    ({}, {"a": 1}, []),
]


@pytest.mark.parametrize(("scores", "weights", "rewards"), COMBINE_CASES)
def test_verl_combine_equals_the_engine_combine(scores, weights, rewards):
    from activation_rm.scoring.engine import combine

    assert verl_adapter._combine(scores, weights) == combine(scores, weights) == pytest.approx(rewards)


@pytest.mark.parametrize("weights", [{"a": 0}, {"unscored": 1}, {"a": 0.0, "b": 0}])
def test_verl_combine_refuses_weights_like_the_engine(weights):
    from activation_rm.scoring.engine import combine

    scores = {"a": [0.5], "b": [0.25]}
    with pytest.raises(ValueError) as engine_error:
        combine(scores, weights)
    with pytest.raises(ValueError) as verl_error:
        verl_adapter._combine(scores, weights)
    assert str(verl_error.value) == str(engine_error.value) == f"weights {weights} give no weight to the scored " \
                                                               "criteria ['a', 'b']"


# verl.py's copies of activation_rm.inputs.prompts: _judge_prompt is prompt_input, _text is content_text
MESSAGE_VALUES = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(
    ["user", "assistant", "", " "]) | st.lists(st.fixed_dictionaries({"type": st.sampled_from(["text", "image"])},
                                                                     optional={"text": st.text(max_size=8)}), max_size=3)
MESSAGES = st.dictionaries(st.sampled_from(["role", "content", "name"]), MESSAGE_VALUES, max_size=3)
PROMPT_VALUES = (st.text(max_size=10) | MESSAGE_VALUES | MESSAGES | st.binary(max_size=4)
                 | st.lists(MESSAGES | MESSAGE_VALUES, max_size=4) | st.tuples(MESSAGES, MESSAGES))
PROMPT_CASES = [
    "What is two plus two?", "", "  ", [{"role": "user", "content": "hi"}], [], None, 3, b"hi", {"role": "user"},
    ({"role": "system", "content": "Be short."}, {"content": "hi"}),
    [{"role": "user", "content": [{"type": "image", "image": "a.png"}, {"type": "text", "text": "Caption."}]}],
    [{"role": 1, "content": ("x", {"text": "y"})}], [{"role": "user", "content": "hi"}, "hi"], [None],
]


def _outcome(normalise, value):
    try:
        return "value", normalise(value)
    except Exception as err:  # the copy must fail the same way: the same type and words
        return type(err).__name__, str(err)


def _assert_same_prompt(value):
    from activation_rm.inputs.prompts import content_text, prompt_input

    assert _outcome(verl_adapter._judge_prompt, value) == _outcome(prompt_input, value)
    assert _outcome(verl_adapter._text, value) == _outcome(content_text, value)


@pytest.mark.parametrize("value", PROMPT_CASES)
def test_verl_prompt_copy_equals_the_package_normaliser(value):
    _assert_same_prompt(value)


def test_verl_prompt_copy_takes_parquet_arrays_like_the_package_normaliser():
    np = pytest.importorskip("numpy")
    from activation_rm.inputs.prompts import prompt_input

    messages = np.array([{"role": "user", "content": "hi"}, {"content": None}], dtype=object)
    assert verl_adapter._judge_prompt(messages) == prompt_input(messages) == [
        {"role": "user", "content": "hi"}, {"role": "user", "content": ""}]


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(value=PROMPT_VALUES)
def test_verl_prompt_copy_equals_the_package_normaliser_on_fuzzed_values(value):
    _assert_same_prompt(value)


@pytest.fixture(scope="module")
def guarded(models):
    """The real server with a bearer token, so both clients' auth headers are exercised too."""
    pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
    from activation_rm.serve.app import create_app
    from activation_rm.serve.config import ServerConfig

    with UvicornThread(create_app(models, ServerConfig(token="s3cret"))) as running:
        yield running


@pytest.mark.parametrize("criteria", [None, ["short"], ["honest", "short"]])
def test_verl_stdlib_post_equals_the_package_client(guarded, setup, criteria):
    from activation_rm.integrations.client import RewardClient

    want = RewardClient(guarded.url, token="s3cret").score(PROMPTS, RESPONSES, criteria)
    kwargs = {"token": "s3cret", "url": guarded.url}
    for given in ([criteria, ",".join(criteria)] if criteria else [None]):  # verl's kwargs may hold a string
        body = verl_adapter._body(PROMPTS, RESPONSES, {**kwargs, "criteria": given})
        assert verl_adapter._post(verl_adapter._server(kwargs), body, kwargs) == want
        assert asyncio.run(verl_adapter._post_async(verl_adapter._server(kwargs), body, kwargs)) == want
    for name, values in want.items():  # and both are the artifacts' own scores
        torch.testing.assert_close(values, setup.rms[name].score(PROMPTS, RESPONSES))


@pytest.mark.parametrize(("criteria", "token", "status"), [(["nope"], "s3cret", 422), (None, "wrong", 401),
                                                           (None, None, 401)])
def test_verl_stdlib_refusals_equal_the_package_client(guarded, monkeypatch, criteria, token, status):
    """A refusal (4xx) is not retried by either, and verl's error names the URL and then what the package's
    client says."""
    from activation_rm.integrations.client import RewardClient, RewardServerError

    monkeypatch.delenv("ACTIVATION_RM_TOKEN", raising=False)
    with pytest.raises(RewardServerError) as package:
        RewardClient(guarded.url, token=token).score(PROMPTS, RESPONSES, criteria)
    assert package.value.status == status
    kwargs = {"token": token, "url": guarded.url, "criteria": criteria, "retries": 0}
    url = verl_adapter._server(kwargs)
    body = verl_adapter._body(PROMPTS, RESPONSES, kwargs)
    with pytest.raises(verl_adapter.RewardServerError) as sync:
        verl_adapter._post(url, body, kwargs)
    with pytest.raises(verl_adapter.RewardServerError) as concurrent:
        asyncio.run(verl_adapter._post_async(url, body, kwargs))
    assert str(sync.value) == str(concurrent.value) == f"{url} answered {package.value}"
