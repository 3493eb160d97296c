"""bfloat16 vs float32 on the embedded model: speed of the three kinds of forward pass, and score agreement.

Both dtypes run interleaved in one process, so machine noise hits them alike; the ratio is what to read.
    python benchmarks/dtype.py --repeats 5
"""

from __future__ import annotations

import argparse
import time

import torch

from activation_rm import load_backbone
from activation_rm.apps.bundled import load_bundled
from activation_rm.forward.batching import encode_prefix, last_token_logits, last_token_logits_from_prefix
from activation_rm.judge.templates import JudgeTemplate, QueryEncoder, labelled_items


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    backbones = {name: load_backbone(dtype=name, device="cpu") for name in ("float32", "bfloat16")}
    bundled = load_bundled("short_correct")
    encoder = QueryEncoder(backbones["float32"].tokenizer, JudgeTemplate(criterion=bundled.criterion))
    items = labelled_items(bundled.held_out, "pointwise")
    seqs = [encoder.encode(item).ids for item, _ in items]
    bb = backbones["float32"]
    means = torch.randn(bb.num_layers, bb.num_heads, bb.head_dim) * 0.1
    masks = torch.rand(32, bb.num_layers, bb.num_heads, generator=torch.Generator().manual_seed(0)) < 0.25
    timings: dict[str, dict[str, float]] = {n: {"prefix": 0.0, "32 masks": 0.0, "score 80": 0.0} for n in backbones}
    for _ in range(args.repeats):
        for name, backbone in backbones.items():
            t = time.perf_counter()
            prefix = encode_prefix(backbone, seqs[0])
            timings[name]["prefix"] += time.perf_counter() - t
            t = time.perf_counter()
            last_token_logits_from_prefix(backbone, prefix, masks, means)
            timings[name]["32 masks"] += time.perf_counter() - t
    for name, backbone in backbones.items():
        t = time.perf_counter()
        out = last_token_logits(backbone, seqs, read_ids=encoder.verdict_ids)
        timings[name]["score 80"] = (time.perf_counter() - t) * args.repeats
        timings[name]["p_yes"] = torch.softmax(out.logits.double(), -1)[:, 0]
    print(f"{'pass':<10} {'float32 s':>10} {'bfloat16 s':>11} {'fp32/bf16':>10}")
    for key in ("prefix", "32 masks", "score 80"):
        f, b = timings["float32"][key] / args.repeats, timings["bfloat16"][key] / args.repeats
        print(f"{key:<10} {f:>10.3f} {b:>11.3f} {f / b:>10.2f}")
    diff = (timings["float32"]["p_yes"] - timings["bfloat16"]["p_yes"]).abs()
    print(f"P(Yes) |fp32 - bf16|: mean {diff.mean():.4f}, max {diff.max():.4f} over {len(seqs)} queries")


if __name__ == "__main__":
    main()
