"""``fit --auto``: choose the head-selection settings by cross-validation on the user's own few-shot examples.

The best settings depend on the backbone and the criterion, and a user with 20 labelled pairs has no benchmark to
tune on. ``fit_auto`` tries a small grid of selection settings (:data:`AUTO_GRID`) with k-fold cross-validation
over the examples and fits the winner on all of them. It stays cheap by sharing work across the grid: the mean
activations are computed once (on all examples; every candidate sees the same means, so the comparison is fair),
every query's prefix KV cache is encoded once and reused by every fold and candidate, and a held-out fold is
scored by running only its queries' last token.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import torch

from activation_rm.fit.activations import ContextConfig, mean_head_activations
from activation_rm.fit.selection import MaskScorer, SelectionConfig, mask_logits, select_heads, training_units
from activation_rm.inputs.data import Example
from activation_rm.judge.queries import make_encoder, verdict_queries
from activation_rm.judge.templates import JudgeTemplate, labelled_items
from activation_rm.model.backbone import Backbone
from activation_rm.scoring.reward_model import (
    ActivationRM,
    as_examples,
    fit_configs,
    pair_correct,
    split_held_out,
)

#: candidates: (name, SelectionConfig overrides over the caller's settings); the first is the default and wins ties
AUTO_GRID: tuple[tuple[str, dict[str, Any]], ...] = (
    ("default", {}),
    ("vocab-loss", {"loss": "vocab"}),  # the paper's loss: cross-entropy of the verdict over the vocabulary
    ("sparse", {"init_logit": -3.0}),  # a sparser prior: about 5% of heads on at the start instead of 27%
)


def fold_of(n: int, folds: int, seed: int) -> list[int]:
    """A seeded assignment of ``n`` examples to ``folds`` folds of (nearly) equal size."""
    order = list(range(n))
    random.Random(f"auto/{seed}").shuffle(order)
    fold = [0] * n
    for rank, index in enumerate(order):
        fold[index] = rank % folds
    return fold


def unit_accuracy(logits: Sequence[torch.Tensor], queries: Sequence, units: Sequence[tuple[int, ...]]) -> float:
    """Share of units judged right by one mask: a pair when its two margins sum above zero (the chosen response
    scores above the rejected one), a single query when its correct verdict wins."""
    right = 0.0
    for unit in units:
        margin = sum(float(logits[i][0, queries[i].target] - logits[i][0, queries[i].other]) for i in unit)
        right += pair_correct(margin, 0.0)
    return right / max(len(units), 1)


def fit_auto(backbone: Backbone, examples: str | os.PathLike | Iterable[dict[str, Any]] | Sequence[Example],
             template: JudgeTemplate | str | None = None, *, contexts: ContextConfig | None = None,
             selection: SelectionConfig | None = None, seed: int = 0, folds: int = 2,
             grid: Sequence[tuple[str, dict[str, Any]]] = AUTO_GRID, progress: bool = True,
             allow_network: bool = False, **options: Any) -> ActivationRM:
    """Cross-validate ``grid`` over the examples, then fit the winner on all of them (same seed); the arguments
    are :meth:`ActivationRM.fit`'s. The artifact's ``fit_info["auto"]`` holds the grid, each candidate's
    cross-validated accuracy and the choice."""
    template, contexts, selection = fit_configs(template, contexts, selection, options)
    encoder = make_encoder(backbone, template, allow_network)
    parsed = encoder.load_images(as_examples(examples), allow_network)
    if len(parsed) < 2 * folds:
        raise ValueError(f"--auto needs at least {2 * folds} examples for {folds}-fold cross-validation, "
                         f"got {len(parsed)}")
    started = time.perf_counter()
    mode = template.mode
    means = mean_head_activations(backbone, encoder, labelled_items(parsed, mode), contexts, seed)
    scorer = MaskScorer(backbone)
    # every example's verdict queries, encoded once; pair ids are the example's index, unique across folds
    per_example = [[replace(q, pair=index) if q.pair is not None else q for q in verdict_queries(encoder, [e], mode)]
                   for index, e in enumerate(parsed)]
    fold = fold_of(len(parsed), folds, seed)
    scores: dict[str, list[float]] = {}
    for name, changes in grid:
        config = SelectionConfig(**{**selection.to_dict(), **changes})
        scores[name] = []
        for k in range(folds):
            train_index = [i for i, f in enumerate(fold) if f != k]
            train, held = split_held_out(train_index, config.held_out_fraction, seed)
            result = select_heads(backbone, [q for i in train for q in per_example[i]],
                                  [q for i in held for q in per_example[i]], means, config, seed, scorer=scorer,
                                  additive=contexts.additive)
            queries = [q for i, f in enumerate(fold) if f == k for q in per_example[i]]
            units = training_units(queries, "pair", seed)
            logits = [mask_logits(backbone, q, result.mask[None], means, scorer, contexts.additive) for q in queries]
            scores[name].append(unit_accuracy(logits, queries, units))
    mean_scores = {name: sum(v) / len(v) for name, v in scores.items()}
    chosen = max(mean_scores, key=mean_scores.get)  # the first of equal scores: grid order, default first
    cv_seconds = time.perf_counter() - started
    rm = ActivationRM.fit(backbone, parsed, template, contexts=contexts,
                          selection=SelectionConfig(**{**selection.to_dict(), **dict(grid)[chosen]}), seed=seed,
                          progress=progress, allow_network=allow_network, means=means)
    rm.fit_info["auto"] = {"grid": {name: changes for name, changes in grid}, "folds": folds,
                           "cv_accuracy": {k: round(v, 4) for k, v in mean_scores.items()},
                           "cv_accuracy_per_fold": scores, "chosen": chosen,
                           "seconds": round(time.perf_counter() - started, 2),
                           "cv_seconds": round(cv_seconds, 2)}
    return rm

