"""activation_rm.forward.shared_prefix, exactness of the shared-work paths: shared prompts and many criteria give
what the plain path gives."""

import pytest
import torch
from tiny import QA_PROMPTS, QA_RESPONSES, VOCAB, random_rm, tiny_backbone

from activation_rm.forward.batching import last_token_logits
from activation_rm.forward.shared_prefix import (
    common_prefix_length,
    multi_steering_logits,
    shared_prompt_logits,
)
from activation_rm.judge.templates import JudgeItem, JudgeTemplate
from activation_rm.model.heads import Steering
from activation_rm.scoring.engine import score_criteria

FAMILIES = ["llama", "qwen2", "gemma", "gemma2", "gpt2", "gpt_neox"]
TOL = dict(rtol=1e-4, atol=1e-4)


def _tokens(n, seed):
    return torch.randint(5, VOCAB, (n,), generator=torch.Generator().manual_seed(seed)).tolist()


def _steering(backbone, seed, batch=None):
    gen = torch.Generator().manual_seed(seed)
    shape = (backbone.num_layers, backbone.num_heads)
    mask = torch.rand(*((batch,) if batch else ()), *shape, generator=gen) < 0.4
    values = torch.randn(*((batch,) if batch else ()), *shape, backbone.head_dim, generator=gen) * 2
    return Steering(mask, values)


def _prompt_groups():
    """Two prompts with 3 and 2 responses of different lengths, plus a query with a prompt of its own."""
    p1, p2, p3 = _tokens(40, 1), _tokens(37, 2), _tokens(30, 3)
    seqs = [p1 + _tokens(n, 10 + n) for n in (5, 12, 1)] + [p2 + _tokens(n, 20 + n) for n in (9, 3)]
    seqs.append(p3 + _tokens(4, 30))
    keys = ["p1", "p1", "p1", "p2", "p2", "p3"]
    order = [3, 0, 5, 1, 4, 2]  # interleave the groups: results must come back in input order
    return [seqs[i] for i in order], [keys[i] for i in order]


def test_cacheable_prefix_length_leaves_every_sequence_its_last_token():
    from activation_rm.forward.shared_prefix import cacheable_prefix_length

    assert cacheable_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5]]) == 3
    assert cacheable_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2  # the shorter one keeps its last token
    assert cacheable_prefix_length([[5, 6]]) == 1
    assert cacheable_prefix_length([[1], [2, 3]]) == 0


def test_common_prefix_length():
    assert common_prefix_length([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert common_prefix_length([[1], [2]]) == 0
    assert common_prefix_length([[5, 6]]) == 2
    assert [common_prefix_length(pair) for pair in (([1, 2, 3], [1, 2, 4]), ([5, 6], [5, 6, 7]), ([], [1]))] \
        == [2, 2, 0]


@pytest.mark.parametrize("family", FAMILIES)
def test_shared_prompts_equal_plain_path(family):
    backbone = tiny_backbone(family)
    seqs, keys = _prompt_groups()
    steering = _steering(backbone, 0)
    read = [10, 11, 12]
    plain = last_token_logits(backbone, seqs, read_ids=read, steering=steering).logits
    shared = shared_prompt_logits(backbone, seqs, keys, read_ids=read, steering=steering, min_shared=8).logits
    torch.testing.assert_close(shared, plain, **TOL)
    # a tiny token budget forces one prefix per batch and one suffix per chunk: still the same
    small = shared_prompt_logits(backbone, seqs, keys, read_ids=read, steering=steering, min_shared=8,
                                 max_batch_tokens=40).logits
    torch.testing.assert_close(small, plain, **TOL)


def test_shared_prompts_per_sequence_steering_and_full_vocab():
    backbone = tiny_backbone("llama")
    seqs, keys = _prompt_groups()
    steering = _steering(backbone, 4, batch=len(seqs))
    plain = last_token_logits(backbone, seqs, steering=steering).logits
    shared = shared_prompt_logits(backbone, seqs, keys, steering=steering, min_shared=8).logits
    assert shared.shape == (len(seqs), VOCAB)
    torch.testing.assert_close(shared, plain, **TOL)


def test_short_shared_part_takes_plain_path(monkeypatch):
    import activation_rm.forward.shared_prefix as multi

    backbone = tiny_backbone("llama")
    seqs, keys = _prompt_groups()
    monkeypatch.setattr(multi, "run_prefix_groups", lambda *a, **k: pytest.fail("shared path used"))
    out = shared_prompt_logits(backbone, seqs, keys, read_ids=[3], min_shared=1000).logits
    torch.testing.assert_close(out, last_token_logits(backbone, seqs, read_ids=[3]).logits, **TOL)


@pytest.mark.parametrize("family", ["llama", "qwen2", "gemma2", "gpt2"])
def test_many_steerings_on_identical_queries_equal_separate_passes(family):
    backbone = tiny_backbone(family)
    items = [_tokens(n, 40 + n) for n in (17, 33, 9, 25)]
    steerings = [_steering(backbone, k) for k in range(3)] + [None]
    reads = [[10, 11], [12, 13], [10, 14], [15, 16]]
    multi = multi_steering_logits(backbone, [[q] * 4 for q in items], steerings, read_ids=reads, min_shared=4)
    assert multi.shape == (4, 4, 2)
    for k, steering in enumerate(steerings):
        alone = last_token_logits(backbone, items, read_ids=reads[k], steering=steering).logits
        torch.testing.assert_close(multi[:, k], alone, **TOL)


def test_many_steerings_on_different_queries_share_only_their_common_start():
    backbone = tiny_backbone("qwen2")
    head = _tokens(12, 50)
    items = [[head + _tokens(5 + k + n, 60 + 7 * n + k) for k in range(3)] for n in range(3)]
    steerings = [_steering(backbone, 10 + k) for k in range(3)]
    multi = multi_steering_logits(backbone, items, steerings, read_ids=[[20, 21]] * 3, min_shared=4,
                                  max_batch_tokens=64)
    for k, steering in enumerate(steerings):
        alone = last_token_logits(backbone, [q[k] for q in items], read_ids=[20, 21], steering=steering).logits
        torch.testing.assert_close(multi[:, k], alone, **TOL)


def test_oom_while_extending_splits_and_says_so(monkeypatch, caplog):
    import activation_rm.forward.shared_prefix as multi

    backbone = tiny_backbone("llama")
    seqs, keys = _prompt_groups()
    real = multi.extend_cache
    sizes = []

    def flaky(backbone, cache, mask, lengths, rows, suffixes, **kwargs):
        sizes.append(len(suffixes))
        if len(suffixes) > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(backbone, cache, mask, lengths, rows, suffixes, **kwargs)

    monkeypatch.setattr(multi, "extend_cache", flaky)
    out = shared_prompt_logits(backbone, seqs, keys, read_ids=[3, 4], min_shared=8).logits
    torch.testing.assert_close(out, last_token_logits(backbone, seqs, read_ids=[3, 4]).logits, **TOL)
    assert max(sizes) > 1 and "splitting" in caplog.text


def test_reward_model_score_and_compare_use_shared_prompts_exactly():
    backbone = tiny_backbone("llama")
    rm = random_rm(backbone, "the answer is correct", 5)
    plain = random_rm(backbone, "the answer is correct", 5)
    plain.share_prompts = False
    prompts = ["What is two plus two? " * 6] * 3 + ["The capital of France?"]
    responses = ["Four.", "It is 5.", "the quick brown fox", "Paris."]
    torch.testing.assert_close(torch.tensor(rm.score(prompts, responses)),
                               torch.tensor(plain.score(prompts, responses)), rtol=1e-5, atol=1e-5)
    fast = rm.compare(prompts, responses, responses[::-1])
    slow = plain.compare(prompts, responses, responses[::-1])
    assert [c.preferred for c in fast] == [c.preferred for c in slow]
    torch.testing.assert_close(torch.tensor([c.score_a for c in fast]), torch.tensor([c.score_a for c in slow]),
                               rtol=1e-5, atol=1e-5)


def test_what_is_shared_depends_on_the_query_text(monkeypatch):
    """Same query text: every criterion runs only the last token. Default templates (criterion first): the rest of
    the query after the chat header runs once per criterion."""
    import activation_rm.forward.shared_prefix as multi

    backbone = tiny_backbone("llama")
    suffixes = []
    real = multi.extend_cache

    def spy(backbone, cache, mask, lengths, rows, batch_suffixes, **kwargs):
        suffixes.extend(len(s) for s in batch_suffixes)
        return real(backbone, cache, mask, lengths, rows, batch_suffixes, **kwargs)

    monkeypatch.setattr(multi, "extend_cache", spy)
    shared_text = JudgeTemplate(criterion="the preference shown in the examples")
    score_criteria([random_rm(backbone, "x", k, shared_text) for k in range(3)], QA_PROMPTS, QA_RESPONSES)
    assert suffixes == [1] * 9
    suffixes.clear()
    rms = [random_rm(backbone, f"criterion number {k} is about correctness", k) for k in range(3)]
    score_criteria(rms, QA_PROMPTS, QA_RESPONSES, min_shared=4)
    query = len(rms[0].encoder.encode(JudgeItem(QA_PROMPTS[0], (QA_RESPONSES[0],))).ids)
    assert len(suffixes) == 9 and min(suffixes) > 1 and max(suffixes) < query
