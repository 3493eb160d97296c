"""GPU cost ratios on a random-weight Qwen2.5-7B-shaped model in bf16 (built from a config: nothing is downloaded).

One short script for one H100/H200: plain vs steered forward throughput (and TFLOP/s) at batch 16 x 1024, one
REINFORCE step three ways (one full forward per mask / prefix encoded each step / prefix cached), 8 responses
sharing one 512-token prompt vs independent scoring, and 8 criteria in one pass vs 1. Variants are interleaved
and each figure is the median of ``--repeats``; every shared path is also checked against the plain path.

    python benchmarks/gpu.py                # on the GPU (not run yet: no GPU was available when it was written)
    python benchmarks/gpu.py --tiny         # a tiny model of the same family on the CPU: checks the script runs
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import torch


class _Tokenizer:
    """What the library needs of a tokenizer when it is given token ids: a pad id and a vocabulary to hash."""

    pad_token_id = 0
    eos_token = None
    chat_template = None

    def get_vocab(self) -> dict[str, int]:
        return {}


def build_backbone(tiny: bool, device: str, bf16: bool = False):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from activation_rm.model.backbone import Backbone

    if tiny:
        config = Qwen2Config(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096)
        dtype = torch.bfloat16 if bf16 else torch.float32
    else:  # Qwen2.5-7B-Instruct's shape
        config = Qwen2Config(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                             num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=32768,
                             rope_theta=1_000_000.0, rms_norm_eps=1e-6, tie_word_embeddings=False)
        dtype = torch.bfloat16
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # initialise straight in bf16: no 30 GB float32 copy of the 7B model
    try:
        with torch.device(device):
            model = Qwen2ForCausalLM(config).to(dtype)
    finally:
        torch.set_default_dtype(previous)
    return Backbone.from_model(model, _Tokenizer(), name="random Qwen2.5-7B shape" if not tiny else "tiny qwen2")


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def interleaved(variants: dict[str, Callable[[], object]], repeats: int, device: str) -> dict[str, float]:
    names = list(variants)
    for name in names:  # warm-up (kernels, allocator)
        variants[name]()
    times: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(repeats):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            sync(device)
            started = time.perf_counter()
            variants[name]()
            sync(device)
            times[name].append(time.perf_counter() - started)
    return {n: statistics.median(t) for n, t in times.items()}


def report(section: str, **values: object) -> None:
    print(f"RESULT {section} " + json.dumps(values), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny model on the CPU, small shapes (a smoke run)")
    parser.add_argument("--bf16", action="store_true", help="with --tiny: bf16 weights, as on the GPU")
    parser.add_argument("--device", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = args.device or ("cpu" if args.tiny else "cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --tiny on the CPU")
    from activation_rm.fit.selection import MaskScorer, VerdictQuery, mask_losses
    from activation_rm.forward.batching import last_token_logits, last_token_logits_shared_prefix
    from activation_rm.forward.shared_prefix import multi_steering_logits, shared_prompt_logits
    from activation_rm.model.heads import Steering

    started = time.perf_counter()
    backbone = build_backbone(args.tiny, device, args.bf16)
    model = backbone.model
    card = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    params = sum(p.numel() for p in model.parameters())
    print(f"device: {card}; model: {backbone.name}, {params / 1e9:.2f} B params, {backbone.dtype}, "
          f"{backbone.num_layers} layers x {backbone.num_heads} heads; built in {time.perf_counter() - started:.0f} s",
          flush=True)
    config = model.config
    vocab, hidden, layers = config.vocab_size, config.hidden_size, config.num_hidden_layers
    batch, seq_len = (4, 64) if args.tiny else (16, 1024)
    gen = torch.Generator().manual_seed(0)
    shape = (backbone.num_layers, backbone.num_heads)
    means = torch.randn(*shape, backbone.head_dim, generator=gen)
    mask = torch.rand(*shape, generator=gen) < 0.25

    def tokens(n: int) -> list[int]:
        return torch.randint(10, vocab, (n,), generator=gen).tolist()

    # 1. plain vs steered throughput at batch x seq_len --------------------------------------------------------------
    seqs = [tokens(seq_len) for _ in range(batch)]
    ids = torch.tensor(seqs, device=device)
    budget = batch * seq_len
    steering = Steering(mask, means)

    @torch.inference_mode()
    def raw() -> None:
        model(input_ids=ids, use_cache=False, logits_to_keep=1)

    times = interleaved({
        "model forward (no hooks)": raw,
        "plain (hooks, no steering)": lambda: last_token_logits(backbone, seqs, max_batch_tokens=budget,
                                                                max_batch_size=batch),
        "steered": lambda: last_token_logits(backbone, seqs, steering=steering, max_batch_tokens=budget,
                                             max_batch_size=batch),
    }, args.repeats, device)
    non_embedding = params - 2 * vocab * hidden  # input embedding and lm_head (run at one position only)
    flops = 2 * non_embedding * batch * seq_len + 2 * layers * batch * seq_len * seq_len * hidden
    report("throughput", batch=batch, seq_len=seq_len, heads_steered=int(mask.sum()),
           seconds={k: round(v, 4) for k, v in times.items()},
           tokens_per_s={k: round(batch * seq_len / v) for k, v in times.items()},
           tflops={k: round(flops / v / 1e12, 1) for k, v in times.items()},
           steered_over_plain_throughput=round(times["model forward (no hooks)"] / times["steered"], 3),
           steered_over_hooked_plain=round(times["plain (hooks, no steering)"] / times["steered"], 3))

    # 2. one REINFORCE step (32 masks on one query) three ways ------------------------------------------------------
    query_len = 64 if args.tiny else 512
    query = VerdictQuery(tokens(query_len), 11, 12)
    masks = torch.rand(32, *shape, generator=gen) < 0.27
    cache = MaskScorer(backbone)
    cached = mask_losses(backbone, query, masks, means, cache)
    full_logits = last_token_logits(backbone, [query.ids] * 32, steering=Steering(masks, means),
                                    max_batch_tokens=32 * query_len).logits
    full_losses = torch.nn.functional.cross_entropy(full_logits, torch.full((32,), query.target), reduction="none")
    times = interleaved({
        "full forward per mask": lambda: last_token_logits(backbone, [query.ids] * 32, steering=Steering(masks, means),
                                                           max_batch_tokens=32 * query_len),
        "prefix encoded each step": lambda: last_token_logits_shared_prefix(backbone, query.ids, masks, means),
        "prefix cached": lambda: mask_losses(backbone, query, masks, means, cache),
    }, args.repeats, device)
    full = times["full forward per mask"]
    report("reinforce_step", query_tokens=query_len, masks=32, ms={k: round(v * 1000, 1) for k, v in times.items()},
           speedup_prefix_each_step=round(full / times["prefix encoded each step"], 1),
           speedup_prefix_cached=round(full / times["prefix cached"], 1),
           max_abs_loss_diff=round(float((cached - full_losses).abs().max()), 4))

    # 3. 8 responses to one 512-token prompt --------------------------------------------------------------------------
    prompt_len, response_len = (64, 16) if args.tiny else (512, 128)
    prompt = tokens(prompt_len)
    group = [prompt + tokens(response_len + 8 * k) for k in range(8)]
    read = [11, 12]
    plain = last_token_logits(backbone, group, read_ids=read, steering=steering).logits
    shared = shared_prompt_logits(backbone, group, ["p"] * 8, read_ids=read, steering=steering).logits
    times = interleaved({
        "independent": lambda: last_token_logits(backbone, group, read_ids=read, steering=steering),
        "shared prompt": lambda: shared_prompt_logits(backbone, group, ["p"] * 8, read_ids=read, steering=steering),
    }, args.repeats, device)
    report("shared_prompt", prompt_tokens=prompt_len, responses=8, ms={k: round(v * 1000, 1) for k, v in times.items()},
           shared_over_independent=round(times["shared prompt"] / times["independent"], 3),
           max_abs_logit_diff=round(float((shared - plain).abs().max()), 4))

    # 4. 8 criteria in one pass vs 1 ----------------------------------------------------------------------------------
    items = [tokens(query_len) for _ in range(batch)]
    steerings = [Steering(torch.rand(*shape, generator=gen) < 0.25, means * (1 + 0.1 * k)) for k in range(8)]
    together = multi_steering_logits(backbone, [[q] * 8 for q in items], steerings, read_ids=[read] * 8)
    alone = last_token_logits(backbone, items, read_ids=read, steering=steerings[3]).logits
    times = interleaved({
        "1 criterion": lambda: last_token_logits(backbone, items, read_ids=read, steering=steerings[0]),
        "8 criteria, one pass": lambda: multi_steering_logits(backbone, [[q] * 8 for q in items], steerings,
                                                              read_ids=[read] * 8),
    }, args.repeats, device)
    report("criteria", items=batch, query_tokens=query_len, ms={k: round(v * 1000, 1) for k, v in times.items()},
           eight_over_one=round(times["8 criteria, one pass"] / times["1 criterion"], 3),
           max_abs_logit_diff=round(float((together[:, 3] - alone).abs().max()), 4))
    if device.startswith("cuda"):
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB", flush=True)
    print(f"total {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
