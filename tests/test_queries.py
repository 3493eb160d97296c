"""activation_rm.queries: the encoder chosen from the backbone, and labelled verdict queries for head selection."""

from __future__ import annotations

from tiny import tiny_backbone
from tiny_vision import tiny_vision_backbone

from activation_rm.data import PairwiseExample, PointwiseExample
from activation_rm.queries import make_encoder, verdict_queries
from activation_rm.templates import JudgeItem, JudgeTemplate
from activation_rm.vision import VisionQueryEncoder

TEMPLATE = JudgeTemplate(criterion="The answer is correct.")


def test_make_encoder_is_a_vision_encoder_iff_the_backbone_has_a_processor():
    text = tiny_backbone("llama")
    assert text.processor is None and not isinstance(make_encoder(text, TEMPLATE), VisionQueryEncoder)
    vision = tiny_vision_backbone("qwen2_vl")
    assert vision.processor is not None and isinstance(make_encoder(vision, TEMPLATE), VisionQueryEncoder)


def test_verdict_queries_pair_chosen_and_rejected_with_swapped_verdicts():
    encoder = make_encoder(tiny_backbone("llama"), TEMPLATE)
    yes, no = encoder.verdict_ids
    examples = [PointwiseExample("What is 2+2?", "5", label=False),
                PairwiseExample("What is 2+2?", chosen="4", rejected="5")]
    plain, chosen, rejected = verdict_queries(encoder, examples, "pointwise")
    assert (plain.target, plain.other, plain.pair) == (no, yes, None)
    assert chosen.pair == rejected.pair == 1
    assert (chosen.target, chosen.other) == (rejected.other, rejected.target) == (yes, no)
    assert chosen.ids == encoder.encode(JudgeItem("What is 2+2?", ("4",))).ids
    assert rejected.ids == encoder.encode(JudgeItem("What is 2+2?", ("5",))).ids
