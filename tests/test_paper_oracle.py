"""Parity of activation_rm with a literal, independent implementation of the paper's procedure
(tests/paper_oracle.py): mean activations, steered verdict losses, REINFORCE, best-of-N and the whole
selection."""

from __future__ import annotations

import functools
import random

import paper_oracle as oracle
import pytest
import torch
import torch.nn.functional as F
from tiny import VOCAB, tiny_backbone

from activation_rm.fit.activations import ContextAverage, record_heads
from activation_rm.fit.selection import (
    MaskScorer,
    SelectionConfig,
    VerdictQuery,
    mask_logits,
    mask_losses,
    reinforce,
    select_heads,
    unit_losses,
)
from activation_rm.forward.batching import last_token_logits
from activation_rm.model.heads import Steering

FAMILIES = ["llama", "qwen2"]  # qwen2: grouped-query attention (4 query heads, 2 key/value heads)


def paper_config(**overrides) -> SelectionConfig:
    """The paper's selection settings with ``overrides`` (the library's defaults may depart from the paper).
    """
    paper = getattr(SelectionConfig, "paper", None)
    return paper(**overrides) if paper is not None else SelectionConfig(**overrides)


@functools.cache
def backbone_of(family: str):
    return tiny_backbone(family)


def random_ids(rng: random.Random, length: int) -> list[int]:
    return [rng.randrange(5, VOCAB) for _ in range(length)]


def random_means(backbone, seed: int, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=g)


def heads_constant_in_first_step(shape: tuple[int, int], n: int, seed: int, init_logit: float = -1.0) -> int:
    """How many heads take the same value in all ``n`` masks REINFORCE draws at step 0 (the true gradient of
    such a head is zero; see test_a_head_sampled_identically_in_every_mask_gets_no_update)."""
    p = torch.sigmoid(torch.full(shape, init_logit))
    masks = torch.bernoulli(p.expand(n, *shape), generator=torch.Generator().manual_seed(seed)).bool()
    return int((masks.all(0) | (~masks).all(0)).sum())


def random_masks(backbone, n: int, seed: int, p: float = 0.5) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, backbone.num_layers, backbone.num_heads, generator=g) < p


# ----------------------------------------------------------------------------------------- mean activations
@pytest.mark.parametrize("family", FAMILIES)
def test_library_means_equal_oracle_means_over_contexts_of_different_lengths(family):
    backbone = backbone_of(family)
    rng = random.Random(11)
    lengths = [7, 19, 12, 31, 7, 24, 3, 16]
    contexts = [random_ids(rng, n) for n in lengths]
    verdicts = [0, 1, 1, 0, 1, 1, 1, 0]  # unbalanced on purpose
    shape = (backbone.num_layers, backbone.num_heads, backbone.head_dim)

    per_context = torch.stack([oracle.last_token_heads(backbone.model, c, backbone.num_heads,
                                                       backbone.head_dim) for c in contexts])
    want = oracle.mean_activations(backbone.model, contexts, backbone.num_heads, backbone.head_dim)
    assert want.shape == shape and want.dtype == torch.float64
    # the contexts really differ (a mean equal to any single context would hide an averaging bug)
    assert (per_context - want).abs().amax() > 1e-3

    # one padded batch, and many small batches (max_batch_tokens forces length buckets and several passes)
    for max_tokens in (8192, 40):
        heads = record_heads(backbone, contexts, max_batch_tokens=max_tokens)
        assert heads.shape == (len(contexts), *shape)
        torch.testing.assert_close(heads.double(), per_context.double(), rtol=1e-5, atol=1e-6)
        average = ContextAverage()
        average.add(heads[:3], verdicts[:3])
        average.add(heads[3:], verdicts[3:])
        torch.testing.assert_close(average.mean().double(), want, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(heads.mean(0).double(), want, rtol=1e-5, atol=1e-6)

    balanced_want = oracle.class_balanced_mean_activations(backbone.model, contexts, verdicts,
                                                           backbone.num_heads, backbone.head_dim)
    assert (balanced_want - want).abs().amax() > 1e-5  # 3 vs 5 contexts: balancing changes the mean
    balanced = ContextAverage(balance_classes=True)
    heads = record_heads(backbone, contexts)
    balanced.add(heads[:5], verdicts[:5])
    balanced.add(heads[5:], verdicts[5:])
    torch.testing.assert_close(balanced.mean().double(), balanced_want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------ per-mask losses
@pytest.mark.parametrize("family", FAMILIES)
def test_library_mask_losses_equal_oracle_full_forward_losses(family):
    backbone = backbone_of(family)
    rng = random.Random(5)
    contexts = [random_ids(rng, n) for n in (9, 14, 22, 17)]
    context_means = oracle.mean_activations(backbone.model, contexts, backbone.num_heads, backbone.head_dim)
    query = VerdictQuery(random_ids(rng, 23), target=37, other=91)

    masks = random_masks(backbone, 8, seed=2)
    masks = torch.cat([masks, masks[[0, 3, 3]], torch.zeros_like(masks[:1]), torch.ones_like(masks[:1])])
    cache = MaskScorer(backbone)
    for means in (context_means.float(), random_means(backbone, 9)):
        want = torch.tensor([oracle.verdict_loss(backbone.model, query.ids, m, means, query.target)
                             for m in masks], dtype=torch.float64)
        assert want.max() - want.min() > 1e-3  # masks matter, so a mask mix-up would show
        for _ in range(2):  # the second call reuses the cached prefix
            got = mask_losses(backbone, query, masks, means, cache)
            assert got.shape == (masks.shape[0],)
            torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-5)
        # duplicates in the batch get exactly their copy's loss
        assert torch.equal(got[8], got[0]) and torch.equal(got[9], got[3]) and torch.equal(got[10], got[3])
        # the two-verdict cross-entropy option
        want_pair = torch.tensor([oracle.verdict_loss_pair(backbone.model, query.ids, m, means, query.target,
                                                           query.other) for m in masks], dtype=torch.float64)
        got_pair = mask_losses(backbone, query, masks, means, cache, loss="verdicts")
        torch.testing.assert_close(got_pair.double(), want_pair, rtol=1e-5, atol=1e-5)

    # the oracle's empty mask is the plain, unsteered model
    plain = backbone.model(input_ids=torch.tensor([list(query.ids)]), use_cache=False).logits[0, -1]
    plain_loss = F.cross_entropy(plain[None].double(), torch.tensor([37])).item()
    torch.testing.assert_close(want[-2].item(), plain_loss)


@pytest.mark.parametrize("family", FAMILIES)
def test_library_steered_scoring_equals_oracle_pair_loss(family):
    """Scoring (P(verdict) over the two verdict tokens, padded batch of different lengths) against the
    oracle's two-token cross-entropy."""
    backbone = backbone_of(family)
    rng = random.Random(8)
    seqs = [random_ids(rng, n) for n in (6, 21, 13, 29, 13)]
    target, other = 44, 120
    means = random_means(backbone, 4)
    mask = random_masks(backbone, 1, seed=6)[0]
    want = torch.tensor([oracle.verdict_loss_pair(backbone.model, s, mask, means, target, other)
                         for s in seqs], dtype=torch.float64)
    off = torch.zeros_like(mask)
    unsteered = torch.tensor([oracle.verdict_loss_pair(backbone.model, s, off, means, target, other)
                              for s in seqs], dtype=torch.float64)
    assert (want - unsteered).abs().max() > 1e-3
    for max_tokens in (8192, 30):
        out = last_token_logits(backbone, seqs, read_ids=[target, other], steering=Steering(mask, means),
                                max_batch_tokens=max_tokens)
        got = -torch.log_softmax(out.logits.double(), dim=-1)[:, 0]
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_library_pair_loss_equals_oracle_bradley_terry_loss():
    backbone = backbone_of("qwen2")
    rng = random.Random(12)
    positive = VerdictQuery(random_ids(rng, 15), target=44, other=120, pair=0)
    negative = VerdictQuery(random_ids(rng, 19), target=120, other=44, pair=0)
    means = random_means(backbone, 2)
    masks = random_masks(backbone, 6, seed=4)
    masks = torch.cat([masks, masks[:2]])
    cache = MaskScorer(backbone)
    got = unit_losses([mask_logits(backbone, q, masks, means, cache) for q in (positive, negative)],
                      [positive, negative], "pair")
    as_tuple = [(list(q.ids), q.target, q.other) for q in (positive, negative)]
    want = torch.tensor([oracle.pair_margin_loss(backbone.model, *as_tuple, m, means) for m in masks],
                        dtype=torch.float64)
    assert want.max() - want.min() > 1e-3
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------------ REINFORCE
def test_library_reinforce_equals_oracle_reinforce_on_oracle_losses():
    backbone = backbone_of("llama")
    rng = random.Random(1)
    queries = [(random_ids(rng, n), rng.randrange(VOCAB)) for n in (12, 17, 9, 15, 11)]
    means = random_means(backbone, 3)
    shape = (backbone.num_layers, backbone.num_heads)
    steps, n, seed = 5, 8, 19
    assert heads_constant_in_first_step(shape, n, seed) == 0

    @functools.cache
    def loss_of(step: int, key: bytes) -> float:
        mask = torch.frombuffer(bytearray(key), dtype=torch.bool).reshape(shape)
        ids, target = queries[step]
        return oracle.verdict_loss(backbone.model, ids, mask, means, target)

    def key(mask: torch.Tensor) -> bytes:
        return mask.contiguous().numpy().tobytes()

    library_masks: list[torch.Tensor] = []

    def library_loss(masks: torch.Tensor, step: int) -> torch.Tensor:
        library_masks.append(masks.clone())
        return torch.tensor([loss_of(step, key(m)) for m in masks])

    oracle_masks: list[list[torch.Tensor]] = [[] for _ in range(steps)]

    def oracle_loss(mask: torch.Tensor, step: int) -> float:
        oracle_masks[step].append(mask.clone())
        return loss_of(step, key(mask))

    config = paper_config(steps=steps, masks_per_step=n)
    probs, history = reinforce(library_loss, shape, config, seed=seed)
    want, trajectory = oracle.reinforce(oracle_loss, shape, steps, n, seed=seed)

    assert len(library_masks) == steps and len(trajectory) == steps
    for step in range(steps):
        drawn = torch.stack(oracle_masks[step])
        assert torch.equal(library_masks[step], drawn), f"step {step} drew other masks"
        mean_loss = sum(loss_of(step, key(m)) for m in oracle_masks[step]) / n
        assert history[step] == pytest.approx(mean_loss, rel=1e-6)
    torch.testing.assert_close(probs, want, rtol=1e-5, atol=1e-6)
    assert (want - torch.sigmoid(torch.tensor(-1.0))).abs().max() > 0.05  # the probabilities did move
    # and a different seed moves them differently (the comparison is not vacuous)
    other, _ = oracle.reinforce(oracle_loss, shape, steps, n, seed=seed + 1)
    assert (other - want).abs().max() > 1e-3


def _one_step_with_constant_heads(run) -> tuple[torch.Tensor, torch.Tensor]:
    """One REINFORCE step (4 masks, seed 1: six of the twelve heads are off in all four masks) of ``run``;
    returns the logit change of each head and which heads were constant across the masks."""
    shape, n, seed = (3, 4), 4, 1
    weights = torch.arange(12.0).reshape(shape)
    seen: list[torch.Tensor] = []

    def loss(masks: torch.Tensor) -> torch.Tensor:
        seen.append(masks.clone())
        return 0.37 * (masks.reshape(-1, *shape).float() * weights).sum((1, 2)) + 0.1

    probs = run(loss, shape, n, seed)
    masks = torch.stack(seen) if seen[0].dim() == 2 else seen[0]
    constant = masks.all(0) | (~masks).all(0)
    assert int(constant.sum()) == 6
    return torch.logit(probs.double()) + 1.0, constant


def test_oracle_gives_no_update_to_a_head_sampled_identically_in_every_mask():
    """Such a head's REINFORCE gradient is exactly zero: every mask has the same (s - p) for it and the
    advantages sum to zero. Adam (eps 1e-8) normalises the gradient, so the arithmetic must keep its roundoff
    well below 1e-8."""
    def run(loss, shape, n, seed):
        return oracle.reinforce(lambda m, step: float(loss(m)[0]), shape, 1, n, seed=seed)[0]

    delta, constant = _one_step_with_constant_heads(run)
    assert delta[constant].abs().max() < 1e-4
    assert delta[~constant].abs().min() > 0.05  # the other heads take a full first Adam step (lr 0.1)


def test_library_gives_no_update_to_a_head_sampled_identically_in_every_mask():
    delta, constant = _one_step_with_constant_heads(
        lambda loss, shape, n, seed: reinforce(lambda m, step: loss(m), shape,
                                               paper_config(steps=1, masks_per_step=n), seed=seed)[0])
    assert delta[constant].abs().max() < 1e-4


# ----------------------------------------------------------------------------------------------- end to end
@pytest.mark.parametrize("family, loss, final_rule", [("llama", "vocab", "accuracy"),
                                                     ("qwen2", "vocab", "accuracy"),
                                                     ("llama", "verdicts", "loss")])
def test_library_select_heads_equals_oracle_pipeline(family, loss, final_rule):
    """The paper's selection ("vocab" loss, best of N by held-out accuracy), and the two-verdict loss with the
    final mask chosen by that loss."""
    backbone = backbone_of(family)
    rng = random.Random(21 if family == "llama" else 22)
    yes, no = 44, 120

    def query(n: int) -> VerdictQuery:
        target = rng.choice([yes, no])
        return VerdictQuery(random_ids(rng, n), target, no if target == yes else yes)

    train = [query(n) for n in (10, 14, 8, 12)]
    held_out = [query(n) for n in (11, 9, 13)]
    means = random_means(backbone, 7)
    config = paper_config(steps=6, masks_per_step=16, final_samples=6, loss=loss, final_rule=final_rule)
    seed = 5
    shape = (backbone.num_layers, backbone.num_heads)
    assert heads_constant_in_first_step(shape, config.masks_per_step, seed) == 0

    result = select_heads(backbone, train, held_out, means, config, seed)
    as_tuples = [[(list(q.ids), q.target, q.other) for q in qs] for qs in (train, held_out)]
    probs, mask, scores = oracle.select_heads(backbone.model, *as_tuples, means, config.steps,
                                              config.masks_per_step, config.final_samples, seed, loss=loss,
                                              final_rule=final_rule)

    torch.testing.assert_close(result.probs, probs, rtol=1e-5, atol=1e-6)
    assert torch.equal(result.mask, mask)
    torch.testing.assert_close(torch.tensor(result.candidate_scores, dtype=torch.float64),
                               torch.tensor(scores, dtype=torch.float64), rtol=1e-5, atol=1e-6)
    assert len(set(round(s, 6) for s in scores)) > 1  # the candidates were told apart, not a tie of all


# -------------------------------------------------------------------------------------------- oracle itself
def test_oracle_reinforce_recovers_a_planted_head_set():
    """The oracle optimises the right thing on its own (no library involved): the loss is lowest exactly when
    a planted set of heads is on."""
    shape = (4, 6)
    planted = torch.zeros(shape, dtype=torch.bool)
    planted[0, 1] = planted[2, 4] = planted[3, 0] = True
    noise = random.Random(0)

    def loss(mask: torch.Tensor, step: int) -> float:
        missed = int((planted & ~mask).sum())
        extra = int((~planted & mask).sum())
        return 2.0 * missed + 0.5 * extra + 0.1 * noise.gauss(0.0, 1.0)

    probs, trajectory = oracle.reinforce(loss, shape, steps=150, masks_per_step=16, seed=0)
    assert torch.equal(probs > 0.5, planted)
    assert float(probs[planted].min()) > 0.9 and float(probs[~planted].max()) < 0.1
    assert len(trajectory) == 150
    mask, scores = oracle.best_of(probs, lambda m: -loss(m, 0), n=10, seed=0)
    assert torch.equal(mask, planted) and len(scores) == 10


def test_oracle_pair_loss_and_best_of_tie_rule():
    model = backbone_of("llama").model
    g = torch.Generator().manual_seed(0)
    ids = [random.Random(3).randrange(5, VOCAB) for _ in range(10)]
    mask = torch.zeros(3, 4, dtype=torch.bool)
    means = torch.randn(3, 4, 16, generator=g)
    logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, -1].double()
    pair = oracle.verdict_loss_pair(model, ids, mask, means, 7, 8)
    assert pair == pytest.approx(-torch.log_softmax(logits[[7, 8]], 0)[0].item(), rel=1e-6)
    swapped = oracle.verdict_loss_pair(model, ids, mask, means, 8, 7)
    assert pair == pytest.approx(swapped + float(logits[8] - logits[7]), rel=1e-6)
    # best_of keeps the first of equal scores
    probs = torch.full((3, 4), 0.5)
    mask, scores = oracle.best_of(probs, lambda m: 1.0, n=5, seed=2)
    first = torch.bernoulli(probs.expand(5, 3, 4), generator=torch.Generator().manual_seed(3)).bool()[0]
    assert torch.equal(mask, first) and scores == [1.0] * 5
