"""activation_rm.fit.activations: the averaging contexts and the mean head activations written into the heads."""

import dataclasses
import os
import random
import warnings

import pytest
import torch
from tiny import tiny_backbone
from tiny_vision import mixed_items, vision_encoder

from activation_rm.fit.activations import ContextAverage, ContextConfig, build_contexts, mean_head_activations
from activation_rm.forward.batching import last_token_logits
from activation_rm.judge.templates import DEMO_INLINE, JudgeItem, JudgeTemplate, QueryEncoder


def test_class_balanced_average_weights_each_verdict_equally():
    heads = torch.cat([torch.ones(3, 2, 2, 4), torch.full((1, 2, 2, 4), 3.0)])
    verdicts = [0, 0, 0, 1]
    plain, balanced = ContextAverage(), ContextAverage(balance_classes=True)
    for avg in (plain, balanced):
        avg.add(heads[:2], verdicts[:2])  # in two batches, as the vision path adds them
        avg.add(heads[2:], verdicts[2:])
    torch.testing.assert_close(plain.mean(), torch.full((2, 2, 4), 1.5))
    torch.testing.assert_close(balanced.mean(), torch.full((2, 2, 4), 2.0))
    with pytest.raises(ValueError, match="no contexts"):
        ContextAverage().mean()


def test_balanced_means_match_per_class_means_of_recorded_contexts():
    backbone = tiny_backbone("llama")
    encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate("the answer is correct", max_length=256))
    items = [(JudgeItem(f"What is {i}?", (f"It is {i}.",)), i % 2) for i in range(8)]
    config = ContextConfig(n_contexts=6, n_shots=1, balance_classes=True)
    got = mean_head_activations(backbone, encoder, items, config, seed=1)
    contexts, verdicts = build_contexts(encoder, items, config, seed=1)
    heads = last_token_logits(backbone, contexts, read_ids=[0], record=True).heads
    labels = torch.tensor(verdicts)
    assert 0 < int(labels.sum()) < len(labels)  # both classes drawn, so balancing is tested
    expected = (heads[labels == 0].mean(0) + heads[labels == 1].mean(0)) / 2
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_shift_means_are_the_few_shot_mean_minus_the_items_own_zero_shot_mean():
    backbone = tiny_backbone("llama")
    encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate("the answer is correct", max_length=256))
    items = [(JudgeItem(f"What is {i}?", (f"It is {i}.",)), i % 2) for i in range(20)]  # > one pass of 16 items
    for balance in (False, True):
        config = ContextConfig(n_contexts=6, n_shots=1, balance_classes=balance)
        few_shot = mean_head_activations(backbone, encoder, items, config, seed=1)
        shift = mean_head_activations(backbone, encoder, items, dataclasses.replace(config, intervention="shift"),
                                      seed=1)
        alone = last_token_logits(backbone, [encoder.encode(item) for item, _ in items], read_ids=[0],
                                  record=True).heads
        labels = torch.tensor([verdict for _, verdict in items])
        zero_shot = ((alone[labels == 0].mean(0) + alone[labels == 1].mean(0)) / 2 if balance else alone.mean(0))
        torch.testing.assert_close(shift, few_shot - zero_shot, atol=1e-5, rtol=1e-5)


def test_context_budget_cuts_only_contexts_that_exceed_it():
    backbone = tiny_backbone("llama")
    encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate("the answer is correct", max_length=2048))
    short = [(JudgeItem(f"What is {i}?", (f"It is {i}.",)), i % 2) for i in range(8)]
    config = ContextConfig(n_contexts=5, n_shots=3)
    plain, _ = build_contexts(encoder, short, config, seed=0)
    budgeted, _ = build_contexts(encoder, short, ContextConfig(n_contexts=5, n_shots=3, context_tokens=512), seed=0)
    assert budgeted == plain  # short items fit their share: the same contexts, the same means
    long = [(JudgeItem(f"What is {i}?", (" ".join(["word"] * 600),)), i % 2) for i in range(8)]
    full, _ = build_contexts(encoder, long, config, seed=0)
    cut, _ = build_contexts(encoder, long, ContextConfig(n_contexts=5, n_shots=3, context_tokens=512), seed=0)
    assert max(len(c) for c in cut) <= 512 + 64 < min(len(c) for c in full)


def test_too_few_items_for_the_shots_are_named():
    from activation_rm.fit.activations import check_enough_items
    from activation_rm.inputs.checks import ConfigError

    check_enough_items(5, ContextConfig(n_shots=4))
    with pytest.raises(ConfigError, match="n_shots is 4: each averaging context needs 5 distinct labelled items, "
                                          "but the examples give only 4"):
        check_enough_items(4, ContextConfig(n_shots=4))


def test_items_of_one_verdict_warn_when_the_means_are_computed():
    from activation_rm.fit.activations import SingleVerdictWarning

    backbone = tiny_backbone("llama")
    encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate("the answer is correct", max_length=256))
    items = [(JudgeItem(f"What is {i}?", (f"It is {i}.",)), 0) for i in range(4)]
    config = ContextConfig(n_contexts=2, n_shots=1)
    with pytest.warns(SingleVerdictWarning, match="all 4 labelled examples are labelled yes"):
        mean_head_activations(backbone, encoder, items, config)
    both = items[:3] + [(items[3][0], 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SingleVerdictWarning)
        mean_head_activations(backbone, encoder, both, config)


@pytest.mark.parametrize("family", ["llama", "qwen2"])
def test_contexts_sharing_demonstrations_match_full_passes(family):
    backbone = tiny_backbone(family)
    encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate("the answer is correct", max_length=256))
    items = [(JudgeItem(f"What is {i} plus {i}?", (f"It is {2 * i + i % 3}.",)), i % 2) for i in range(9)]
    config = ContextConfig(n_contexts=7, n_shots=2, queries_per_demo_set=3)
    contexts, verdicts = build_contexts(encoder, items, config, seed=2)
    assert len(contexts) == 7
    # contexts come in draws of 3 (the last one of 1) that share their demonstrations, so a long token prefix
    shared = [len(os.path.commonprefix([contexts[i], contexts[i + 1]])) for i in (0, 1, 3, 4)]
    assert min(shared) > 0.5 * max(len(c) for c in contexts[:6])
    full = last_token_logits(backbone, contexts, read_ids=[0], record=True).heads
    got = mean_head_activations(backbone, encoder, items, config, seed=2, max_batch_tokens=300)
    torch.testing.assert_close(got, full.mean(0), atol=1e-5, rtol=1e-5)
    one_per_draw = build_contexts(encoder, items, ContextConfig(n_contexts=7, n_shots=2, queries_per_demo_set=1),
                                  seed=2)[0]
    assert one_per_draw[0] == contexts[0]  # the first draw is the same as with one query per draw


def test_one_query_per_demonstration_set_keeps_the_contexts():
    backbone = tiny_backbone("llama")
    encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate("the answer is correct", max_length=256))
    items = [(JudgeItem(f"What is {i}?", (f"It is {i}.",)), i % 2) for i in range(8)]
    rng = random.Random(4)
    expected = [rng.sample(range(8), 3) for _ in range(5)]  # what a context draws: n_shots + 1 distinct items
    got, _ = build_contexts(encoder, items, ContextConfig(n_contexts=5, n_shots=2, queries_per_demo_set=1), seed=4)
    for chosen, context in zip(expected, got):
        demos = [items[i] for i in chosen[:-1]]
        assert context == encoder.encode_with_demos(demos, items[chosen[-1]][0], style=DEMO_INLINE).ids


def test_mean_activations_on_a_vlm_streamed_in_passes_equal_all_at_once(vision_backbone, monkeypatch):
    """Contexts with images run a few at a time; their means equal one pass over all of them."""
    import activation_rm.fit.activations as activations
    from activation_rm.fit.activations import encode_contexts

    backbone = vision_backbone
    encoder = vision_encoder(backbone, max_length=1024)
    items = [(item, i % 2) for i, item in enumerate(mixed_items())]
    config = ContextConfig(n_contexts=5, n_shots=2)
    calls = []
    record = activations.record_heads
    monkeypatch.setattr(activations, "CONTEXTS_PER_PASS", 2)
    monkeypatch.setattr(activations, "record_heads", lambda b, seqs, *a, **k: calls.append(len(seqs)) or record(
        b, seqs, *a, **k))
    streamed = mean_head_activations(backbone, encoder, items, config, seed=4)
    assert len(calls) >= 2 and max(calls) <= 3  # contexts with images ran a few at a time
    contexts, _ = encode_contexts(encoder, items, config, seed=4)
    assert sum(q.has_images for q in contexts) >= 4  # demonstrations bring their images into the context
    every = last_token_logits(backbone, contexts, record=True).heads
    torch.testing.assert_close(streamed, every.mean(0), rtol=1e-5, atol=1e-6)
