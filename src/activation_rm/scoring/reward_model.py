"""The Activation Reward Model: fit on few-shot examples, score with one steered forward pass, save and load."""

from __future__ import annotations

import logging
import os
import random
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from activation_rm.fit.activations import ContextConfig, mean_head_activations
from activation_rm.fit.config import INTERVENTIONS
from activation_rm.fit.selection import MaskScorer, SelectionConfig, select_heads
from activation_rm.forward.batching import DEFAULT_BATCH_TOKENS
from activation_rm.forward.shared_prefix import (
    DEFAULT_MIN_SHARED,
    common_prefix_length,
    multi_steering_logits,
    prompt_keys,
)
from activation_rm.inputs.checks import ConfigError
from activation_rm.inputs.data import MAX_SHOWN, Example, Prompt, load_examples
from activation_rm.judge.queries import make_encoder, truncated_examples, verdict_queries
from activation_rm.judge.templates import POINTWISE, EncodedQuery, JudgeItem, JudgeTemplate, labelled_items
from activation_rm.model.backbone import EMBEDDED_NAME, Backbone, load_backbone
from activation_rm.model.heads import Steering
from activation_rm.scoring.artifacts import ArtifactError, read_artifact, write_artifact
from activation_rm.version import __version__

logger = logging.getLogger(__name__)

T = TypeVar("T")

def preference(score_a: float, score_b: float) -> str:
    """The a/b/tie rule: ``"a"`` when A scores higher, ``"b"`` when B does, else ``"tie"`` (equal scores, or a NaN)."""
    return "a" if score_a > score_b else "b" if score_b > score_a else "tie"


def pair_correct(chosen: float, rejected: float) -> float:
    """A judged pair's correctness: 1 when the chosen response scores higher, 0.5 on a tie, 0 when the rejected one
    scores higher or a score is NaN (no verdict). The one rule behind every pair accuracy in the package."""
    return 1.0 if chosen > rejected else 0.5 if chosen == rejected else 0.0


@dataclass(frozen=True)
class Comparison:
    """Which of two responses is preferred, with the score of each (in [0, 1])."""

    preferred: str  # "a", "b" or "tie"
    score_a: float
    score_b: float

    @classmethod
    def of(cls, score_a: float, score_b: float) -> Comparison:
        """The comparison of two scores, by :func:`preference`."""
        return cls(preference(score_a, score_b), score_a, score_b)


class Comparisons(list[Comparison]):
    """The comparisons of several pairs: a list of :class:`Comparison` (what ``compare`` returns) whose fields also
    read as columns (``preferred``, ``score_a``, ``score_b`` and :meth:`to_dict`, as ``POST /compare`` answers);
    ``+`` and slices stay :class:`Comparisons`."""

    @classmethod
    def from_scores(cls, score_a: Sequence[float], score_b: Sequence[float]) -> Comparisons:
        return cls(Comparison.of(a, b) for a, b in zip(score_a, score_b))

    @property
    def preferred(self) -> list[str]:
        return [c.preferred for c in self]

    @property
    def score_a(self) -> list[float]:
        return [c.score_a for c in self]

    @property
    def score_b(self) -> list[float]:
        return [c.score_b for c in self]

    def to_dict(self) -> dict[str, list]:
        return {"preferred": self.preferred, "score_a": self.score_a, "score_b": self.score_b}

    def __add__(self, other: Sequence[Comparison]) -> Comparisons:  # type: ignore[override]
        return Comparisons([*self, *other])

    def __getitem__(self, index):  # type: ignore[override]
        got = super().__getitem__(index)
        return Comparisons(got) if isinstance(index, slice) else got


def split_held_out(examples: Sequence[T], fraction: float, seed: int) -> tuple[list[T], list[T]]:
    """Seeded split into (train, held-out). With fewer than 5 examples everything trains and nothing is held out
    (the final mask is then judged on the training queries)."""
    if not 0 <= fraction < 1:
        raise ValueError(f"held_out_fraction must be in [0, 1), got {fraction}")
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    n_held = round(len(examples) * fraction) if len(examples) >= 5 else 0
    held = sorted(order[:n_held])
    train = sorted(order[n_held:])
    return [examples[i] for i in train], [examples[i] for i in held]


class ActivationRM:
    """A few-shot reward model: a frozen backbone plus mean activations written into a learned set of heads
    (``intervention="replace"``, the paper's), or added to them as a shift (``"shift"``: ``means`` then holds the
    few-shot minus the zero-shot mean; :data:`~activation_rm.fit.config.INTERVENTIONS`)."""

    #: score responses that share a prompt against one KV cache of the shared part (exact; False: one full pass each)
    share_prompts: bool = True

    def __init__(self, backbone: Backbone, template: JudgeTemplate, means: torch.Tensor, mask: torch.Tensor,
                 probs: torch.Tensor | None = None, *, seed: int = 0, fit_info: dict[str, Any] | None = None,
                 max_batch_tokens: int = DEFAULT_BATCH_TOKENS, intervention: str = "replace") -> None:
        if intervention not in INTERVENTIONS:
            raise ValueError(f"intervention must be one of {INTERVENTIONS}, got {intervention!r}")
        expected = (backbone.num_layers, backbone.num_heads)
        if tuple(mask.shape) != expected or tuple(means.shape) != (*expected, backbone.head_dim):
            raise ValueError(f"mask {tuple(mask.shape)} / means {tuple(means.shape)} do not fit backbone "
                             f"{backbone.name!r} with {expected[0]} layers x {expected[1]} heads x {backbone.head_dim}")
        self.backbone = backbone
        self.template = template
        self.encoder = make_encoder(backbone, template)
        self.means = means.float()
        self.mask = mask.bool()
        self.probs = probs.float() if probs is not None else self.mask.float()
        self.seed = seed
        self.fit_info = fit_info or {}
        self.max_batch_tokens = max_batch_tokens
        self.intervention = intervention
        self.last_truncated = 0

    # ----------------------------------------------------------------------------------------------- fitting
    @classmethod
    def fit(cls, backbone: Backbone, examples: str | os.PathLike | Iterable[dict[str, Any]] | Sequence[Example],
            template: JudgeTemplate | str | None = None, *, contexts: ContextConfig | None = None,
            selection: SelectionConfig | None = None, seed: int = 0, progress: bool = True,
            max_batch_tokens: int = DEFAULT_BATCH_TOKENS, allow_network: bool = False,
            means: torch.Tensor | None = None, **options: Any) -> ActivationRM:
        """Fit on labelled examples: mean activations over few-shot contexts, then REINFORCE head selection.

        ``examples`` is a JSONL path, a list of dicts, or parsed examples; ``template`` is the judge query (a
        :class:`JudgeTemplate`, or just the criterion text). ``contexts`` and ``selection`` configure the two
        stages (library defaults when None). The keyword form builds the same three objects from their fields
        (``criterion="...", mode="pairwise", steps=150, n_contexts=60``); a field given both ways is an error,
        never a silent override. The same ``seed`` gives the same heads and scores. Examples may carry ``images``
        (vision-language backbones only); image URLs are fetched only with ``allow_network``. ``means`` reuses
        mean activations already computed for the same examples, template, contexts and seed.
        """
        template, contexts, selection = fit_configs(template, contexts, selection, options)
        encoder = make_encoder(backbone, template, allow_network)
        parsed = encoder.load_images(as_examples(examples), allow_network)
        torch.manual_seed(seed)
        train_examples, held_examples = split_held_out(parsed, selection.held_out_fraction, seed)
        _ = encoder.verdict_ids  # resolve the verdict tokens now: a bad template fails before any slow work

        started = time.perf_counter()
        if means is None:
            bar = _progress_bar(contexts.n_contexts, "mean activations", progress)
            means = mean_head_activations(backbone, encoder, labelled_items(parsed, template.mode), contexts, seed,
                                          max_batch_tokens, progress=bar.update if bar else None)
            if bar:
                bar.close()
        means_seconds = time.perf_counter() - started

        started = time.perf_counter()
        result = select_heads(backbone, verdict_queries(encoder, train_examples, template.mode),
                              verdict_queries(encoder, held_examples, template.mode), means, selection, seed,
                              progress, MaskScorer(backbone, max_batch_tokens=max_batch_tokens),
                              additive=contexts.additive)
        truncated = truncated_examples(encoder, parsed, template.mode)
        fit_info = {
            "n_examples": len(parsed), "n_train_examples": len(train_examples), "n_held_out_examples": len(held_examples),
            "contexts": contexts.to_dict(),
            "selection": selection.to_dict(),
            "held_out_fraction": selection.held_out_fraction, "means_seconds": round(means_seconds, 2),
            "selection_seconds": round(time.perf_counter() - started, 2),
            "final_loss": result.loss_history[-1] if result.loss_history else None,
            "candidate_scores": result.candidate_scores,
            "truncated_examples": len(truncated), "truncated_sources": truncated[:MAX_SHOWN],
        }
        logger.info("fitted %d heads of %d", int(result.mask.sum()), result.mask.numel())
        return cls(backbone, template, means, result.mask, result.probs, seed=seed, fit_info=fit_info,
                   max_batch_tokens=max_batch_tokens, intervention=contexts.intervention)

    # ----------------------------------------------------------------------------------------------- scoring
    @property
    def mode(self) -> str:
        return self.template.mode

    @property
    def criterion(self) -> str:
        return self.template.criterion

    @property
    def steering(self) -> Steering | None:
        """The intervention, or None when no head is selected (the plain zero-shot judge)."""
        return Steering(self.mask, self.means, self.additive) if bool(self.mask.any()) else None

    @property
    def additive(self) -> bool:
        """Whether the selected heads are shifted by ``means`` rather than replaced by them."""
        return self.intervention == "shift"

    def with_mask(self, mask: torch.Tensor) -> ActivationRM:
        """The same judge (means, intervention, settings) with other heads steered: ablations and the zero-shot
        baseline."""
        return ActivationRM(self.backbone, self.template, self.means, mask, self.probs, seed=self.seed,
                            fit_info=self.fit_info, max_batch_tokens=self.max_batch_tokens,
                            intervention=self.intervention)

    @property
    def selected_heads(self) -> list[tuple[int, int, float]]:
        """(layer, head, inclusion probability) of every replaced head, by layer then head."""
        return [(int(layer), int(head), float(self.probs[layer, head])) for layer, head in self.mask.nonzero().tolist()]

    def encode(self, items: Sequence[JudgeItem]) -> list[EncodedQuery]:
        """The judge queries of ``items``; counts the truncated ones in ``last_truncated`` and warns, never silently."""
        seqs, truncated = self.encoder.encode_many(items)
        self.last_truncated = truncated
        if truncated:
            message = (f"{truncated} of {len(items)} inputs exceeded max_length={self.template.max_length} tokens "
                       f"and were truncated inside the response(s) ({self.criterion[:40]!r})")
            logger.warning(message)
            warnings.warn(message, stacklevel=4)
        return seqs

    def verdict_probabilities(self, items: Sequence[JudgeItem]) -> torch.Tensor:
        """P(positive verdict) normalised over the two verdict tokens, one per item (float64 on the CPU), by the
        scoring core (:func:`verdict_logits`): responses to one prompt share its KV cache (exact)."""
        return torch.softmax(verdict_logits([self], items).double(), dim=-1)[:, 0, 0]

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str],
              images: Sequence[Any] | None = None) -> list[float]:
        """Reward in [0, 1] for each (prompt, response): P(Yes) normalised over {Yes, No}. ``images[i]`` (a PIL
        image, a path, a list of them, or None) goes with prompt ``i`` on vision-language backbones."""
        if self.mode != POINTWISE:
            raise ValueError("this is a pairwise reward model: it judges pairs, use compare(prompts, a, b)")
        _check_lengths(prompts=prompts, responses=responses)
        items = self._with_images([JudgeItem(p, (r,)) for p, r in zip(prompts, responses)], images)
        return self.verdict_probabilities(items).tolist()

    def _with_images(self, items: list[JudgeItem], images: Sequence[Any] | None) -> list[JudgeItem]:
        return self.encoder.attach_images(items, images)

    def compare(self, prompts: Sequence[Prompt], responses_a: Sequence[str], responses_b: Sequence[str], *,
                both_orders: bool = True, images: Sequence[Any] | None = None) -> Comparisons:
        """Which response of each pair is better. Pointwise: the higher reward. Pairwise: P(A) of the pairwise
        query, averaged over both presentation orders unless ``both_orders=False`` (removes position bias)."""
        _check_lengths(prompts=prompts, responses_a=responses_a, responses_b=responses_b)
        if self.mode == POINTWISE:
            twice = None if images is None else list(images) + list(images)
            scores = self.score(list(prompts) + list(prompts), list(responses_a) + list(responses_b), twice)
            score_a, score_b = scores[: len(prompts)], scores[len(prompts):]
        else:
            forward = self._with_images([JudgeItem(p, (a, b)) for p, a, b in zip(prompts, responses_a, responses_b)],
                                        images)
            if both_orders:
                backward = self._with_images(
                    [JudgeItem(p, (b, a)) for p, a, b in zip(prompts, responses_a, responses_b)], images)
                probs = self.verdict_probabilities(forward + backward)
                p_a = ((probs[: len(forward)] + (1 - probs[len(forward):])) / 2).tolist()
            else:
                p_a = self.verdict_probabilities(forward).tolist()
            score_a, score_b = p_a, [1 - p for p in p_a]
        return Comparisons.from_scores(score_a, score_b)

    def without_steering(self) -> ActivationRM:
        """The same judge with no heads replaced: the zero-shot token-probability baseline."""
        return self.with_mask(torch.zeros_like(self.mask))

    # ----------------------------------------------------------------------------------------------- files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the artifact directory (safetensors + JSON, atomically)."""
        words = self.template.verdicts
        meta = {
            "library": "activation-rm",
            "library_version": __version__,
            "mode": self.mode,
            "intervention": self.intervention,
            "criterion": self.criterion,
            "template": self.template.to_dict(),
            "verdict_tokens": {"words": list(words), "ids": list(self.encoder.verdict_ids)},
            "selected_heads": [[layer, head, round(p, 6)] for layer, head, p in self.selected_heads],
            "num_selected_heads": int(self.mask.sum()),
            "shape": {"layers": self.backbone.num_layers, "heads": self.backbone.num_heads,
                      "head_dim": self.backbone.head_dim},
            "seed": self.seed,
            "fit": self.fit_info,
            "backbone": self.backbone.fingerprint,
        }
        tensors = {"means": self.means, "mask": self.mask.to(torch.uint8), "probs": self.probs}
        return write_artifact(path, tensors, meta)

    @classmethod
    def load(cls, path: str | os.PathLike, backbone: Backbone | None = None, **backbone_kwargs: Any) -> ActivationRM:
        """Load an artifact; with no backbone, load the one it was fitted on (by name) first. The artifact is
        checked whole (:func:`~activation_rm.scoring.artifacts.read_artifact`) before any backbone loads, and a named
        backbone loads from safetensors only, with remote code only if ``trust_remote_code=True`` is passed. A
        backbone that differs from the fitted one raises :class:`~activation_rm.model.backbone.BackboneMismatchError`."""
        tensors, meta = read_artifact(path)
        if backbone is None:
            name = meta["backbone"].get("name")
            backbone = load_backbone(None if name == EMBEDDED_NAME else name, **backbone_kwargs)
        backbone.check_compatible(meta["backbone"])
        template = JudgeTemplate.from_dict(meta["template"])
        rm = cls(backbone, template, tensors["means"], tensors["mask"].bool(), tensors["probs"],
                 seed=int(meta.get("seed", 0)), fit_info=meta.get("fit", {}),
                 intervention=meta.get("intervention", "replace"))
        stored_ids = meta.get("verdict_tokens", {}).get("ids")
        if stored_ids is not None and list(rm.encoder.verdict_ids) != list(stored_ids):
            raise ArtifactError(f"verdict token ids {rm.encoder.verdict_ids} differ from the artifact's {stored_ids}")
        return rm


def share_by_prompt(queries: Sequence[Sequence[Any]], keys: Sequence[Any]) -> bool:
    """Whether sharing each criterion's common start across responses to one prompt saves more tokens than
    sharing each item's common start across its criteria, estimated from the largest prompt group: the criterion
    sits near the end of the default query (so sharing per item usually wins); criterion-first artifacts favour
    sharing per prompt."""
    groups: dict[Any, list[int]] = {}
    for n, key in enumerate(keys):
        groups.setdefault(key, []).append(n)
    group = max(groups.values(), key=len)
    per_item = common_prefix_length([q.ids for q in queries[group[0]]])
    per_prompt = common_prefix_length([queries[n][0].ids for n in group])
    criteria = len(queries[0])
    return criteria * (len(queries) - len(groups)) * per_prompt > len(queries) * (criteria - 1) * per_item


def verdict_logits(models: Sequence[ActivationRM], items: Sequence[JudgeItem], *, max_batch_tokens: int | None = None,
                   min_shared: int = DEFAULT_MIN_SHARED, names: Sequence[str] | None = None) -> torch.Tensor:
    """``(N, K, 2)`` logits of each reward model's two verdict tokens (positive first) on each item, every model's
    steering in one pass (:func:`~activation_rm.forward.shared_prefix.multi_steering_logits`): the one scoring
    core under :func:`score_criteria`, :class:`ModelSet` and the evaluation's many-variant scoring. The models
    share one backbone object and one mode (``items`` hold one response each when pointwise, two when pairwise);
    models with equal templates encode each item once. Of the two ways to share prefix caches the one that saves
    more tokens is taken (:func:`share_by_prompt`)."""
    labels = list(names) if names is not None else [rm.criterion for rm in models]
    if not models:
        raise ValueError("scoring needs at least one reward model")
    backbone = models[0].backbone
    for name, rm in zip(labels, models):
        if rm.backbone is not backbone:
            raise ValueError(f"reward model {name!r} is on a different backbone object; load all of them with the "
                             "same backbone (ActivationRM.load(path, backbone=...))")
        if rm.mode != models[0].mode:
            raise ValueError(f"reward model {name!r} is {rm.mode} but {labels[0]!r} is {models[0].mode}; score "
                             "pointwise and pairwise reward models apart")
    if not items:
        return torch.zeros(0, len(models), 2)
    encoded: dict[JudgeTemplate, list[EncodedQuery]] = {}
    for rm in models:  # equal templates on one tokenizer give equal queries: encode (and warn) once
        if rm.template not in encoded:
            encoded[rm.template] = rm.encode(items)
    per_model = [encoded[rm.template] for rm in models]
    queries = [[per_model[k][n] for k in range(len(models))] for n in range(len(items))]
    keys = prompt_keys(items) if all(rm.share_prompts for rm in models) else None
    if keys is not None and not share_by_prompt(queries, keys):
        keys = None
    return multi_steering_logits(backbone, queries, [rm.steering for rm in models],
                                 read_ids=[rm.encoder.verdict_ids for rm in models], keys=keys,
                                 max_batch_tokens=max_batch_tokens or min(rm.max_batch_tokens for rm in models),
                                 min_shared=min_shared)


def fit_configs(template: JudgeTemplate | str | None, contexts: ContextConfig | None,
                selection: SelectionConfig | None,
                options: dict[str, Any]) -> tuple[JudgeTemplate, ContextConfig, SelectionConfig]:
    """The three configurations of a fit from the given objects (library defaults where None) or from keyword
    ``options`` naming their fields (None values ignored). An unknown option, or a field given both in an object
    and as a keyword, is an error naming it."""
    if isinstance(template, str):
        template, options = None, {"criterion": template, **options}
    given: dict[str, Any] = {"template": template, "contexts": contexts, "selection": selection}
    kinds: dict[str, type] = {"template": JudgeTemplate, "contexts": ContextConfig, "selection": SelectionConfig}
    fields = {name: set(kind.__dataclass_fields__) for name, kind in kinds.items()}
    unknown = [key for key in options if not any(key in f for f in fields.values())]
    if unknown:
        raise TypeError(f"unknown fit option(s) {unknown}; options are {sorted(set().union(*fields.values()))}")
    built, errors = {}, []
    for name, kind in kinds.items():
        mine = {k: v for k, v in options.items() if k in fields[name] and v is not None}
        if given[name] is not None and mine:
            raise TypeError(f"fit got {name}= and its field(s) {sorted(mine)} as keywords; give one or the other "
                            f"(e.g. dataclasses.replace({name}, {next(iter(mine))}=...))")
        if given[name] is None and name == "template" and "criterion" not in mine:
            raise TypeError("fit needs the judge template: a JudgeTemplate, the criterion text, or criterion=...")
        try:
            built[name] = given[name] if given[name] is not None else kind(**mine)
        except ConfigError as err:  # every bad field of all three objects in one error
            errors.append(err)
    if errors:
        raise ConfigError.merged(errors)
    return built["template"], built["contexts"], built["selection"]


def as_examples(examples: Any) -> list[Example]:
    if isinstance(examples, (str, os.PathLike)):
        return load_examples(examples)
    examples = list(examples)
    if examples and not isinstance(examples[0], dict):
        return examples
    return load_examples(examples)


def _check_lengths(**named: Sequence[Any]) -> None:
    lengths = {k: len(v) for k, v in named.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs differ in length: {lengths}")
    for key, values in named.items():
        if isinstance(values, str):
            raise TypeError(f"{key} must be a list, not a single string")


def _progress_bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)
