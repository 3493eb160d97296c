"""Tiny random-weight vision-language backbones (Qwen2-VL, LLaVA-OneVision, Idefics3, Gemma 3) with their real
processor classes, built in the tests from configs: the tiny trained tokenizer of :mod:`tiny` plus the image special tokens, a PIL (no torchvision)
image processor, and a ChatML chat template that renders ``{"type": "image"}`` entries as image placeholders."""

from __future__ import annotations

import numpy as np
import torch
import transformers as tf
from PIL import Image
from tiny import tiny_tokenizer
from transformers.models.gemma3.image_processing_pil_gemma3 import Gemma3ImageProcessorPil
from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
    LlavaOnevisionImageProcessorPil,
)
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

from activation_rm.model.backbone import Backbone, processor_without_video

IMAGE_TOKENS = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>", "<image>", "<video>",
                "<fake_token_around_image>", "<end_of_utterance>", "<global-img>",
                *[f"<row_{i + 1}_col_{j + 1}>" for i in range(6) for j in range(6)],
                "<start_of_image>", "<end_of_image>", "<image_soft_token>"]
VOCAB = 460
FAMILIES = ("qwen2_vl", "qwen2_5_vl", "llava_onevision", "idefics3", "gemma3")
_PLACEHOLDER = {"qwen2_vl": "<|vision_start|><|image_pad|><|vision_end|>",
                "qwen2_5_vl": "<|vision_start|><|image_pad|><|vision_end|>", "llava_onevision": "<image>\n",
                "idefics3": "<image>", "gemma3": "<start_of_image>"}
_PINPOINTS = [[28, 28], [28, 56], [56, 28], [56, 56]]
_SIGLIP = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=1, num_attention_heads=2, image_size=28,
               patch_size=14)


def chat_template(family: str) -> str:
    image = _PLACEHOLDER[family]
    return (
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' }}"
        "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for c in message['content'] %}"
        "{% if c['type'] == 'image' %}{{ '" + image.replace("\n", "\\n") + "' }}"
        "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}"
        "{{ '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )


def vision_tokenizer():
    tokenizer = tiny_tokenizer()
    tokenizer.add_special_tokens({"additional_special_tokens": IMAGE_TOKENS})
    return tokenizer


def tiny_processor(family: str):
    """The family's processor class (without its torchvision-only video processor) on a PIL image processor."""
    tokenizer = vision_tokenizer()
    tokenizer.chat_template = chat_template(family)  # as in real VLM repos, tokenizer and processor share it
    if family in ("qwen2_vl", "qwen2_5_vl"):
        images = Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 2, max_pixels=28 * 28 * 8, patch_size=14,
                                          temporal_patch_size=2, merge_size=2)
        cls = tf.Qwen2VLProcessor if family == "qwen2_vl" else tf.Qwen2_5_VLProcessor
        return processor_without_video(cls)(image_processor=images, tokenizer=tokenizer,
                                              chat_template=chat_template(family))
    if family == "llava_onevision":
        images = LlavaOnevisionImageProcessorPil(size={"height": 28, "width": 28}, crop_size={"height": 28, "width": 28},
                                                 image_grid_pinpoints=_PINPOINTS)
        return processor_without_video(tf.LlavaOnevisionProcessor)(image_processor=images, tokenizer=tokenizer,
                                                     chat_template=chat_template(family), num_image_tokens=4,
                                                     vision_feature_select_strategy="full")
    if family == "idefics3":  # images split into 28-pixel crops plus a global view, 4 tokens each
        images = Idefics3ImageProcessorPil(size={"longest_edge": 56}, max_image_size={"longest_edge": 28})
        return tf.Idefics3Processor(image_processor=images, tokenizer=tokenizer, image_seq_len=4,
                                    chat_template=chat_template(family))
    if family == "gemma3":  # its processor reads the image tokens from the tokenizer
        tokenizer.boi_token, tokenizer.eoi_token, tokenizer.image_token = IMAGE_TOKENS[-3:]
        tokenizer.boi_token_id = tokenizer.convert_tokens_to_ids(tokenizer.boi_token)
        tokenizer.image_token_id = tokenizer.convert_tokens_to_ids(tokenizer.image_token)
        images = Gemma3ImageProcessorPil(size={"height": 28, "width": 28})
        return tf.Gemma3Processor(image_processor=images, tokenizer=tokenizer, image_seq_length=4,
                                  chat_template=chat_template(family))
    raise ValueError(family)


def tiny_vlm(family: str, tokenizer, seed: int = 0) -> torch.nn.Module:
    """A 2-layer random language model with a 1-layer vision tower."""
    torch.manual_seed(seed)
    text = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=2048, pad_token_id=tokenizer.pad_token_id)
    ids = dict(zip(IMAGE_TOKENS, tokenizer.convert_tokens_to_ids(IMAGE_TOKENS)))
    if family == "qwen2_vl":
        config = tf.Qwen2VLConfig(
            text_config=dict(text, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}),
            vision_config=dict(depth=1, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, patch_size=14,
                               spatial_merge_size=2, temporal_patch_size=2, in_chans=3),
            image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
            vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
        model = tf.Qwen2VLForConditionalGeneration(config)
    elif family == "qwen2_5_vl":
        config = tf.Qwen2_5_VLConfig(
            text_config=dict(text, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}),
            vision_config=dict(depth=2, hidden_size=32, out_hidden_size=64, intermediate_size=48, num_heads=2,
                               patch_size=14, spatial_merge_size=2, temporal_patch_size=2, fullatt_block_indexes=[1],
                               window_size=56),
            image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
            vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
        model = tf.Qwen2_5_VLForConditionalGeneration(config)
    elif family == "llava_onevision":
        config = tf.LlavaOnevisionConfig(
            text_config=dict(text, model_type="qwen2"),
            vision_config=dict(_SIGLIP, model_type="siglip_vision_model"),
            image_token_index=ids["<image>"], video_token_index=ids["<video>"], vision_feature_layer=-1,
            vision_feature_select_strategy="full", image_grid_pinpoints=_PINPOINTS)
        model = tf.LlavaOnevisionForConditionalGeneration(config)
    elif family == "idefics3":
        config = tf.Idefics3Config(text_config=dict(text, model_type="llama"), vision_config=_SIGLIP, scale_factor=1,
                                   image_token_id=ids["<image>"])
        model = tf.Idefics3ForConditionalGeneration(config)
    elif family == "gemma3":
        config = tf.Gemma3Config(text_config=dict(text, head_dim=16), vision_config=_SIGLIP, mm_tokens_per_image=4,
                                 image_token_index=ids["<image_soft_token>"], boi_token_index=ids["<start_of_image>"],
                                 eoi_token_index=ids["<end_of_image>"])
        model = tf.Gemma3ForConditionalGeneration(config)
    else:
        raise ValueError(family)
    model.config.architectures = [type(model).__name__]  # what save_pretrained records, so reloads fingerprint equal
    return model.eval()


def tiny_vision_backbone(family: str = "qwen2_vl", seed: int = 0) -> Backbone:
    processor = tiny_processor(family)
    model = tiny_vlm(family, processor.tokenizer, seed)
    return Backbone.from_model(model, processor.tokenizer, name=f"tiny-{family}-{seed}", processor=processor)


def make_image(height: int, width: int, seed: int = 0) -> Image.Image:
    """A random RGB image of the given size."""
    pixels = np.random.RandomState(seed).randint(0, 256, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


#: the criterion of the vision tests' judges
CAPTION_CRITERION = "The caption mentions only what is in the image."


def vision_encoder(backbone: Backbone, max_length: int = 2048):
    """The backbone's query encoder (a vision one) for :data:`CAPTION_CRITERION`."""
    from activation_rm.judge.queries import make_encoder
    from activation_rm.judge.templates import JudgeTemplate
    from activation_rm.judge.vision import VisionQueryEncoder

    encoder = make_encoder(backbone, JudgeTemplate(criterion=CAPTION_CRITERION, max_length=max_length))
    assert isinstance(encoder, VisionQueryEncoder)
    return encoder


def mixed_items():
    """Judge items with different image sizes and counts, and a text-only one."""
    from activation_rm.judge.templates import JudgeItem

    return [
        JudgeItem("Describe the image.", ("A red square.",), (make_image(40, 60, 1),)),
        JudgeItem("What is two plus two?", ("Four.",)),
        JudgeItem("Compare the two images.", ("Both are noise.",), (make_image(70, 30, 2), make_image(30, 30, 3))),
        JudgeItem("Describe it.", ("The quick brown fox jumps over the lazy dog. " * 3,), (make_image(90, 90, 4),)),
    ]


def write_caption_examples(folder, n: int = 6) -> str:
    """A pointwise image JSONL (``captions.jsonl``) with its images in ``img/``, named relative to the file: even
    lines a faithful caption (label true), odd lines an invented one."""
    import json

    (folder / "img").mkdir(exist_ok=True)
    lines = []
    for i in range(n):
        make_image(30 + 10 * (i % 3), 40, seed=i).save(folder / "img" / f"{i}.png")
        good = i % 2 == 0
        caption = "A square of coloured noise." if good else "A dog playing in the snow with two children."
        lines.append({"prompt": "Write a caption for the image.", "response": caption, "label": good,
                      "images": [f"img/{i}.png"]})
    path = folder / "captions.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)
