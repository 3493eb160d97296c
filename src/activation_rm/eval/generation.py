"""Short verdict generation on a query's KV cache, and verdict parsing.

A few-shot judge repeats the same demonstrations before every query, so the demonstrations are run once and every
query only extends that cache (:class:`activation_rm.forward.batching.PrefixRunner`). Generated verdicts need a handful of tokens
(``"A"``, ``"Yes"``), so a small greedy or seeded-sampling loop on the same cache replaces ``model.generate``: it is
exact, reuses the query's prefill for the greedy verdict and every vote, and draws samples from a seeded generator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from activation_rm.forward.batching import crop_cache, extend_sequence
from activation_rm.model.backbone import Backbone


@dataclass
class Generation:
    greedy: str
    samples: list[str]


def _stop(text: str) -> bool:
    """The first word is complete: generation can stop (only the first word is parsed)."""
    return bool(re.search(r"[A-Za-z0-9]+[^A-Za-z0-9]", text))


@torch.inference_mode()
def generate_verdicts(backbone: Backbone, logits: torch.Tensor, cache, length: int, *, max_new_tokens: int = 4,
                      n_samples: int = 0, temperature: float = 1.0, seed: int = 0) -> Generation:
    """Greedy text plus ``n_samples`` seeded samples, continuing a query whose prefill gave ``logits`` and
    ``cache`` (``length`` tokens). Each continuation is cropped away again, so the cache is left as it was."""
    tokenizer = backbone.tokenizer
    stop_ids = {i for i in (tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None}
    generator = torch.Generator().manual_seed(seed)

    def continue_from(choose) -> str:
        ids: list[int] = []
        step_logits = logits
        for step in range(max_new_tokens):
            token = choose(step_logits)
            if token in stop_ids:
                break
            ids.append(token)
            text = tokenizer.decode(ids, skip_special_tokens=True)
            if _stop(text) or step == max_new_tokens - 1:
                break
            step_logits, _ = extend_sequence(backbone, [token], cache, length + step)
        crop_cache(cache, length)
        return tokenizer.decode(ids, skip_special_tokens=True)

    greedy = continue_from(lambda lg: int(torch.argmax(lg)))
    samples = [continue_from(lambda lg: int(torch.multinomial(torch.softmax(lg / temperature, -1), 1,
                                                              generator=generator)))
               for _ in range(n_samples)]
    return Generation(greedy, samples)


_PAIR = re.compile(r"^[\s*\"'(\[#:]*(?:(?:response|answer|option|output)\s*)?[:\s]*([AB])(?![A-Za-z])", re.I)
_POINT = re.compile(r"^[\s*\"'(\[#:]*(yes|no)(?![A-Za-z])", re.I)


def parse_verdict(text: str, verdicts: tuple[str, str]) -> int | None:
    """0 for the first verdict (A / Yes), 1 for the second, None when the text starts with neither."""
    if tuple(verdicts) == ("A", "B"):
        match = _PAIR.match(text)
        if not match:
            return None
        # a lone lower-case "a" is an article, not a verdict, unless prefixed by "response"/"answer"
        if match.group(1) == "a" and not re.match(r"^\W*(response|answer|option|output)", text, re.I):
            return None
        return 0 if match.group(1).upper() == "A" else 1
    if tuple(verdicts) == ("Yes", "No"):
        match = _POINT.match(text)
        return None if not match else (0 if match.group(1).lower() == "yes" else 1)
    words = text.strip().split()
    if not words:
        return None
    first = words[0].strip(".,:;!*\"'").lower()
    lowered = [v.lower() for v in verdicts]
    return lowered.index(first) if first in lowered else None
