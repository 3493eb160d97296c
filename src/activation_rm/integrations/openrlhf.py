"""OpenRLHF's remote reward model protocol, served at ``POST /get_reward``, and its in-process form, the
``reward_func(queries, prompts, labels)`` that ``openrlhf_reward_func.py`` (in this folder) exposes.

OpenRLHF (``--reward.remote_url http://HOST:PORT/get_reward`` in openrlhf 0.11.2, ``--remote_rm_url`` in older
releases) posts ``{"query": [...], "prompts": [...], "labels": [...]}`` and reads ``rewards`` (used for
the advantage), ``scores`` (used for dynamic filtering, so kept in [0, 1]) and ``extra_logs`` (per-sample values
logged to wandb). A reward URL ending in ``.py`` is imported instead and its ``reward_func`` called with
the same three lists; :func:`reward_func` answers like the server, with float tensors (see
``openrlhf_reward_func.py`` for the call shape checked and the ``ACTIVATION_RM_*`` settings).
The split of each query into prompt and response is :func:`activation_rm.integrations.openrlhf_queries.split_query`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from activation_rm.integrations.calls import GroupBatcher
from activation_rm.integrations.openrlhf_queries import reward_response, split_query
from activation_rm.judge.templates import special_token_strings


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
    from activation_rm.scoring.engine import load_model_set

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
