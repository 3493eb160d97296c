"""OpenRLHF's reward queries split back into (prompt, response), and its reward answer.

Shared by the reward server's ``POST /get_reward`` (:mod:`activation_rm.serve`) and the in-process
``reward_func`` (:mod:`activation_rm.integrations.openrlhf`), so neither imports the other.

Each query is the decoded prompt + response, chat template included, possibly with padding around it. The rule
that splits it (:func:`split_query`):

1. Strip special-token strings (pad, BOS, EOS, end-of-turn: the backbone tokenizer's special and added special
   tokens, plus any given with ``--strip-token``) and whitespace from both ends of the query.
2. The response is what follows the prompt: the query must start with ``prompts[i]`` (after the same stripping),
   else the text after the first occurrence of that prompt is used; a query that does not contain its prompt is a
   bad item (HTTP 422 naming it).
3. The prompt shown to the judge is read back from ``prompts[i]``: the text is cut at every special-token string
   (so chat markers cannot open turns of the judge's own template); each piece is a turn whose role is a leading
   ``system``/``user``/``assistant``/``tool`` line or a role-only piece just before it (ChatML, Llama 3 headers),
   else ``user``; empty turns (the trailing generation prompt) are dropped. One user turn becomes a plain string,
   several turns a messages list (rendered as a ``Role: text`` transcript). ``labels`` are not used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

ROLES = ("system", "user", "assistant", "tool")
_ROLE_LINE = re.compile(r"\s*(system|user|assistant|tool)[ \t]*(?:\n|:)", re.IGNORECASE)


def _strip_ends(text: str, markers: Sequence[str]) -> str:
    text = text.strip()
    changed = True
    while changed and text:
        changed = False
        for marker in markers:
            if text.startswith(marker):
                text, changed = text[len(marker):].lstrip(), True
            if text.endswith(marker):
                text, changed = text[: -len(marker)].rstrip(), True
    return text


def prompt_turns(prompt: str, markers: Sequence[str]) -> str | list[dict[str, str]]:
    """The chat turns in a templated prompt string (see rule 3 above)."""
    pieces = re.split("|".join(re.escape(m) for m in markers), prompt) if markers else [prompt]
    turns: list[dict[str, str]] = []
    pending: str | None = None
    for piece in pieces:
        text = piece.strip()
        if not text:
            continue
        if text.lower() in ROLES:
            pending = text.lower()
            continue
        match = _ROLE_LINE.match(piece)
        role = match.group(1).lower() if match and len(pieces) > 1 else (pending or "user")
        content = piece[match.end():].strip() if match and len(pieces) > 1 else text
        pending = None
        if content:
            turns.append({"role": role, "content": content})
    if not turns:
        raise ValueError("prompt holds no text besides special tokens")
    if len(turns) == 1 and turns[0]["role"] == "user":
        return turns[0]["content"]
    return turns


def split_query(query: str, prompt: str, markers: Sequence[str] = ()) -> tuple[str | list[dict[str, str]], str]:
    """(judge prompt, response) of one OpenRLHF query; raises ValueError when the query lacks its prompt."""
    if not isinstance(query, str) or not isinstance(prompt, str):
        raise ValueError("query and prompt must be strings")
    body = _strip_ends(query, markers)
    head = _strip_ends(prompt, markers)
    if not head:
        raise ValueError("prompt is empty")
    if body.startswith(head):
        response = body[len(head):]
    else:
        at = body.find(head)
        if at < 0:
            raise ValueError("query does not contain its prompt, so the response cannot be split off")
        response = body[at + len(head):]
    return prompt_turns(prompt, markers), _strip_ends(response, markers)


def reward_response(criteria: Sequence[str], scores: dict[str, list[float]]) -> dict[str, Any]:
    """The ``/get_reward`` answer: reward = mean over ``criteria``; per-criterion scores go to ``extra_logs``."""
    n = len(next(iter(scores.values()))) if scores else 0
    rewards = [sum(scores[c][i] for c in criteria) / len(criteria) for i in range(n)]
    return {"rewards": rewards, "scores": list(rewards), "extra_logs": {name: values for name, values in scores.items()}}
