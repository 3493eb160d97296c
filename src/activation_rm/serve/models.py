"""Several Activation RMs on one backbone, addressed by name: what the server, the adapters and Ray workers score.

Each artifact is loaded once onto a shared backbone (``ActivationRM.load(path, backbone=shared)``) and scored one
after the other. Scoring all criteria in one forward pass would be faster; that fusion belongs in the core library.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..backbone import Backbone
from ..data import Prompt
from ..reward_model import ActivationRM
from ..templates import POINTWISE


class UnknownCriterionError(KeyError):
    """A request named a criterion that is not served."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


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


@dataclass(frozen=True)
class ScoreRequest:
    """One request's items and the criteria it wants scored."""

    prompts: list[Prompt]
    responses: list[str]
    criteria: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.responses)


@dataclass
class ModelSet:
    """Named pointwise Activation RMs that share one backbone."""

    models: dict[str, ActivationRM]
    paths: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("a model set needs at least one Activation RM")
        backbones = {id(rm.backbone) for rm in self.models.values()}
        if len(backbones) > 1:
            raise ValueError("all served Activation RMs must share one Backbone object (load them with backbone=...)")
        for name, rm in self.models.items():
            if rm.mode != POINTWISE:
                raise ValueError(f"artifact {name!r} is a pairwise reward model; a reward server needs pointwise "
                                 "artifacts (fit with --mode pointwise)")

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

    def resolve(self, criteria: Sequence[str] | None) -> tuple[str, ...]:
        """The criteria to score: all when ``None`` or empty, else the named ones (each must be served)."""
        if not criteria:
            return tuple(self.models)
        unknown = [c for c in criteria if c not in self.models]
        if unknown:
            raise UnknownCriterionError(f"unknown criterion {unknown[0]!r}; served: {', '.join(self.models)}")
        return tuple(dict.fromkeys(criteria))

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str],
              criteria: Sequence[str] | None = None) -> dict[str, list[float]]:
        """Reward in [0, 1] per criterion for each (prompt, response)."""
        return {name: self.models[name].score(list(prompts), list(responses)) for name in self.resolve(criteria)}

    def info(self) -> dict[str, Any]:
        backbone = self.backbone
        return {
            "version": __version__,
            "backbone": {"name": backbone.name, "model_type": backbone.fingerprint.get("model_type"),
                         "layers": backbone.num_layers, "heads": backbone.num_heads, "head_dim": backbone.head_dim,
                         "dtype": str(backbone.dtype).removeprefix("torch."), "device": str(backbone.input_device),
                         "fingerprint": backbone.fingerprint},
            "criteria": [{"name": name, "criterion": rm.criterion, "mode": rm.mode, "artifact": self.paths.get(name),
                          "max_length": rm.template.max_length, "num_selected_heads": len(rm.selected_heads),
                          "selected_heads": [[layer, head, round(p, 6)] for layer, head, p in rm.selected_heads]}
                         for name, rm in self.models.items()],
        }


def load_model_set(artifacts: Sequence[str | ArtifactSpec], model: str | None = None,
                   **backbone_kwargs: Any) -> ModelSet:
    """Artifacts on ``model`` (a backbone id, directory or .gguf), or on the backbone the first was fitted on."""
    from ..backbone import load_backbone

    backbone = load_backbone(model, **backbone_kwargs) if model else None
    return ModelSet.from_artifacts(artifacts, backbone, **backbone_kwargs)


def score_requests(models: ModelSet, requests: Sequence[ScoreRequest]) -> list[dict[str, list[float]] | Exception]:
    """Score many requests together (one pass per criterion over all items that ask for it) and split the scores
    back per request. A failure is narrowed down to the request, then the item, that causes it; only that request
    gets an :class:`ItemError`, the others their scores."""
    try:
        return _score_fused(models, requests)
    except Exception as err:
        if len(requests) == 1 and len(requests[0]) == 1:  # nothing to narrow down
            return [ItemError(0, f"{type(err).__name__}: {err}")]
    results: list[dict[str, list[float]] | Exception] = []
    for request in requests:
        try:
            results.append(_score_fused(models, [request])[0])
        except Exception:
            results.append(_locate_bad_item(models, request))
    return results


def _score_fused(models: ModelSet, requests: Sequence[ScoreRequest]) -> list[dict[str, list[float]]]:
    out: list[dict[str, list[float]]] = [{} for _ in requests]
    wanted = dict.fromkeys(c for r in requests for c in r.criteria)
    for name in wanted:
        users = [i for i, r in enumerate(requests) if name in r.criteria]
        prompts = [p for i in users for p in requests[i].prompts]
        responses = [x for i in users for x in requests[i].responses]
        scores = models.models[name].score(prompts, responses)
        start = 0
        for i in users:
            n = len(requests[i])
            out[i][name] = scores[start:start + n]
            start += n
    return [{name: result[name] for name in r.criteria} for r, result in zip(requests, out)]


def _locate_bad_item(models: ModelSet, request: ScoreRequest) -> Exception:
    for index, (prompt, response) in enumerate(zip(request.prompts, request.responses)):
        try:
            _score_fused(models, [ScoreRequest([prompt], [response], request.criteria)])
        except Exception as err:  # the first item that fails alone is the bad one
            return ItemError(index, f"{type(err).__name__}: {err}")
    return RuntimeError("scoring failed for this request, but no single item fails alone; retry")
