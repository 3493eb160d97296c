"""The fit's configuration objects, free of torch: how the averaging contexts are built (:class:`ContextConfig`)
and how heads are selected (:class:`SelectionConfig`). The command line reads their choices without loading a
model; :mod:`activation_rm.fit.activations` and :mod:`activation_rm.fit.selection` use them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from activation_rm.inputs.checks import at_least, check_fields, finite, one_of, positive
from activation_rm.judge.templates import DEMO_INLINE, DEMO_STYLES


@dataclass(frozen=True)
class ContextConfig:
    """How the averaging contexts are built (MTV-style: few-shot prompts of ``n_shots`` demonstrations)."""

    n_contexts: int = 60
    n_shots: int = 4
    #: average the Yes-query and No-query contexts separately, then the two class means with equal weight, so a
    #: random draw with more contexts of one verdict does not tilt the task vector towards that verdict
    balance_classes: bool = False
    #: demonstrations as earlier chat turns ("turns", MTV's) or inline in the query's user message ("inline")
    demos: str = DEMO_INLINE
    #: token budget of one context, its demonstrations and query together (None: the template's ``max_length``).
    #: It bounds the cost of the means on long texts: a context that fits keeps its items whole, else its longest
    #: items are cut to equal shares of what the others leave. 1152 keeps every context of the accuracy
    #: benchmark and the bundled criteria whole (their longest is 1080 tokens) and halves a real-length fit
    context_tokens: int | None = 1152
    #: contexts per draw of demonstrations: k > 1 draws ``n_shots`` demonstrations once and k different queries
    #: after them, so on a text backbone the k contexts' shared token prefix runs once and only each query runs
    #: per context (the means cost about ``(n_shots + k) / (k * (n_shots + 1))`` of k = 1's); fewer distinct
    #: demonstration sets, the same number of contexts
    queries_per_demo_set: int = 1

    def __post_init__(self) -> None:
        check_fields(self, [
            at_least("n_contexts", self.n_contexts, 1),
            at_least("n_shots", self.n_shots, 0),
            at_least("queries_per_demo_set", self.queries_per_demo_set, 1),
            one_of("demos", self.demos, DEMO_STYLES),
            ("context_tokens", self.context_tokens is None or self.context_tokens >= 64,
             f"must be at least 64 (or None: max_length), got {self.context_tokens}"),
        ])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: REINFORCE losses per mask. "vocab": cross-entropy of the correct verdict over the whole vocabulary (the paper's);
#: "verdicts": cross-entropy over the two verdict tokens only (what the reward reads); "pair": a Bradley-Terry loss
#: on a (positive, negative) pair of queries, softplus(-(margin_pos + margin_neg)) with margin = logit(correct
#: verdict) - logit(wrong verdict), which ignores any shift shared by both queries and so rewards ranking only.
LOSSES = ("vocab", "verdicts", "pair")
#: How the final mask is chosen among ``final_samples`` draws: "accuracy" on the judged queries (ties broken by a
#: small loss term; the paper's), or the selection "loss" itself (smooth: it still ranks masks on a handful of items).
FINAL_RULES = ("accuracy", "loss")


@dataclass(frozen=True)
class SelectionConfig:
    """REINFORCE settings. The paper's (MTV's) procedure is ``SelectionConfig.paper()``; the defaults depart from
    it where it measured better (``docs/method.md``)."""

    steps: int = 150
    masks_per_step: int = 16
    lr: float = 0.1
    init_logit: float = -1.0
    zscore: bool = True
    final_samples: int = 6
    loss: str = "pair"
    final_rule: str = "loss"
    #: share of the few-shot examples held out to choose the final mask (0: judge the candidates on the training set)
    held_out_fraction: float = 0.0

    def __post_init__(self) -> None:
        check_fields(self, [
            at_least("steps", self.steps, 0),
            at_least("masks_per_step", self.masks_per_step, 2),
            positive("lr", self.lr),
            finite("init_logit", self.init_logit),
            at_least("final_samples", self.final_samples, 1),
            one_of("loss", self.loss, LOSSES),
            one_of("final_rule", self.final_rule, FINAL_RULES),
            ("held_out_fraction", 0 <= self.held_out_fraction < 1, f"must be in [0, 1), got {self.held_out_fraction}"),
        ])

    @classmethod
    def paper(cls, **overrides) -> SelectionConfig:
        """The paper's settings: 600 steps x 32 masks, vocabulary cross-entropy, best of 10 by accuracy on 20% of the
        examples held out."""
        return cls(**{**dict(steps=600, masks_per_step=32, lr=0.1, init_logit=-1.0, zscore=True, final_samples=10,
                             loss="vocab", final_rule="accuracy", held_out_fraction=0.2), **overrides})

    def to_dict(self) -> dict:
        return asdict(self)
