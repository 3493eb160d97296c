"""The fit's configuration objects, free of torch: how the averaging contexts are built (:class:`ContextConfig`)
and how heads are selected (:class:`SelectionConfig`). The command line reads their choices without loading a
model; :mod:`activation_rm.fit.activations` and :mod:`activation_rm.fit.selection` use them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from activation_rm.inputs.checks import at_least, check_fields, finite, one_of, positive
from activation_rm.judge.templates import DEMO_INLINE, DEMO_STYLES

#: What steering does to a selected head's last-token output: "replace" it by the few-shot mean (the paper's), or
#: "shift" it by the few-shot mean minus the zero-shot mean (the few-shot examples' own queries without
#: demonstrations), which keeps the item-specific part of the head's output that replacement deletes.
INTERVENTIONS = ("replace", "shift")


@dataclass(frozen=True)
class ContextConfig:
    """How the averaging contexts are built (MTV-style: few-shot prompts of ``n_shots`` demonstrations)."""

    n_contexts: int = field(default=20, metadata={
        "help": "few-shot contexts averaged for the mean activations (20 measured level with 60 on the natural "
                "dev and test halves at 135M and 0.5B, at a third of the means' cost)"})
    n_shots: int = field(default=4, metadata={"help": "demonstrations per averaging context"})
    balance_classes: bool = field(default=False, metadata={
        "help": "class-balanced means: average the Yes-query and No-query contexts separately, then the two class "
                "means with equal weight, so a random draw with more contexts of one verdict does not tilt the "
                "task vector towards that verdict"})
    demos: str = field(default=DEMO_INLINE, metadata={
        "help": "demonstrations as earlier chat turns ('turns', MTV's) or inline in the query's user message "
                "('inline')", "choices": DEMO_STYLES})
    context_tokens: int | None = field(default=1152, metadata={
        "help": "token budget of one averaging context, demonstrations and query together (None: max_length); a "
                "context over it has its longest items cut to equal shares of what the others leave. 1152 keeps "
                "every context of the accuracy benchmark and the bundled criteria whole (the longest is 1080 "
                "tokens) and halves the cost of a real-length fit"})
    queries_per_demo_set: int = field(default=4, metadata={
        "help": "averaging contexts per draw of demonstrations: k > 1 puts k different queries after one draw "
                "of n_shots demonstrations, whose shared prefix then runs once on a text backbone (the means "
                "cost about (n_shots + k) / (k * (n_shots + 1)) of k = 1's; fewer distinct demonstration sets, "
                "as many contexts; 1: a fresh draw per context)"})

    intervention: str = field(default="replace", metadata={
        "help": "what steering does to a selected head's last-token output: 'replace' it by the few-shot mean "
                "(the paper's) or 'shift' it by the few-shot mean minus its mean on the examples' own zero-shot "
                "queries (keeps each item's own signal; the means stage also runs every example once alone)",
        "choices": INTERVENTIONS})

    def __post_init__(self) -> None:
        check_fields(self, [
            at_least("n_contexts", self.n_contexts, 1),
            at_least("n_shots", self.n_shots, 0),
            at_least("queries_per_demo_set", self.queries_per_demo_set, 1),
            one_of("demos", self.demos, DEMO_STYLES),
            ("context_tokens", self.context_tokens is None or self.context_tokens >= 64,
             f"must be at least 64 (or None: max_length), got {self.context_tokens}"),
            one_of("intervention", self.intervention, INTERVENTIONS),
        ])

    @property
    def additive(self) -> bool:
        """Whether steering shifts the selected heads (``intervention="shift"``) rather than replacing them."""
        return self.intervention == "shift"

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
#: Where REINFORCE starts: every head at ``init_logit`` ("uniform", the paper's), or additionally the ``init_heads``
#: heads that best separate the few-shot verdicts on their own (nearest class mean, SAV's ranking) at
#: ``init_top_logit`` ("sav").
INITS = ("uniform", "sav")


@dataclass(frozen=True)
class SelectionConfig:
    """REINFORCE settings. The paper's (MTV's) procedure is ``SelectionConfig.paper()``; the defaults depart from
    it where it measured better (``docs/method.md``)."""

    steps: int = field(default=150, metadata={"help": "REINFORCE steps of the head selection"})
    masks_per_step: int = field(default=16, metadata={"help": "head masks sampled per REINFORCE step"})
    lr: float = field(default=0.1, metadata={"help": "Adam learning rate of the heads' inclusion logits"})
    init_logit: float = field(default=-1.0, metadata={"help": "initial inclusion logit of every head"})
    zscore: bool = field(default=True, metadata={
        "help": "scale each step's loss advantages by their standard deviation (z-scores) before the policy "
                "gradient"})
    final_samples: int = field(default=6, metadata={"help": "masks drawn from the learnt probabilities to pick "
                                                             "the final one from"})
    loss: str = field(default="pair", metadata={
        "help": "REINFORCE loss per mask: 'vocab', cross-entropy of the correct verdict over the whole vocabulary "
                "(the paper's); 'verdicts', cross-entropy over the two verdict tokens only; 'pair', a "
                "Bradley-Terry loss on a (positive, negative) pair of queries, which rewards ranking only",
        "choices": LOSSES})
    final_rule: str = field(default="loss", metadata={
        "help": "how the final mask is picked among the final samples: 'accuracy' on the judged queries (the "
                "paper's) or the selection 'loss' itself (smooth: it still ranks masks on a handful of items)",
        "choices": FINAL_RULES})
    held_out_fraction: float = field(default=0.0, metadata={
        "help": "share of the few-shot examples held out to choose the final mask (0: judge the candidates on the "
                "training set)"})
    init: str = field(default="uniform", metadata={
        "help": "where REINFORCE starts: 'uniform' (every head at init_logit, the paper's) or 'sav' (also the "
                "init_heads heads whose unsteered activations best separate the training verdicts, by nearest "
                "class mean as sparse attention vectors rank them, at init_top_logit)", "choices": INITS})
    init_heads: int = field(default=20, metadata={"help": "heads started at init_top_logit when init is 'sav'"})
    init_top_logit: float = field(default=1.0, metadata={
        "help": "initial inclusion logit of the init_heads best-ranked heads when init is 'sav'"})

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
            one_of("init", self.init, INITS),
            at_least("init_heads", self.init_heads, 1),
            finite("init_top_logit", self.init_top_logit),
        ])

    @classmethod
    def paper(cls, **overrides) -> SelectionConfig:
        """The paper's settings: 600 steps x 32 masks, vocabulary cross-entropy, best of 10 by accuracy on 20% of the
        examples held out."""
        return cls(**{**dict(steps=600, masks_per_step=32, lr=0.1, init_logit=-1.0, zscore=True, final_samples=10,
                             loss="vocab", final_rule="accuracy", held_out_fraction=0.2), **overrides})

    def to_dict(self) -> dict:
        return asdict(self)
