"""Judge queries as head selection reads them: the encoder for a backbone, and labelled verdict queries.

One query type serves text and vision-language backbones (:class:`~activation_rm.judge.templates.EncodedQuery`, with
pixel inputs when the item has images); which encoder builds it is decided here, once, from the backbone.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from activation_rm.inputs.data import Example, PairwiseExample
from activation_rm.judge.templates import EncodedQuery, JudgeTemplate, QueryEncoder, labelled_items
from activation_rm.judge.vision import VisionQueryEncoder
from activation_rm.model.backbone import Backbone

logger = logging.getLogger(__name__)


def make_encoder(backbone: Backbone, template: JudgeTemplate, allow_network: bool = False) -> QueryEncoder:
    """The query encoder for a backbone: the tokenizer's chat template, or the processor for vision-language ones."""
    if not backbone.multimodal:
        return QueryEncoder(backbone.tokenizer, template)
    return VisionQueryEncoder(backbone.tokenizer, template, processor=backbone.processor, allow_network=allow_network)


@dataclass(frozen=True)
class VerdictQuery:
    """An encoded zero-shot judge query, the token id of its correct verdict (and of the wrong one), and the id of
    the pair it came from (the chosen and rejected queries of one preference pair share it; None: unpaired). A
    plain list of token ids is taken as a text query."""

    query: EncodedQuery
    target: int
    other: int
    pair: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.query, EncodedQuery):
            object.__setattr__(self, "query", EncodedQuery(list(self.query)))

    @property
    def ids(self) -> list[int]:
        return self.query.ids


def verdict_queries(encoder: QueryEncoder, examples: Sequence[Example], mode: str) -> list[VerdictQuery]:
    """One verdict query per labelled item of ``examples``; the two items of a preference pair share a pair id
    (their index in ``examples``)."""
    ids = encoder.verdict_ids
    out = []
    for index, example in enumerate(examples):
        pair = index if isinstance(example, PairwiseExample) else None
        for item, v in labelled_items([example], mode):
            out.append(VerdictQuery(encoder.encode(item), ids[v], ids[1 - v], pair))
    return out


def truncated_examples(encoder: QueryEncoder, examples: Sequence[Example], mode: str) -> list[str]:
    """Where each example whose judge query exceeds ``max_length`` was read (file:line, else its index); warns
    once with the count, as scoring does, so a fit never cuts long examples silently."""
    found = [example.source or f"examples[{index}]" for index, example in enumerate(examples)
             if any(encoder.encode(item).truncated for item, _ in labelled_items([example], mode))]
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        message = (f"{len(found)} of {len(examples)} fit examples exceeded max_length={encoder.template.max_length} "
                   f"tokens and were truncated inside the response(s): {shown}")
        logger.warning(message)
        warnings.warn(message, stacklevel=3)
    return found
