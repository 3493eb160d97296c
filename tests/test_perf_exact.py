"""The fast paths change no number: per-sequence steering values, cache reuse, and head-selection losses."""

import pytest
import torch
import torch.nn.functional as F
from tiny import VOCAB, tiny_backbone

from activation_rm.fit.selection import MaskScorer, SelectionConfig, VerdictQuery, reinforce, select_heads
from activation_rm.forward.batching import encode_prefix, last_token_logits, last_token_logits_from_prefix
from activation_rm.model.heads import Steering

TOL = dict(rtol=1e-4, atol=1e-4)


def _values(backbone, *batch, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*batch, backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=gen) * 2


def _masks(backbone, *batch, seed=0, p=0.4):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(*batch, backbone.num_layers, backbone.num_heads, generator=gen) < p


@pytest.mark.parametrize("family", ["llama", "gemma", "gpt2"])
def test_per_sequence_values_equal_one_pass_per_steering(family):
    backbone = tiny_backbone(family)
    gen = torch.Generator().manual_seed(5)
    seqs = [torch.randint(5, VOCAB, (n,), generator=gen).tolist() for n in (7, 19, 12)]
    values, masks = _values(backbone, 3, seed=1), _masks(backbone, 3, seed=2)
    together = last_token_logits(backbone, seqs, steering=Steering(masks, values), max_batch_size=2).logits
    alone = torch.cat([last_token_logits(backbone, [s], steering=Steering(m, v)).logits
                       for s, m, v in zip(seqs, masks, values)])
    torch.testing.assert_close(together, alone, **TOL)
    shared_mask = last_token_logits(backbone, seqs, steering=Steering(masks[0], values)).logits
    alone = torch.cat([last_token_logits(backbone, [s], steering=Steering(masks[0], v)).logits
                       for s, v in zip(seqs, values)])
    torch.testing.assert_close(shared_mask, alone, **TOL)


def test_steering_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="batch size"):
        Steering(torch.zeros(3, 2, 4, dtype=torch.bool), torch.zeros(2, 2, 4, 8))
    with pytest.raises(ValueError, match="values"):
        Steering(torch.zeros(2, 4, dtype=torch.bool), torch.zeros(2, 4))


@pytest.mark.parametrize("family", ["llama", "gemma2", "gpt_neox"])
def test_prefix_cache_is_reused_unchanged(family):
    """The same encoded prefix serves many chunks and calls: the broadcast cache rows must never be written."""
    backbone = tiny_backbone(family)
    seq = torch.randint(5, VOCAB, (21,), generator=torch.Generator().manual_seed(3)).tolist()
    values, masks = _values(backbone), _masks(backbone, 7, seed=4)
    prefix = encode_prefix(backbone, seq)
    first = last_token_logits_from_prefix(backbone, prefix, masks, values, chunk=3)
    again = last_token_logits_from_prefix(backbone, prefix, masks, values, chunk=7)
    full = torch.cat([last_token_logits(backbone, [seq], steering=Steering(m, values)).logits for m in masks])
    torch.testing.assert_close(first, full, **TOL)
    assert torch.equal(first, again) or torch.allclose(first, again, rtol=0, atol=1e-6)


def test_select_heads_losses_equal_plain_full_passes():
    """Head selection through cached prefixes gives the same losses, step by step, as one full forward per mask."""
    backbone = tiny_backbone("qwen2")
    gen = torch.Generator().manual_seed(9)
    train = [VerdictQuery(torch.randint(5, VOCAB, (n,), generator=gen).tolist(), 7, 8) for n in (15, 22, 11)]
    means = _values(backbone, seed=6)
    config = SelectionConfig.paper(steps=6, masks_per_step=5, final_samples=3)  # vocabulary loss, as plain_loss
    fast = select_heads(backbone, train, train[:2], means, config, seed=3)

    import random

    rng = random.Random(3)

    def plain_loss(masks, step):
        query = train[rng.randrange(len(train))]
        logits = last_token_logits(backbone, [query.ids] * masks.shape[0], steering=Steering(masks, means)).logits
        return F.cross_entropy(logits, torch.full((masks.shape[0],), query.target), reduction="none")

    probs, history = reinforce(plain_loss, (backbone.num_layers, backbone.num_heads), config, seed=3)
    torch.testing.assert_close(torch.tensor(fast.loss_history), torch.tensor(history), **TOL)
    torch.testing.assert_close(fast.probs, probs, **TOL)
    uncached = select_heads(backbone, train, train[:2], means, config, seed=3,
                            scorer=MaskScorer(backbone, cache_prefixes=False))
    torch.testing.assert_close(torch.tensor(uncached.loss_history), torch.tensor(fast.loss_history), **TOL)
    assert torch.equal(uncached.mask, fast.mask)


def test_duplicate_masks_run_once_and_get_the_same_losses(monkeypatch):
    import activation_rm.fit.selection as selection

    backbone = tiny_backbone("llama")
    query = VerdictQuery(torch.randint(5, VOCAB, (14,), generator=torch.Generator().manual_seed(2)).tolist(), 7, 8)
    means = _values(backbone, seed=8)
    distinct = _masks(backbone, 3, seed=9)
    masks = distinct[torch.tensor([0, 1, 0, 2, 1, 0])]
    real = selection.last_token_logits_from_prefix
    sizes = []

    def spy(backbone, prefix, masks, values, *args, **kwargs):
        sizes.append(masks.shape[0])
        return real(backbone, prefix, masks, values, *args, **kwargs)

    monkeypatch.setattr(selection, "last_token_logits_from_prefix", spy)
    losses = selection.mask_losses(backbone, query, masks, means)
    logits = last_token_logits(backbone, [query.ids] * 6, steering=Steering(masks, means)).logits
    torch.testing.assert_close(losses, F.cross_entropy(logits, torch.full((6,), 7), reduction="none"), **TOL)
    assert sizes == [3]


def test_generic_cache_copy_path_gives_the_same_logits(monkeypatch):
    """Cache types that may write in place are deep-copied and row-selected instead of broadcast."""
    import activation_rm.forward.batching as batching

    backbone = tiny_backbone("llama")
    seq = torch.randint(5, VOCAB, (16,), generator=torch.Generator().manual_seed(12)).tolist()
    values, masks = _values(backbone, seed=13), _masks(backbone, 4, seed=14)
    fast = last_token_logits_from_prefix(backbone, encode_prefix(backbone, seq), masks, values)
    monkeypatch.setattr(batching, "_plain_layers", lambda cache: False)
    generic = last_token_logits_from_prefix(backbone, encode_prefix(backbone, seq), masks, values)
    torch.testing.assert_close(generic, fast, **TOL)
