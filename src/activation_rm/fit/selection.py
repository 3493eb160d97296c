"""Head selection by REINFORCE over Bernoulli head masks (the MTV / Activation RM procedure).

Each head has an inclusion logit. Every step samples ``masks_per_step`` masks, replaces the masked heads'
last-token outputs with their means on one training query, scores the cross-entropy of the correct verdict token,
z-scores the losses across masks and takes a policy-gradient step with Adam. The final mask is the best of
``final_samples`` masks drawn from the learned probabilities, judged on held-out queries.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from activation_rm.fit.config import SelectionConfig
from activation_rm.fit.head_ranking import top_heads_mask
from activation_rm.forward.batching import (
    DEFAULT_BATCH_TOKENS,
    EncodedPrefix,
    encode_prefix,
    last_token_logits,
    last_token_logits_from_prefix,
    shared_prefix_supported,
)
from activation_rm.judge.queries import VerdictQuery
from activation_rm.judge.templates import EncodedQuery
from activation_rm.model.backbone import Backbone
from activation_rm.model.heads import Steering

logger = logging.getLogger(__name__)

#: masks (n, layers, heads) bool, step index -> loss per mask (n,), lower is better
LossFn = Callable[[torch.Tensor, int], torch.Tensor]


@dataclass
class SelectionResult:
    probs: torch.Tensor  # (layers, heads) inclusion probabilities after training
    mask: torch.Tensor  # (layers, heads) bool, the chosen final mask
    loss_history: list[float] = field(default_factory=list)  # mean loss over the masks of each step
    candidate_scores: list[float] = field(default_factory=list)  # held-out score of each final candidate


def reinforce(loss_fn: LossFn, shape: tuple[int, int], config: SelectionConfig = SelectionConfig(), seed: int = 0,
              progress: bool = False, init_logits: torch.Tensor | None = None) -> tuple[torch.Tensor, list[float]]:
    """Learn inclusion probabilities ``(layers, heads)`` that minimise the expected loss of sampled masks, starting
    from ``init_logits`` (default: every head at ``config.init_logit``)."""
    generator = torch.Generator().manual_seed(seed)
    start = torch.full(shape, float(config.init_logit)) if init_logits is None else init_logits.float().reshape(shape)
    logits = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([logits], lr=config.lr)
    history: list[float] = []
    bar = tqdm(range(config.steps), desc="head selection", disable=not progress, leave=False)
    for step in bar:
        probs = torch.sigmoid(logits.detach())
        samples = torch.bernoulli(probs.expand(config.masks_per_step, *shape), generator=generator)
        # float64 from here: the advantages then sum to ~1e-17, not ~1e-8, so a head that every mask of the step
        # samples alike gets no update (in float32 Adam's first step amplified that roundoff to a full step)
        losses = loss_fn(samples.bool(), step).detach().double().cpu()
        history.append(float(losses.mean()))
        advantage = losses - losses.mean()
        if config.zscore:
            advantage = advantage / (losses.std() + 1e-8)
        wide = logits.double()
        taken = samples.double()
        log_prob = (taken * F.logsigmoid(wide) + (1 - taken) * F.logsigmoid(-wide)).sum(dim=(1, 2))
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


def unique_masks(masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct masks of a batch and, for each mask, the index of its copy: once the inclusion probabilities
    saturate near 0 or 1 many sampled masks coincide, and each needs running only once."""
    flat = masks.reshape(masks.shape[0], -1)
    unique, inverse = torch.unique(flat, dim=0, return_inverse=True)
    return unique.reshape(-1, *masks.shape[1:]), inverse


class MaskScorer:
    """Logits of a query under many head masks, for every step of head selection.

    Only the last token is steered and attention is causal, so each query's prefix (images included) is encoded
    once, kept (keyed by its tokens and pixel values: REINFORCE revisits each query many times) and only its last
    token runs per mask, each distinct mask once. Vision-language families without a checked prefix path
    (:func:`~activation_rm.forward.batching.shared_prefix_supported`) run one full forward per mask instead. One scorer
    can serve several selection runs on the same queries (cross-validation).
    """

    def __init__(self, backbone: Backbone, *, cache_prefixes: bool = True, shared_prefix: bool | None = None,
                 max_batch_tokens: int = DEFAULT_BATCH_TOKENS) -> None:
        self.backbone = backbone
        self.cache_prefixes = cache_prefixes
        self.shared_prefix = shared_prefix_supported(backbone) if shared_prefix is None else shared_prefix
        self.max_batch_tokens = max_batch_tokens
        self._prefixes: dict[object, EncodedPrefix] = {}

    def prefix(self, query: EncodedQuery) -> EncodedPrefix:
        key = query.key()
        prefix = self._prefixes.get(key)
        if prefix is None:
            prefix = encode_prefix(self.backbone, query)
            if self.cache_prefixes:
                self._prefixes[key] = prefix
        return prefix

    def logits(self, query: EncodedQuery, masks: torch.Tensor, means: torch.Tensor,
               read_ids: Sequence[int] | None = None, additive: bool = False) -> torch.Tensor:
        """Full-vocabulary logits ``(n_masks, vocab)`` (on the model's device for the prefix path). With
        ``read_ids`` only those tokens' logits are computed: the other columns (up to the largest id) are NaN, so
        a loss that reads them fails loudly. ``additive``: the masked heads are shifted by ``means``, not replaced."""
        unique, inverse = unique_masks(masks)
        ids = None if read_ids is None else torch.as_tensor(sorted(set(read_ids)), dtype=torch.long)
        if self.shared_prefix:
            logits = last_token_logits_from_prefix(self.backbone, self.prefix(query), unique, means, on_device=True,
                                                   read_ids=ids, additive=additive)
        else:
            n = unique.shape[0]
            logits = last_token_logits(self.backbone, [query] * n, steering=Steering(unique, means, additive),
                                       read_ids=None if ids is None else ids.tolist(),
                                       max_batch_tokens=max(self.max_batch_tokens, len(query) * n),
                                       max_batch_size=n).logits
        if ids is not None:
            wide = torch.full((logits.shape[0], int(ids.max()) + 1), float("nan"), device=logits.device)
            wide[:, ids.to(logits.device)] = logits
            logits = wide
        return logits[inverse.to(logits.device)]


def mask_logits(backbone: Backbone, query: VerdictQuery, masks: torch.Tensor, means: torch.Tensor,
                scorer: MaskScorer | None = None, additive: bool = False) -> torch.Tensor:
    """Full-vocabulary logits of ``query`` under each mask, ``(n_masks, vocab)``: the prefix once (kept by
    ``scorer``), then the last token once per distinct mask."""
    return (scorer or MaskScorer(backbone, cache_prefixes=False)).logits(query.query, masks, means,
                                                                          additive=additive)


def unit_losses(logits: Sequence[torch.Tensor], queries: Sequence, loss: str) -> torch.Tensor:
    """Loss per mask, ``(n_masks,)`` on the CPU, of one training unit: the queries' ``(n_masks, vocab)`` logits.
    "vocab" and "verdicts" average over the unit's queries; "pair" scores a positive/negative pair together."""
    if loss == "vocab":
        parts = [F.cross_entropy(lg, torch.full((lg.shape[0],), q.target, dtype=torch.long, device=lg.device),
                                 reduction="none") for lg, q in zip(logits, queries)]
        return (torch.stack(parts).sum(0) / len(parts)).cpu()
    margins = [lg[:, q.target] - lg[:, q.other] for lg, q in zip(logits, queries)]
    if loss == "verdicts":
        return (torch.stack([F.softplus(-m) for m in margins]).sum(0) / len(margins)).cpu()
    if loss == "pair":
        return F.softplus(-torch.stack(margins).sum(0)).cpu()
    raise ValueError(f"unknown loss {loss!r}")


def mask_losses(backbone: Backbone, query: VerdictQuery, masks: torch.Tensor, means: torch.Tensor,
                scorer: MaskScorer | None = None, loss: str = "vocab") -> torch.Tensor:
    """Loss of the correct verdict under each mask, ``(n_masks,)`` (shared-prefix evaluation)."""
    if loss == "pair":
        raise ValueError("the pair loss needs two queries; use unit_losses")
    return unit_losses([mask_logits(backbone, query, masks, means, scorer)], [query], loss)


def training_units(queries: Sequence, loss: str, seed: int = 0) -> list[tuple[int, ...]]:
    """What one REINFORCE step draws: single queries, or for the "pair" loss (positive, negative) pairs. Queries
    that share a ``pair`` id and have opposite verdicts form a pair; the rest are paired with unpaired queries of
    the opposite verdict in a seeded order. With only one verdict present the units are single queries."""
    singles = [(i,) for i in range(len(queries))]
    if loss != "pair":
        return singles
    units: list[tuple[int, ...]] = []
    by_pair: dict[int, list[int]] = {}
    for i, query in enumerate(queries):
        if query.pair is not None:
            by_pair.setdefault(query.pair, []).append(i)
    used: set[int] = set()
    for members in by_pair.values():
        if len(members) == 2 and queries[members[0]].target == queries[members[1]].other:
            units.append((members[0], members[1]))
            used.update(members)
    rest = [i for i in range(len(queries)) if i not in used]
    if rest:
        positive_id = queries[rest[0]].target
        pos = [i for i in rest if queries[i].target == positive_id]
        neg = [i for i in rest if queries[i].target != positive_id]
        rng = random.Random(seed)
        rng.shuffle(pos)
        rng.shuffle(neg)
        units.extend(zip(pos, neg))
    return units or singles


def final_scores(logits_of: Callable[[object, torch.Tensor], torch.Tensor], queries: Sequence, masks: torch.Tensor,
                 config: SelectionConfig, seed: int = 0) -> torch.Tensor:
    """Score per candidate mask on ``queries`` (higher is better) by ``config.final_rule``: "accuracy" of the
    verdict minus a small vocabulary-loss term that only breaks ties (the paper's), or minus the selection loss."""
    logits = [logits_of(query, masks) for query in queries]
    n = max(len(queries), 1)
    if config.final_rule == "accuracy":
        correct = torch.zeros(masks.shape[0])
        loss = torch.zeros(masks.shape[0])
        for lg, query in zip(logits, queries):
            correct += (lg[:, query.target] > lg[:, query.other]).float().cpu()
            loss += unit_losses([lg], [query], "vocab")
        return correct / n - 1e-3 * loss / n
    units = training_units(queries, config.loss, seed)
    total = sum(unit_losses([logits[i] for i in unit], [queries[i] for i in unit], config.loss) for unit in units)
    return -total / len(units)


def select_heads_with(logits_of: Callable[[object, torch.Tensor], torch.Tensor], train: Sequence,
                      held_out: Sequence, shape: tuple[int, int], config: SelectionConfig = SelectionConfig(),
                      seed: int = 0, progress: bool = False,
                      init_logits: torch.Tensor | None = None) -> SelectionResult:
    """REINFORCE on ``train`` (one unit per step, drawn with a seeded RNG) from ``init_logits``, then best-of-N on
    ``held_out`` (or on ``train`` when nothing is held out). ``logits_of(query, masks)`` gives the query's
    ``(n_masks, vocab)`` logits under each mask (a :class:`MaskScorer`'s, or an oracle's in the tests)."""
    if not train:
        raise ValueError("head selection needs at least one training query")
    rng = random.Random(seed)
    units = training_units(train, config.loss, seed)

    def loss_fn(masks: torch.Tensor, step: int) -> torch.Tensor:
        unit = [train[i] for i in units[rng.randrange(len(units))]]
        return unit_losses([logits_of(query, masks) for query in unit], unit, config.loss)

    probs, history = reinforce(loss_fn, shape, config, seed, progress, init_logits)
    judge_on = held_out or train
    mask, scores = best_of_samples(probs, lambda m: final_scores(logits_of, judge_on, m, config, seed),
                                   config.final_samples, seed)
    return SelectionResult(probs=probs, mask=mask, loss_history=history, candidate_scores=scores)


def select_heads(backbone: Backbone, train: Sequence[VerdictQuery], held_out: Sequence[VerdictQuery],
                 means: torch.Tensor, config: SelectionConfig = SelectionConfig(), seed: int = 0,
                 progress: bool = False, scorer: MaskScorer | None = None,
                 additive: bool = False) -> SelectionResult:
    """:func:`select_heads_with` on a backbone: the masks of each step scored by ``scorer`` (a new
    :class:`MaskScorer` by default; pass one to share its prefix caches between runs on the same queries), the
    masked heads replaced by ``means`` (shifted by them with ``additive``)."""
    scorer = scorer or MaskScorer(backbone)
    read_ids = verdict_ids([*train, *held_out]) if reads_verdicts_only(config) else None
    init = initial_logits(backbone, train, config, scorer.max_batch_tokens)
    return select_heads_with(lambda q, m: scorer.logits(q.query, m, means, read_ids, additive), train, held_out,
                             (backbone.num_layers, backbone.num_heads), config, seed, progress, init)


def initial_logits(backbone: Backbone, train: Sequence[VerdictQuery], config: SelectionConfig,
                   max_batch_tokens: int = DEFAULT_BATCH_TOKENS) -> torch.Tensor | None:
    """REINFORCE's starting logits ``(layers, heads)``: None for ``init="uniform"``; for ``init="sav"`` every head
    at ``init_logit`` and the ``init_heads`` heads whose unsteered last-token activations best separate the
    training queries' verdicts (nearest class mean) at ``init_top_logit``. Uniform, with a warning, when the
    training queries have one verdict only."""
    if config.init == "uniform":
        return None
    targets = [q.target for q in train]
    if len(set(targets)) < 2:
        logger.warning("init='sav' needs training queries of both verdicts; starting every head at init_logit")
        return None
    positive = min(targets)
    labels = torch.tensor([int(t != positive) for t in targets])
    heads = last_token_logits(backbone, [q.query for q in train], read_ids=verdict_ids(train), record=True,
                              max_batch_tokens=max_batch_tokens).heads
    top = top_heads_mask(heads, labels, min(config.init_heads, heads.shape[1] * heads.shape[2]))
    logits = torch.full(top.shape, float(config.init_logit))
    logits[top] = float(config.init_top_logit)
    return logits


def reads_verdicts_only(config: SelectionConfig) -> bool:
    """Whether selection reads only the verdict tokens' logits (the "pair" and "verdicts" losses with the "loss"
    final rule), so the output projection can skip the rest of the vocabulary."""
    return config.loss != "vocab" and config.final_rule != "accuracy"


def verdict_ids(queries: Sequence[VerdictQuery]) -> list[int]:
    """The token ids the queries' verdicts are read at."""
    return sorted({q.target for q in queries} | {q.other for q in queries})
