"""Mean head activations: the task vector that steering writes into the selected heads.

Each context is a few labelled demonstrations (as earlier chat turns that end in their verdict) followed by one
more query; the last-token output of every head is recorded and averaged over contexts, giving one
``head_dim`` vector per (layer, head).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Iterator, Sequence

import torch

from activation_rm.fit.config import ContextConfig
from activation_rm.forward.batching import (
    DEFAULT_BATCH_TOKENS,
    Query,
    encode_prefixes,
    extend_cache,
    last_token_logits,
    plan_batches,
)
from activation_rm.forward.shared_prefix import cacheable_prefix_length
from activation_rm.inputs.checks import ConfigError, FieldProblem
from activation_rm.judge.templates import (
    EncodedQuery,
    JudgeItem,
    QueryEncoder,
    context_budgets,
)
from activation_rm.model.backbone import Backbone


def check_enough_items(n_items: int, config: ContextConfig) -> None:
    """Each context draws ``n_shots + 1`` distinct labelled items: too few is a :class:`ConfigError` on
    ``n_shots`` before any forward pass (the command line checks it before it loads the model)."""
    if n_items < config.n_shots + 1:
        raise ConfigError([FieldProblem(type(config).__name__, "n_shots", (
            f"is {config.n_shots}: each averaging context needs {config.n_shots + 1} distinct labelled items, "
            f"but the examples give only {n_items}"))])


class SingleVerdictWarning(UserWarning):
    """Every labelled item has the same verdict: pointwise examples of one class only."""


def single_verdict_message(verdicts: Sequence[int]) -> str | None:
    """Why a fit on items of one verdict (0 Yes, 1 No) is likely useless, or None when both verdicts occur: the
    means then average one class only and head selection has no contrast to learn from."""
    if len(set(verdicts)) != 1:
        return None
    label = "yes" if verdicts[0] == 0 else "no"
    return (f"all {len(verdicts)} labelled examples are labelled {label}: with one class only the ARM learns "
            f"nothing that separates good responses from bad ones; add examples labelled "
            f"{'no' if label == 'yes' else 'yes'} (or use pairs)")


def build_contexts(encoder: QueryEncoder, items: Sequence[tuple[JudgeItem, int]], config: ContextConfig,
                   seed: int) -> tuple[list[list[int]], list[int]]:
    """Token ids of ``n_contexts`` few-shot contexts and the verdict index of each final query.

    Demonstrations and the query are drawn without replacement within a context. A context whose items fit in
    ``config.context_tokens`` (default ``max_length``) keeps them whole; otherwise the longest items are cut to
    equal shares of what the shorter ones leave (water-filling), never below the template plus 64 tokens of text
    (a short budget with many shots then gives longer contexts rather than an error).
    """
    encoded, targets = encode_contexts(encoder, items, config, seed)
    return [e.ids for e in encoded], targets


def encode_contexts(encoder: QueryEncoder, items: Sequence[tuple[JudgeItem, int]], config: ContextConfig,
                    seed: int) -> tuple[list[EncodedQuery], list[int]]:
    """The encoded contexts of :func:`build_contexts` as the encoder returns them (token ids, plus pixel inputs
    for a vision-language encoder), and the verdict index of each final query."""
    pairs = list(iter_contexts(encoder, items, config, seed))
    return [context for context, _ in pairs], [verdict for _, verdict in pairs]


def iter_contexts(encoder: QueryEncoder, items: Sequence[tuple[JudgeItem, int]], config: ContextConfig,
                  seed: int) -> Iterator[tuple[EncodedQuery, int]]:
    """(encoded context, verdict index) one at a time, so contexts with images need not all be in memory."""
    for context, verdict, _ in iter_context_draws(encoder, items, config, seed):
        yield context, verdict


def iter_context_draws(encoder: QueryEncoder, items: Sequence[tuple[JudgeItem, int]], config: ContextConfig,
                       seed: int) -> Iterator[tuple[EncodedQuery, int, int]]:
    """(encoded context, verdict index, draw index): the contexts of one draw share its demonstrations
    (:attr:`ContextConfig.queries_per_demo_set`; four contexts per draw by default)."""
    check_enough_items(len(items), config)
    rng = random.Random(seed)
    total = config.context_tokens or encoder.template.max_length
    floor = encoder.template_tokens() + 64
    lengths: dict[int, int] = {}
    made, draw = 0, 0
    while made < config.n_contexts:
        queries = min(config.queries_per_demo_set, config.n_contexts - made, len(items) - config.n_shots)
        drawn = rng.sample(range(len(items)), config.n_shots + queries)
        for i in drawn:
            if i not in lengths:
                lengths[i] = encoder.item_tokens(items[i][0])
        for last in drawn[config.n_shots:]:
            chosen = drawn[:config.n_shots] + [last]
            budgets = context_budgets([lengths[i] for i in chosen], total, floor, encoder.template.max_length)
            demos = [items[i] for i in chosen[:-1]]
            query, verdict = items[chosen[-1]]
            yield encoder.encode_with_demos(demos, query, per_item_budget=budgets, style=config.demos), verdict, draw
        made += queries
        draw += 1


class ContextAverage:
    """Running mean of last-token head outputs over contexts, plain or class-balanced (see
    :attr:`ContextConfig.balance_classes`); contexts can be added in batches so they never all sit in memory."""

    def __init__(self, balance_classes: bool = False) -> None:
        self.balance_classes = balance_classes
        self.sums: dict[int, torch.Tensor] = {}
        self.counts: dict[int, int] = {}

    def add(self, heads: torch.Tensor, verdicts: Sequence[int]) -> None:
        """``heads`` ``(N, layers, heads, head_dim)`` of N contexts whose final queries have these verdicts."""
        if heads.shape[0] != len(verdicts):
            raise ValueError(f"{heads.shape[0]} activations but {len(verdicts)} verdicts")
        labels = torch.as_tensor(list(verdicts))
        for verdict in sorted(set(int(v) for v in verdicts)) if self.balance_classes else [-1]:
            rows = heads if verdict == -1 else heads[labels == verdict]
            part = rows.double().sum(0)
            self.sums[verdict] = self.sums[verdict] + part if verdict in self.sums else part
            self.counts[verdict] = self.counts.get(verdict, 0) + rows.shape[0]

    def mean(self) -> torch.Tensor:
        if not self.counts:
            raise ValueError("no contexts were added")
        class_means = [self.sums[v] / self.counts[v] for v in sorted(self.counts)]
        return torch.stack(class_means).mean(0).float()


#: few-shot contexts with images run together when averaging (their pixel inputs, tens of MB per large image,
#: never all sit in memory); text contexts all go to one call, bucketed by length
CONTEXTS_PER_PASS = 16


def record_heads(backbone: Backbone, seqs: Sequence[Query], max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                 progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """``(N, layers, heads, head_dim)`` last-token head outputs of each query, float32."""
    out = last_token_logits(backbone, seqs, read_ids=[0], record=True, max_batch_tokens=max_batch_tokens,
                            progress=progress)
    assert out.heads is not None
    return out.heads


@torch.inference_mode()
def record_heads_by_draw(backbone: Backbone, contexts: Sequence[EncodedQuery], draws: Sequence[int],
                         max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                         progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """:func:`record_heads` of text contexts whose draws share demonstrations: each draw's common token prefix
    runs once and its KV cache is extended by each context's remaining tokens (equal to full passes up to float
    rounding; the model is causal)."""
    members: dict[int, list[int]] = {}
    for index, draw in enumerate(draws):
        members.setdefault(draw, []).append(index)
    groups = list(members.values())
    shared = [cacheable_prefix_length([contexts[i].ids for i in group]) for group in groups]
    heads: list[torch.Tensor | None] = [None] * len(contexts)
    alone = [i for group, n in zip(groups, shared) if n == 0 for i in group]
    if alone:
        for i, row in zip(alone, record_heads(backbone, [contexts[i] for i in alone], max_batch_tokens, progress)):
            heads[i] = row
    sharing = [g for g, n in enumerate(shared) if n > 0]
    sizes = [shared[g] + sum(len(contexts[i]) - shared[g] for i in groups[g]) for g in sharing]
    for batch in plan_batches(sizes, max_batch_tokens):
        chosen = [sharing[b] for b in batch]
        prefixes = encode_prefixes(backbone, [contexts[groups[g][0]].ids[:shared[g]] for g in chosen])
        rows = [row for row, g in enumerate(chosen) for _ in groups[g]]
        order = [i for g in chosen for i in groups[g]]
        suffixes = [contexts[i].ids[shared[g]:] for g in chosen for i in groups[g]]
        out = extend_cache(backbone, prefixes.cache, prefixes.mask, prefixes.lengths, torch.tensor(rows), suffixes,
                           read_ids=torch.tensor([0]), record=True)
        assert out.heads is not None
        for i, row in zip(order, out.heads):
            heads[i] = row
        if progress is not None:
            progress(len(order))
    return torch.stack(heads)


def mean_head_activations(backbone: Backbone, encoder: QueryEncoder, items: Sequence[tuple[JudgeItem, int]],
                          config: ContextConfig = ContextConfig(), seed: int = 0,
                          max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                          progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """``(layers, heads, head_dim)`` mean last-token head activation over few-shot contexts (class-balanced with
    ``config.balance_classes``); with ``config.additive`` (the "shift" intervention) minus :func:`zero_shot_mean` (the
    steering values are then a shift). Contexts are built one at a time; those with images run
    :data:`CONTEXTS_PER_PASS` at a time. Text contexts that share demonstrations
    (``config.queries_per_demo_set > 1``) run their shared prefix once (:func:`record_heads_by_draw`)."""
    warning = single_verdict_message([verdict for _, verdict in items])
    if warning:
        warnings.warn(warning, SingleVerdictWarning, stacklevel=2)
    few_shot = few_shot_mean(backbone, encoder, items, config, seed, max_batch_tokens, progress)
    if config.additive:
        return few_shot - zero_shot_mean(backbone, encoder, items, config.balance_classes, max_batch_tokens)
    return few_shot


def zero_shot_mean(backbone: Backbone, encoder: QueryEncoder, items: Sequence[tuple[JudgeItem, int]],
                   balance_classes: bool = False, max_batch_tokens: int = DEFAULT_BATCH_TOKENS) -> torch.Tensor:
    """``(layers, heads, head_dim)`` mean last-token head activation of the labelled items' own queries with no
    demonstrations: what the heads output before any few-shot context, subtracted for the "shift" intervention."""
    average = ContextAverage(balance_classes)
    for start in range(0, len(items), CONTEXTS_PER_PASS):
        chunk = items[start:start + CONTEXTS_PER_PASS]
        average.add(record_heads(backbone, [encoder.encode(item) for item, _ in chunk], max_batch_tokens),
                    [verdict for _, verdict in chunk])
    return average.mean()


def few_shot_mean(backbone: Backbone, encoder: QueryEncoder, items: Sequence[tuple[JudgeItem, int]],
                  config: ContextConfig, seed: int, max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                  progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """The mean over few-shot contexts of :func:`mean_head_activations`."""
    average = ContextAverage(config.balance_classes)
    if config.queries_per_demo_set > 1 and not backbone.multimodal:
        contexts, verdicts, draws = zip(*iter_context_draws(encoder, items, config, seed))
        average.add(record_heads_by_draw(backbone, contexts, draws, max_batch_tokens, progress), verdicts)
        return average.mean()
    pending: list[EncodedQuery] = []
    verdicts: list[int] = []
    with_images = 0

    def flush() -> None:
        average.add(record_heads(backbone, pending, max_batch_tokens, progress), verdicts)
        pending.clear()
        verdicts.clear()

    for context, verdict in iter_contexts(encoder, items, config, seed):
        pending.append(context)
        verdicts.append(verdict)
        with_images += context.has_images
        if with_images >= CONTEXTS_PER_PASS:
            flush()
            with_images = 0
    if pending:
        flush()
    return average.mean()
