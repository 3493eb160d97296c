"""Head selection by REINFORCE over Bernoulli head masks (the MTV / Activation RM procedure).

Each head has an inclusion logit. Every step samples ``masks_per_step`` masks, replaces the masked heads'
last-token outputs with their means on one training query, scores the cross-entropy of the correct verdict token,
z-scores the losses across masks and takes a policy-gradient step with Adam. The final mask is the best of
``final_samples`` masks drawn from the learned probabilities, judged on held-out queries.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .backbone import Backbone
from .batching import EncodedPrefix, encode_prefix, last_token_logits_from_prefix

#: masks (n, layers, heads) bool, step index -> loss per mask (n,), lower is better
LossFn = Callable[[torch.Tensor, int], torch.Tensor]


@dataclass(frozen=True)
class SelectionConfig:
    """REINFORCE settings; defaults are the paper's (MTV's)."""

    steps: int = 600
    masks_per_step: int = 32
    lr: float = 0.1
    init_logit: float = -1.0
    zscore: bool = True
    final_samples: int = 10

    def __post_init__(self) -> None:
        if self.steps < 0 or self.masks_per_step < 2 or self.final_samples < 1:
            raise ValueError("need steps >= 0, masks_per_step >= 2 and final_samples >= 1")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SelectionResult:
    probs: torch.Tensor  # (layers, heads) inclusion probabilities after training
    mask: torch.Tensor  # (layers, heads) bool, the chosen final mask
    loss_history: list[float] = field(default_factory=list)  # mean loss over the masks of each step
    candidate_scores: list[float] = field(default_factory=list)  # held-out score of each final candidate


def reinforce(loss_fn: LossFn, shape: tuple[int, int], config: SelectionConfig = SelectionConfig(), seed: int = 0,
              progress: bool = False) -> tuple[torch.Tensor, list[float]]:
    """Learn inclusion probabilities ``(layers, heads)`` that minimise the expected loss of sampled masks."""
    generator = torch.Generator().manual_seed(seed)
    logits = torch.full(shape, float(config.init_logit), requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=config.lr)
    history: list[float] = []
    bar = tqdm(range(config.steps), desc="head selection", disable=not progress, leave=False)
    for step in bar:
        probs = torch.sigmoid(logits.detach())
        samples = torch.bernoulli(probs.expand(config.masks_per_step, *shape), generator=generator)
        losses = loss_fn(samples.bool(), step).detach().float().cpu()
        history.append(float(losses.mean()))
        advantage = losses - losses.mean()
        if config.zscore:
            advantage = advantage / (losses.std() + 1e-8)
        log_prob = (samples * F.logsigmoid(logits) + (1 - samples) * F.logsigmoid(-logits)).sum(dim=(1, 2))
        objective = (log_prob * advantage).mean()
        optimizer.zero_grad()
        objective.backward()
        optimizer.step()
        if progress and step % 10 == 0:
            bar.set_postfix(loss=f"{history[-1]:.3f}", heads=f"{float(torch.sigmoid(logits.detach()).sum()):.1f}")
    return torch.sigmoid(logits.detach()), history


def best_of_samples(probs: torch.Tensor, evaluate: Callable[[torch.Tensor], torch.Tensor], n_samples: int,
                    seed: int = 0) -> tuple[torch.Tensor, list[float]]:
    """Draw ``n_samples`` masks from ``probs`` and keep the one ``evaluate`` scores highest (first on ties)."""
    generator = torch.Generator().manual_seed(seed + 1)
    candidates = torch.bernoulli(probs.expand(n_samples, *probs.shape), generator=generator).bool()
    scores = evaluate(candidates).float()
    best = int(torch.argmax(scores))
    return candidates[best].clone(), [float(s) for s in scores]


@dataclass(frozen=True)
class VerdictQuery:
    """A tokenized zero-shot judge query and the token id of its correct verdict (and of the wrong one)."""

    ids: Sequence[int]
    target: int
    other: int


class PrefixCache:
    """KV caches of the training queries' prefixes, each encoded on first use and then reused by every later step
    that draws the same query (REINFORCE revisits each query many times)."""

    def __init__(self, backbone: Backbone, enabled: bool = True) -> None:
        self.backbone = backbone
        self.enabled = enabled
        self._store: dict[tuple[int, ...], EncodedPrefix] = {}

    def get(self, ids: Sequence[int]) -> EncodedPrefix:
        key = tuple(ids)
        prefix = self._store.get(key)
        if prefix is None:
            prefix = encode_prefix(self.backbone, ids)
            if self.enabled:
                self._store[key] = prefix
        return prefix


def mask_losses(backbone: Backbone, query: VerdictQuery, masks: torch.Tensor, means: torch.Tensor,
                prefixes: PrefixCache | None = None) -> torch.Tensor:
    """Cross-entropy of the correct verdict under each mask, ``(n_masks,)`` (shared-prefix evaluation)."""
    prefix = (prefixes or PrefixCache(backbone, enabled=False)).get(query.ids)
    unique, inverse = unique_masks(masks)
    logits = last_token_logits_from_prefix(backbone, prefix, unique, means, on_device=True)
    logits = logits[inverse.to(logits.device)]
    target = torch.full((logits.shape[0],), query.target, dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits, target, reduction="none").cpu()


def unique_masks(masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct masks of a batch and, for each mask, the index of its copy: once the inclusion probabilities
    saturate near 0 or 1 many sampled masks coincide, and each needs running only once."""
    flat = masks.reshape(masks.shape[0], -1)
    unique, inverse = torch.unique(flat, dim=0, return_inverse=True)
    return unique.reshape(-1, *masks.shape[1:]), inverse


def held_out_scores(backbone: Backbone, queries: Sequence[VerdictQuery], masks: torch.Tensor,
                    means: torch.Tensor) -> torch.Tensor:
    """Per mask: accuracy of the verdict on ``queries``, minus a small loss term that only breaks ties."""
    correct = torch.zeros(masks.shape[0])
    loss = torch.zeros(masks.shape[0])
    for query in queries:
        logits = last_token_logits_from_prefix(backbone, encode_prefix(backbone, query.ids), masks, means)
        correct += (logits[:, query.target] > logits[:, query.other]).float()
        loss += F.cross_entropy(logits, torch.full((logits.shape[0],), query.target, dtype=torch.long),
                                reduction="none")
    n = max(len(queries), 1)
    return correct / n - 1e-3 * loss / n


def select_heads(backbone: Backbone, train: Sequence[VerdictQuery], held_out: Sequence[VerdictQuery],
                 means: torch.Tensor, config: SelectionConfig = SelectionConfig(), seed: int = 0,
                 progress: bool = False, cache_prefixes: bool = True) -> SelectionResult:
    """REINFORCE on ``train`` queries (one per step, drawn with a seeded RNG), then best-of-N on ``held_out``.

    ``cache_prefixes`` keeps each training query's prefix KV cache for the whole run (exact; costs memory of one
    cache per training query)."""
    if not train:
        raise ValueError("head selection needs at least one training query")
    rng = random.Random(seed)
    prefixes = PrefixCache(backbone, enabled=cache_prefixes)

    def loss_fn(masks: torch.Tensor, step: int) -> torch.Tensor:
        return mask_losses(backbone, train[rng.randrange(len(train))], masks, means, prefixes)

    shape = (backbone.num_layers, backbone.num_heads)
    probs, history = reinforce(loss_fn, shape, config, seed, progress)
    judge_on = held_out or train
    mask, scores = best_of_samples(probs, lambda m: held_out_scores(backbone, judge_on, m, means),
                                   config.final_samples, seed)
    return SelectionResult(probs=probs, mask=mask, loss_history=history, candidate_scores=scores)
