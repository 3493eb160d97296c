"""OpenRLHF adapter: the reward function file (activation_rm.integrations.openrlhf_reward_func) and the adapter,
loaded and called the way openrlhf 0.11.2 does it. The query-splitting rule is in test_openrlhf_queries.py."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time

import pytest
import torch
from integrations_support import mean_of

import activation_rm.scoring.engine as serve_models
from activation_rm.integrations import openrlhf, openrlhf_reward_func
from activation_rm.integrations.calls import GroupBatcher

pytest_plugins = ["integrations_support"]  # the setup fixture

CHATS = [[{"role": "user", "content": "What is two plus two?"}],
         [{"role": "system", "content": "Be short."}, {"role": "user", "content": "What is two plus two?"}],
         [{"role": "user", "content": "The capital of France is?"}]]
ANSWERS = ["Four.", "4", "Paris, the capital of France."]


def openrlhf_queries(tokenizer, chats, answers):
    """(queries, prompts) built as openrlhf 0.11.2 builds them: the templated prompt is tokenized without special
    tokens, the response tokens follow, and the whole is decoded with ``skip_special_tokens=False``."""
    prompts = [tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True) for chat in chats]
    queries = []
    for prompt, answer in zip(prompts, answers):
        ids = tokenizer(text=prompt, add_special_tokens=False)["input_ids"]
        ids += tokenizer(text=answer + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        queries.append(tokenizer.decode(ids, skip_special_tokens=False))
    return queries, prompts


def load_by_path():
    """The file as OpenRLHF imports it: by path, under the module name ``reward_func``, with no package context."""
    spec = importlib.util.spec_from_file_location("reward_func", openrlhf_reward_func.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def artifact_env(setup, monkeypatch):
    monkeypatch.setenv("ACTIVATION_RM_ARTIFACTS", ",".join(setup.specs))
    monkeypatch.setenv("ACTIVATION_RM_DEVICE", "cpu")
    monkeypatch.setenv("ACTIVATION_RM_DTYPE", "float32")
    monkeypatch.setattr(openrlhf, "_JUDGES", {})  # a fresh process
    loads = []
    real = serve_models.load_model_set
    monkeypatch.setattr(serve_models, "load_model_set", lambda *a, **k: loads.append(a) or real(*a, **k))
    return loads


def test_openrlhf_reward_func_with_the_0_11_call_shape(setup, artifact_env):
    """openrlhf 0.11.2 calls ``reward_func([query], [prompt], [label])`` in ``asyncio.to_thread``, one sample per
    call and many at once, then reads ``rewards``/``scores`` with ``torch.tensor([value])`` and each extra log with
    ``value.flatten()[0].item()``."""
    module = load_by_path()
    queries, prompts = openrlhf_queries(setup.backbone.tokenizer, CHATS, ANSWERS)
    assert queries[0].endswith("Four.<|im_end|>") and "<|im_start|>assistant" in queries[0]

    async def rollout():
        return await asyncio.gather(*(asyncio.to_thread(module.reward_func, [q], [p], ["4"])
                                      for q, p in zip(queries, prompts)))

    answers = asyncio.run(rollout())
    judged = ["What is two plus two?", CHATS[1], "The capital of France is?"]
    expected = mean_of(setup, judged, ANSWERS)
    for info, want, chat, answer in zip(answers, expected, judged, ANSWERS):
        assert set(info) == {"rewards", "scores", "extra_logs"} and info["rewards"].shape == (1,)
        torch.testing.assert_close(torch.tensor([info["rewards"]]), torch.tensor([want], dtype=torch.float32))
        torch.testing.assert_close(info["scores"], info["rewards"])
        assert 0 <= info["scores"].item() <= 1
        short = info["extra_logs"]["short"].flatten()[0].item()
        assert short == pytest.approx(setup.rms["short"].score([chat], [answer])[0], abs=1e-6)
        assert set(info["extra_logs"]) == {"short", "honest"}
    assert len(artifact_env) == 1  # the artifacts load once per process, though the first calls came at once


def test_openrlhf_reward_func_batches_criteria_and_bad_queries(setup, artifact_env, monkeypatch):
    module = load_by_path()
    queries, prompts = openrlhf_queries(setup.backbone.tokenizer, CHATS, ANSWERS)
    batch = module.reward_func(queries, prompts, ["", "", ""])  # older OpenRLHF versions pass whole batches
    assert batch["rewards"].shape == (3,) and batch["rewards"].dtype == torch.float32
    torch.testing.assert_close(batch["rewards"].tolist(),
                               mean_of(setup, ["What is two plus two?", CHATS[1], "The capital of France is?"],
                                       ANSWERS), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match=r"query\[1\]: query does not contain its prompt"):
        module.reward_func([queries[0], "something else"], prompts[:2], ["", ""])

    monkeypatch.setenv("ACTIVATION_RM_CRITERIA", "honest")
    honest = module.reward_func(queries, prompts, None)
    torch.testing.assert_close(honest["rewards"].tolist(),
                               setup.rms["honest"].score(["What is two plus two?", CHATS[1],
                                                          "The capital of France is?"], ANSWERS),
                               atol=1e-6, rtol=0)
    assert set(honest["extra_logs"]) == {"honest"}
    assert len(artifact_env) == 2  # other settings, another judge; the first stays loaded

    monkeypatch.delenv("ACTIVATION_RM_ARTIFACTS")
    with pytest.raises(ValueError, match="ACTIVATION_RM_ARTIFACTS"):
        module.reward_func(queries, prompts, None)


def test_group_batcher_scores_calls_that_wait_together():
    """While the judge runs one batch, the calls that arrive are scored together in the next one."""
    seen = []
    release = threading.Event()

    def score(prompts, responses):
        seen.append(list(responses))
        if len(seen) == 1:
            release.wait(10)
        if "bad" in responses:
            raise ValueError("cannot score 'bad'")
        return {"c": [float(len(r)) for r in responses]}

    batcher = GroupBatcher(score)
    results, errors = {}, {}

    def call(text):
        try:
            results[text] = batcher(["p"], [text])["c"]
        except ValueError as err:
            errors[text] = str(err)

    first = threading.Thread(target=call, args=("a",))
    first.start()
    while not seen:
        time.sleep(0.005)
    others = [threading.Thread(target=call, args=(t,)) for t in ("bb", "bad", "dddd")]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while len(batcher._queue) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert results == {"a": [1.0], "bb": [2.0], "dddd": [4.0]} and errors == {"bad": "cannot score 'bad'"}
    assert sorted(seen[1]) == ["bad", "bb", "dddd"]  # the three waiting calls went as one batch...
    assert sorted(map(tuple, seen[2:])) == [("bad",), ("bb",), ("dddd",)]  # ...which failed, so each alone
