"""Scoring memory is bounded by the per-batch token budget, never by the size of the dataset."""

import json

import torch
from tiny import VOCAB, tiny_backbone

import activation_rm.forward.batching as batching
import activation_rm.forward.shared_prefix as multi
from activation_rm.model.heads import Steering
from activation_rm.scoring.streaming import run_jsonl_job


def _seqs(lengths, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(5, VOCAB, (n,), generator=gen).tolist() for n in lengths]


def test_every_forward_batch_stays_under_the_token_budget(monkeypatch):
    backbone = tiny_backbone("llama")
    seqs = _seqs([5, 60, 33, 17, 48, 9, 26, 41, 12, 55])
    seen = []
    real = batching._run_batch

    def spy(backbone, batch, *args):
        seen.append(len(batch) * max(len(s) for s in batch))
        return real(backbone, batch, *args)

    monkeypatch.setattr(batching, "_run_batch", spy)
    batching.last_token_logits(backbone, seqs, read_ids=[1], max_batch_tokens=100)
    assert len(seen) > 1 and max(seen) <= 100


def test_shared_paths_count_cache_rows_against_the_budget(monkeypatch):
    backbone = tiny_backbone("llama")
    prompt = _seqs([30], seed=1)[0]
    seqs = [prompt + s for s in _seqs([3, 9, 4, 12, 6, 8], seed=2)]
    prefix_sizes, extend_sizes = [], []
    real_encode, real_extend = multi.encode_prefixes, multi.extend_cache

    def encode_spy(backbone, prefixes):
        prefix_sizes.append(len(prefixes) * max(len(p) for p in prefixes))
        return real_encode(backbone, prefixes)

    def extend_spy(backbone, cache, mask, lengths, rows, suffixes, **kwargs):
        extend_sizes.append(len(suffixes) * (mask.shape[1] + max(len(s) for s in suffixes)))
        return real_extend(backbone, cache, mask, lengths, rows, suffixes, **kwargs)

    monkeypatch.setattr(multi, "encode_prefixes", encode_spy)
    monkeypatch.setattr(multi, "extend_cache", extend_spy)
    multi.shared_prompt_logits(backbone, seqs, ["p"] * len(seqs), read_ids=[1], max_batch_tokens=90, min_shared=8)
    assert len(extend_sizes) > 1 and max(extend_sizes) <= 90 and max(prefix_sizes) <= 90
    extend_sizes.clear()
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim)
    steerings = [Steering(torch.rand(backbone.num_layers, backbone.num_heads) < 0.5, values) for _ in range(4)]
    multi.multi_steering_logits(backbone, [[s] * 4 for s in seqs], steerings, read_ids=[[1, 2]] * 4,
                                max_batch_tokens=120, min_shared=8)
    assert len(extend_sizes) > 1 and max(extend_sizes) <= 120


def test_scoring_a_file_streams_in_chunks(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"p{i}", "response": f"r{i}"}) + "\n" for i in range(40)))
    chunks = []

    def parse(path, number, record):
        return record["prompt"], record["response"]

    def score(chunk):
        # earlier chunks are already on disk: nothing accumulates in memory between chunks
        written = out.read_text().count("\n") if out.exists() else 0
        chunks.append((len(chunk), written))
        return [{"score": 0.5} for _ in chunk]

    stats = run_jsonl_job(src, out, parse, score, chunk_size=8)
    assert stats.scored == 40 and chunks == [(8, 8 * k) for k in range(5)]
