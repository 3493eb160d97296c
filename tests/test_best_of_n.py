"""best-of-n on tiny random models: seeded sampling, the pick is the ARM's argmax, streaming resume gives the same
picks, and bad input is refused before any model loads."""

import json

import torch
from tiny import (
    ARITHMETIC_PAIRS,
    FAST_FIT,
    tiny_backbone,
    tiny_model,
    tiny_tokenizer,
)

from activation_rm.apps.best_of_n import Policy, SamplingConfig, best_of_n, pick, prompt_seed
from activation_rm.apps.cli import main
from activation_rm.scoring.reward_model import ActivationRM
from activation_rm.scoring.streaming import job_file

PROMPTS = ["What is two plus two?", "The capital of France is?", "Water boils at?", "What is 3 plus 3?"]
SAMPLE = ["--n", "3", "--max-new-tokens", "6", "--temperature", "1.0"]


def _prompts(path, prompts=PROMPTS):
    path.write_text("".join(json.dumps({"prompt": p, "id": i}) + "\n" for i, p in enumerate(prompts)))
    return path


def _read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_sampling_is_seeded_per_prompt_and_leaves_the_global_rng_alone():
    policy = Policy.from_backbone(tiny_backbone("llama"))
    config = SamplingConfig(n=4, max_new_tokens=8, temperature=1.0)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = policy.sample("What is two plus two?", config, seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    assert policy.sample("What is two plus two?", config, seed=5) == first
    assert policy.sample("What is two plus two?", config, seed=6) != first
    assert len(first) == 4 and len(set(first)) > 1  # temperature 1 on a random model: the samples differ
    assert prompt_seed(0, 1) != prompt_seed(0, 2) != prompt_seed(1, 1)


def test_pick_is_the_argmax_and_the_first_on_ties():
    assert pick([0.1, 0.7, 0.3]) == 1
    assert pick([0.5, 0.2, 0.5]) == 0


def test_best_of_n_scores_every_sample_with_the_rm_and_picks_the_best(artifact, model_dir):
    rm = ActivationRM.load(artifact, backbone=_backbone(model_dir))
    policy = Policy.from_backbone(rm.backbone)
    config = SamplingConfig(n=3, max_new_tokens=6, temperature=1.0)
    results = best_of_n(rm, policy, PROMPTS[:2], [1, 2], config)
    for prompt, key, result in zip(PROMPTS, [1, 2], results):
        assert result.samples == policy.sample(prompt, config, prompt_seed(0, key))
        torch.testing.assert_close(torch.tensor(result.scores),
                                   torch.tensor(rm.score([prompt] * 3, result.samples)), rtol=0, atol=1e-6)
        assert result.scores[result.pick] == max(result.scores) and result.response == result.samples[result.pick]


def _backbone(model_dir):
    from activation_rm.model.backbone import load_backbone

    return load_backbone(str(model_dir), device="cpu")


def test_cli_writes_picks_and_a_resumed_run_gives_the_same_ones(artifact, model_dir, tmp_path, capsys):
    src = _prompts(tmp_path / "prompts.jsonl")
    whole, part = tmp_path / "whole.jsonl", tmp_path / "part.jsonl"
    common = [str(artifact), str(src), *SAMPLE, "--model", str(model_dir), "--chunk-size", "1"]
    assert main(["best-of-n", *common, "-o", str(whole)]) == 0
    rows = _read(whole)
    assert [r["activation_rm"]["line"] for r in rows] == [1, 2, 3, 4] and [r["id"] for r in rows] == [0, 1, 2, 3]
    for row in rows:
        assert len(row["samples"]) == len(row["scores"]) == 3
        assert row["pick"] == pick(row["scores"]) and row["response"] == row["samples"][row["pick"]]
        assert row["best_of_n"]["n"] == 3 and row["best_of_n"]["policy"] == "artifact backbone"
    # a crash after two prompts, with a torn third line: the rerun redoes only what is missing
    lines = whole.read_text().splitlines(keepends=True)
    part.write_text("".join(lines[:2]) + lines[2][:25])
    job_file(part).write_bytes(job_file(whole).read_bytes())
    assert main(["best-of-n", *common, "-o", str(part)]) == 0
    assert "resumed after line 2" in capsys.readouterr().err
    assert _read(part) == rows
    # a different seed gives different samples
    other = tmp_path / "seed1.jsonl"
    assert main(["best-of-n", *common, "--seed", "1", "-o", str(other)]) == 0
    assert [r["samples"] for r in _read(other)] != [r["samples"] for r in rows]


def test_cli_policy_option_and_zero_shot_picks(artifact, model_dir, tmp_path):
    policy_dir = tmp_path / "policy"
    tiny_model("llama", seed=3).save_pretrained(policy_dir)
    tiny_tokenizer().save_pretrained(policy_dir)
    src = _prompts(tmp_path / "prompts.jsonl", PROMPTS[:2])
    own, other, zero = tmp_path / "own.jsonl", tmp_path / "other.jsonl", tmp_path / "zero.jsonl"
    base = [str(artifact), str(src), *SAMPLE, "--model", str(model_dir)]
    assert main(["best-of-n", *base, "-o", str(own)]) == 0
    assert main(["best-of-n", *base, "--policy", str(policy_dir), "-o", str(other)]) == 0
    assert [r["samples"] for r in _read(other)] != [r["samples"] for r in _read(own)]
    assert main(["best-of-n", *base, "--without-steering", "-o", str(zero)]) == 0
    rm = ActivationRM.load(artifact, backbone=_backbone(model_dir)).without_steering()
    for row in _read(zero):
        assert row["samples"] == _read(own)[row["activation_rm"]["line"] - 1]["samples"]  # same policy and seed: same samples
        expected = rm.score([row["prompt"]] * 3, row["samples"])
        torch.testing.assert_close(torch.tensor(row["scores"]), torch.tensor(expected), rtol=0, atol=1e-6)


def test_bad_input_is_refused_before_any_model_loads(artifact, model_dir, tmp_path, capsys, monkeypatch):
    import activation_rm.scoring.reward_model as reward_model

    def no_load(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(reward_model.ActivationRM, "load", no_load)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "ok"}) + "\n" + json.dumps({"text": "no prompt"}) + "\n{oops\n")
    out = tmp_path / "out.jsonl"
    assert main(["best-of-n", str(artifact), str(bad), "-o", str(out), "--model", str(model_dir)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: missing field 'prompt'" in err and f"{bad}:3" in err and not out.exists()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert main(["best-of-n", str(artifact), str(empty), "-o", str(out)]) == 2
    assert "empty" in capsys.readouterr().err


def test_a_rerun_with_other_settings_is_refused(artifact, model_dir, tmp_path, capsys):
    src = _prompts(tmp_path / "prompts.jsonl", PROMPTS[:1])
    out = tmp_path / "out.jsonl"
    base = [str(artifact), str(src), "--max-new-tokens", "4", "--model", str(model_dir), "-o", str(out)]
    assert main(["best-of-n", *base, "--n", "2"]) == 0
    before = out.read_text()
    assert main(["best-of-n", *base, "--n", "3"]) == 2
    assert "other settings (n differ)" in capsys.readouterr().err and out.read_text() == before


def test_a_pairwise_artifact_is_refused(model_dir, tmp_path, capsys):
    examples = tmp_path / "ex.jsonl"
    examples.write_text("".join(json.dumps(e) + "\n" for e in ARITHMETIC_PAIRS))
    pairwise = tmp_path / "pairwise"
    assert main(["fit", str(examples), "--criterion", "correct", "--mode", "pairwise", "--out", str(pairwise),
                 "--model", str(model_dir), *FAST_FIT]) == 0
    src = _prompts(tmp_path / "prompts.jsonl", PROMPTS[:1])
    assert main(["best-of-n", str(pairwise), str(src), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "needs a pointwise artifact" in capsys.readouterr().err
