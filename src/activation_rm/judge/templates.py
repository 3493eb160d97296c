"""Judge queries: turn (prompt, response[s]) into chat-templated token ids that end where the verdict is read.

Pointwise queries ask "does the response meet the criterion? Yes/No"; pairwise queries show responses A and B and
ask which is better. The verdict is read at the last input token, right after the generation prompt. Over-long
inputs are truncated inside the response (and the prompt if need be), keeping their start and end, the criterion
and the question, and every truncation is counted.

User text (prompt, responses, criterion, system text, demonstrations) is always tokenized as text: a special-token
string written in it (``<|im_end|>``, ``<|im_start|>``, an image placeholder...) becomes the ordinary text tokens of
that string, never the control token, so a policy cannot write judge turns into its own answer
(:class:`TextGuard`). Text without such strings tokenizes exactly as a plain tokenizer call on the rendered query.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from activation_rm.inputs.checks import check_fields, one_of
from activation_rm.inputs.data import Example, Prompt
from activation_rm.inputs.images import has_images, per_item_images
from activation_rm.model.errors import UnsupportedModelError

POINTWISE = "pointwise"
PAIRWISE = "pairwise"
MODES = (POINTWISE, PAIRWISE)
CRITERION_FIRST = "criterion_first"
CRITERION_LAST = "criterion_last"
#: "Question: ...\nResponse: ...\nCriterion: ...\n<question>": plain labels, the criterion right before the question
COMPACT = "compact"
LAYOUTS = (CRITERION_FIRST, CRITERION_LAST, COMPACT)
#: how demonstrations are shown in a few-shot context: as earlier chat turns answered by the assistant, or written
#: one after another inside the final user message, each followed by its verdict
DEMO_TURNS = "turns"
DEMO_INLINE = "inline"
DEMO_STYLES = (DEMO_TURNS, DEMO_INLINE)

_ELLIPSIS = "\n[... truncated ...]\n"
#: processor outputs aligned with the tokens (padded like ``input_ids``); every other entry of
#: :attr:`EncodedQuery.pixels` is an image input
SEQUENCE_KEYS = frozenset({"token_type_ids", "mm_token_type_ids"})


@dataclass(frozen=True)
class JudgeItem:
    """One thing to judge: a prompt and one (pointwise) or two (pairwise, A then B) responses."""

    prompt: Prompt
    responses: tuple[str, ...]
    images: tuple[Any, ...] = ()


@dataclass(frozen=True)
class JudgeTemplate:
    """The wording of the judge query. Stored in artifacts so scoring uses exactly what fitting used."""

    criterion: str
    mode: str = field(default=POINTWISE, metadata={
        "help": "pointwise: score one response (examples {prompt, response, label}); pairwise: prefer one of two "
                "(examples {prompt, chosen, rejected})", "choices": MODES})
    system: str | None = None
    max_length: int = field(default=2048, metadata={"help": "token limit per judge query (longer responses are "
                                                             "truncated inside the response)"})
    pointwise_question: str = "Does the response meet the criterion? Answer Yes or No."
    pairwise_question: str = "Which response better meets the criterion? Answer A or B."
    pointwise_verdicts: tuple[str, str] = ("Yes", "No")
    pairwise_verdicts: tuple[str, str] = ("A", "B")
    layout: str = field(default=COMPACT, metadata={
        "help": "judge query layout: the criterion after plainly labelled question and response(s), right before "
                "the question ('compact'), before the prompt ('criterion_first', the layout of artifacts from "
                "0.1), or after a bracketed body ('criterion_last'; queries for several criteria then share "
                "everything up to the criterion, one KV cache)", "choices": LAYOUTS})

    def __post_init__(self) -> None:
        check_fields(self, [
            ("criterion", isinstance(self.criterion, str) and bool(self.criterion.strip()),
             f"must be non-blank text, got {self.criterion!r}"),
            one_of("mode", self.mode, MODES),
            one_of("layout", self.layout, LAYOUTS),
            ("max_length", self.max_length >= 64, f"must be at least 64 tokens, got {self.max_length}"),
        ])

    @property
    def verdicts(self) -> tuple[str, str]:
        """(positive, negative): Yes/No pointwise, A/B pairwise."""
        return self.pointwise_verdicts if self.mode == POINTWISE else self.pairwise_verdicts

    @property
    def num_responses(self) -> int:
        return 1 if self.mode == POINTWISE else 2

    def user_text(self, prompt_text: str, responses: Sequence[str]) -> str:
        criterion = f"Criterion: {self.criterion.strip()}"
        question = self.pointwise_question if self.mode == POINTWISE else self.pairwise_question
        if self.layout == COMPACT:
            if self.mode == POINTWISE:
                body = f"Question: {prompt_text}\nResponse: {responses[0]}"
            else:
                body = f"Question: {prompt_text}\nResponse A: {responses[0]}\nResponse B: {responses[1]}"
            return f"{body}\n{criterion}\n{question}"
        if self.mode == POINTWISE:
            body = f"[User prompt]\n{prompt_text}\n\n[Response]\n{responses[0]}"
        else:
            body = f"[User prompt]\n{prompt_text}\n\n[Response A]\n{responses[0]}\n\n[Response B]\n{responses[1]}"
        if self.layout == CRITERION_LAST:
            return f"{body}\n\nYou are a careful judge. {criterion}\n{question}"
        return f"You are a careful judge. {criterion}\n\n{body}\n\n{question}"

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JudgeTemplate:
        known = {f for f in cls.__dataclass_fields__}
        clean = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known}
        clean.setdefault("layout", CRITERION_FIRST)  # artifacts written before the layout field existed
        return cls(**clean)


def prompt_text(prompt: Prompt) -> str:
    """A chat-messages prompt rendered as a readable transcript; a string prompt as is."""
    if isinstance(prompt, str):
        return prompt
    if len(prompt) == 1 and prompt[0].get("role") == "user":
        return str(prompt[0]["content"])
    return "\n\n".join(f"{str(m['role']).capitalize()}: {m['content']}" for m in prompt)


@dataclass
class EncodedQuery:
    """One judge query as the model reads it: token ids and, for items with images, the processor's pixel inputs
    (tensors keyed by the model's argument names; empty for text)."""

    ids: list[int]
    truncated: bool = False
    pixels: dict[str, Any] = field(default_factory=dict)
    _key: Hashable | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def has_images(self) -> bool:
        return any(key not in SEQUENCE_KEYS for key in self.pixels)

    def key(self) -> Hashable:
        """Equal for queries with the same tokens and the same pixel values (what a cache of their prefix
        computation may be keyed by); computed once, since head selection asks for it every step."""
        if self._key is None:
            self._key = self._content_key()
        return self._key

    def _content_key(self) -> Hashable:
        if not self.pixels:
            return tuple(self.ids)
        import torch

        digest = hashlib.sha256()
        for name in sorted(self.pixels):
            value = self.pixels[name]
            digest.update(name.encode())
            digest.update(str((value.dtype, tuple(value.shape))).encode())
            digest.update(value.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        return (tuple(self.ids), digest.hexdigest())


def special_token_strings(tokenizer: Any, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Special and added-special token strings of ``tokenizer`` plus ``extra``, longest first."""
    found = set(getattr(tokenizer, "all_special_tokens", None) or [])
    for token in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values():
        if getattr(token, "special", False):
            found.add(str(token))
    found.update(extra)
    return tuple(sorted((t for t in found if t), key=lambda t: (-len(t), t)))


def text_token_ids(tokenizer: Any, text: str) -> list[int]:
    """Token ids of ``text`` read as plain text: special-token strings in it become ordinary text tokens."""
    return list(tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])


Turns = Sequence[tuple[str, str | None]]


@dataclass(frozen=True)
class MaskedTurns:
    """Chat turns and system text with each special-token string written in them replaced by the guard's stand-in,
    and the strings replaced, in the order they appear."""

    turns: list[tuple[str, str | None]]
    system: str | None
    written: list[str]


@dataclass
class TextGuard:
    """Keeps user text text, so nothing written in a prompt or response can open or close a judge turn.

    The chat template and the tokenizer (or processor) see the texts with every special-token string written in
    them replaced by one stand-in special token that the template never emits; in the resulting ids each stand-in
    is then replaced by the text tokens of the string it hid. Why a stand-in rather than tokenizing user segments
    apart: tokenizers already split the text at special tokens, so text without such strings keeps exactly the
    ids of one plain tokenizer call (no merge across a segment boundary changes), the template's own special
    tokens stay control tokens, and a processor's image-placeholder expansion only sees the template's
    placeholders.
    """

    tokenizer: Any
    #: the tokenizer's special-token strings, longest first (so the longest one written at a place is taken whole)
    markers: tuple[str, ...]
    #: the special token that stands in for written ones (None: every special token is in use by the template)
    stand_in: str | None
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False)
    _text_ids: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.markers:
            self._pattern = re.compile("|".join(re.escape(m) for m in self.markers))

    @classmethod
    def for_tokenizer(cls, tokenizer: Any, reserved: str = "") -> TextGuard:
        """The guard for ``tokenizer``; its stand-in is a special token that does not occur in ``reserved`` (what
        the template and processor emit themselves) and absorbs no whitespace, unk/pad/eos/bos first."""
        markers = special_token_strings(tokenizer)
        added = {str(t): t for t in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values()}
        named = [getattr(tokenizer, name, None) for name in ("unk_token", "pad_token", "eos_token", "bos_token")]
        free = [m for m in dict.fromkeys([*named, *sorted(markers)])
                if m in markers and m not in reserved
                and not getattr(added.get(m), "lstrip", False) and not getattr(added.get(m), "rstrip", False)]
        return cls(tokenizer, markers, free[0] if free else None)

    def mask(self, turns: Turns, system: str | None) -> MaskedTurns:
        """``turns`` and ``system`` with their special-token strings hidden behind the stand-in."""
        written: list[str] = []

        def hide(text: str | None) -> str | None:
            if text is None or self._pattern is None:
                return text
            return self._pattern.sub(lambda match: self._hide(match.group(), written), text)

        masked_system = hide(system)
        masked_turns = [(hide(user) or "", hide(answer)) for user, answer in turns]
        return MaskedTurns(masked_turns, masked_system, written)

    def _hide(self, marker: str, written: list[str]) -> str:
        if self.stand_in is None:
            raise ValueError(f"the text contains the special token {marker!r}, and every special token of this "
                             "tokenizer is used by its chat template, so none can stand in to keep it text")
        written.append(marker)
        return self.stand_in

    def text_ids(self, marker: str) -> list[int]:
        """The ordinary text tokens of a special-token string (checked to hold no special token)."""
        if marker not in self._text_ids:
            ids = text_token_ids(self.tokenizer, marker)
            special = set(self.tokenizer.convert_tokens_to_ids(list(self.markers)))
            if not ids or special.intersection(ids):
                raise UnsupportedModelError(f"the tokenizer cannot tokenize {marker!r} as plain text "
                                            "(split_special_tokens is not supported)")
            self._text_ids[marker] = ids
        return self._text_ids[marker]

    def restore(self, query: EncodedQuery, written: Sequence[str]) -> EncodedQuery:
        """``query`` (encoded from masked text) with each stand-in replaced by the text tokens it hid; token-aligned
        pixel entries (``SEQUENCE_KEYS``) are stretched to match, each new token taking the stand-in's value."""
        if not written:
            return query
        stand_in_id = self.tokenizer.convert_tokens_to_ids(self.stand_in)
        at = [i for i, token in enumerate(query.ids) if token == stand_in_id]
        if len(at) != len(written):
            raise ValueError(f"{len(written)} special-token strings were written in the text but the chat template "
                             f"or processor kept {len(at)} of their stand-ins ({self.stand_in!r}); cannot keep them "
                             "as text")
        pieces = [[token] for token in query.ids]
        for i, marker in zip(at, written):
            pieces[i] = self.text_ids(marker)
        ids = [token for piece in pieces for token in piece]
        pixels = dict(query.pixels)
        if any(key in SEQUENCE_KEYS for key in pixels):
            import torch

            counts = torch.tensor([len(piece) for piece in pieces])
            for key in SEQUENCE_KEYS & pixels.keys():
                pixels[key] = pixels[key].repeat_interleave(counts, dim=-1)
        return EncodedQuery(ids, query.truncated, pixels)


@dataclass
class QueryEncoder:
    """Tokenizes judge queries with the tokenizer's chat template (plain-text fallback without one); every query
    goes through :meth:`encode_turns`, which keeps user text text (:class:`TextGuard`)."""

    tokenizer: Any
    template: JudgeTemplate
    _verdict_ids: tuple[int, int] | None = field(default=None, init=False, repr=False)
    _guard: TextGuard | None = field(default=None, init=False, repr=False)

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def _system(self, system: str | None) -> str | None:
        return self.template.system if system is None else system

    def _messages(self, turns: Turns, system: str | None = None) -> list[dict[str, str]]:
        system = self._system(system)
        messages = [{"role": "system", "content": system}] if system else []
        for user, assistant in turns:
            messages.append({"role": "user", "content": user})
            if assistant is not None:
                messages.append({"role": "assistant", "content": assistant})
        return messages

    def render_text(self, turns: Turns, system: str | None = None) -> str:
        """Turns of (user text, assistant verdict or None for the final query) to the model's input text, with the
        template's system text unless ``system`` is given."""
        if self.has_chat_template:
            return self.tokenizer.apply_chat_template(self._messages(turns, system), tokenize=False,
                                                      add_generation_prompt=True)
        system = self._system(system)
        parts = [system] if system else []
        for user, assistant in turns:
            parts.append(f"User: {user}")
            parts.append(f"Assistant: {assistant}" if assistant is not None else "Assistant:")
        return "\n\n".join(parts)

    def _tokenize(self, text: str) -> list[int]:
        # Chat templates already carry their special tokens; the plain fallback gets the tokenizer's BOS.
        return list(self.tokenizer(text, add_special_tokens=not self.has_chat_template)["input_ids"])

    def _reserved_text(self) -> str:
        """Text holding every special token the template emits itself (none of them may stand in for user text).
        The system text is a probe too: special-token strings written in the user's own system text are user text,
        not the template's."""
        return self.render_text([("probe", "probe"), ("probe", None)], system="probe" if self.template.system else None)

    @property
    def guard(self) -> TextGuard:
        """What keeps user text text for this tokenizer and template (built on first use)."""
        if self._guard is None:
            self._guard = TextGuard.for_tokenizer(self.tokenizer, self._reserved_text())
        return self._guard

    def encode_turns(self, turns: Turns, encode_text: Callable[[str], EncodedQuery] | None = None,
                     **render: Any) -> EncodedQuery:
        """Chat turns rendered (``render``: extra arguments of :meth:`render_text`) and encoded by ``encode_text``
        (default: tokenized), with every text in them (system, user, assistant) kept text. The one path by which
        user text reaches the tokenizer."""
        masked = self.guard.mask(turns, self.template.system)
        text = self.render_text(masked.turns, system=masked.system, **render)
        encoded = encode_text(text) if encode_text else EncodedQuery(self._tokenize(text))
        return self.guard.restore(encoded, masked.written)

    @property
    def verdict_ids(self) -> tuple[int, int]:
        """Token ids of the (positive, negative) verdict as the model would emit them right after the prompt.

        Found by tokenizing prompt + verdict and taking the first new token, so tokenizers that merge a leading
        space (" Yes") or split words differently resolve correctly.
        """
        if self._verdict_ids is None:
            probe = self.render_text([("probe", None)])
            base = self._tokenize(probe)
            ids = []
            for word in self.template.verdicts:
                spaced = word if self.has_chat_template else " " + word
                full = self._tokenize(probe + spaced)
                if full[: len(base)] == base and len(full) > len(base):
                    ids.append(full[len(base)])
                else:
                    ids.append(self.tokenizer(spaced, add_special_tokens=False)["input_ids"][0])
            if ids[0] == ids[1]:
                raise ValueError(f"verdicts {self.template.verdicts} map to the same token id {ids[0]}")
            self._verdict_ids = (ids[0], ids[1])
        return self._verdict_ids

    def _parts(self, item: JudgeItem) -> list[str]:
        if len(item.responses) != self.template.num_responses:
            raise ValueError(f"{self.template.mode} query needs {self.template.num_responses} response(s), "
                             f"got {len(item.responses)}")
        return [prompt_text(item.prompt), *item.responses]

    def _user(self, parts: Sequence[str]) -> str:
        return self.template.user_text(parts[0], parts[1:])

    def _shorten(self, text: str, keep: int) -> str:
        """Keep the first and last ``keep // 2`` tokens of ``text``."""
        ids = text_token_ids(self.tokenizer, text)
        if len(ids) <= keep:
            return text
        head = max(keep // 2, 1)
        tail = max(keep - head, 1)
        decode = self.tokenizer.decode
        return decode(ids[:head], skip_special_tokens=True) + _ELLIPSIS + decode(ids[-tail:], skip_special_tokens=True)

    def fit_parts(self, parts: list[str], budget: int, render) -> tuple[list[str], bool]:
        """Shorten ``parts`` (prompt, responses) until ``render(parts)`` has at most ``budget`` tokens."""
        total = len(render(parts))
        if total <= budget:
            return parts, False
        lengths = [len(text_token_ids(self.tokenizer, p)) for p in parts]
        overhead = total - sum(lengths)
        marker = len(text_token_ids(self.tokenizer, _ELLIPSIS)) + 2
        room = budget - overhead - marker * len(parts)
        if room < 4 * len(parts):
            raise ValueError(f"max_length {budget} leaves no room for the texts (template alone is {overhead} tokens)")
        for _ in range(6):
            shares = _water_fill(lengths, room)
            shortened = [self._shorten(p, s) for p, s in zip(parts, shares)]
            total = len(render(shortened))
            if total <= budget:
                return shortened, True
            room -= total - budget + 8
        raise ValueError(f"could not fit the query into max_length={budget} tokens")

    def template_tokens(self) -> int:
        """Tokens of a query whose prompt and responses are empty: the fixed cost of the template."""
        empty = [""] * (1 + self.template.num_responses)
        return len(self.tokenize_turns([(self._user(empty), None)]))

    def encode(self, item: JudgeItem) -> EncodedQuery:
        """Token ids of one zero-shot judge query."""
        def render(parts: list[str]) -> list[int]:
            return self.tokenize_turns([(self._user(parts), None)])

        parts, truncated = self.fit_parts(self._parts(item), self.template.max_length, render)
        return EncodedQuery(render(parts), truncated)

    def encode_many(self, items: Sequence[JudgeItem]) -> tuple[list[EncodedQuery], int]:
        """Many queries and how many were truncated."""
        encoded = [self.encode(item) for item in items]
        return encoded, sum(e.truncated for e in encoded)

    def tokenize_turns(self, turns: Turns) -> list[int]:
        """Token ids of chat turns (user text, verdict or None) rendered with this encoder's chat template."""
        return self.encode_turns(turns).ids

    def load_images(self, examples: Sequence[Example], allow_network: bool = False) -> list[Example]:
        """The examples ready to encode: a text encoder refuses images (before any slow work)."""
        if has_images(examples):
            raise UnsupportedModelError(
                "the examples carry images but the backbone is text-only; use a vision-language backbone "
                "(Qwen2-VL, Qwen2.5-VL, LLaVA-OneVision, Idefics3/SmolVLM, Gemma 3)")
        return list(examples)

    def attach_images(self, items: Sequence[JudgeItem], images: Sequence[Any] | None) -> list[JudgeItem]:
        """Judge items with per-item images (``images[i]``: one image, a list of them, or None)."""
        per_item = per_item_images(images, len(items))
        if per_item is None:
            return list(items)
        if any(per_item) and not self.accepts_images:
            raise UnsupportedModelError("images were given but the backbone is text-only")
        return [replace(item, images=refs) for item, refs in zip(items, per_item)]

    #: whether queries may carry images (vision-language encoders)
    accepts_images = False

    def item_tokens(self, item: JudgeItem) -> int:
        """Tokens of ``item``'s query rendered alone, uncut: what a per-item budget is compared with."""
        return len(self.tokenize_turns([(self._user(self._parts(item)), None)]))

    def demo_turns(self, demos: Sequence[tuple[JudgeItem, int | None]], budget: int | Sequence[int] | None = None,
                   style: str = DEMO_TURNS) -> tuple[list[tuple[str, str | None]], bool]:
        """Chat turns of labelled items (verdict index 0 = positive; None for the final query), each item's user
        text cut to ``budget`` tokens first (one budget for all, or one per item), and whether any was cut.
        ``style`` "inline" writes every item into one user message, each demonstration followed by its verdict
        on the next line."""
        if style not in DEMO_STYLES:
            raise ValueError(f"demonstration style must be one of {DEMO_STYLES}, got {style!r}")
        budgets = item_budgets(budget or self.template.max_length, len(demos))
        truncated = False
        turns: list[tuple[str, str | None]] = []
        for (item, verdict), item_budget in zip(demos, budgets):
            parts, cut = self.fit_parts(self._parts(item), item_budget,
                                        lambda p: self.tokenize_turns([(self._user(p), None)]))
            truncated |= cut
            turns.append((self._user(parts), None if verdict is None else self.template.verdicts[verdict]))
        return (inline_turns(turns) if style == DEMO_INLINE else turns), truncated

    def encode_with_demos(self, demos: Sequence[tuple[JudgeItem, int]], query: JudgeItem,
                          per_item_budget: int | Sequence[int] | None = None, style: str = DEMO_TURNS) -> EncodedQuery:
        """A few-shot context: labelled demonstrations (verdict index 0 = positive), then the query, as chat turns
        or inline in one message (``style``). Each item is truncated to ``per_item_budget`` tokens first (one for
        all, or one per item with the query's last)."""
        turns, truncated = self.demo_turns([*demos, (query, None)], per_item_budget, style)
        return EncodedQuery(self.tokenize_turns(turns), truncated)

    def with_template(self, template: JudgeTemplate) -> QueryEncoder:
        return QueryEncoder(self.tokenizer, template)


def inline_turns(turns: Sequence[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Chat turns folded into one user message: each demonstration's text followed by its verdict on the next
    line, blocks separated by a blank line; the last turn's answer (None for a query) stays the answer."""
    if not turns:
        return []
    blocks = [user if verdict is None else f"{user}\n{verdict}" for user, verdict in turns[:-1]]
    return [("\n\n".join([*blocks, turns[-1][0]]), turns[-1][1])]


def item_budgets(budget: int | Sequence[int], n: int) -> list[int]:
    """``n`` per-item token budgets from one shared value or a list of them."""
    budgets = [budget] * n if isinstance(budget, int) else list(budget)
    if len(budgets) != n:
        raise ValueError(f"{len(budgets)} item budgets for {n} items")
    return budgets


def context_budgets(lengths: Sequence[int], total: int, floor: int, whole: int) -> list[int]:
    """Per-item token budgets of a context whose items are ``lengths`` tokens long: every item whole when they fit
    in ``total``, else the longest ones cut to equal shares of what the shorter ones leave (water-filling), never
    below ``floor`` (then the context runs over ``total`` rather than erasing an item). An item left whole gets
    ``whole`` (the query limit), so a different count of its tokens cannot cut it."""
    shares = list(lengths) if sum(lengths) <= total else _water_fill(lengths, total)
    return [whole if share >= length else max(floor, share) for share, length in zip(shares, lengths)]


def _water_fill(lengths: Sequence[int], room: int) -> list[int]:
    """Split ``room`` tokens over parts: short parts keep everything, long ones share the rest equally."""
    shares = [0] * len(lengths)
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    left = room
    for rank, i in enumerate(order):
        fair = left // (len(lengths) - rank)
        shares[i] = min(lengths[i], fair)
        left -= shares[i]
    return shares


def labelled_items(examples: Sequence[Any], mode: str) -> list[tuple[JudgeItem, int]]:
    """Few-shot examples as (judge item, verdict index) with 0 = positive (Yes / A) and 1 = negative (No / B).

    Pointwise: a pair gives one Yes item (chosen) and one No item (rejected). Pairwise: each pair appears in both
    orders (chosen as A, then chosen as B), so neither position is favoured by the data. Each item keeps its
    example's images.
    """
    from activation_rm.inputs.data import PairwiseExample, PointwiseExample

    items: list[tuple[JudgeItem, int]] = []
    for example in examples:
        images = tuple(getattr(example, "images", ()))
        if mode == POINTWISE:
            if isinstance(example, PairwiseExample):
                items.append((JudgeItem(example.prompt, (example.chosen,), images), 0))
                items.append((JudgeItem(example.prompt, (example.rejected,), images), 1))
            elif isinstance(example, PointwiseExample):
                items.append((JudgeItem(example.prompt, (example.response,), images), 0 if example.label else 1))
            else:
                raise TypeError(f"not an example: {example!r}")
        elif mode == PAIRWISE:
            if not isinstance(example, PairwiseExample):
                raise ValueError("a pairwise reward model needs pairwise examples {prompt, chosen, rejected}")
            items.append((JudgeItem(example.prompt, (example.chosen, example.rejected), images), 0))
            items.append((JudgeItem(example.prompt, (example.rejected, example.chosen), images), 1))
        else:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return items
