"""A literal, independent implementation of the paper's procedure (Activation RMs, arXiv 2507.01368, which
reuses MTV's, Huang et al. 2024) for parity tests against ``activation_rm``.

Written from the method description only: plain PyTorch on a Hugging Face causal LM, one unpadded, unbatched,
uncached forward pass per (context or query, mask), forward pre-hooks on each layer's attention ``o_proj``
(whose input is the concatenated per-head attention output). Nothing here imports or mirrors
``activation_rm``; the only thing shared with the library on purpose is the RNG protocol (which generator
draws what, in which order), so that sampled masks can be compared one for one.

Supported models: Llama-like layouts (``model.model.layers[i].self_attn.o_proj``), e.g. Llama, Qwen2, Mistral.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from contextlib import contextmanager

import torch


def o_projs(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [layer.self_attn.o_proj for layer in model.model.layers]


@contextmanager
def _pre_hooks(model: torch.nn.Module, make_hook: Callable[[int], Callable]):
    handles = [proj.register_forward_pre_hook(make_hook(layer)) for layer, proj in enumerate(o_projs(model))]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def last_token_heads(model: torch.nn.Module, ids: Sequence[int], num_heads: int,
                     head_dim: int) -> torch.Tensor:
    """``(layers, heads, head_dim)``: every head's output (the o_proj input) at the last token of ``ids``, run
    alone."""
    layers = len(o_projs(model))
    seen: list[torch.Tensor | None] = [None] * layers

    def make_hook(layer: int):
        def hook(module, args):
            seen[layer] = args[0][0, -1].detach().reshape(num_heads, head_dim).clone()

        return hook

    with _pre_hooks(model, make_hook):
        model(input_ids=torch.tensor([list(ids)], dtype=torch.long), use_cache=False)
    return torch.stack([s for s in seen if s is not None])


def mean_activations(model: torch.nn.Module, contexts: Sequence[Sequence[int]], num_heads: int,
                     head_dim: int) -> torch.Tensor:
    """MTV step 1: the mean over contexts of each head's last-token output, ``(layers, heads, head_dim)``
    float64 (summed in float64)."""
    total = None
    for ids in contexts:
        heads = last_token_heads(model, ids, num_heads, head_dim).double()
        total = heads if total is None else total + heads
    assert total is not None, "need at least one context"
    return total / len(contexts)


def class_balanced_mean_activations(model: torch.nn.Module, contexts: Sequence[Sequence[int]],
                                    verdicts: Sequence[int], num_heads: int, head_dim: int) -> torch.Tensor:
    """The mean of the per-verdict means (each verdict class weighs the same however many contexts it has)."""
    classes = sorted(set(verdicts))
    per_class = [mean_activations(model, [c for c, v in zip(contexts, verdicts) if v == k], num_heads,
                                  head_dim) for k in classes]
    return sum(per_class) / len(per_class)


@torch.no_grad()
def steered_last_logits(model: torch.nn.Module, ids: Sequence[int], mask: torch.Tensor,
                        means: torch.Tensor) -> torch.Tensor:
    """Full-vocabulary logits at the last position of one plain forward pass of ``ids`` in which, at the last
    position only, every head with ``mask[layer, head]`` outputs ``means[layer, head]`` instead of its own
    value."""
    layers, heads = mask.shape
    head_dim = means.shape[-1]

    def make_hook(layer: int):
        def hook(module, args):
            hidden = args[0].clone()
            last = hidden[0, -1].reshape(heads, head_dim)
            for head in range(heads):
                if bool(mask[layer, head]):
                    last[head] = means[layer, head].to(hidden.dtype)
            hidden[0, -1] = last.reshape(heads * head_dim)
            return (hidden, *args[1:])

        return hook

    with _pre_hooks(model, make_hook):
        out = model(input_ids=torch.tensor([list(ids)], dtype=torch.long), use_cache=False)
    return out.logits[0, -1]


def verdict_loss(model: torch.nn.Module, ids: Sequence[int], mask: torch.Tensor, means: torch.Tensor,
                 target: int) -> float:
    """Cross-entropy of ``target`` over the full vocabulary at the last position, under ``mask``."""
    logits = steered_last_logits(model, ids, mask, means).double()
    return float(torch.logsumexp(logits, 0) - logits[target])


def verdict_loss_pair(model: torch.nn.Module, ids: Sequence[int], mask: torch.Tensor, means: torch.Tensor,
                      target: int, other: int) -> float:
    """Cross-entropy over the two verdict logits only: ``-log softmax([target, other])[0]``."""
    logits = steered_last_logits(model, ids, mask, means).double()
    a, b = float(logits[target]), float(logits[other])
    return math.log1p(math.exp(b - a)) if b < a else (b - a) + math.log1p(math.exp(a - b))


def reinforce(loss_of_mask: Callable[[torch.Tensor, int], float], shape: tuple[int, int], steps: int,
              masks_per_step: int, lr: float = 0.1, init_logit: float = -1.0, seed: int = 0,
              dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """MTV's REINFORCE over independent Bernoulli head-inclusion variables.

    Logits start at ``init_logit`` and are trained with Adam(lr). Each step: p = sigmoid(logits); draw
    ``masks_per_step`` masks; loss of each (one at a time); advantage = (loss - mean) / (std + 1e-8);
    objective = mean over masks of advantage * log Bernoulli(mask | p) (summed over heads); one Adam step on
    it.

    The optimisation runs in ``dtype`` (float64 by default: the advantages then sum to zero up to ~1e-16, so a
    head sampled identically in every mask of a step gets the exact, zero, gradient; see the tests). Masks are
    drawn as ``torch.bernoulli(p.float().expand(n, *shape), generator=g)`` with one generator seeded ``seed``
    for the run. Returns the final inclusion probabilities (float32) and the logits after each step."""
    generator = torch.Generator().manual_seed(seed)
    logits = torch.nn.Parameter(torch.full(shape, float(init_logit), dtype=dtype))
    optim = torch.optim.Adam([logits], lr=lr)
    trajectory: list[torch.Tensor] = []
    for step in range(steps):
        with torch.no_grad():
            p = torch.sigmoid(logits).float()
            masks = torch.bernoulli(p.expand(masks_per_step, *shape), generator=generator)
        losses = torch.tensor([float(loss_of_mask(masks[i].bool(), step)) for i in range(masks_per_step)],
                              dtype=dtype)
        advantage = (losses - losses.mean()) / (torch.std(losses) + 1e-8)
        log_prob = torch.distributions.Bernoulli(logits=logits).log_prob(masks.to(dtype)).sum(dim=(1, 2))
        objective = (log_prob * advantage).mean()
        optim.zero_grad()
        objective.backward()
        optim.step()
        trajectory.append(logits.detach().clone())
    return torch.sigmoid(logits.detach()).float(), trajectory


def best_of(probs: torch.Tensor, score_fn: Callable[[torch.Tensor], float], n: int,
            seed: int) -> tuple[torch.Tensor, list[float]]:
    """Draw ``n`` masks from ``probs`` (generator seeded ``seed + 1``, one call for all ``n``), score each,
    keep the highest (the first of equal scores)."""
    generator = torch.Generator().manual_seed(seed + 1)
    candidates = torch.bernoulli(probs.expand(n, *probs.shape), generator=generator).bool()
    scores: list[float] = []
    best = None
    for i in range(n):
        score = float(score_fn(candidates[i]))
        scores.append(score)
        if best is None or score > scores[best]:
            best = i
    assert best is not None
    return candidates[best].clone(), scores


def pair_margin_loss(model: torch.nn.Module, positive: tuple[Sequence[int], int, int],
                     negative: tuple[Sequence[int], int, int], mask: torch.Tensor,
                     means: torch.Tensor) -> float:
    """A Bradley-Terry loss on a (positive, negative) pair of ``(ids, target, other)`` queries (not the
    paper's; the library's "pair" option): ``softplus(-(margin_pos + margin_neg))``, margin = logit(target) -
    logit(other)."""
    total = 0.0
    for ids, target, other in (positive, negative):
        logits = steered_last_logits(model, ids, mask, means).double()
        total += float(logits[target] - logits[other])
    return math.log1p(math.exp(-total)) if total > 0 else -total + math.log1p(math.exp(total))


def query_loss(model: torch.nn.Module, query: tuple[Sequence[int], int, int], mask: torch.Tensor,
               means: torch.Tensor, loss: str = "vocab") -> float:
    """The per-query REINFORCE loss: "vocab" (the paper's full-vocabulary cross-entropy) or "verdicts" (over
    the two verdict tokens)."""
    ids, target, other = query
    if loss == "vocab":
        return verdict_loss(model, ids, mask, means, target)
    if loss == "verdicts":
        return verdict_loss_pair(model, ids, mask, means, target, other)
    raise ValueError(f"the oracle has no single-query loss {loss!r}")


def held_out_score(model: torch.nn.Module, queries: Sequence[tuple[Sequence[int], int, int]],
                   mask: torch.Tensor, means: torch.Tensor) -> float:
    """Verdict accuracy (target logit strictly above the other verdict's) over ``(ids, target, other)``
    queries, minus 1e-3 times the mean full-vocabulary cross-entropy of the target, which only breaks accuracy
    ties."""
    correct = 0
    loss = 0.0
    for ids, target, other in queries:
        logits = steered_last_logits(model, ids, mask, means).double()
        correct += int(logits[target] > logits[other])
        loss += float(torch.logsumexp(logits, 0) - logits[target])
    n = max(len(queries), 1)
    return correct / n - 1e-3 * loss / n


def select_heads(model: torch.nn.Module, train: Sequence[tuple[Sequence[int], int, int]],
                 held_out: Sequence[tuple[Sequence[int], int, int]], means: torch.Tensor, steps: int,
                 masks_per_step: int, final_samples: int, seed: int, lr: float = 0.1,
                 init_logit: float = -1.0, loss: str = "vocab",
                 final_rule: str = "accuracy") -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """The whole head selection: REINFORCE with one training query per step
    (``random.Random(seed).randrange``), then best-of-``final_samples`` on the held-out queries (the training
    ones when none are held out): by :func:`held_out_score` (``final_rule="accuracy"``, the paper's) or by
    minus the mean REINFORCE loss ("loss"). Returns (probs, mask, candidate scores)."""
    rng = random.Random(seed)
    per_step = [train[rng.randrange(len(train))] for _ in range(steps)]
    layers, heads = means.shape[:2]

    def loss_of_mask(mask: torch.Tensor, step: int) -> float:
        return query_loss(model, per_step[step], mask, means, loss)

    probs, _ = reinforce(loss_of_mask, (layers, heads), steps, masks_per_step, lr, init_logit, seed)
    judge_on = held_out or train
    if final_rule == "accuracy":
        def score(m: torch.Tensor) -> float:
            return held_out_score(model, judge_on, m, means)
    elif final_rule == "loss":
        def score(m: torch.Tensor) -> float:
            return -sum(query_loss(model, q, m, means, loss) for q in judge_on) / len(judge_on)
    else:
        raise ValueError(final_rule)
    mask, scores = best_of(probs, score, final_samples, seed)
    return probs, mask, scores
