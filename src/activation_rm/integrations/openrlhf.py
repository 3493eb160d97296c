"""OpenRLHF's remote reward model protocol, served at ``POST /get_reward``, and its in-process form, the
``reward_func(queries, prompts, labels)`` that ``openrlhf_reward_func.py`` (in this folder) exposes.

OpenRLHF (``--reward.remote_url http://HOST:PORT/get_reward`` in openrlhf 0.11.2, ``--remote_rm_url`` in older
releases) posts ``{"query": [...], "prompts": [...], "labels": [...]}`` and reads ``rewards`` (used for
the advantage), ``scores`` (used for dynamic filtering, so kept in [0, 1]) and ``extra_logs`` (per-sample values
logged to wandb). A reward URL ending in ``.py`` is imported instead and its ``reward_func`` called with
the same three lists; :func:`reward_func` answers like the server, with float tensors (see
``openrlhf_reward_func.py`` for the call shape checked and the ``ACTIVATION_RM_*`` settings).

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

import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .batching import GroupBatcher

ROLES = ("system", "user", "assistant", "tool")
_ROLE_LINE = re.compile(r"\s*(system|user|assistant|tool)[ \t]*(?:\n|:)", re.IGNORECASE)


def special_token_strings(tokenizer: Any, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Special and added-special token strings of ``tokenizer`` plus ``extra``, longest first."""
    found = set(getattr(tokenizer, "all_special_tokens", None) or [])
    for token in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values():
        if getattr(token, "special", False):
            found.add(str(token))
    found.update(extra)
    return tuple(sorted((t for t in found if t), key=lambda t: (-len(t), t)))


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


# -------------------------------------------- the in-process reward function (openrlhf_reward_func.py)
def _env_list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    """What to load and how to reward, read from ``ACTIVATION_RM_*`` environment variables."""

    artifacts: tuple[str, ...]
    model: str | None = None
    device: str = "auto"
    dtype: str | None = None
    criteria: tuple[str, ...] = ()
    strip_tokens: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        artifacts = _env_list(env.get("ACTIVATION_RM_ARTIFACTS"))
        if not artifacts:
            raise ValueError("set ACTIVATION_RM_ARTIFACTS (comma-separated artifact directories, NAME=PATH allowed) "
                             "in the environment of OpenRLHF's workers")
        return cls(artifacts, env.get("ACTIVATION_RM_MODEL") or None, env.get("ACTIVATION_RM_DEVICE") or "auto",
                   env.get("ACTIVATION_RM_DTYPE") or None, _env_list(env.get("ACTIVATION_RM_CRITERIA")),
                   _env_list(env.get("ACTIVATION_RM_STRIP_TOKENS")))


@dataclass
class Judge:
    """What one set of settings loaded: the reward's criteria, the strings to split queries on, and the batcher
    that runs the models."""

    criteria: tuple[str, ...]
    markers: tuple[str, ...]
    batcher: GroupBatcher


def _load(settings: Settings) -> Judge:
    from ..serve.models import load_model_set

    models = load_model_set(list(settings.artifacts), settings.model, device=settings.device, dtype=settings.dtype)
    criteria = models.resolve(settings.criteria or None)
    markers = special_token_strings(models.backbone.tokenizer, settings.strip_tokens)
    return Judge(criteria, markers, GroupBatcher(lambda p, r: models.score(p, r, criteria)))


_JUDGES: dict[Settings, Judge] = {}
_LOAD_LOCK = threading.Lock()


def get_judge(settings: Settings) -> Judge:
    """The judge for ``settings``, loaded on first use; concurrent first calls wait for that one load."""
    with _LOAD_LOCK:
        if settings not in _JUDGES:
            _JUDGES[settings] = _load(settings)
        return _JUDGES[settings]


def split_queries(queries: Sequence[str], prompts: Sequence[str],
                  markers: Sequence[str]) -> tuple[list[Any], list[str]]:
    """(judge prompts, responses) of OpenRLHF's queries; ValueError naming the first one that cannot be split."""
    if prompts is None or len(prompts) != len(queries):
        raise ValueError(f"{len(queries)} queries need as many prompts, got "
                         f"{'none' if prompts is None else len(prompts)}")
    judged, responses = [], []
    for i, (query, prompt) in enumerate(zip(queries, prompts)):
        try:
            head, response = split_query(query, prompt, markers)
        except ValueError as err:
            raise ValueError(f"query[{i}]: {err}") from None
        judged.append(head)
        responses.append(response)
    return judged, responses


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any] | None = None,
                **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF's reward function: ``rewards`` and ``scores`` (the mean over the criteria, in [0, 1]) and each
    criterion's scores in ``extra_logs``, as float tensors of ``len(queries)``. ``labels`` are not used."""
    del labels, kwargs
    judge = get_judge(Settings.from_env())
    judged, responses = split_queries(queries, prompts, judge.markers)
    scores = judge.batcher(judged, responses) if responses else {name: [] for name in judge.criteria}
    answer = reward_response(judge.criteria, scores)
    return {"rewards": _tensor(answer["rewards"]), "scores": _tensor(answer["scores"]),
            "extra_logs": {name: _tensor(values) for name, values in answer["extra_logs"].items()}}


def _tensor(values: Sequence[float]) -> Any:
    import torch

    return torch.tensor(list(values), dtype=torch.float32)
