"""Activation RM variants of the evaluation harnesses (``eval --sweep``, ``benchmarks/accuracy.py``): a name and fit
options over a base, where every option is a field of the fit's configs (:class:`~activation_rm.judge.templates.
JudgeTemplate`, :class:`~activation_rm.fit.config.ContextConfig`, :class:`~activation_rm.fit.config.SelectionConfig`).
A variant is checked when it is made, by building the configs: an unknown option or a bad value is an error naming it.

On the command line a variant is a name from a harness's table or ``name:key=value,key=value`` (``base=NAME`` starts
from that variant's options; ``readout``, ``heads`` and ``n_fewshot`` set the variant's own fields).

:class:`VariantFits` fits the variants of one seed and few-shot draw, sharing what equal configs allow: a whole fit
between variants whose configs are equal, the mean activations between variants whose template and contexts are.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import torch

from activation_rm.fit.config import ContextConfig, SelectionConfig
from activation_rm.inputs.data import Example
from activation_rm.judge.templates import JudgeTemplate
from activation_rm.model.backbone import Backbone
from activation_rm.scoring.reward_model import ActivationRM, fit_configs

#: every option a variant may set: the fields of the three fit configs
FIT_OPTIONS = frozenset({f.name for kind in (JudgeTemplate, ContextConfig, SelectionConfig) for f in fields(kind)})
#: how a variant's score is read: "p_yes", the library's reward; "delta", steered minus unsteered log-odds
READOUTS = ("p_yes", "delta")
#: the steered heads of a variant (``eval --sweep``): the learned mask, all heads, as many random or top-SAV heads as
#: the learned mask has, or the K heads of highest learned probability (``top:K``)
HEAD_RULES = ("reinforce", "all", "random", "sav")
_PLACEHOLDER = "criterion"  # the criterion a variant is checked with (every harness gives its own)


@dataclass(frozen=True)
class Variant:
    """One Activation RM configuration: ``fit`` options over the harness's base (library defaults unless the harness
    gives a base), how its score is read, which heads it steers and, for the few-shot curve, how many few-shot pairs
    it is fitted on (None: the run's). ``label`` and ``group`` only place it in a report."""

    name: str
    fit: dict[str, Any] = field(default_factory=dict)
    readout: str = "p_yes"
    heads: str = "reinforce"
    n_fewshot: int | None = None
    label: str = ""
    group: str = "design"

    def __post_init__(self) -> None:
        unknown = [key for key in self.fit if key not in FIT_OPTIONS]
        if unknown:
            raise ValueError(f"variant {self.name!r}: unknown fit option(s) {unknown}; options are the fields of "
                             f"JudgeTemplate, ContextConfig and SelectionConfig: {sorted(FIT_OPTIONS)}")
        if self.readout not in READOUTS:
            raise ValueError(f"variant {self.name!r}: readout must be one of {READOUTS}, got {self.readout!r}")
        if self.heads not in HEAD_RULES and not (self.heads.startswith("top:") and self.heads[4:].isdigit()):
            raise ValueError(f"variant {self.name!r}: heads must be one of {HEAD_RULES} or top:K, got {self.heads!r}")
        if self.n_fewshot is not None and (not isinstance(self.n_fewshot, int) or self.n_fewshot < 1):
            raise ValueError(f"variant {self.name!r}: n_fewshot must be a positive integer, got {self.n_fewshot!r}")
        try:
            self.configs(self.fit.get("criterion", _PLACEHOLDER))
        except (TypeError, ValueError) as err:
            raise ValueError(f"variant {self.name!r}: {err}") from err

    def configs(self, criterion: str, base: Mapping[str, Any] | None = None,
                ) -> tuple[JudgeTemplate, ContextConfig, SelectionConfig]:
        """The fit's template, contexts and selection: library defaults, then ``base``, the criterion, this
        variant's options."""
        return fit_configs(None, None, None, {**(base or {}), "criterion": criterion, **self.fit})

    def fit_key(self) -> str:
        """What the fit depends on beyond the harness's base (variants with equal keys share one fit)."""
        return json.dumps([sorted(self.fit.items()), self.n_fewshot], default=str)


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return {"true": True, "false": False}.get(text, text)


def parse_variant(spec: str, named: Mapping[str, Variant] = {}) -> Variant:  # noqa: B006 (read only)
    """A variant of ``named``, or ``name:key=value,key=value`` (numbers and true/false are cast; ``base=NAME``
    starts from the options of ``named[NAME]``; ``readout``, ``heads``, ``n_fewshot``, ``label`` and ``group`` set
    the variant's own fields, everything else is a fit option)."""
    if spec in named:
        return named[spec]
    name, colon, body = spec.partition(":")
    if not colon and spec not in named:
        raise ValueError(f"unknown variant {spec!r}; name one of {sorted(named)} or write name:key=value,...")
    fit: dict[str, Any] = {}
    own: dict[str, Any] = {}
    for part in filter(None, body.split(",")):
        key, equals, value = part.partition("=")
        if not equals:
            raise ValueError(f"variant {spec!r}: {part!r} is not key=value")
        if key == "base":
            if value not in named:
                raise ValueError(f"variant {spec!r}: unknown base {value!r}; bases are {sorted(named)}")
            fit = {**named[value].fit, **fit}
        elif key in ("readout", "heads", "label", "group"):
            own[key] = value
        elif key == "n_fewshot":
            own[key] = _value(value)
        else:
            fit[key] = _value(value)
    return Variant(name, fit, **own)


def parse_variants(specs: Sequence[str], named: Mapping[str, Variant]) -> list[Variant]:
    """:func:`parse_variant` of each spec, every bad one named in one error."""
    out, errors = [], []
    for spec in specs:
        try:
            out.append(parse_variant(spec, named))
        except ValueError as err:
            errors.append(str(err))
    if errors:
        raise ValueError("\n".join(errors))
    return out


class VariantFits:
    """Fits variants on the few-shot draws of one seed, sharing work between them: variants whose three configs and
    draw are equal share one fit; variants whose template, contexts and draw are equal share the
    mean activations (the first such fit computes them, the others reuse them: the means do not depend on the
    selection, so each fit is the one it replaces, bit for bit).
    ``examples(variant)`` is the variant's few-shot draw and may depend on ``variant.n_fewshot`` only; ``load(variant)``
    may return a saved fit (None: fit it). ``base`` are the harness's fit options under every variant's."""

    def __init__(self, backbone: Backbone, criterion: str, examples: Callable[[Variant], Sequence[Example]], seed: int,
                 base: Mapping[str, Any] | None = None,
                 load: Callable[[Variant], ActivationRM | None] | None = None) -> None:
        self.backbone, self.criterion, self.examples, self.seed = backbone, criterion, examples, seed
        self.base = dict(base or {})
        self.loader = load
        self.fits: dict[str, ActivationRM] = {}
        self.means: dict[str, torch.Tensor] = {}

    def configs(self, variant: Variant) -> tuple[JudgeTemplate, ContextConfig, SelectionConfig]:
        return variant.configs(self.criterion, self.base)

    def fit(self, variant: Variant) -> tuple[ActivationRM, float, str]:
        """``(rm, seconds, how)``: how is "fitted", "loaded" (by ``load``) or "shared" (an equal fit, no time)."""
        template, contexts, selection = self.configs(variant)
        fit_key = json.dumps([template.to_dict(), contexts.to_dict(), selection.to_dict(), variant.n_fewshot],
                             sort_keys=True, default=str)
        if fit_key in self.fits:
            return self.fits[fit_key], 0.0, "shared"
        started = time.perf_counter()
        rm = self.loader(variant) if self.loader is not None else None
        how = "loaded"
        if rm is None:
            how = "fitted"
            means_key = json.dumps([template.to_dict(), contexts.to_dict(), variant.n_fewshot], sort_keys=True,
                                   default=str)
            rm = ActivationRM.fit(self.backbone, list(self.examples(variant)), template, contexts=contexts,
                                  selection=selection, seed=self.seed, progress=False,
                                  means=self.means.get(means_key))
            self.means.setdefault(means_key, rm.means)
        self.fits[fit_key] = rm
        return rm, time.perf_counter() - started, how
