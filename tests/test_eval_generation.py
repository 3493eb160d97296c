"""activation_rm.eval.generation: single-sequence passes that keep a KV cache (shared few-shot prefixes), short
verdict generation on it, and verdict parsing."""

import pytest
import torch
from tiny import greedy_reference

from activation_rm.eval.generation import (
    PrefixRunner,
    crop_to,
    extend,
    generate_verdicts,
    parse_verdict,
)
from activation_rm.forward.batching import last_token_logits


@pytest.mark.parametrize("text,expected", [("A", 0), (" B.", 1), ("**A**", 0), ("Response B", 1), ("answer: a", 0),
                                           ("a good one", None), ("Both", None), ("", None), ("Bee", None)])
def test_parse_pairwise(text, expected):
    assert parse_verdict(text, ("A", "B")) == expected


def test_parse_pointwise():
    assert parse_verdict(" Yes, it does", ("Yes", "No")) == 0
    assert parse_verdict("no.", ("Yes", "No")) == 1
    assert parse_verdict("Maybe", ("Yes", "No")) is None


def test_prefix_runner_matches_full_pass(llama_backbone):
    seqs = [[5, 6, 7, 8, 9, 10, 11], [5, 6, 7, 8, 12, 13], [5, 6, 7, 8, 20]]
    runner = PrefixRunner(llama_backbone, [5, 6, 7, 8])
    for seq in seqs:
        logits, _ = runner.run(seq)
        full = last_token_logits(llama_backbone, [seq]).logits[0]
        torch.testing.assert_close(logits, full, atol=1e-4, rtol=1e-4)
    assert runner.reused == 3 and runner.full == 0
    runner.run([1, 2, 3])
    assert runner.full == 1


def test_generation_is_seeded_and_leaves_cache(llama_backbone):
    ids = [5, 6, 7, 8, 9]
    logits, cache = extend(llama_backbone, ids)
    a = generate_verdicts(llama_backbone, logits, cache, len(ids), n_samples=3, seed=1)
    assert cache.get_seq_length() == len(ids)
    b = generate_verdicts(llama_backbone, logits, cache, len(ids), n_samples=3, seed=1)
    assert a == b and len(a.samples) == 3



def test_extend_continues_a_cache_exactly_and_crop_rewinds_it(llama_backbone):
    ids = [5, 6, 7, 8, 9, 10]
    whole, _ = extend(llama_backbone, ids)
    head, cache = extend(llama_backbone, ids[:4])
    tail, cache = extend(llama_backbone, ids[4:], cache, 4)
    torch.testing.assert_close(tail, whole, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(head, last_token_logits(llama_backbone, [ids[:4]]).logits[0], rtol=1e-4, atol=1e-5)
    crop_to(cache, 4)
    assert cache.get_seq_length() == 4
    again, _ = extend(llama_backbone, ids[4:], cache, 4)
    torch.testing.assert_close(again, whole, rtol=1e-4, atol=1e-5)


def test_greedy_verdict_equals_a_plain_greedy_loop(llama_backbone):
    for ids in ([5, 6, 7, 8, 9], [20, 21, 22], list(range(30, 60))):
        logits, cache = extend(llama_backbone, ids)
        for budget in (1, 4):
            got = generate_verdicts(llama_backbone, logits, cache, len(ids), max_new_tokens=budget)
            assert got.greedy == greedy_reference(llama_backbone, ids, budget) and got.samples == []
