"""verl reward functions: point verl's custom reward function at this file.

Three forms, all returning the mean score over the criteria, in [0, 1]:

- ``compute_score(data_source, solution_str, ground_truth, extra_info, **reward_kwargs)``: one response, sync;
- ``compute_score_async(...)``: the same, async, with verl's ``reward_router_address`` / ``reward_model_tokenizer``;
  the reward loop runs the batch's calls concurrently and at most ``max_concurrency`` (default 32) are in flight to
  the reward server at a time, per event loop;
- ``compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **reward_kwargs)``: a batch in one
  request, for the pre-reward-loop ``batch`` reward manager.

Config keys, checked against **verl 0.9.1** (the Reward Loop, ``verl/experimental/reward_loop``, computes every
reward; ``verl/trainer/config/reward/reward.yaml``)::

    reward.custom_reward_function.path=pkg://activation_rm.integrations.verl   # or this file's path
    reward.custom_reward_function.name=compute_score_async                     # or compute_score
    +reward.custom_reward_function.reward_kwargs.url=http://HOST:5000
    reward.reward_manager.name=naive                                           # the default; also dapo, rate_limited

verl 0.9.1 merges ``reward_kwargs`` into every call (``trainer/ppo/reward.py``), picks the async form by
``inspect.iscoroutinefunction``, and passes ``reward_router_address`` (``host:port`` of the router of a reward
model verl serves itself, ``reward.reward_model.enable=True``) and ``reward_model_tokenizer`` only when it serves
one. They point at verl's model, not at activation-rm, so they are accepted and unused. The ``remote`` reward
manager takes sync functions only. Its reward loop has no ``batch`` manager: ``compute_score_batch`` is for the
older layout, checked against **verl 0.5.0**: ``custom_reward_function.path`` / ``.name=compute_score_batch``,
``reward_model.reward_manager=batch``, ``+custom_reward_function.reward_kwargs.url=...``.

verl does not pass the prompt to reward functions, so the prompt is read from ``extra_info`` (keys ``prompt``,
``question``, ``query``, or ``prompt_key=...``): put it there when preparing the parquet files.

Reward kwargs (or environment variables): ``url`` / ``$ACTIVATION_RM_URL`` calls a running ``activation-rm
serve`` (recommended: one backbone for all reward workers), with ``token`` / ``$ACTIVATION_RM_TOKEN``,
``timeout`` (seconds, default 300), ``retries`` (default 2, on connection errors and 5xx answers, with backoff)
and ``max_concurrency`` / ``$ACTIVATION_RM_MAX_CONCURRENCY``; else ``artifacts`` / ``$ACTIVATION_RM_ARTIFACTS``
(comma-separated) loads the models into this process once, with ``device`` and ``dtype`` (calls that arrive
while the judge is busy are scored together). Both take ``criteria`` and ``weights``; the batch form sends
``chunk_size`` (default 256) items per request.

The server forms use only the standard library and httpx (for the async form; without it each request runs in a
thread), so this file works in a verl environment that cannot install activation-rm: verl 0.9.1 pins
``transformers<5.11`` and activation-rm needs ``>=5.20``. Only the in-process form imports activation-rm. Because
verl loads this file by path without registering it as a module, it defines no dataclasses and uses absolute
imports only.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

PROMPT_KEYS = ("prompt", "question", "query")
DEFAULT_MAX_CONCURRENCY = 32
DEFAULT_TIMEOUT = 300.0
DEFAULT_RETRIES = 2
DEFAULT_CHUNK = 256


class RewardServerError(RuntimeError):
    """The reward server refused the request (4xx) or kept failing (5xx, connection errors after retries)."""


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


# The prompt normaliser of activation_rm.inputs.prompts, copied (this file cannot import activation-rm):
# _text is content_text and _judge_prompt is prompt_input; tests/test_integrations_verl.py holds the copies to them.
def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):  # multimodal parts: keep the text ones
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


def _judge_prompt(value: Any) -> str | list[dict[str, str]]:
    """A string, or messages (numpy arrays of dicts out of parquet too) with plain-text content."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bytes, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"prompt must be a string or a list of messages, got {type(value).__name__}")
    messages = []
    for j, message in enumerate(value):
        if not isinstance(message, Mapping):
            raise TypeError(f"prompt message {j} must be a dict with 'role' and 'content', "
                            f"got {type(message).__name__}")
        messages.append({"role": str(message.get("role", "user")), "content": _text(message.get("content"))})
    return messages


def _prompt(extra_info: Any, prompt_key: str | None) -> str | list[dict[str, str]]:
    info = extra_info if isinstance(extra_info, dict) else {}
    keys = (prompt_key,) if prompt_key else PROMPT_KEYS
    for key in keys:
        value = info.get(key)
        if value is not None and (not isinstance(value, str) or value.strip()):
            return _judge_prompt(value)
    raise ValueError(f"the prompt is not in extra_info (looked for {', '.join(keys)}); verl passes no prompt to "
                     "reward functions, so add it to extra_info when you build the parquet files")


def _combine(scores: dict[str, list[float]], weights: Any) -> list[float]:
    """One reward per item: the mean of the criteria's scores, weighted by ``weights`` (criterion -> weight)."""
    names = list(scores)
    if not names:
        return []
    given = dict(weights) if weights else {}
    w = {n: float(given.get(n, 0.0 if given else 1.0)) for n in names}
    total = sum(w.values())
    if total <= 0:
        raise ValueError(f"weights {given} give no weight to the scored criteria {names}")
    return [sum(w[c] * scores[c][i] for c in names) / total for i in range(len(scores[names[0]]))]


# ------------------------------------------------------------------------------------------- the server forms
def _server(kwargs: dict[str, Any]) -> str | None:
    url = kwargs.get("url") or os.environ.get("ACTIVATION_RM_URL")
    return str(url).rstrip("/") + "/score" if url else None


def _headers(kwargs: dict[str, Any]) -> dict[str, str]:
    token = kwargs.get("token") or os.environ.get("ACTIVATION_RM_TOKEN")
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _body(prompts: list[Any], responses: list[str], kwargs: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"prompts": prompts, "responses": responses}
    criteria = _as_list(kwargs.get("criteria"))
    if criteria:
        body["criteria"] = criteria
    return body


def _refusal(url: str, status: int, text: str) -> RewardServerError:
    try:
        message = json.loads(text).get("error", text)
    except (ValueError, AttributeError):
        message = text
    return RewardServerError(f"{url} answered HTTP {status}: {message}")


def _backoff(attempt: int) -> float:
    return min(2.0 ** attempt, 30.0)


def _post(url: str, body: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, list[float]]:
    """``POST /score`` with the standard library; retries connection errors and 5xx answers."""
    data = json.dumps(body).encode("utf-8")
    retries = max(int(kwargs.get("retries", DEFAULT_RETRIES)), 0)
    for attempt in range(retries + 1):
        request = urllib.request.Request(url, data=data, method="POST", headers=_headers(kwargs))
        try:
            with urllib.request.urlopen(request, timeout=float(kwargs.get("timeout", DEFAULT_TIMEOUT))) as answer:
                return json.loads(answer.read())["scores"]
        except urllib.error.HTTPError as err:
            failure = _refusal(url, err.code, err.read().decode("utf-8", "replace"))
            if err.code < 500:
                raise failure from None
        except OSError as err:  # connection refused or reset, timeouts
            failure = RewardServerError(f"{url} is unreachable: {err}")
        if attempt < retries:
            time.sleep(_backoff(attempt))
    raise failure


_LOOPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Any]] = weakref.WeakKeyDictionary()


def _loop_state(limit: int) -> tuple[Any, asyncio.Semaphore]:
    """This event loop's HTTP client (None without httpx) and its semaphore for ``limit`` requests in flight."""
    state = _LOOPS.get(asyncio.get_running_loop())
    if state is None:
        try:
            import httpx
        except ImportError:
            client = None
        else:
            client = httpx.AsyncClient(limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit))
        state = _LOOPS[asyncio.get_running_loop()] = {"client": client, "semaphores": {}}
    if limit not in state["semaphores"]:
        state["semaphores"][limit] = asyncio.Semaphore(limit)
    return state["client"], state["semaphores"][limit]


async def _post_async(url: str, body: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, list[float]]:
    """``POST /score`` without blocking the event loop, at most ``max_concurrency`` at a time."""
    limit = int(kwargs.get("max_concurrency") or os.environ.get("ACTIVATION_RM_MAX_CONCURRENCY")
                or DEFAULT_MAX_CONCURRENCY)
    client, semaphore = _loop_state(max(limit, 1))
    async with semaphore:
        if client is None:
            return await asyncio.to_thread(_post, url, body, kwargs)
        return await _httpx_post(client, url, body, kwargs)


async def _httpx_post(client: Any, url: str, body: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, list[float]]:
    import httpx

    retries = max(int(kwargs.get("retries", DEFAULT_RETRIES)), 0)
    for attempt in range(retries + 1):
        try:
            answer = await client.post(url, json=body, headers=_headers(kwargs),
                                       timeout=float(kwargs.get("timeout", DEFAULT_TIMEOUT)))
        except httpx.TransportError as err:
            failure = RewardServerError(f"{url} is unreachable: {type(err).__name__}: {err}")
        else:
            if answer.status_code == 200:
                return answer.json()["scores"]
            failure = _refusal(url, answer.status_code, answer.text)
            if answer.status_code < 500:
                raise failure
        if attempt < retries:
            await asyncio.sleep(_backoff(attempt))
    raise failure


# ------------------------------------------------------------------------------------------ the in-process form
_LOCAL: dict[tuple[Any, ...], Any] = {}
_LOCAL_LOCK = threading.Lock()


def _local_scorer(kwargs: dict[str, Any]) -> Any:
    """A batcher over models loaded into this process once per setting: verl calls from many threads at once, so
    calls that wait while the judge is busy are scored together, and the model runs in one thread at a time."""
    artifacts = tuple(_as_list(kwargs.get("artifacts") or os.environ.get("ACTIVATION_RM_ARTIFACTS")))
    if not artifacts:
        raise ValueError("give reward_kwargs.url (a running `activation-rm serve`) or reward_kwargs.artifacts "
                         "(or $ACTIVATION_RM_URL / $ACTIVATION_RM_ARTIFACTS)")
    criteria = tuple(_as_list(kwargs.get("criteria")))
    key = (artifacts, str(kwargs.get("device", "auto")), kwargs.get("dtype"), criteria)
    with _LOCAL_LOCK:
        if key not in _LOCAL:
            from activation_rm.integrations.calls import GroupBatcher
            from activation_rm.scoring.engine import ModelSet

            models = ModelSet.from_artifacts(list(artifacts), device=key[1], dtype=key[2])
            _LOCAL[key] = GroupBatcher(lambda p, r: models.score(p, r, criteria or None))
        return _LOCAL[key]


def _score_local(prompts: list[Any], responses: list[str], kwargs: dict[str, Any]) -> dict[str, list[float]]:
    return _local_scorer(kwargs)(prompts, responses)


def _score(prompts: list[Any], responses: list[str], kwargs: dict[str, Any]) -> list[float]:
    url = _server(kwargs)
    if not url:
        return _combine(_score_local(prompts, responses, kwargs), kwargs.get("weights"))
    size = max(int(kwargs.get("chunk_size", DEFAULT_CHUNK)), 1)  # the server caps items per request (512)
    scores: dict[str, list[float]] = {}
    for start in range(0, len(responses), size):
        part = _post(url, _body(prompts[start:start + size], responses[start:start + size], kwargs), kwargs)
        for name, values in part.items():
            scores.setdefault(name, []).extend(values)
    return _combine(scores, kwargs.get("weights"))


# -------------------------------------------------------------------------------------------------- verl's API
def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None,
                  **kwargs: Any) -> float:
    """Reward of one response (verl's per-sample signature); ``data_source`` and ``ground_truth`` are unused."""
    del data_source, ground_truth
    return _score([_prompt(extra_info, kwargs.get("prompt_key"))], [solution_str], kwargs)[0]


async def compute_score_async(data_source: str, solution_str: str, ground_truth: Any,
                              extra_info: dict | None = None, reward_router_address: str | None = None,
                              reward_model_tokenizer: Any = None, **kwargs: Any) -> float:
    """Reward of one response, async (verl's Reward Loop); many calls share the bounded connection pool. Without a
    server URL it scores in-process in a worker thread."""
    del data_source, ground_truth, reward_router_address, reward_model_tokenizer
    prompts, responses = [_prompt(extra_info, kwargs.get("prompt_key"))], [str(solution_str)]
    url = _server(kwargs)
    if url:
        scores = await _post_async(url, _body(prompts, responses, kwargs), kwargs)
    else:
        scores = await asyncio.to_thread(_score_local, prompts, responses, kwargs)
    return _combine(scores, kwargs.get("weights"))[0]


def compute_score_batch(data_sources: Sequence[str], solution_strs: Sequence[str], ground_truths: Sequence[Any],
                        extra_infos: Sequence[dict | None], **kwargs: Any) -> list[float]:
    """Rewards of a batch in one call (verl's ``batch`` reward manager)."""
    del data_sources, ground_truths
    prompts = [_prompt(info, kwargs.get("prompt_key")) for info in extra_infos]
    return _score(prompts, [str(s) for s in solution_strs], kwargs)
