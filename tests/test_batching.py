import pytest
import torch
from tiny import VOCAB, tiny_backbone

from activation_rm.forward.batching import (
    last_token_logits,
    last_token_logits_shared_prefix,
    pad_batch,
    plan_batches,
)
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


@pytest.mark.parametrize("family", ["llama", "qwen2", "gemma", "gpt2"])
def test_scores_do_not_depend_on_batch_size_or_padding_side(family):
    backbone = tiny_backbone(family)
    seqs = _seqs([9, 23, 4, 15, 31])
    mask = torch.zeros(backbone.num_layers, backbone.num_heads, dtype=torch.bool)
    mask[1, 0] = mask[2, 3] = True
    steering = Steering(mask, torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim))
    read = [10, 11, 12]
    single = torch.cat([last_token_logits(backbone, [s], read_ids=read, steering=steering).logits for s in seqs])
    left = last_token_logits(backbone, seqs, read_ids=read, steering=steering, padding_side="left").logits
    right = last_token_logits(backbone, seqs, read_ids=read, steering=steering, padding_side="right").logits
    small = last_token_logits(backbone, seqs, read_ids=read, steering=steering, max_batch_size=2).logits
    torch.testing.assert_close(left, single, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(right, single, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(small, single, rtol=1e-4, atol=1e-5)


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
