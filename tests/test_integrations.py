"""TRL, verl and OpenRLHF adapters: formats, equality with direct scoring, and a real 2-step GRPOTrainer run."""

from __future__ import annotations

import asyncio
import importlib.util
import tempfile

import pytest
import torch
from serve_support import PROMPTS, RESPONSES, UvicornThread, served

from activation_rm.integrations import verl as verl_adapter
from activation_rm.integrations.openrlhf import prompt_turns, special_token_strings, split_query
from activation_rm.integrations.trl import (
    ActivationRMReward,
    RemoteActivationRMReward,
    completion_text,
    prompt_input,
)
from activation_rm.serve.models import ModelSet

LLAMA3 = ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<pad>")


@pytest.fixture(scope="module")
def setup():
    return served()


@pytest.fixture(scope="module")
def models(setup):
    return ModelSet.from_artifacts(setup.specs, backbone=setup.backbone)


def mean_of(setup, prompts, responses, names=("short", "honest")):
    scores = [setup.rms[n].score(prompts, responses) for n in names]
    return [sum(col) / len(col) for col in zip(*scores)]


@pytest.fixture(scope="module")
def server(models):
    pytest.importorskip("fastapi", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
    pytest.importorskip("uvicorn", reason="the [server] extra is not installed: pip install 'activation-rm[server]'")
    from activation_rm.serve.app import create_app

    with UvicornThread(create_app(models)) as running:
        yield running


# ------------------------------------------------------------------------------------------------------ TRL
def test_trl_reward_standard_and_conversational_formats(models, setup):
    reward = ActivationRMReward(models, name="arm")
    assert reward.__name__ == "arm"
    logged = {}
    standard = reward(prompts=PROMPTS[:3], completions=RESPONSES[:3], completion_ids=[[1]] * 3, answer=["x"] * 3,
                      log_metric=lambda k, v: logged.__setitem__(k, v), trainer_state=None)
    torch.testing.assert_close(standard, mean_of(setup, PROMPTS[:3], RESPONSES[:3]))
    assert set(logged) == {"arm/short", "arm/honest"}

    chat_prompts = [[{"role": "user", "content": [{"type": "text", "text": "What is two plus two?"}]}]]
    chat_completions = [[{"role": "assistant", "content": "Four."}]]
    conversational = reward(prompts=chat_prompts, completions=chat_completions)
    torch.testing.assert_close(conversational, mean_of(setup, ["What is two plus two?"], ["Four."]))
    assert completion_text([{"role": "assistant", "content": [{"type": "text", "text": "a"}]}]) == "a"
    assert prompt_input("plain") == "plain"

    weighted = ActivationRMReward(models, criteria=["honest"])(prompts=PROMPTS, completions=RESPONSES)
    torch.testing.assert_close(weighted, setup.rms["honest"].score(PROMPTS, RESPONSES))
    with pytest.raises(KeyError, match="unknown criterion"):
        ActivationRMReward(models, criteria=["nope"])


def test_trl_async_remote_reward_matches_local(server, setup):
    reward = RemoteActivationRMReward(server.url, chunk_size=2)
    got = asyncio.run(reward(prompts=PROMPTS, completions=RESPONSES, trainer_state=None))
    torch.testing.assert_close(got, mean_of(setup, PROMPTS, RESPONSES))
    assert type(reward).__call__.__code__.co_flags & 0x80  # a coroutine function: TRL runs it concurrently


def test_grpo_trainer_runs_two_steps(models, setup):
    pytest.importorskip("trl", reason="the [trl] extra is not installed: pip install 'activation-rm[trl]'")
    datasets = pytest.importorskip("datasets", reason="the [trl] extra is not installed")
    from tiny import tiny_model, tiny_tokenizer
    from trl import GRPOConfig, GRPOTrainer

    seen = []

    class Recording(ActivationRMReward):
        def __call__(self, prompts, completions, **kwargs):
            rewards = super().__call__(prompts, completions, **kwargs)
            seen.append((completions, rewards))
            return rewards

    dataset = datasets.Dataset.from_dict({"prompt": [[{"role": "user", "content": "What is two plus two?"}],
                                                     [{"role": "user", "content": "The capital of France is?"}]] * 4})
    config = GRPOConfig(output_dir=tempfile.mkdtemp(), max_steps=2, per_device_train_batch_size=4, num_generations=2,
                        max_completion_length=8, report_to=[], use_cpu=True, logging_steps=1, save_strategy="no")
    trainer = GRPOTrainer(model=tiny_model("llama", seed=3), reward_funcs=Recording(models, name="arm"), args=config,
                          train_dataset=dataset, processing_class=tiny_tokenizer())
    trainer.train()
    assert trainer.state.global_step == 2 and len(seen) == 2
    completions, rewards = seen[0]
    assert len(rewards) == len(completions) == 4 and all(0 < r < 1 for r in rewards)
    torch.testing.assert_close(rewards, mean_of(setup, ["What is two plus two?", "What is two plus two?",
                                                        "The capital of France is?", "The capital of France is?"],
                                                [completion_text(c) for c in completions]))
    logged = [h for h in trainer.state.log_history if "rewards/arm/mean" in h]
    assert len(logged) == 2 and "arm/short" in logged[0]


# ----------------------------------------------------------------------------------------------------- verl
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


def test_verl_file_loads_by_path_and_calls_the_server(server, setup, monkeypatch):
    """verl imports the reward file by path (no package context) and passes reward_kwargs."""
    spec = importlib.util.spec_from_file_location("custom_reward", verl_adapter.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("ACTIVATION_RM_URL", server.url)
    got = module.compute_score_batch(["x"] * 2, RESPONSES[:2], ["", ""], [{"prompt": p} for p in PROMPTS[:2]])
    torch.testing.assert_close(got, mean_of(setup, PROMPTS[:2], RESPONSES[:2]))


# ------------------------------------------------------------------------------------------------- OpenRLHF
def test_split_query_chatml_and_llama3(setup):
    markers = special_token_strings(setup.backbone.tokenizer)
    assert "<|im_start|>" in markers and "<pad>" in markers
    chatml = "<|im_start|>system\nBe short.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    prompt, response = split_query("<pad>" + chatml + "Four.<|im_end|><pad><pad>", chatml, markers)
    assert response == "Four."
    assert prompt == [{"role": "system", "content": "Be short."}, {"role": "user", "content": "What is 2+2?"}]
    llama3 = ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert split_query(llama3 + "Hello!<|eot_id|>", llama3, LLAMA3) == ("Hi there", "Hello!")
    assert split_query("Q: 2+2? A: 4", "Q: 2+2?", ()) == ("Q: 2+2?", "A: 4")
    assert prompt_turns("user: literal text", LLAMA3) == "user: literal text"
    with pytest.raises(ValueError, match="does not contain its prompt"):
        split_query("something else", "Q: 2+2?", ())
    with pytest.raises(ValueError, match="empty"):
        split_query("<pad>x", "<pad>", ("<pad>",))


def test_trl_reward_on_a_text_backbone_judges_text_when_examples_carry_images(models, setup, caplog):
    from tiny_vision import make_image

    reward = ActivationRMReward(models)
    with caplog.at_level("WARNING"):
        got = reward(prompts=PROMPTS[:2], completions=RESPONSES[:2], image=[make_image(30, 30, 1), None])
    torch.testing.assert_close(got, mean_of(setup, PROMPTS[:2], RESPONSES[:2]))
    assert "text-only" in caplog.text


def test_client_and_model_set_compare(server, models, setup):
    from activation_rm.serve.client import RewardClient

    a, b = RESPONSES[:2], RESPONSES[2:]
    remote = RewardClient(server.url).compare(PROMPTS[:2], a, b, criteria=["short"])
    local = models.compare(PROMPTS[:2], a, b)
    direct = setup.rms["short"].compare(PROMPTS[:2], a, b)
    assert list(remote) == ["short"] and list(local) == ["short", "honest"]
    for got in (remote["short"], local["short"].to_dict()):
        assert got["preferred"] == [c.preferred for c in direct]
        torch.testing.assert_close(got["score_a"], [c.score_a for c in direct])
        torch.testing.assert_close(got["score_b"], [c.score_b for c in direct])
