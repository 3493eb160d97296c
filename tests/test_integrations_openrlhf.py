"""activation_rm.integrations.openrlhf, the OpenRLHF adapter: its reward function, loaded through the reward function
file and called the way openrlhf 0.11.2 does it. The query-splitting rule is in
test_integrations_openrlhf_queries.py, the batching of concurrent calls in test_integrations_calls.py."""

from __future__ import annotations

import asyncio

import pytest
import torch
from integrations_support import load_reward_func_file, mean_of

import activation_rm.scoring.engine as serve_models
from activation_rm.integrations import openrlhf

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
    module = load_reward_func_file()
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
    module = load_reward_func_file()
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


