"""Every judge compared in the evaluation, behind one small interface.

A :class:`MethodGroup` is fitted on the few-shot pairs of one seed and then judges preference pairs, returning one
:class:`Verdict` per pair for each method it produces. Methods that share a forward pass live in one group, so the
pass runs once: the unsteered zero-shot query gives the token-probability baseline *and* the head activations for
sparse-attention-vector voting; one generative prefill gives the greedy verdict *and* the sampled votes. All groups
use the same backbone, criterion and few-shot pairs.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from activation_rm.eval.generation import generate_verdicts, parse_verdict
from activation_rm.eval.records import PairRecord, judge_items
from activation_rm.eval.settings import ABLATIONS, ARM_METHODS, BASELINES, EvalSettings
from activation_rm.fit.head_ranking import HeadClassifier
from activation_rm.forward.batching import PrefixRunner, last_token_logits
from activation_rm.forward.shared_prefix import common_prefix_length
from activation_rm.inputs.data import PairwiseExample
from activation_rm.judge.templates import (
    PAIRWISE,
    POINTWISE,
    JudgeItem,
    JudgeTemplate,
    QueryEncoder,
    labelled_items,
)
from activation_rm.model.backbone import Backbone
from activation_rm.scoring.artifacts import META_FILE
from activation_rm.scoring.reward_model import ActivationRM, pair_correct


@dataclass
class Verdict:
    """One judged pair. ``correct`` is 1 (chosen preferred), 0.5 (tie) or 0 (rejected preferred or no verdict)."""

    key: str
    correct: float
    score_chosen: float | None = None
    score_rejected: float | None = None
    parsed: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FitContext:
    backbone: Backbone
    criterion: str
    fewshot: list[PairRecord]
    seed: int
    settings: EvalSettings
    artifacts: Path | None = None


def baseline_judge_template(criterion: str, max_length: int, mode: str = POINTWISE) -> JudgeTemplate:
    """The template the unsteered and in-context judges read: the library's defaults at the settings' length (rows
    store it, so it is built in one place)."""
    return JudgeTemplate(criterion, mode, max_length=max_length)


class MethodGroup(ABC):
    """Fit on one seed's few-shot pairs, then judge pairs for each method in ``names``."""

    names: tuple[str, ...] = ()
    only: set[str] | None = None  # set by the runner: the methods still missing (a group may skip the others)

    def fit(self, ctx: FitContext) -> dict[str, Any]:
        self.ctx = ctx
        return {}

    @abstractmethod
    def judge(self, records: Sequence[PairRecord]) -> dict[str, list[Verdict]]:
        """One verdict per record for each method of the group."""


def pair_examples(records: Sequence[PairRecord]) -> list[PairwiseExample]:
    """Few-shot pairs as examples, images included (multimodal benchmarks fit on their images too)."""
    return [PairwiseExample(r.prompt, r.chosen, r.rejected, tuple(r.images), source=r.key) for r in records]


class ZeroShotGroup(MethodGroup):
    """Unsteered P(Yes) per response (zero-shot token probability) and sparse-attention-vector head voting: per head,
    class means of the Yes (chosen) and No (rejected) activations of the few-shot queries; the heads whose nearest
    class mean (cosine) is most accurate on the few-shot set vote, and the response with more Yes votes wins."""

    def __init__(self, with_sav: bool = True, judge_items: bool = True,
                 memo: dict[tuple[int, ...], tuple[float, torch.Tensor]] | None = None) -> None:
        self.with_sav = with_sav
        self.names = (("zeroshot_prob", "sav") if with_sav else ("zeroshot_prob",)) if judge_items else ()
        # unsteered results per query; groups given one memo (same backbone) share their passes
        self._memo: dict[tuple[int, ...], tuple[float, torch.Tensor]] = {} if memo is None else memo
        self.sav_ranking: torch.Tensor | None = None  # (layers * heads,) head indices, best first

    def _encoder(self) -> QueryEncoder:
        template = baseline_judge_template(self.ctx.criterion, self.ctx.settings.max_length)
        return QueryEncoder(self.ctx.backbone.tokenizer, template)

    def _pass(self, items: Sequence[JudgeItem]) -> tuple[list[float], torch.Tensor]:
        encoder = self._encoder()
        seqs = [tuple(encoder.encode(item).ids) for item in items]
        todo = sorted({s for s in seqs if s not in self._memo})
        if todo:
            out = last_token_logits(self.ctx.backbone, todo, read_ids=encoder.verdict_ids, record=True)
            probs = torch.softmax(out.logits.double(), -1)[:, 0]
            for index, seq in enumerate(todo):
                self._memo[seq] = (float(probs[index]), out.heads[index].half())
        return [self._memo[s][0] for s in seqs], torch.stack([self._memo[s][1] for s in seqs]).float()

    def fit(self, ctx: FitContext) -> dict[str, Any]:
        super().fit(ctx)
        if not self.with_sav:
            return {}
        items = labelled_items(pair_examples(ctx.fewshot), POINTWISE)
        _, heads = self._pass([item for item, _ in items])
        labels = torch.tensor([verdict for _, verdict in items])
        self.classifier = HeadClassifier.fit(heads, labels)
        self.sav_ranking, accuracy = self.classifier.ranking(heads, labels)
        self.sav_top = self.sav_ranking[: ctx.settings.sav_heads]
        return {"sav_top_accuracy": [round(float(accuracy[i]), 4) for i in self.sav_top]}

    def judge(self, records: Sequence[PairRecord]) -> dict[str, list[Verdict]]:
        probs, heads = self._pass(judge_items(records))
        n = len(records)
        out: dict[str, list[Verdict]] = {"zeroshot_prob": [
            Verdict(r.key, pair_correct(probs[i], probs[n + i]), probs[i], probs[n + i]) for i, r in enumerate(records)]}
        if self.with_sav:
            yes_votes = (self.classifier.predict(heads)[:, self.sav_top] == 0).float().mean(1).tolist()
            out["sav"] = [Verdict(r.key, pair_correct(yes_votes[i], yes_votes[n + i]), yes_votes[i], yes_votes[n + i])
                          for i, r in enumerate(records)]
        return out


def _with_demos(encoder: QueryEncoder, turns: list[tuple[str, str]], item: JudgeItem) -> tuple[list[int], bool]:
    """Demonstration turns then the query; the query keeps the full ``max_length`` budget."""
    query, truncated = encoder.demo_turns([(item, None)])
    return encoder.tokenize_turns([*turns, *query]), truncated


class _DemoJudge(MethodGroup):
    """Shared machinery of judges that put labelled demonstrations in the prompt (run once as a KV-cache prefix)."""

    mode = POINTWISE
    n_pairs = 0

    def fit(self, ctx: FitContext) -> dict[str, Any]:
        super().fit(ctx)
        template = baseline_judge_template(ctx.criterion, ctx.settings.max_length, self.mode)
        self.encoder = QueryEncoder(ctx.backbone.tokenizer, template)
        demos = labelled_items(pair_examples(ctx.fewshot[: self.n_pairs]), self.mode)
        random.Random(ctx.seed).shuffle(demos)
        budget = max(ctx.settings.max_length // 2, min(ctx.settings.max_length, 224))  # room past the template
        self.turns = self.encoder.demo_turns(demos, budget)[0] if demos else []
        probe = [JudgeItem("probe one", ("x",) * template.num_responses),
                 JudgeItem("a different probe", ("y",) * template.num_responses)]
        ids = [_with_demos(self.encoder, self.turns, p)[0] for p in probe]
        self.runner = PrefixRunner(ctx.backbone, ids[0][: common_prefix_length(ids)] if self.turns else [])
        return {"demonstrations": len(demos), "prefix_tokens": len(self.runner.prefix)}


class ICLGroup(_DemoJudge):
    """Few-shot in-context judge: ``icl_pairs`` pairs as Yes/No demonstrations, then P(Yes) of each response."""

    names = ("icl_prob",)

    def fit(self, ctx: FitContext) -> dict[str, Any]:
        self.n_pairs = ctx.settings.icl_pairs
        return super().fit(ctx)

    def _p_yes(self, item: JudgeItem) -> float:
        ids, _ = _with_demos(self.encoder, self.turns, item)
        logits, _ = self.runner.run(ids)
        yes, no = self.encoder.verdict_ids
        return float(torch.softmax(logits[[yes, no]].double(), -1)[0])

    def judge(self, records: Sequence[PairRecord]) -> dict[str, list[Verdict]]:
        out = []
        for r in records:
            pc, pr = self._p_yes(JudgeItem(r.prompt, (r.chosen,))), self._p_yes(JudgeItem(r.prompt, (r.rejected,)))
            out.append(Verdict(r.key, pair_correct(pc, pr), pc, pr))
        return {"icl_prob": out}


def chosen_first(key: str, order_seed: int) -> bool:
    """Seeded per-pair presentation order (the same for every method and seed)."""
    return random.Random(f"{order_seed}/{key}").random() < 0.5


class GenerativeGroup(_DemoJudge):
    """LLM-as-a-judge: the model writes "A" or "B" (pairwise, order shuffled with a seed); zero-shot or with
    ``gen_pairs`` demonstrations. With ``votes`` > 0 also the majority of that many sampled verdicts. Unparseable
    outputs count as wrong and are counted (``parsed = False``), never mapped to a verdict."""

    mode = PAIRWISE

    def __init__(self, fewshot: bool, votes: bool) -> None:
        self.fewshot = fewshot
        self.votes = votes
        tag = "fewshot" if fewshot else "zeroshot"
        self.names = (f"gen_{tag}", f"vote_{tag}") if votes else (f"gen_{tag}",)
        self._memo: dict[tuple[int, ...], Any] = {}

    def fit(self, ctx: FitContext) -> dict[str, Any]:
        self.n_pairs = ctx.settings.gen_pairs if self.fewshot else 0
        return super().fit(ctx)

    def judge(self, records: Sequence[PairRecord]) -> dict[str, list[Verdict]]:
        s = self.ctx.settings
        greedy, votes = [], []
        for r in records:
            first = chosen_first(r.key, s.order_seed)
            a, b = (r.chosen, r.rejected) if first else (r.rejected, r.chosen)
            ids, _ = _with_demos(self.encoder, self.turns, JudgeItem(r.prompt, (a, b)))
            key = (*ids, -1, self.ctx.seed if self.fewshot else s.order_seed)
            if key not in self._memo:  # zero-shot generations do not depend on the few-shot seed
                logits, cache = self.runner.run(ids)
                self._memo[key] = generate_verdicts(
                    self.ctx.backbone, logits, cache, len(ids), max_new_tokens=s.max_new_tokens,
                    n_samples=s.votes if self.votes else 0, temperature=s.temperature,
                    seed=random.Random(f"{key[-1]}/{r.key}").randrange(2**31))
            gen = self._memo[key]
            chosen_letter = 0 if first else 1

            parsed = parse_verdict(gen.greedy, ("A", "B"))
            greedy.append(Verdict(r.key, 0.0 if parsed is None else float(parsed == chosen_letter),
                                  parsed=parsed is not None,
                                  extra={"text": gen.greedy[:40], "chosen_first": first}))
            if self.votes:
                picks = [parse_verdict(t, ("A", "B")) for t in gen.samples]
                valid = [p for p in picks if p is not None]
                for_chosen = sum(p == chosen_letter for p in valid)
                against = len(valid) - for_chosen
                correct = 0.0 if not valid else pair_correct(for_chosen, against)
                votes.append(Verdict(r.key, correct, for_chosen / max(len(valid), 1), against / max(len(valid), 1),
                                     parsed=bool(valid), extra={"unparsed_votes": len(picks) - len(valid)}))
        out = {self.names[0]: greedy}
        if self.votes:
            out[self.names[1]] = votes
        return out


class ARMGroup(MethodGroup):
    """The Activation RM (pointwise or pairwise), fitted with :meth:`ActivationRM.fit` on the few-shot pairs. The
    pointwise group can also score head-selection ablations that reuse the same mean activations: all heads,
    random heads of the REINFORCE count, and the top sparse-attention-vector heads of that count."""

    def __init__(self, mode: str, zero_shot: ZeroShotGroup | None = None, ablations: bool = False) -> None:
        self.mode = mode
        self.zero_shot = zero_shot
        self.ablations = ablations and mode == POINTWISE
        self.names = (f"arm_{mode}", *(ABLATIONS if self.ablations else ()))

    def fit(self, ctx: FitContext) -> dict[str, Any]:
        super().fit(ctx)
        s = ctx.settings
        path = ctx.artifacts / f"arm_{self.mode}" if ctx.artifacts else None
        if path is not None and (path / META_FILE).exists():
            self.rm = ActivationRM.load(path, ctx.backbone)
        else:
            self.rm = ActivationRM.fit(
                ctx.backbone, pair_examples(ctx.fewshot), criterion=ctx.criterion, mode=self.mode, steps=s.steps,
                seed=ctx.seed, n_contexts=s.n_contexts, n_shots=s.n_shots, masks_per_step=s.masks_per_step,
                held_out_fraction=s.held_out_fraction, max_length=s.max_length, progress=False)
            if path is not None:
                self.rm.save(path)
        self.variants: dict[str, ActivationRM] = {f"arm_{self.mode}": self.rm}
        count = int(self.rm.mask.sum())
        info: dict[str, Any] = {"heads": count, "fit": {k: v for k, v in self.rm.fit_info.items()
                                                        if k != "candidate_scores"}}
        if self.ablations:
            shape = self.rm.mask.shape
            generator = torch.Generator().manual_seed(ctx.seed + 7)
            random_mask = torch.zeros(shape.numel(), dtype=torch.bool)
            random_mask[torch.randperm(shape.numel(), generator=generator)[:count]] = True
            masks = {"arm_all_heads": torch.ones(shape, dtype=torch.bool),
                     "arm_random_heads": random_mask.view(shape)}
            if self.zero_shot is not None and self.zero_shot.sav_ranking is not None:
                sav_mask = torch.zeros(shape.numel(), dtype=torch.bool)
                sav_mask[self.zero_shot.sav_ranking[:count]] = True
                masks["arm_sav_heads"] = sav_mask.view(shape)
            for name, mask in masks.items():
                self.variants[name] = self.rm.with_mask(mask)
        return info

    def judge(self, records: Sequence[PairRecord]) -> dict[str, list[Verdict]]:
        prompts = [r.prompt for r in records]
        chosen = [r.chosen for r in records]
        rejected = [r.rejected for r in records]
        out = {}
        for name, rm in self.variants.items():
            if self.only is not None and name not in self.only:
                continue
            images = [r.images or None for r in records] if any(r.images for r in records) else None
            comparisons = (rm.compare(prompts, chosen, rejected, images=images) if images
                           else rm.compare(prompts, chosen, rejected))
            out[name] = [Verdict(r.key, pair_correct(c.score_a, c.score_b), c.score_a, c.score_b)
                         for r, c in zip(records, comparisons)]
        return out


def build_groups(methods: Sequence[str], ablations: bool) -> list[MethodGroup]:
    """The method groups needed for ``methods`` (names from :data:`BASELINES` and :data:`ARM_METHODS`)."""
    unknown = set(methods) - set(BASELINES) - set(ARM_METHODS)
    if unknown:
        raise ValueError(f"unknown method(s) {sorted(unknown)}; choose from {BASELINES + ARM_METHODS}")
    wanted = set(methods)
    groups: list[MethodGroup] = []
    zero = None
    if wanted & {"zeroshot_prob", "sav"} or ablations:
        # with ablations alone it only ranks heads for the SAV-heads ablation and judges nothing
        zero = ZeroShotGroup(with_sav="sav" in wanted or ablations, judge_items=bool(wanted & {"zeroshot_prob", "sav"}))
        groups.append(zero)
    if "icl_prob" in wanted:
        groups.append(ICLGroup())
    if "gen_zeroshot" in wanted:
        groups.append(GenerativeGroup(fewshot=False, votes=False))
    if wanted & {"gen_fewshot", "vote_fewshot"}:
        groups.append(GenerativeGroup(fewshot=True, votes="vote_fewshot" in wanted))
    if "arm_pointwise" in wanted:
        groups.append(ARMGroup(POINTWISE, zero, ablations))
    if "arm_pairwise" in wanted:
        groups.append(ARMGroup(PAIRWISE))
    return groups
