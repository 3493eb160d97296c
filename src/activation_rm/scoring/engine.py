"""The scoring core: several Activation RMs on one backbone, addressed by name, scored together.

What the server, the trainer integrations, Ray workers and the command line all call. Each artifact is loaded once
onto a shared backbone (``ActivationRM.load(path, backbone=shared)``). Pointwise criteria asked for together are
scored in one pass (:func:`score_criteria`): every (item, criterion) query is a row of the same batches with its
own reward model's mask and means, and queries that start alike share one KV cache of that start
(:func:`activation_rm.forward.shared_prefix.multi_steering_logits`): the queries of one item under different criteria, or, when
prompts repeat (GRPO groups), the queries of one criterion for responses to the same prompt. Pairwise artifacts
only compare pairs. Requests of both kinds (:class:`ScoreRequest`, :class:`CompareRequest`) are run together by
:func:`run_requests`, which the server's dynamic batcher calls with whatever requests it gathered. Every score
equals the reward model's own ``score`` up to float rounding (the tests check it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Self

import torch

from activation_rm.forward.shared_prefix import (
    DEFAULT_MIN_SHARED,
)
from activation_rm.inputs.data import Prompt
from activation_rm.judge.templates import PAIRWISE, POINTWISE, JudgeItem
from activation_rm.model.backbone import Backbone
from activation_rm.scoring.isolation import run_isolating
from activation_rm.scoring.reward_model import ActivationRM, Comparisons, verdict_logits
from activation_rm.version import __version__


class UnknownCriterionError(KeyError):
    """A request named a criterion that is not served."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class CriterionModeError(ValueError):
    """A request named a criterion whose mode (pointwise / pairwise) the endpoint cannot use."""


class ItemError(ValueError):
    """One input item cannot be scored; ``item`` is its index in the request."""

    def __init__(self, item: int, message: str) -> None:
        super().__init__(f"item {item}: {message}")
        self.item = item
        self.message = message


@dataclass(frozen=True)
class ArtifactSpec:
    """An artifact to serve and the name clients use for its criterion."""

    name: str
    path: str


def parse_artifact_spec(text: str) -> ArtifactSpec:
    """``NAME=PATH`` or just ``PATH`` (the name is then the artifact directory's name)."""
    name, sep, path = text.partition("=")
    if sep and name and os.path.sep not in name and not Path(text).exists():
        return ArtifactSpec(name.strip(), path)
    return ArtifactSpec(Path(text).resolve().name or "default", text)


Images = tuple[Any, ...]

class _Items:
    """A request whose per-item fields are lists with one entry per item (``prompts`` first)."""

    prompts: list[Prompt]

    def __len__(self) -> int:
        return len(self.prompts)

    def item(self, i: int) -> Self:
        """The request for item ``i`` alone."""
        return self.span(i, i + 1)

    def span(self, start: int, stop: int) -> Self:
        """The request for items ``start:stop``: every per-item list cut to them (the criteria stay)."""
        return replace(self, **{f.name: value[start:stop] for f in fields(self)  # type: ignore[arg-type]
                                if isinstance(value := getattr(self, f.name), list)})


@dataclass(frozen=True)
class ScoreRequest(_Items):
    """One request's items and the (pointwise) criteria it wants scored; ``images[i]`` go with item ``i``."""

    prompts: list[Prompt]
    responses: list[str]
    criteria: tuple[str, ...]
    images: list[Images] | None = None



@dataclass(frozen=True)
class CompareRequest(_Items):
    """Pairs of responses to compare under each criterion (pointwise or pairwise); ``images[i]`` go with pair
    ``i``."""

    prompts: list[Prompt]
    responses_a: list[str]
    responses_b: list[str]
    criteria: tuple[str, ...]
    images: list[Images] | None = None

    @property
    def cost(self) -> int:
        """Judge queries it adds to a batch: both responses (pointwise) or both orders (pairwise) of each pair."""
        return 2 * len(self)


Request = ScoreRequest | CompareRequest
ScoreResult = dict[str, list[float]]
CompareResult = dict[str, Comparisons]


def _has_images(images: Sequence[Images] | None) -> bool:
    return images is not None and any(images)


@dataclass
class ModelSet:
    """Named Activation RMs that share one backbone: pointwise ones score and compare, pairwise ones compare."""

    models: dict[str, ActivationRM]
    paths: dict[str, str] = field(default_factory=dict)
    #: score several pointwise criteria asked for together in one pass (False: one pass per criterion)
    fuse_criteria: bool = True

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("a model set needs at least one Activation RM")
        backbones = {id(rm.backbone) for rm in self.models.values()}
        if len(backbones) > 1:
            raise ValueError("all served Activation RMs must share one Backbone object (load them with backbone=...)")

    @classmethod
    def from_artifacts(cls, specs: Sequence[str | ArtifactSpec], backbone: Backbone | None = None,
                       **backbone_kwargs: Any) -> ModelSet:
        """Load artifacts onto one backbone: ``backbone``, or the one the first artifact was fitted on."""
        parsed = [s if isinstance(s, ArtifactSpec) else parse_artifact_spec(s) for s in specs]
        if not parsed:
            raise ValueError("no artifacts given")
        names = [s.name for s in parsed]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"criterion names must be unique, got {duplicates} twice; name them with NAME=PATH")
        models: dict[str, ActivationRM] = {}
        for spec in parsed:
            rm = ActivationRM.load(spec.path, backbone=backbone, **({} if backbone else backbone_kwargs))
            backbone = rm.backbone
            models[spec.name] = rm
        return cls(models, {s.name: str(s.path) for s in parsed})

    @classmethod
    def single(cls, rm: ActivationRM, name: str = "default") -> ModelSet:
        return cls({name: rm})

    @property
    def backbone(self) -> Backbone:
        return next(iter(self.models.values())).backbone

    @property
    def names(self) -> list[str]:
        return list(self.models)

    @property
    def pointwise(self) -> list[str]:
        return [name for name, rm in self.models.items() if rm.mode == POINTWISE]

    @property
    def multimodal(self) -> bool:
        return self.backbone.multimodal

    def resolve(self, criteria: Sequence[str] | None, *, pairwise_ok: bool = False) -> tuple[str, ...]:
        """The criteria to use: the named ones (each must be served), or with none named every pointwise one
        (every one when ``pairwise_ok``, as for comparing pairs). Pairwise criteria only compare pairs, so naming
        one without ``pairwise_ok`` raises :class:`CriterionModeError`."""
        if not criteria:
            chosen = tuple(self.models) if pairwise_ok else tuple(self.pointwise)
            if not chosen:
                raise CriterionModeError(f"every served criterion ({', '.join(self.models)}) is pairwise; pairwise "
                                         "reward models judge pairs: use /compare")
            return chosen
        unknown = [c for c in criteria if c not in self.models]
        if unknown:
            raise UnknownCriterionError(f"unknown criterion {unknown[0]!r}; served: {', '.join(self.models)}")
        if not pairwise_ok:
            pairwise = [c for c in criteria if self.models[c].mode == PAIRWISE]
            if pairwise:
                raise CriterionModeError(f"criterion {pairwise[0]!r} is a pairwise reward model: it judges pairs, "
                                         "not single responses; use /compare (pointwise criteria: "
                                         f"{', '.join(self.pointwise) or 'none'})")
        return tuple(dict.fromkeys(criteria))

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], criteria: Sequence[str] | None = None,
              images: Sequence[Images] | None = None) -> dict[str, list[float]]:
        """Reward in [0, 1] per pointwise criterion for each (prompt, response); several criteria in one pass."""
        names = self.resolve(criteria)
        if len(prompts) != len(responses):
            raise ValueError(f"inputs differ in length: prompts {len(prompts)}, responses {len(responses)}")
        images = list(images) if _has_images(images) else None
        if images is not None and not self.multimodal:
            raise ValueError(f"images were given but backbone {self.backbone.name!r} is text-only")
        if len(names) > 1 and self.fuse_criteria:
            return score_criteria({n: self.models[n] for n in names}, list(prompts), list(responses), images=images)
        # images only when there are some, so scorers without an ``images`` argument keep working
        extra = {"images": images} if images is not None else {}
        return {n: self.models[n].score(list(prompts), list(responses), **extra) for n in names}

    def compare(self, prompts: Sequence[Prompt], responses_a: Sequence[str], responses_b: Sequence[str],
                criteria: Sequence[str] | None = None, images: Sequence[Images] | None = None) -> CompareResult:
        """Which response of each pair each criterion prefers. Pointwise criteria score both responses (all of
        them in one pass); pairwise ones judge the pair in both presentation orders."""
        if not len(prompts) == len(responses_a) == len(responses_b):
            raise ValueError(f"inputs differ in length: prompts {len(prompts)}, responses_a {len(responses_a)}, "
                             f"responses_b {len(responses_b)}")
        request = CompareRequest(list(prompts), list(responses_a), list(responses_b),
                                 self.resolve(criteria, pairwise_ok=True), list(images) if _has_images(images) else None)
        return _run_together(self, [request])[0]  # type: ignore[return-value]

    def info(self) -> dict[str, Any]:
        backbone = self.backbone
        return {
            "version": __version__,
            "backbone": {"name": backbone.name, "model_type": backbone.fingerprint.get("model_type"),
                         "layers": backbone.num_layers, "heads": backbone.num_heads, "head_dim": backbone.head_dim,
                         "dtype": str(backbone.dtype).removeprefix("torch."), "device": str(backbone.input_device),
                         "multimodal": self.multimodal, "fingerprint": backbone.fingerprint},
            "criteria": [{"name": name, "criterion": rm.criterion, "mode": rm.mode,
                          "endpoints": ["/score", "/get_reward", "/compare"] if rm.mode == POINTWISE else ["/compare"],
                          "artifact": self.paths.get(name),
                          "max_length": rm.template.max_length, "num_selected_heads": len(rm.selected_heads),
                          "selected_heads": [[layer, head, round(p, 6)] for layer, head, p in rm.selected_heads]}
                         for name, rm in self.models.items()],
            "fuse_criteria": self.fuse_criteria,
        }

def load_model_set(artifacts: Sequence[str | ArtifactSpec], model: str | None = None,
                   **backbone_kwargs: Any) -> ModelSet:
    """Artifacts on ``model`` (a backbone id, directory or .gguf), or on the backbone the first was fitted on."""
    from activation_rm.model.backbone import load_backbone

    backbone = load_backbone(model, **backbone_kwargs) if model else None
    return ModelSet.from_artifacts(artifacts, backbone, **backbone_kwargs)


def run_requests(models: ModelSet, requests: Sequence[Request]) -> list[ScoreResult | CompareResult | Exception]:
    """Run many requests together and split the results back per request: pointwise work is gathered into one
    scoring pass per set of criteria (see :func:`_run_together`), pairwise comparisons into one pass per criterion.
    A failure is narrowed down to the request (:func:`~activation_rm.scoring.isolation.run_isolating`), then the
    item, that causes it; only that request gets an :class:`ItemError`, the others their results."""
    results = run_isolating(lambda part: _run_together(models, part), requests)
    return [_locate_bad_item(models, request, result) if isinstance(result, Exception) else result
            for request, result in zip(requests, results)]


#: the name the batcher and earlier callers know
score_requests = run_requests


def request_cost(request: Request) -> int:
    """Judge queries a request adds to a dynamic batch."""
    return request.cost if isinstance(request, CompareRequest) else len(request)


def _score_all(models: ModelSet, requests: Sequence[ScoreRequest]) -> list[ScoreResult]:
    """Requests that ask for the same criteria are scored together: one (fused) pass per distinct criteria set."""
    out: list[ScoreResult] = [{} for _ in requests]
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, request in enumerate(requests):
        groups.setdefault(request.criteria, []).append(i)
    for criteria, users in groups.items():
        prompts = [p for i in users for p in requests[i].prompts]
        responses = [x for i in users for x in requests[i].responses]
        with_images = any(_has_images(requests[i].images) for i in users)
        images = [im for i in users for im in (requests[i].images or [()] * len(requests[i]))] if with_images else None
        scores = models.score(prompts, responses, criteria, images)
        start = 0
        for i in users:
            n = len(requests[i])
            out[i] = {name: scores[name][start:start + n] for name in criteria}
            start += n
    return out


def _compare_pairwise(models: ModelSet, name: str, requests: Sequence[CompareRequest]) -> list[Comparisons]:
    """One pairwise criterion over the pairs of all ``requests`` in one call (both presentation orders)."""
    prompts = [p for r in requests for p in r.prompts]
    a = [x for r in requests for x in r.responses_a]
    b = [x for r in requests for x in r.responses_b]
    with_images = any(_has_images(r.images) for r in requests)
    images = [im for r in requests for im in (r.images or [()] * len(r))] if with_images else None
    extra = {"images": images} if images is not None else {}
    judged = models.models[name].compare(prompts, a, b, **extra)
    out, start = [], 0
    for r in requests:
        out.append(judged[start:start + len(r)])
        start += len(r)
    return out


def _run_together(models: ModelSet, requests: Sequence[Request]) -> list[ScoreResult | CompareResult]:
    """Score requests and the pointwise part of compare requests (both responses of each pair, as items) share the
    scoring passes; each pairwise criterion runs once over all pairs that ask for it."""
    work: list[ScoreRequest] = []
    owner: list[int] = []
    for i, request in enumerate(requests):
        if isinstance(request, ScoreRequest):
            work.append(request)
            owner.append(i)
            continue
        pointwise = tuple(c for c in request.criteria if models.models[c].mode == POINTWISE)
        if pointwise:
            work.append(ScoreRequest(request.prompts * 2, request.responses_a + request.responses_b, pointwise,
                                     None if request.images is None else request.images * 2))
            owner.append(i)
    results: list[Any] = [{} for _ in requests]
    for i, scores in zip(owner, _score_all(models, work)):
        request = requests[i]
        if isinstance(request, ScoreRequest):
            results[i] = scores
        else:
            n = len(request)
            results[i] = {name: Comparisons.from_scores(values[:n], values[n:]) for name, values in scores.items()}
    pairwise = dict.fromkeys(c for r in requests if isinstance(r, CompareRequest) for c in r.criteria
                             if models.models[c].mode == PAIRWISE)
    for name in pairwise:
        users = [i for i, r in enumerate(requests) if isinstance(r, CompareRequest) and name in r.criteria]
        for i, judged in zip(users, _compare_pairwise(models, name, [requests[i] for i in users])):
            results[i][name] = judged
    return [{name: result[name] for name in request.criteria} for request, result in zip(requests, results)]


def _locate_bad_item(models: ModelSet, request: Request, error: Exception) -> Exception:
    """The :class:`ItemError` of the first item of a failed ``request`` that fails alone (``error``, the request's
    own failure, for a one-item request)."""
    if len(request) == 1:  # nothing to narrow down
        return ItemError(0, f"{type(error).__name__}: {error}")
    for index in range(len(request)):
        try:
            _run_together(models, [request.item(index)])
        except Exception as err:  # the first item that fails alone is the bad one
            return ItemError(index, f"{type(err).__name__}: {err}")
    return RuntimeError("scoring failed for this request, but no single item fails alone; retry")


def combine(scores: dict[str, list[float]], weights: dict[str, float] | None = None) -> list[float]:
    """One reward per item: the (weighted) mean of the criteria's scores."""
    names = list(scores)
    if not names:
        return []
    w = {n: (weights or {}).get(n, 1.0 if not weights else 0.0) for n in names}
    total = sum(w.values())
    if total <= 0:
        raise ValueError(f"weights {weights} give no weight to the scored criteria {names}")
    n = len(scores[names[0]])
    return [sum(w[c] * scores[c][i] for c in names) / total for i in range(n)]


def _criterion_names(rms: Sequence[ActivationRM] | Mapping[str, ActivationRM]) -> tuple[list[str], list[ActivationRM]]:
    if isinstance(rms, Mapping):
        return [str(k) for k in rms], list(rms.values())
    names: list[str] = []
    for rm in rms:
        name = rm.criterion
        suffix = 2
        while name in names:
            name = f"{rm.criterion} ({suffix})"
            suffix += 1
        names.append(name)
    return names, list(rms)


def score_criteria(rms: Sequence[ActivationRM] | Mapping[str, ActivationRM], prompts: Sequence[Prompt],
                   responses: Sequence[str], *, images: Sequence[Any] | None = None,
                   max_batch_tokens: int | None = None, min_shared: int = DEFAULT_MIN_SHARED) -> dict[str, list[float]]:
    """Score every (prompt, response[, images]) under several pointwise reward models on one backbone in one pass.

    ``rms`` is a list of reward models (keyed by criterion text) or a mapping name -> reward model. Returns
    ``{name: [reward per item]}``, each list equal to ``rm.score(prompts, responses)`` of that reward model alone
    (up to float rounding); :func:`verdict_logits` does the pass."""
    names, models = _criterion_names(rms)
    if not models:
        raise ValueError("score_criteria needs at least one reward model")
    if len(prompts) != len(responses):
        raise ValueError(f"inputs differ in length: prompts {len(prompts)}, responses {len(responses)}")
    for name, rm in zip(names, models):
        if rm.mode != POINTWISE:
            raise ValueError(f"reward model {name!r} is pairwise; score_criteria scores pointwise reward models")
    items = models[0].encoder.attach_images([JudgeItem(p, (r,)) for p, r in zip(prompts, responses)], images)
    logits = verdict_logits(models, items, max_batch_tokens=max_batch_tokens, min_shared=min_shared, names=names)
    probs = torch.softmax(logits.double(), dim=-1)[..., 0]  # (N, K)
    return {name: probs[:, k].tolist() for k, name in enumerate(names)}
