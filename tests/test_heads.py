"""activation_rm.model.heads: the hooks that record and replace attention heads at the last token, on every text
family and the vision-language families, against hand-written references."""

import pytest
import torch
from tiny import VOCAB, hand_steered, tiny_backbone
from tiny_vision import mixed_items, vision_encoder

from activation_rm.forward.batching import last_token_logits, pad_batch, position_ids_from_mask
from activation_rm.judge.vision import PER_ITEM_PIXELS
from activation_rm.model.heads import Steering, head_hooks, last_token_positions

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


# Numerical parity of the steered forward (litgpt-style): every sequence run alone, unpadded, through the plain model
# with a hand-written pre-hook on each layer's self_attn.o_proj that records that layer's input at the last token and
# overwrites the chosen heads' head_dim slices there; the library's batched, padded, steered pass must match it.

PARITY_FAMILIES = ["llama", "qwen2", "gemma"]  # all with self_attn.o_proj; qwen2 has GQA, gemma head_dim 24 != 64 / 4


def _o_projs(model):
    return [layer.self_attn.o_proj for layer in model.model.layers]


def _references(backbone, seqs, masks=None, values=None, additive=None):
    """Per-sequence references stacked: masks/values/additive flags indexed per row (None: unsteered, replace)."""
    refs = [hand_steered(backbone.model, seq, backbone.num_heads, backbone.head_dim,
                         None if masks is None else masks[i], None if values is None else values[i],
                         additive=bool(additive[i]) if additive is not None else False)
            for i, seq in enumerate(seqs)]
    return tuple(torch.stack(part) for part in zip(*refs))


def _parity_case(family):
    """The family's tiny backbone, its (layers, heads, head_dim), and five token sequences of different lengths."""
    backbone = tiny_backbone(family)
    gen = torch.Generator().manual_seed(1)
    seqs = [torch.randint(5, VOCAB, (n,), generator=gen).tolist() for n in (5, 12, 8, 3, 10)]
    return backbone, (backbone.num_layers, backbone.num_heads, backbone.head_dim), seqs


def _shared_mask(backbone):
    layers, heads = backbone.num_layers, backbone.num_heads
    mask = torch.zeros(layers, heads, dtype=torch.bool)
    mask[0, 1] = mask[0, heads - 1] = mask[layers - 1, 0] = mask[layers - 1, 2] = True  # a middle layer untouched
    return mask


@pytest.mark.parametrize("family", PARITY_FAMILIES)
def test_steered_logits_match_a_hand_replaced_reference_shared_mask(family):
    backbone, (layers, heads, head_dim), seqs = _parity_case(family)
    mask = _shared_mask(backbone)
    values = torch.randn(layers, heads, head_dim, generator=torch.Generator().manual_seed(2)) * 3
    n = len(seqs)
    ref_logits, ref_before, ref_after = _references(backbone, seqs, [mask] * n, [values] * n)
    plain_logits, _, _ = _references(backbone, seqs)
    assert not torch.allclose(ref_logits, plain_logits, atol=1e-3)  # the replacement matters

    out = last_token_logits(backbone, seqs, steering=Steering(mask, values), record=True)  # one left-padded batch
    torch.testing.assert_close(out.logits, ref_logits, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out.heads, ref_before, rtol=1e-4, atol=1e-5)  # recorded: before this layer's swap
    # the reference did what it says: masked slices hold the values, the others are what the layer computed
    torch.testing.assert_close(ref_after[:, mask], values[mask].expand(n, -1, -1), rtol=0, atol=0)
    torch.testing.assert_close(ref_after[:, ~mask], ref_before[:, ~mask], rtol=0, atol=0)

    for side in ("left", "right"):  # head_hooks directly on a padded batch; what o_proj really received
        ids, attention = pad_batch(seqs, 1, side)
        positions = last_token_positions(attention)
        used = {}

        def capture(layer, store=used):
            def hook(module, args, output):  # returns None: the output is left alone
                store[layer] = args[0].clone()
            return hook

        handles = [proj.register_forward_hook(capture(i)) for i, proj in enumerate(_o_projs(backbone.model))]
        try:
            with torch.no_grad(), head_hooks(backbone, steering=Steering(mask, values)) as hooks:
                hooks.set_positions(positions)
                logits = _forward(backbone, ids, attention)
        finally:
            for handle in handles:
                handle.remove()
        rows = torch.arange(n)
        torch.testing.assert_close(logits[rows, positions], ref_logits, rtol=1e-4, atol=1e-5)
        received = torch.stack([used[i][rows, positions].view(n, heads, head_dim) for i in range(layers)], dim=1)
        torch.testing.assert_close(received, ref_after, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", PARITY_FAMILIES)
@pytest.mark.parametrize("kind", ["mask", "values", "both"])
def test_steered_logits_match_a_hand_replaced_reference_per_sequence(family, kind):
    backbone, (layers, heads, head_dim), seqs = _parity_case(family)
    n = len(seqs)
    gen = torch.Generator().manual_seed(3)
    per_masks = torch.rand(n, layers, heads, generator=gen) < 0.4
    per_masks[0] = False  # one row steered nowhere
    per_masks[:, 1] = False  # one layer steered in no row
    per_masks[1:, 0, 1] = True  # the others steered somewhere
    per_values = torch.randn(n, layers, heads, head_dim, generator=gen) * 3
    shared_mask, shared_values = _shared_mask(backbone), per_values[1]
    mask = per_masks if kind in ("mask", "both") else shared_mask
    values = per_values if kind in ("values", "both") else shared_values
    row_masks = [mask[i] if mask.dim() == 3 else mask for i in range(n)]
    row_values = [values[i] if values.dim() == 4 else values for i in range(n)]
    ref_logits, ref_before, _ = _references(backbone, seqs, row_masks, row_values)
    if kind != "values":
        plain_logits, _, _ = _references(backbone, seqs)
        torch.testing.assert_close(ref_logits[0], plain_logits[0], rtol=0, atol=0)
    # one batch, and batches of two (rows sorted by length, so each batch's steering rows must follow its sequences)
    for size in (32, 2):
        out = last_token_logits(backbone, seqs, steering=Steering(mask, values), record=True, max_batch_size=size)
        torch.testing.assert_close(out.logits, ref_logits, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(out.heads, ref_before, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", PARITY_FAMILIES)
def test_additive_steering_matches_a_hand_shifted_reference(family):
    backbone, (layers, heads, head_dim), seqs = _parity_case(family)
    n = len(seqs)
    mask = _shared_mask(backbone)
    values = torch.randn(layers, heads, head_dim, generator=torch.Generator().manual_seed(5))
    ref_logits, ref_before, ref_after = _references(backbone, seqs, [mask] * n, [values] * n, [True] * n)
    replaced, _, _ = _references(backbone, seqs, [mask] * n, [values] * n)
    assert not torch.allclose(ref_logits, replaced, atol=1e-3)  # shifting is not replacing
    torch.testing.assert_close(ref_after[:, mask], ref_before[:, mask] + values[mask], rtol=0, atol=0)
    for size in (32, 2):
        out = last_token_logits(backbone, seqs, steering=Steering(mask, values, additive=True), max_batch_size=size)
        torch.testing.assert_close(out.logits, ref_logits, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", PARITY_FAMILIES)
def test_per_sequence_additive_flags_mix_shifted_and_replaced_rows(family):
    backbone, (layers, heads, head_dim), seqs = _parity_case(family)
    n = len(seqs)
    gen = torch.Generator().manual_seed(6)
    masks = torch.rand(n, layers, heads, generator=gen) < 0.4
    values = torch.randn(n, layers, heads, head_dim, generator=gen)
    flags = torch.tensor([True, False, True, False, False])
    ref_logits, _, _ = _references(backbone, seqs, masks, values, flags.tolist())
    for size in (32, 2):
        out = last_token_logits(backbone, seqs, steering=Steering(masks, values, flags), max_batch_size=size)
        torch.testing.assert_close(out.logits, ref_logits, rtol=1e-4, atol=1e-5)
    replaced = last_token_logits(backbone, seqs, steering=Steering(masks, values, torch.zeros(n, dtype=torch.bool)))
    plain_replace = last_token_logits(backbone, seqs, steering=Steering(masks, values))
    assert torch.equal(replaced.logits, plain_replace.logits)  # all-False flags are the replace path, bit for bit
    with pytest.raises(ValueError, match="additive flags"):
        Steering(masks, values, torch.ones(n + 1, dtype=torch.bool))


@pytest.mark.parametrize("family", PARITY_FAMILIES)
def test_all_false_mask_leaves_every_head_untouched(family):
    backbone, (layers, heads, head_dim), seqs = _parity_case(family)
    n = len(seqs)
    ref_logits, ref_before, _ = _references(backbone, seqs)
    plain = last_token_logits(backbone, seqs, record=True)
    torch.testing.assert_close(plain.logits, ref_logits, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(plain.heads, ref_before, rtol=1e-4, atol=1e-5)  # recording alone matches the capture
    values = torch.randn(n, layers, heads, head_dim, generator=torch.Generator().manual_seed(4)) * 3
    for steering in (Steering(torch.zeros(layers, heads, dtype=torch.bool), values[0]),
                     Steering(torch.zeros(n, layers, heads, dtype=torch.bool), values)):
        out = last_token_logits(backbone, seqs, steering=steering, record=True)
        assert torch.equal(out.logits, plain.logits) and torch.equal(out.heads, plain.heads)


# ------------------------------------------------------------------------------- vision-language backbones
# The hooks sit on the language model's output projections of each family in the table, through the same batched
# pass: batches there mix image sizes, image counts and text-only items.
def test_noop_hooks_leave_logits_identical_on_a_vlm(vision_backbone):
    backbone = vision_backbone
    queries, _ = vision_encoder(backbone).encode_many(mixed_items())
    plain = last_token_logits(backbone, queries)
    recorded = last_token_logits(backbone, queries, record=True)
    zeros = torch.zeros(backbone.num_layers, backbone.num_heads, dtype=torch.bool)
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim)
    unsteered = last_token_logits(backbone, queries, steering=Steering(zeros, values))
    assert torch.equal(plain.logits, recorded.logits)
    assert torch.equal(plain.logits, unsteered.logits)
    # and the model's own forward on the processor output, with no hooks installed, agrees at the last token
    query = queries[2]
    inputs = {"input_ids": torch.tensor([query.ids]), "attention_mask": torch.ones(1, len(query), dtype=torch.long),
              **query.pixels}
    with torch.no_grad():
        own = backbone.model(**inputs).logits[0, -1]
    single = last_token_logits(backbone, [query])
    torch.testing.assert_close(single.logits[0], own, rtol=1e-5, atol=1e-5)


def test_recorded_heads_equal_a_manual_split_of_the_projection_input_on_a_vlm(vision_backbone):
    backbone = vision_backbone
    items = mixed_items()[:3]
    if backbone.model.config.model_type in PER_ITEM_PIXELS:  # text-only items run in a pass of their own there
        items = [item for item in items if item.images]
    queries, _ = vision_encoder(backbone).encode_many(items)
    queries.sort(key=len)  # batches are planned by length: keep the batch rows in input order
    captured: dict[int, torch.Tensor] = {}
    handles = [proj.register_forward_pre_hook(lambda m, args, layer=layer: captured.__setitem__(layer, args[0]))
               for layer, proj in enumerate(backbone.out_projs)]
    try:
        out = last_token_logits(backbone, queries, record=True)
    finally:
        for handle in handles:
            handle.remove()
    lengths = torch.tensor([len(q) for q in queries])
    for layer in range(backbone.num_layers):
        hidden = captured[layer]  # right-padded batch, last real token at length - 1
        assert hidden.shape[0] == len(queries)  # one forward pass for the mixed batch
        manual = hidden[torch.arange(len(queries)), lengths - 1].view(len(queries), backbone.num_heads,
                                                                      backbone.head_dim)
        assert torch.equal(out.heads[:, layer], manual)


def test_per_sequence_masks_equal_separate_runs_on_a_vlm(vision_backbone):
    backbone = vision_backbone
    query = vision_encoder(backbone).encode(mixed_items()[0])
    generator = torch.Generator().manual_seed(1)
    masks = torch.rand(3, backbone.num_layers, backbone.num_heads, generator=generator) < 0.5
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=generator)
    together = last_token_logits(backbone, [query] * 3, steering=Steering(masks, values)).logits
    per_row_values = values + torch.randn(3, *values.shape, generator=generator)
    rows = last_token_logits(backbone, [query] * 3, steering=Steering(masks, per_row_values),
                             max_batch_size=2).logits  # split into two passes: the rows' values follow them
    for i in range(3):
        alone = last_token_logits(backbone, [query], steering=Steering(masks[i], values)).logits
        torch.testing.assert_close(together[i], alone[0], rtol=1e-5, atol=1e-5)
        alone = last_token_logits(backbone, [query], steering=Steering(masks[i], per_row_values[i])).logits
        torch.testing.assert_close(rows[i], alone[0], rtol=1e-5, atol=1e-5)
