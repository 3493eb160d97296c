"""Cost ratios of the Activation RM paths on the embedded model, each measured side by side in one run.

The machine is shared and noisy, so absolute times are not comparable between runs: every section interleaves its
variants (rotating their order each repeat) and prints the ratio of their median times. Sections:

  reinforce   one REINFORCE step (32 masks): one full forward per mask / prefix encoded each step / prefix cached
  rows        one step's mask pass (16 masks, prefix cached): full-vocabulary logits / the verdict tokens' rows only
  means       the means of --contexts averaging contexts: one query per draw of demonstrations / 4 per draw
  fit         the default fit of the 40 bundled few-shot pairs, timed (long: minutes)
  auto        fit --auto next to a default fit on the same --pairs bundled pairs: times, ratio, choice
  steering    steered / plain forward throughput at equal batch
  padding     share of padding tokens in length-bucketed batches of RewardBench judge queries (no model run)
  shared      8 responses to one ~512-token prompt: shared prompt KV cache / independent scoring
  criteria    8 criteria in one pass / 1 criterion (identical query text; and default per-criterion templates)
  baselines   Activation RM / 8-shot in-context judge / k=5 sampled-verdict voting on the same items

    python benchmarks/perf.py reinforce steering shared criteria baselines padding --threads 1
    python benchmarks/perf.py fit --threads 1
    python benchmarks/perf.py rows means --backbone qwen2.5-coder-0.5b --threads 2 --repeats 2

``--backbone`` takes what ``benchmarks/accuracy.py`` does (default: the embedded model).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

REWARDBENCH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "rewardbench" / "filtered.jsonl"


def timings(variants: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Seconds of each run of each variant, run in rotating order so drifts in machine load hit all alike."""
    names = list(variants)
    times: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(repeats):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            started = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - started)
    return times


def interleaved(variants: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each variant (see :func:`timings`)."""
    return {n: statistics.median(t) for n, t in timings(variants, repeats).items()}


def report(section: str, **values: object) -> None:
    print(f"RESULT {section} " + json.dumps(values), flush=True)


def bundled_queries(backbone, name: str = "short_correct"):
    from activation_rm.apps.bundled import load_bundled
    from activation_rm.judge.templates import JudgeTemplate, QueryEncoder, labelled_items

    bundled = load_bundled(name)
    encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate(criterion=bundled.criterion))
    return bundled, encoder, labelled_items(bundled.fewshot, "pointwise")


def real_means(backbone, encoder, items, n: int = 8) -> torch.Tensor:
    """Mean last-token head outputs of a few zero-shot queries: realistic magnitudes for the replaced heads."""
    from activation_rm.fit.activations import record_heads

    return record_heads(backbone, [encoder.encode(item).ids for item, _ in items[:n]]).mean(0)


def random_mask(backbone, density: float, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(backbone.num_layers, backbone.num_heads, generator=gen) < density


# --------------------------------------------------------------------------------------------------- sections
def section_reinforce(backbone, args) -> None:
    from activation_rm.fit.selection import MaskScorer, VerdictQuery, mask_losses
    from activation_rm.forward.batching import last_token_logits, last_token_logits_shared_prefix
    from activation_rm.model.heads import Steering

    _, encoder, items = bundled_queries(backbone)
    means = real_means(backbone, encoder, items)
    yes, no = encoder.verdict_ids
    queries = [VerdictQuery(encoder.encode(item).ids, (yes, no)[v], (no, yes)[v]) for item, v in items]
    gen = torch.Generator().manual_seed(0)
    masks = torch.rand(32, backbone.num_layers, backbone.num_heads, generator=gen) < 0.27  # sigmoid(-1)
    cache = MaskScorer(backbone)
    query = queries[0]
    mask_losses(backbone, query, masks, means, cache)  # warm the cache, as every later step on this query finds it
    times = interleaved({
        "full forward per mask": lambda: last_token_logits(backbone, [query.ids] * 32, steering=Steering(masks, means)),
        "prefix encoded each step": lambda: last_token_logits_shared_prefix(backbone, query.ids, masks, means),
        "prefix cached": lambda: mask_losses(backbone, query, masks, means, cache),
    }, args.repeats)
    full = times["full forward per mask"]
    report("reinforce", query_tokens=len(query.ids), masks=32, seconds={k: round(v, 3) for k, v in times.items()},
           speedup_prefix_each_step=round(full / times["prefix encoded each step"], 1),
           speedup_prefix_cached=round(full / times["prefix cached"], 1),
           projected_600_steps_min=round(600 * times["prefix cached"] / 60, 1))


def section_rows(backbone, args) -> None:
    from activation_rm.fit.selection import MaskScorer, VerdictQuery

    _, encoder, items = bundled_queries(backbone)
    means = real_means(backbone, encoder, items)
    yes, no = encoder.verdict_ids
    query = VerdictQuery(encoder.encode(items[0][0]).ids, yes, no)
    gen = torch.Generator().manual_seed(0)
    masks = torch.rand(16, backbone.num_layers, backbone.num_heads, generator=gen) < 0.27  # sigmoid(-1)
    scorer = MaskScorer(backbone)
    scorer.logits(query.query, masks, means)  # the prefix is cached, as on every later step
    times = interleaved({
        "full vocabulary": lambda: scorer.logits(query.query, masks, means),
        "verdict rows": lambda: scorer.logits(query.query, masks, means, read_ids=[yes, no]),
    }, args.repeats)
    report("rows", query_tokens=len(query.ids), masks=16, vocabulary=backbone.model.get_output_embeddings().weight.shape[0],
           seconds={k: round(v, 3) for k, v in times.items()},
           speedup=round(times["full vocabulary"] / times["verdict rows"], 2))


def section_means(backbone, args) -> None:
    from activation_rm.fit.activations import mean_head_activations
    from activation_rm.fit.config import ContextConfig

    _, encoder, items = bundled_queries(backbone)
    variants = {f"{k} per draw": ContextConfig(n_contexts=args.contexts, queries_per_demo_set=k) for k in (1, 4)}
    times = interleaved({name: (lambda c=config: mean_head_activations(backbone, encoder, items, c))
                         for name, config in variants.items()}, args.repeats)
    report("means", contexts=args.contexts, n_shots=ContextConfig().n_shots,
           seconds={k: round(v, 2) for k, v in times.items()},
           speedup=round(times["1 per draw"] / times["4 per draw"], 2))


def section_fit(backbone, args) -> None:
    from activation_rm.apps.bundled import load_bundled
    from activation_rm.scoring.reward_model import ActivationRM

    bundled = load_bundled("short_correct")
    started = time.perf_counter()
    rm = ActivationRM.fit(backbone, bundled.fewshot, criterion=bundled.criterion, seed=0, progress=False)
    total = time.perf_counter() - started
    selection = rm.fit_info["selection"]
    report("fit", pairs=len(bundled.fewshot), steps=selection["steps"], masks_per_step=selection["masks_per_step"],
           n_contexts=rm.fit_info["contexts"]["n_contexts"], total_min=round(total / 60, 2),
           means_min=round(rm.fit_info["means_seconds"] / 60, 2),
           selection_min=round(rm.fit_info["selection_seconds"] / 60, 2), heads=int(rm.mask.sum()))


def section_auto(backbone, args) -> None:
    """fit --auto next to a default fit on the same pairs: wall time of each, and what cross-validation chose."""
    from activation_rm.apps.bundled import load_bundled
    from activation_rm.scoring.auto import fit_auto
    from activation_rm.scoring.reward_model import ActivationRM

    bundled = load_bundled(args.criterion)
    pairs = bundled.fewshot[: args.pairs]
    started = time.perf_counter()
    ActivationRM.fit(backbone, pairs, criterion=bundled.criterion, seed=0, progress=False)
    plain_s = time.perf_counter() - started
    started = time.perf_counter()
    auto = fit_auto(backbone, pairs, criterion=bundled.criterion, seed=0, progress=False)
    auto_s = time.perf_counter() - started
    info = auto.fit_info["auto"]
    report("auto", criterion=args.criterion, pairs=len(pairs), default_fit_s=round(plain_s, 1),
           auto_fit_s=round(auto_s, 1), ratio=round(auto_s / plain_s, 2), chosen=info["chosen"],
           cv_accuracy=info["cv_accuracy"], folds=info["folds"])


def section_steering(backbone, args) -> None:
    from activation_rm.forward.batching import last_token_logits, pad_batch, position_ids_from_mask
    from activation_rm.model.heads import Steering

    bundled, encoder, items = bundled_queries(backbone)
    means = real_means(backbone, encoder, items)
    seqs = [encoder.encode(item).ids for item, _ in items[: args.batch]]
    steering = Steering(random_mask(backbone, 0.25, 1), means)
    ids, mask = pad_batch(seqs, backbone.tokenizer.pad_token_id or 0, "left")

    @torch.inference_mode()
    def raw() -> None:  # the model alone: no hooks at all
        backbone.model(input_ids=ids, attention_mask=mask, position_ids=position_ids_from_mask(mask),
                       use_cache=False, logits_to_keep=1)

    big = len(seqs) * max(len(s) for s in seqs) + 1  # one batch for all variants
    runs = timings({
        "model forward (no hooks)": raw,
        "last_token_logits plain": lambda: last_token_logits(backbone, seqs, max_batch_tokens=big,
                                                             max_batch_size=len(seqs)),
        "last_token_logits steered": lambda: last_token_logits(backbone, seqs, steering=steering,
                                                               max_batch_tokens=big, max_batch_size=len(seqs)),
    }, args.repeats)
    times = {k: statistics.median(v) for k, v in runs.items()}
    fastest = {k: min(v) for k, v in runs.items()}  # contention only adds time: the minimum is the least noisy
    tokens = int(mask.sum())
    report("steering", batch=len(seqs), tokens=tokens, heads_steered=int(steering.mask.sum()),
           median_seconds={k: round(v, 3) for k, v in times.items()},
           min_seconds={k: round(v, 3) for k, v in fastest.items()},
           steered_over_plain_throughput_median=round(
               times["model forward (no hooks)"] / times["last_token_logits steered"], 3),
           steered_over_plain_throughput_min=round(
               fastest["model forward (no hooks)"] / fastest["last_token_logits steered"], 3),
           steered_over_hooked_plain_min=round(
               fastest["last_token_logits plain"] / fastest["last_token_logits steered"], 3))


def _rewardbench(limit: int | None = None) -> list[dict]:
    if not REWARDBENCH.is_file():
        raise SystemExit(f"RewardBench data not found at {REWARDBENCH}")
    rows = []
    with open(REWARDBENCH, encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def section_padding(backbone, args) -> None:
    from activation_rm.forward.batching import DEFAULT_BATCH_SIZE, DEFAULT_BATCH_TOKENS, plan_batches
    from activation_rm.judge.templates import JudgeItem, JudgeTemplate, QueryEncoder

    rows = _rewardbench(args.padding_limit)
    result = {}
    for mode in ("pointwise", "pairwise"):
        encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate(criterion="the response is helpful, honest and harmless",
                                                                 mode=mode))
        if mode == "pointwise":
            items = [JudgeItem(r["prompt"], (r[k],)) for r in rows for k in ("chosen", "rejected")]
        else:
            items = [JudgeItem(r["prompt"], (r["chosen"], r["rejected"])) for r in rows]
        lengths = [len(s) for s in encoder.encode_many(items)[0]]
        batches = plan_batches(lengths, DEFAULT_BATCH_TOKENS, DEFAULT_BATCH_SIZE)
        processed = sum(len(b) * max(lengths[i] for i in b) for b in batches)
        real = sum(lengths)
        unsorted = [list(range(i, min(i + DEFAULT_BATCH_SIZE, len(lengths))))
                    for i in range(0, len(lengths), DEFAULT_BATCH_SIZE)]
        naive = sum(len(b) * max(lengths[i] for i in b) for b in unsorted)
        result[mode] = {"queries": len(lengths), "batches": len(batches),
                        "padding_share": round(1 - real / processed, 4),
                        "padding_share_unbucketed_batches_of_32": round(1 - real / naive, 4)}
    report("padding", rewardbench_pairs=len(rows), max_batch_tokens=DEFAULT_BATCH_TOKENS, **result)


def _long_prompt(backbone, tokens: int) -> tuple[str, list[str]]:
    """A real RewardBench prompt grown to about ``tokens`` tokens, and 8 real responses (first 600 characters)."""
    rows = _rewardbench(400)
    rows.sort(key=lambda r: -len(r["prompt"]))
    text = ""
    for row in rows:
        text += row["prompt"] + "\n\n"
        if len(backbone.tokenizer(text)["input_ids"]) >= tokens:
            break
    ids = backbone.tokenizer(text)["input_ids"][:tokens]
    prompt = backbone.tokenizer.decode(ids, skip_special_tokens=True)
    responses = [r[k][:600] for r in rows[:4] for k in ("chosen", "rejected")]
    return prompt, responses


def section_shared(backbone, args) -> None:
    from activation_rm.judge.templates import JudgeItem, JudgeTemplate
    from activation_rm.scoring.reward_model import ActivationRM

    _, encoder, items = bundled_queries(backbone)
    means = real_means(backbone, encoder, items)
    rm = ActivationRM(backbone, JudgeTemplate(criterion="the response is helpful and correct"), means,
                      random_mask(backbone, 0.25, 2))
    prompt, responses = _long_prompt(backbone, args.prompt_tokens)
    prompts = [prompt] * len(responses)
    independent = ActivationRM(backbone, rm.template, means, rm.mask)
    independent.share_prompts = False
    a, b = rm.score(prompts, responses), independent.score(prompts, responses)
    lengths = [len(s) for s in rm.encoder.encode_many([JudgeItem(p, (r,)) for p, r in zip(prompts, responses)])[0]]
    times = interleaved({"independent": lambda: independent.score(prompts, responses),
                         "shared prompt": lambda: rm.score(prompts, responses)}, args.repeats)
    report("shared", responses=len(responses), prompt_tokens=args.prompt_tokens, query_tokens=lengths,
           max_abs_score_diff=float(max(abs(x - y) for x, y in zip(a, b))),
           seconds={k: round(v, 3) for k, v in times.items()},
           shared_over_independent=round(times["shared prompt"] / times["independent"], 3))


def section_criteria(backbone, args) -> None:
    from activation_rm.judge.templates import JudgeTemplate
    from activation_rm.scoring.engine import score_criteria
    from activation_rm.scoring.reward_model import ActivationRM

    bundled, encoder, items = bundled_queries(backbone)
    means = real_means(backbone, encoder, items)
    shared_text = JudgeTemplate(criterion="the preference shown by the examples")
    same = [ActivationRM(backbone, shared_text, means * (1 + 0.1 * k), random_mask(backbone, 0.25, 10 + k))
            for k in range(args.criteria)]
    own = [ActivationRM(backbone, JudgeTemplate(criterion=f"criterion {k}: {bundled.criterion}"), means,
                        random_mask(backbone, 0.25, 10 + k)) for k in range(args.criteria)]
    pairs = bundled.held_out[: args.items]
    prompts = [p.prompt for p in pairs]
    responses = [p.chosen for p in pairs]
    check = score_criteria(same, prompts, responses)
    diff = max(abs(x - y) for rm, name in zip(same, check) for x, y in zip(check[name], rm.score(prompts, responses)))
    times = interleaved({
        "1 criterion": lambda: same[0].score(prompts, responses),
        f"{args.criteria} criteria, same query text": lambda: score_criteria(same, prompts, responses),
        f"{args.criteria} criteria, own templates": lambda: score_criteria(own, prompts, responses),
    }, args.repeats)
    one = times["1 criterion"]
    report("criteria", items=len(pairs), criteria=args.criteria, max_abs_score_diff=diff,
           seconds={k: round(v, 3) for k, v in times.items()},
           **{f"{k} / 1 criterion": round(v / one, 2) for k, v in times.items() if k != "1 criterion"})


def section_baselines(backbone, args) -> None:
    import random

    from activation_rm.forward.batching import last_token_logits, pad_batch
    from activation_rm.judge.templates import JudgeItem
    from activation_rm.scoring.reward_model import ActivationRM

    bundled, encoder, items = bundled_queries(backbone)
    means = real_means(backbone, encoder, items)
    rm = ActivationRM(backbone, encoder.template, means, random_mask(backbone, 0.25, 3))
    pairs = bundled.held_out[: args.items]
    prompts, responses = [p.prompt for p in pairs], [p.chosen for p in pairs]
    judge_items = [JudgeItem(p, (r,)) for p, r in zip(prompts, responses)]
    rng = random.Random(0)
    demos = [[items[i] for i in rng.sample(range(len(items)), 8)] for _ in judge_items]
    icl = [encoder.encode_with_demos(d, item).ids for d, item in zip(demos, judge_items)]
    zero_shot = [encoder.encode(item).ids for item in judge_items]
    pad_id = backbone.tokenizer.pad_token_id or 0

    def icl_judge() -> None:
        last_token_logits(backbone, icl, read_ids=encoder.verdict_ids)

    @torch.inference_mode()
    def voting() -> None:  # k=5 sampled verdicts per item, one new token each (the cheapest possible vote)
        for start in range(0, len(zero_shot), 4):
            ids, mask = pad_batch(zero_shot[start:start + 4], pad_id, "left")
            backbone.model.generate(input_ids=ids, attention_mask=mask, do_sample=True, num_return_sequences=5,
                                    max_new_tokens=1, pad_token_id=pad_id, top_k=0, top_p=1.0)

    torch.manual_seed(0)
    times = interleaved({"activation rm": lambda: rm.score(prompts, responses), "8-shot in-context judge": icl_judge,
                         "k=5 voting (generate)": voting}, args.repeats)
    arm = times["activation rm"]
    report("baselines", items=len(pairs), zero_shot_tokens_mean=round(sum(map(len, zero_shot)) / len(zero_shot)),
           icl_tokens_mean=round(sum(map(len, icl)) / len(icl)), seconds={k: round(v, 3) for k, v in times.items()},
           arm_over_8shot=round(arm / times["8-shot in-context judge"], 3),
           arm_over_vote5=round(arm / times["k=5 voting (generate)"], 3))


SECTIONS = {"reinforce": section_reinforce, "rows": section_rows, "means": section_means, "fit": section_fit, "steering": section_steering,
            "padding": section_padding, "shared": section_shared, "criteria": section_criteria,
            "baselines": section_baselines, "auto": section_auto}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="+", choices=sorted(SECTIONS))
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a shared, contended CPU more threads measured far slower)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16, help="steering: sequences per batch")
    parser.add_argument("--items", type=int, default=8, help="criteria/baselines: items scored")
    parser.add_argument("--criteria", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--criterion", default="short_correct", help="auto: bundled criterion to fit")
    parser.add_argument("--pairs", type=int, default=20, help="auto: few-shot pairs")
    parser.add_argument("--padding-limit", type=int, default=None, help="RewardBench pairs for the padding share")
    parser.add_argument("--contexts", type=int, default=12, help="means: averaging contexts per variant")
    parser.add_argument("--backbone", default=None, help="HF id, directory, .gguf path or a benchmarks/backbones.py "
                        "name (default: the embedded model)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from activation_rm.model.backbone import load_backbone

    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs ({platform.processor() or 'cpu'}), torch "
          f"{torch.__version__}, {args.threads} thread(s), load average {os.getloadavg()[0]:.1f}", flush=True)
    from backbones import resolve_backbone

    backbone = None if args.sections == ["padding"] else load_backbone(resolve_backbone(args.backbone), device="cpu")
    if backbone is None:
        from transformers import AutoTokenizer

        from activation_rm.model.backbone import embedded_model_path

        path = embedded_model_path()

        class _TokenizerOnly:
            tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)

        backbone = _TokenizerOnly()
    for name in args.sections:
        started = time.perf_counter()
        SECTIONS[name](backbone, args)
        print(f"# {name} took {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
