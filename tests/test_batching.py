"""activation_rm.forward.batching: planning and padding batches, the batched last-token pass (text and
vision-language backbones alike), the shared-prefix paths and out-of-memory splitting."""

import pytest
import torch
from tiny import VOCAB, tiny_backbone
from tiny_vision import FAMILIES as VISION_FAMILIES
from tiny_vision import mixed_items, tiny_vision_backbone, vision_encoder

from activation_rm.forward.batching import (
    PrefixRunner,
    crop_cache,
    encode_prefix,
    extend_sequence,
    last_token_logits,
    last_token_logits_from_prefix,
    last_token_logits_shared_prefix,
    pad_batch,
    plan_batches,
)
from activation_rm.judge.templates import JudgeItem
from activation_rm.judge.vision import MROPE_FAMILIES
from activation_rm.model.heads import Steering


def _seqs(lengths, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(5, VOCAB, (n,), generator=gen).tolist() for n in lengths]


def test_plan_batches_respects_token_budget_and_covers_all():
    lengths = [5, 100, 7, 98, 6, 50]
    batches = plan_batches(lengths, max_batch_tokens=200, max_batch_size=8)
    assert sorted(i for b in batches for i in b) == list(range(6))
    for batch in batches:
        assert len(batch) * max(lengths[i] for i in batch) <= 200 or len(batch) == 1


def test_pad_batch_sides():
    ids, mask = pad_batch([[7, 8], [9]], 0, "left")
    assert ids.tolist() == [[7, 8], [0, 9]] and mask.tolist() == [[1, 1], [0, 1]]
    ids, mask = pad_batch([[7, 8], [9]], 0, "right")
    assert ids.tolist() == [[7, 8], [9, 0]] and mask.tolist() == [[1, 1], [1, 0]]


def _queries_of_many_lengths(family):
    """A backbone, queries of different lengths and the ids to read: token ids on a text model; on a
    vision-language one, encoded judge items with different image sizes and counts and a text-only item."""
    if family in VISION_FAMILIES:
        backbone = tiny_vision_backbone(family)
        encoder = vision_encoder(backbone)
        queries, _ = encoder.encode_many(mixed_items())
        assert len({len(q) for q in queries}) == len(queries)
        assert [q.has_images for q in queries] == [True, False, True, True]
        return backbone, queries, encoder.verdict_ids
    return tiny_backbone(family), _seqs([9, 23, 4, 15, 31]), [10, 11, 12]


@pytest.mark.parametrize("family", ["llama", "qwen2", "gemma", "gpt2", *VISION_FAMILIES])
def test_scores_do_not_depend_on_batch_size_or_padding_side(family):
    """Batched, padded on either side (vision-language backbones always pad right) or in batches of two, each
    query's logits and recorded heads equal running it alone, with and without steering."""
    backbone, queries, read = _queries_of_many_lengths(family)
    generator = torch.Generator().manual_seed(0)
    mask = torch.rand(backbone.num_layers, backbone.num_heads, generator=generator) < 0.5
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=generator)
    results = []
    for steering in (None, Steering(mask, values)):
        alone = [last_token_logits(backbone, [q], read_ids=read, steering=steering, record=True) for q in queries]
        single = torch.cat([out.logits for out in alone])
        single_heads = torch.cat([out.heads for out in alone])
        results.append(single)
        for options in ({"padding_side": "left"}, {"padding_side": "right"}, {"max_batch_size": 2}):
            batched = last_token_logits(backbone, queries, read_ids=read, steering=steering, record=True, **options)
            torch.testing.assert_close(batched.logits, single, rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(batched.heads, single_heads, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(results[0], results[1])  # the replacement reaches the logits


@pytest.mark.parametrize("family", ["llama", "qwen2", "gemma", "gpt2", "gpt_neox"])
def test_shared_prefix_equals_full_passes(family):
    backbone = tiny_backbone(family)
    (seq,) = _seqs([17])
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim) * 2
    masks = torch.rand(5, backbone.num_layers, backbone.num_heads, generator=torch.Generator().manual_seed(1)) < 0.4
    shared = last_token_logits_shared_prefix(backbone, seq, masks, values, chunk=2)
    full = torch.cat([last_token_logits(backbone, [seq], steering=Steering(m, values)).logits for m in masks])
    torch.testing.assert_close(shared, full, rtol=1e-4, atol=1e-4)
    per_sequence = last_token_logits(backbone, [seq] * 5, steering=Steering(masks, values)).logits
    torch.testing.assert_close(per_sequence, full, rtol=1e-4, atol=1e-4)


def test_record_returns_heads_in_input_order():
    backbone = tiny_backbone("llama")
    seqs = _seqs([12, 3, 8])
    out = last_token_logits(backbone, seqs, read_ids=[1], record=True)
    alone = last_token_logits(backbone, [seqs[1]], read_ids=[1], record=True)
    assert out.heads.shape == (3, 3, 4, 16)
    torch.testing.assert_close(out.heads[1], alone.heads[0], rtol=1e-4, atol=1e-5)


def test_oom_splits_and_retries(monkeypatch, caplog):
    import activation_rm.forward.batching as batching

    backbone = tiny_backbone("llama")
    seqs = _seqs([5, 6, 7, 8])
    real = batching._run_batch
    calls = []

    def flaky(backbone, seqs, *args):
        calls.append(len(seqs))
        if len(seqs) > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(backbone, seqs, *args)

    monkeypatch.setattr(batching, "_run_batch", flaky)
    out = last_token_logits(backbone, seqs, read_ids=[3])
    monkeypatch.setattr(batching, "_run_batch", real)
    expected = last_token_logits(backbone, seqs, read_ids=[3])
    torch.testing.assert_close(out.logits, expected.logits, rtol=1e-4, atol=1e-5)
    assert calls[0] == 4 and "splitting" in caplog.text


# ------------------------------------------------------------------------------- vision-language backbones
def test_shared_prefix_path_equals_full_forward_passes(vision_backbone):
    """The REINFORCE path: the prefix (images included) encoded once, the last token run per mask, with the
    M-RoPE position of that token from the model's rope index on Qwen2-VL."""
    from activation_rm.fit.selection import MaskScorer

    backbone = vision_backbone
    full_passes = MaskScorer(backbone, shared_prefix=False)
    encoder = vision_encoder(backbone)
    generator = torch.Generator().manual_seed(2)
    masks = torch.rand(5, backbone.num_layers, backbone.num_heads, generator=generator) < 0.5
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=generator)
    compressed = []
    for item in mixed_items():
        query = encoder.encode(item)
        prefix = encode_prefix(backbone, query)
        assert (prefix.position is not None) == (backbone.model.config.model_type in MROPE_FAMILIES and query.has_images)
        if prefix.position is not None:
            compressed.append(int(prefix.position.max()) < prefix.length)
        cached = last_token_logits_from_prefix(backbone, prefix, masks, values, chunk=2)
        full = full_passes.logits(query, masks, values)
        torch.testing.assert_close(cached, full, rtol=1e-5, atol=1e-5)  # a 1D position is off by ~2e-4
    if backbone.model.config.model_type in MROPE_FAMILIES:  # a 2D image grid takes fewer positions than tokens
        assert any(compressed)


def test_text_only_item_on_a_vlm_matches_the_text_path(vision_backbone):
    """Without images the processor path (right padded, the model's own positions) gives the same logits as the
    plain text path (left padded, explicit positions) on the same model."""
    import dataclasses

    backbone = vision_backbone
    encoder = vision_encoder(backbone)
    query = encoder.encode(JudgeItem("What is two plus two?", ("Four.",)))
    assert not query.has_images
    text_only = dataclasses.replace(backbone, processor=None)
    assert backbone.multimodal and not text_only.multimodal
    mm = last_token_logits(backbone, [query], read_ids=encoder.verdict_ids).logits
    text = last_token_logits(text_only, [query.ids], read_ids=encoder.verdict_ids).logits
    torch.testing.assert_close(mm, text, rtol=1e-5, atol=1e-5)


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


def test_extend_sequence_continues_a_cache_exactly_and_crop_cache_rewinds_it(llama_backbone):
    ids = [5, 6, 7, 8, 9, 10]
    whole, _ = extend_sequence(llama_backbone, ids)
    head, cache = extend_sequence(llama_backbone, ids[:4])
    tail, cache = extend_sequence(llama_backbone, ids[4:], cache, 4)
    torch.testing.assert_close(tail, whole, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(head, last_token_logits(llama_backbone, [ids[:4]]).logits[0], rtol=1e-4, atol=1e-5)
    crop_cache(cache, 4)
    assert cache.get_seq_length() == 4
    again, _ = extend_sequence(llama_backbone, ids[4:], cache, 4)
    torch.testing.assert_close(again, whole, rtol=1e-4, atol=1e-5)
