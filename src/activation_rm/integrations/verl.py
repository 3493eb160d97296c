"""verl reward functions: point ``custom_reward_function.path`` at this file.

verl loads the file by path and calls ``compute_score(data_source, solution_str, ground_truth, extra_info)`` per
response (``reward_model.reward_manager=naive``) or ``compute_score_batch(data_sources, solution_strs,
ground_truths, extra_infos)`` (``reward_model.reward_manager=batch``, ``custom_reward_function.name=
compute_score_batch``), passing ``custom_reward_function.reward_kwargs`` as keyword arguments. Newer verl nests
these keys under ``reward.`` (``reward.custom_reward_function.path`` ...).

verl does not pass the prompt to reward functions, so the prompt is read from ``extra_info`` (keys ``prompt``,
``question``, ``query``, or ``prompt_key=...``): put it there when preparing the parquet files.

Reward kwargs (or environment variables): ``url`` / ``$ACTIVATION_RM_URL`` calls a running server (recommended:
one backbone for all reward workers); else ``artifacts`` / ``$ACTIVATION_RM_ARTIFACTS`` (comma-separated) loads
the models into this process once. Also ``criteria``, ``weights``, ``token`` / ``$ACTIVATION_RM_TOKEN``,
``device``, ``dtype``. The reward is the mean score over the criteria, in [0, 1].

Because verl loads this file by path, it uses absolute imports only.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

PROMPT_KEYS = ("prompt", "question", "query")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _prompt(extra_info: Any, prompt_key: str | None) -> Any:
    from activation_rm.integrations.trl import prompt_input

    info = extra_info if isinstance(extra_info, dict) else {}
    keys = (prompt_key,) if prompt_key else PROMPT_KEYS
    for key in keys:
        value = info.get(key)
        if value is not None and (not isinstance(value, str) or value.strip()):
            if not isinstance(value, str):  # numpy arrays of message dicts come out of parquet
                value = [dict(m) for m in list(value)]
            return prompt_input(value)
    raise ValueError(f"the prompt is not in extra_info (looked for {', '.join(keys)}); verl passes no prompt to "
                     "reward functions, so add it to extra_info when you build the parquet files")


@functools.lru_cache(maxsize=4)
def _local_models(artifacts: tuple[str, ...], device: str, dtype: str | None):
    from activation_rm.serve.models import ModelSet

    return ModelSet.from_artifacts(list(artifacts), device=device, dtype=dtype)


def _score(prompts: list[Any], responses: list[str], kwargs: dict[str, Any]) -> list[float]:
    from activation_rm.serve.client import RewardClient, combine

    criteria = _as_list(kwargs.get("criteria")) or None
    weights = kwargs.get("weights")
    url = kwargs.get("url") or os.environ.get("ACTIVATION_RM_URL")
    if url:
        token = kwargs.get("token") or os.environ.get("ACTIVATION_RM_TOKEN")
        scores = RewardClient(url, token=token, timeout=float(kwargs.get("timeout", 300))).score(
            prompts, responses, criteria)
    else:
        artifacts = tuple(_as_list(kwargs.get("artifacts") or os.environ.get("ACTIVATION_RM_ARTIFACTS")))
        if not artifacts:
            raise ValueError("give reward_kwargs.url (a running `activation-rm serve`) or reward_kwargs.artifacts "
                             "(or $ACTIVATION_RM_URL / $ACTIVATION_RM_ARTIFACTS)")
        models = _local_models(artifacts, str(kwargs.get("device", "auto")), kwargs.get("dtype"))
        scores = models.score(prompts, responses, criteria)
    return combine(scores, dict(weights) if weights else None)


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None,
                  **kwargs: Any) -> float:
    """Reward of one response (verl's per-sample signature); ``data_source`` and ``ground_truth`` are unused."""
    del data_source, ground_truth
    return _score([_prompt(extra_info, kwargs.get("prompt_key"))], [solution_str], kwargs)[0]


def compute_score_batch(data_sources: Sequence[str], solution_strs: Sequence[str], ground_truths: Sequence[Any],
                        extra_infos: Sequence[dict | None], **kwargs: Any) -> list[float]:
    """Rewards of a batch in one call (verl's ``batch`` reward manager)."""
    del data_sources, ground_truths
    prompts = [_prompt(info, kwargs.get("prompt_key")) for info in extra_infos]
    return _score(prompts, [str(s) for s in solution_strs], kwargs)
