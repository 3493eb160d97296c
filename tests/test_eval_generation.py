"""activation_rm.eval.generation: short verdict generation on a query's KV cache, and verdict parsing."""

import pytest
from tiny import greedy_reference

from activation_rm.eval.generation import generate_verdicts, parse_verdict
from activation_rm.forward.batching import extend_sequence


@pytest.mark.parametrize("text,expected", [("A", 0), (" B.", 1), ("**A**", 0), ("Response B", 1), ("answer: a", 0),
                                           ("a good one", None), ("Both", None), ("", None), ("Bee", None)])
def test_parse_pairwise(text, expected):
    assert parse_verdict(text, ("A", "B")) == expected


def test_parse_pointwise():
    assert parse_verdict(" Yes, it does", ("Yes", "No")) == 0
    assert parse_verdict("no.", ("Yes", "No")) == 1
    assert parse_verdict("Maybe", ("Yes", "No")) is None


def test_generation_is_seeded_and_leaves_cache(llama_backbone):
    ids = [5, 6, 7, 8, 9]
    logits, cache = extend_sequence(llama_backbone, ids)
    a = generate_verdicts(llama_backbone, logits, cache, len(ids), n_samples=3, seed=1)
    assert cache.get_seq_length() == len(ids)
    b = generate_verdicts(llama_backbone, logits, cache, len(ids), n_samples=3, seed=1)
    assert a == b and len(a.samples) == 3


def test_greedy_verdict_equals_a_plain_greedy_loop(llama_backbone):
    for ids in ([5, 6, 7, 8, 9], [20, 21, 22], list(range(30, 60))):
        logits, cache = extend_sequence(llama_backbone, ids)
        for budget in (1, 4):
            got = generate_verdicts(llama_backbone, logits, cache, len(ids), max_new_tokens=budget)
            assert got.greedy == greedy_reference(llama_backbone, ids, budget) and got.samples == []
