"""TRL adapter (activation_rm.integrations.trl): formats, per-criterion log_extra columns, None for items that
cannot be judged, the async remote reward against a real server, and real GRPOTrainer steps (trl 1.16.0)."""

from __future__ import annotations

import asyncio
import glob
import os
import tempfile

import pytest
import torch
from integrations_support import mean_of
from serve_support import (
    PROMPTS,
    RESPONSES,
    VISION_PROMPTS,
    VISION_RESPONSES,
    UvicornThread,
    free_port,
    vision_models,
)
from tiny import SERVER_EXTRA

from activation_rm.integrations.trl import (
    ActivationRMReward,
    RemoteActivationRMReward,
    completion_text,
    prompt_input,
)

pytest_plugins = ["integrations_support"]  # the setup, models and server fixtures


class Logs:
    """Stands in for TRL's ``log_extra`` / ``log_metric`` (same signatures as in trl 1.16.0)."""

    def __init__(self) -> None:
        self.extra: dict[str, list] = {}
        self.metrics: dict[str, float] = {}

    def kwargs(self) -> dict:
        return {"log_extra": lambda column, values: self.extra.setdefault(column, []).extend(values),
                "log_metric": self.metrics.__setitem__, "trainer_state": None}


def test_trl_reward_standard_and_conversational_formats(models, setup):
    reward = ActivationRMReward(models, name="arm")
    assert reward.__name__ == "arm"
    standard = reward(prompts=PROMPTS[:3], completions=RESPONSES[:3], completion_ids=[[1]] * 3, answer=["x"] * 3)
    torch.testing.assert_close(standard, mean_of(setup, PROMPTS[:3], RESPONSES[:3]))

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


def test_trl_reward_logs_each_criterion_per_completion(models, setup):
    logs = Logs()
    got = ActivationRMReward(models, name="arm")(prompts=PROMPTS, completions=RESPONSES, **logs.kwargs())
    assert set(logs.extra) == set(logs.metrics) == {"arm/short", "arm/honest"}
    for name in ("short", "honest"):
        direct = setup.rms[name].score(PROMPTS, RESPONSES)
        torch.testing.assert_close(logs.extra[f"arm/{name}"], direct)
        torch.testing.assert_close(logs.metrics[f"arm/{name}"], sum(direct) / len(direct))
    torch.testing.assert_close(got, mean_of(setup, PROMPTS, RESPONSES))

    one = Logs()  # one criterion: its scores are the reward column itself, so nothing extra is logged
    ActivationRMReward(models, criteria=["short"], name="arm")(prompts=PROMPTS, completions=RESPONSES, **one.kwargs())
    assert one.extra == {} and one.metrics == {}


def test_trl_reward_gives_none_to_items_it_cannot_judge(models, setup, caplog):
    prompts = [PROMPTS[0], "   ", None, PROMPTS[1], PROMPTS[0]]
    completions = [RESPONSES[0], "Four.", "Four.", 12345, ""]
    logs = Logs()
    with caplog.at_level("WARNING", logger="activation_rm.integrations.trl"):
        got = ActivationRMReward(models, name="arm")(prompts=prompts, completions=completions, **logs.kwargs())
    assert got[1] is None and got[2] is None and got[3] is None
    # an empty completion is judged, not skipped: the policy must see the verdict on empty answers
    torch.testing.assert_close([got[0], got[4]], mean_of(setup, [PROMPTS[0]] * 2, [RESPONSES[0], ""]))
    assert "3 of 5 completions cannot be judged" in caplog.text and "prompt is empty" in caplog.text
    assert "item 3: TypeError" in caplog.text
    short = logs.extra["arm/short"]
    assert short[1:4] == [None, None, None] and short[0] == pytest.approx(setup.rms["short"].score(
        [PROMPTS[0]], [RESPONSES[0]])[0])
    assert logs.metrics["arm/short"] == pytest.approx((short[0] + short[4]) / 2)

    caplog.clear()
    nothing = Logs()  # nothing judged: all None, and the columns still get a value per completion
    with caplog.at_level("WARNING", logger="activation_rm.integrations.trl"):
        assert ActivationRMReward(models, name="arm")(prompts=["", None], completions=["a", "b"],
                                                      **nothing.kwargs()) == [None, None]
    assert "2 of 2 completions cannot be judged" in caplog.text
    assert nothing.extra == {"arm/short": [None, None], "arm/honest": [None, None]} and nothing.metrics == {}


def test_trl_reward_isolates_an_item_whose_scoring_fails(models, setup, monkeypatch, caplog):
    real = type(models).score

    def failing(self, prompts, responses, *args, **kwargs):
        if any("BOOM" in r for r in responses):
            raise RuntimeError("the judge cannot take this one")
        return real(self, prompts, responses, *args, **kwargs)

    monkeypatch.setattr(type(models), "score", failing)
    reward = ActivationRMReward(models)
    with caplog.at_level("WARNING", logger="activation_rm.integrations.trl"):
        got = reward(prompts=PROMPTS[:3], completions=[RESPONSES[0], "BOOM", RESPONSES[2]])
    assert got[1] is None
    torch.testing.assert_close([got[0], got[2]], mean_of(setup, [PROMPTS[0], PROMPTS[2]], [RESPONSES[0], RESPONSES[2]]))
    assert "item 1: RuntimeError: the judge cannot take this one" in caplog.text
    with pytest.raises(RuntimeError, match="cannot take this one"):  # every item fails: a broken judge, raised
        reward(prompts=PROMPTS[:2], completions=["BOOM", "BOOM again"])


def test_trl_async_remote_reward_matches_local(server, setup):
    reward = RemoteActivationRMReward(server.url, chunk_size=2, name="arm")
    logs = Logs()
    got = asyncio.run(reward(prompts=PROMPTS, completions=RESPONSES, **logs.kwargs()))
    torch.testing.assert_close(got, mean_of(setup, PROMPTS, RESPONSES))
    torch.testing.assert_close(logs.extra["arm/honest"], setup.rms["honest"].score(PROMPTS, RESPONSES))
    assert type(reward).__call__.__code__.co_flags & 0x80  # a coroutine function: TRL runs it concurrently


def test_trl_async_remote_reward_drops_items_the_server_rejects(server, setup, caplog):
    too_long = "x" * 70000  # over the server's max_chars: a 422 naming the item
    prompts = [PROMPTS[0], PROMPTS[1], "", PROMPTS[2], PROMPTS[0]]
    completions = [RESPONSES[0], too_long, "Four.", RESPONSES[2], too_long]
    with caplog.at_level("WARNING", logger="activation_rm.integrations.trl"):
        got = asyncio.run(RemoteActivationRMReward(server.url, chunk_size=3)(prompts=prompts, completions=completions))
    assert [got[i] for i in (1, 2, 4)] == [None, None, None]
    torch.testing.assert_close([got[0], got[3]], mean_of(setup, [PROMPTS[0], PROMPTS[2]], [RESPONSES[0], RESPONSES[2]]))
    assert "3 of 5 completions cannot be judged" in caplog.text and "HTTP 422" in caplog.text


def test_trl_async_remote_reward_raises_when_the_server_is_down():
    reward = RemoteActivationRMReward(f"http://127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(OSError):  # not an item problem: no None rewards for a missing server
        asyncio.run(reward(prompts=PROMPTS[:2], completions=RESPONSES[:2]))


def test_trl_reward_on_a_text_backbone_judges_text_when_examples_carry_images(models, setup, caplog):
    from tiny_vision import make_image

    reward = ActivationRMReward(models)
    with caplog.at_level("WARNING"):
        got = reward(prompts=PROMPTS[:2], completions=RESPONSES[:2], image=[make_image(30, 30, 1), None])
    torch.testing.assert_close(got, mean_of(setup, PROMPTS[:2], RESPONSES[:2]))
    assert "text-only" in caplog.text


def test_grpo_trainer_logs_criterion_columns_and_skips_unjudgeable(models, setup):
    """Two real GRPOTrainer steps: the per-criterion log_extra columns reach TRL's completions table, and a None
    reward (an unjudgeable completion, injected in step 1) is taken without failing the step."""
    pytest.importorskip("trl", reason="the [trl] extra is not installed: pip install 'activation-rm[trl]'")
    datasets = pytest.importorskip("datasets", reason="the [trl] extra is not installed")
    pytest.importorskip("pandas", reason="TRL's completions table needs pandas")
    from tiny import tiny_model, tiny_tokenizer
    from trl import GRPOConfig, GRPOTrainer

    seen = []

    class Recording(ActivationRMReward):
        def __call__(self, prompts, completions, **kwargs):
            completions = list(completions)
            if not seen:
                completions[1] = object()  # a completion the judge cannot take
            rewards = super().__call__(prompts, completions, **kwargs)
            seen.append((list(prompts), completions, rewards))
            return rewards

    dataset = datasets.Dataset.from_dict({"prompt": [[{"role": "user", "content": "What is two plus two?"}],
                                                     [{"role": "user", "content": "The capital of France is?"}]] * 4})
    out = tempfile.mkdtemp()
    config = GRPOConfig(output_dir=out, max_steps=2, per_device_train_batch_size=4, num_generations=2,
                        max_completion_length=8, report_to=[], use_cpu=True, logging_steps=1, save_strategy="no",
                        log_completions=True, num_completions_to_print=0)
    trainer = GRPOTrainer(model=tiny_model("llama", seed=3), reward_funcs=Recording(models, name="arm"), args=config,
                          train_dataset=dataset, processing_class=tiny_tokenizer())
    trainer.train()
    assert trainer.state.global_step == 2 and len(seen) == 2
    first, last = seen
    prompts, completions, rewards = first
    assert rewards[1] is None  # the others are the judge's reward of what TRL handed it
    judged = [i for i in range(len(completions)) if i != 1]
    torch.testing.assert_close([rewards[i] for i in judged], mean_of(setup, [prompts[i] for i in judged],
                                                                     [completion_text(completions[i]) for i in judged]))
    _, completions, rewards = last
    prompts = ["What is two plus two?"] * 2 + ["The capital of France is?"] * 2
    texts = [completion_text(c) for c in completions]
    torch.testing.assert_close(rewards, mean_of(setup, prompts, texts))
    torch.testing.assert_close(list(trainer._logs["extra"]["arm/short"]), setup.rms["short"].score(prompts, texts))
    logged = [h for h in trainer.state.log_history if "rewards/arm/mean" in h]
    assert len(logged) == 2 and "arm/short" in logged[0] and "arm/honest" in logged[0]

    import pandas as pd

    tables = sorted(glob.glob(os.path.join(out, "completions", "completions_*.parquet")))
    assert len(tables) == 2
    step1, step2 = (pd.read_parquet(t) for t in tables)
    assert {"arm", "arm/short", "arm/honest"} <= set(step1.columns)
    assert step1["arm/short"].isna().tolist() == [False, True, False, False]
    torch.testing.assert_close(step2["arm/honest"].tolist(), setup.rms["honest"].score(prompts, texts))


def test_trl_rewards_pass_images_locally_and_to_the_server():
    """TRL hands images to reward functions as an ``images``/``image`` column or inside conversational prompts; the
    in-process reward and the remote one (PIL images sent as data URIs over real HTTP) score them like the models."""
    pytest.importorskip("fastapi", reason=SERVER_EXTRA)
    from tiny_vision import make_image

    from activation_rm.integrations.trl import example_images
    from activation_rm.serve.app import create_app

    models = vision_models()
    images = [make_image(40, 60, 1), make_image(70, 30, 2)]
    prompts, completions = VISION_PROMPTS[:2], VISION_RESPONSES[:2]
    want = models.score(prompts, completions, images=[(im,) for im in images])
    mean = [(a + b) / 2 for a, b in zip(want["faithful"], want["short"])]
    local = ActivationRMReward(models)
    torch.testing.assert_close(local(prompts=prompts, completions=completions, images=[[im] for im in images]), mean,
                               rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(local(prompts=prompts, completions=completions, image=images), mean, rtol=1e-5, atol=1e-6)
    chat = [[{"role": "user", "content": [{"type": "image", "image": im}, {"type": "text", "text": p}]}]
            for im, p in zip(images, prompts)]
    assert example_images(chat, {}) == [(images[0],), (images[1],)]
    torch.testing.assert_close(local(prompts=chat, completions=completions), mean, rtol=1e-5, atol=1e-6)
    blind = local(prompts=prompts, completions=completions)
    assert max(abs(a - b) for a, b in zip(blind, mean)) > 1e-5

    with UvicornThread(create_app(models)) as server:
        remote = RemoteActivationRMReward(server.url, chunk_size=1)
        got = asyncio.run(remote(prompts=prompts, completions=completions, image=images))
    torch.testing.assert_close(got, mean, rtol=1e-5, atol=1e-6)
