import pytest
import torch
from tiny import VOCAB, tiny_backbone

from activation_rm.batching import pad_batch, position_ids_from_mask
from activation_rm.heads import Steering, head_hooks, last_token_positions

FAMILIES = ["llama", "qwen2", "gemma", "gpt2", "gpt_neox"]


def _batch(lengths, side, seed=0):
    gen = torch.Generator().manual_seed(seed)
    seqs = [torch.randint(5, VOCAB, (n,), generator=gen).tolist() for n in lengths]
    ids, mask = pad_batch(seqs, 1, side)
    return seqs, ids, mask


def _forward(backbone, ids, mask):
    return backbone.model(input_ids=ids, attention_mask=mask, position_ids=position_ids_from_mask(mask)).logits


def test_last_token_positions_any_padding():
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1], [0, 1, 0, 0]])
    assert last_token_positions(mask).tolist() == [3, 2, 3, 1]


@pytest.mark.parametrize("family", FAMILIES)
def test_hooks_without_replacement_are_bit_identical(family):
    backbone = tiny_backbone(family)
    _, ids, mask = _batch([7, 11, 4], "left")
    with torch.no_grad():
        plain = _forward(backbone, ids, mask)
        with head_hooks(backbone, record=True) as hooks:
            hooks.set_positions(last_token_positions(mask))
            hooked = _forward(backbone, ids, mask)
        empty = Steering(torch.zeros(backbone.num_layers, backbone.num_heads, dtype=torch.bool),
                         torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim))
        with head_hooks(backbone, steering=empty) as hooks:
            hooks.set_positions(last_token_positions(mask))
            steered_nothing = _forward(backbone, ids, mask)
    assert torch.equal(plain, hooked)
    assert torch.equal(plain, steered_nothing)


@pytest.mark.parametrize("family", FAMILIES)
def test_recorded_heads_equal_manual_split_of_projection_input(family):
    backbone = tiny_backbone(family)
    _, ids, mask = _batch([6, 9], "right")
    captured = {}
    layer = 1
    handle = backbone.out_projs[layer].register_forward_pre_hook(lambda m, a: captured.setdefault("x", a[0].clone()))
    try:
        with torch.no_grad(), head_hooks(backbone, record=True) as hooks:
            positions = last_token_positions(mask)
            hooks.set_positions(positions)
            _forward(backbone, ids, mask)
            recorded = hooks.recorded_heads()
    finally:
        handle.remove()
    x = captured["x"]
    manual = torch.stack([x[b, positions[b]].reshape(backbone.num_heads, backbone.head_dim) for b in range(2)])
    torch.testing.assert_close(recorded[:, layer], manual.float(), rtol=0, atol=0)
    assert recorded.shape == (2, backbone.num_layers, backbone.num_heads, backbone.head_dim)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("side", ["left", "right"])
def test_replacement_changes_only_the_last_real_position(family, side):
    backbone = tiny_backbone(family)
    _, ids, mask = _batch([5, 9, 7], side)
    positions = last_token_positions(mask)
    mask_lh = torch.zeros(backbone.num_layers, backbone.num_heads, dtype=torch.bool)
    mask_lh[0, 1] = mask_lh[2, 3] = True
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim) * 3
    with torch.no_grad():
        plain = _forward(backbone, ids, mask)
        with head_hooks(backbone, steering=Steering(mask_lh, values), record=True) as hooks:
            hooks.set_positions(positions)
            steered = _forward(backbone, ids, mask)
    for b in range(3):
        for t in range(ids.shape[1]):
            if mask[b, t] == 0:
                continue
            same = torch.equal(plain[b, t], steered[b, t])
            assert same == (t != positions[b].item()), (b, t)


def test_replaced_value_reaches_the_projection():
    backbone = tiny_backbone("llama")
    _, ids, mask = _batch([5, 8], "left")
    mask_lh = torch.zeros(3, 4, dtype=torch.bool)
    mask_lh[1, 2] = True
    values = torch.randn(3, 4, 16)
    seen = {}
    handle = backbone.out_projs[1].register_forward_hook(lambda m, a, o: seen.setdefault("x", a[0].clone()))
    try:
        with torch.no_grad(), head_hooks(backbone, steering=Steering(mask_lh, values)) as hooks:
            hooks.set_positions(last_token_positions(mask))
            _forward(backbone, ids, mask)
    finally:
        handle.remove()
    x = seen["x"][:, -1].reshape(2, 4, 16)
    torch.testing.assert_close(x[:, 2], values[1, 2].expand(2, 16))


def test_per_sequence_masks():
    backbone = tiny_backbone("qwen2")
    _, ids, mask = _batch([6, 6], "left")
    ids[1] = ids[0]
    values = torch.randn(3, 4, 16) * 3
    masks = torch.zeros(2, 3, 4, dtype=torch.bool)
    masks[1, 0, 0] = True
    with torch.no_grad(), head_hooks(backbone, steering=Steering(masks, values)) as hooks:
        hooks.set_positions(last_token_positions(mask))
        out = _forward(backbone, ids, mask)
    plain = _forward(backbone, ids[:1], mask[:1])
    torch.testing.assert_close(out[0], plain[0])
    assert not torch.allclose(out[1, -1], plain[0, -1])


def test_hooks_removed_after_exception():
    backbone = tiny_backbone("llama")
    before = [len(m._forward_pre_hooks) for m in backbone.out_projs]
    with pytest.raises(RuntimeError, match="boom"):
        with head_hooks(backbone, record=True):
            assert all(len(m._forward_pre_hooks) == n + 1 for m, n in zip(backbone.out_projs, before))
            raise RuntimeError("boom")
    assert [len(m._forward_pre_hooks) for m in backbone.out_projs] == before


def test_bad_steering_shape_is_rejected():
    backbone = tiny_backbone("llama")
    with pytest.raises(ValueError, match="backbone needs"):
        with head_hooks(backbone, steering=Steering(torch.zeros(3, 4, dtype=torch.bool), torch.zeros(3, 4, 8))):
            pass
