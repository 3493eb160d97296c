"""activation_rm.judge.vision: the query encoder of vision-language backbones (processor inputs, image
placeholders, truncation that cuts text and never image tokens), on tiny random models with generated images.

The vision cases of the other modules sit in those modules' own test files (forward passes in test_batching.py and
test_heads.py, means in test_activations.py, selection in test_selection.py, fit/score/save in
test_reward_model.py, JSONL jobs in test_streaming.py, the server in test_serve_app.py / test_serve_images.py)."""

from __future__ import annotations

import pytest
import torch
from tiny_vision import make_image, mixed_items, tiny_vision_backbone, vision_encoder

from activation_rm.judge.templates import JudgeItem, JudgeTemplate
from activation_rm.judge.vision import PER_ITEM_PIXELS, VisionQueryEncoder, pixel_groups


def test_the_encoder_stays_a_vision_encoder_under_another_template(vision_backbone):
    encoder = vision_encoder(vision_backbone)
    other = encoder.with_template(JudgeTemplate(criterion="other"))
    assert isinstance(other, VisionQueryEncoder) and other.template.criterion == "other"
    assert other.verdict_ids == encoder.verdict_ids


def test_encoded_items_carry_their_images_and_group_by_pixel_layout(vision_backbone):
    backbone = vision_backbone
    encoder = vision_encoder(backbone)
    items = mixed_items()
    queries, truncated = encoder.encode_many(items)
    assert truncated == 0
    assert [q.has_images for q in queries] == [bool(item.images) for item in items]
    assert [q.ids for q in queries] == [encoder.encode(item).ids for item in items]  # one by one, the same
    per_item = backbone.model.config.model_type in PER_ITEM_PIXELS  # a text-only item runs apart there
    assert pixel_groups(backbone, queries) == ([[0, 2, 3], [1]] if per_item else [[0, 1, 2, 3]])


def _image_tokens(backbone, ids: list[int]) -> int:
    config = backbone.model.config
    image_id = getattr(config, "image_token_id", None) or getattr(config, "image_token_index", None)
    return sum(1 for i in ids if i == image_id)


def test_truncation_cuts_texts_never_image_tokens(vision_backbone):
    backbone = vision_backbone
    item = JudgeItem("Describe the picture in detail.", ("the quick brown fox jumps over the lazy dog " * 80,),
                     (make_image(60, 60, 5),))
    full = vision_encoder(backbone).encode(item)
    assert not full.truncated
    short = vision_encoder(backbone, max_length=len(full) - 150).encode(item)
    assert short.truncated and len(short) <= len(full) - 150
    assert _image_tokens(backbone, short.ids) == _image_tokens(backbone, full.ids) > 0
    assert torch.equal(short.pixels["pixel_values"], full.pixels["pixel_values"])
    assert short.ids[-4:] == full.ids[-4:]  # still ends with the question and the generation prompt


def test_images_larger_than_max_length_are_an_error():
    backbone = tiny_vision_backbone("qwen2_vl")
    images = tuple(make_image(56, 84, s) for s in range(6))  # 6 images x 6 tokens + texts
    with pytest.raises(ValueError, match="image"):
        vision_encoder(backbone, max_length=64).encode(JudgeItem("Describe.", ("Noise.",), images))
