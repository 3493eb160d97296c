"""Reward functions for TRL's ``GRPOTrainer(reward_funcs=...)``.

Checked against trl 1.16.0 (``GRPOTrainer._calculate_rewards``): TRL calls ``reward_func(prompts=...,
completions=..., completion_ids=..., **dataset_columns, trainer_state=..., log_extra=..., log_metric=...)`` and
takes one value per completion, turning ``None`` into NaN: a completion every reward function returns None for is
left out of its group's baseline and gets advantage 0. ``log_extra(column, values)`` adds a column (one value per
completion) to the completions table (``log_completions=True``, wandb/trackio); ``log_metric(name, value)`` logs a
scalar averaged per logging step. Prompts and completions are strings in the standard format, or lists of
``{"role", "content"}`` messages in the conversational format; both are accepted, and turned into the judge's input
(messages with plain-text content, a completion's text) by :mod:`activation_rm.inputs.prompts`.

:class:`ActivationRMReward` scores in-process; :class:`RemoteActivationRMReward` is async (TRL runs async reward
functions concurrently on its own event loop) and calls a running ``activation-rm serve``. TRL itself is never
imported here. With several criteria, each one's per-completion scores go to ``log_extra`` as the column
``<name>/<criterion>`` and their batch means to ``log_metric``.

A completion that cannot be judged gets ``None`` and a logged warning, so one bad item neither fails the batch nor
gets an invented reward: a prompt or completion of an unusable type, an empty prompt, or an item whose scoring
fails (in-process: a batch that fails is rescored item by item; remote: the server's 422 names the item, which is
dropped and the rest resent). An empty completion is judged like any other, so the policy is not spared the
verdict on empty answers. Errors that are not about one item are raised: in-process scoring that fails for every
item of the batch (a broken judge), and a server that is down, refuses the token or answers 5xx.

Images (vision-language judges): TRL passes a dataset's ``images`` (a list per example) or ``image`` column to reward
functions, and conversational prompts may hold ``{"type": "image", "image": ...}`` parts; :func:`example_images`
takes them from the first of those sources. The remote reward sends PIL images as PNG ``data:`` URIs and strings
as they are (paths under the server's ``--image-root``, or URLs).
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from activation_rm.inputs.prompts import Prompt, check_prompt, completion_text, prompt_input
from activation_rm.integrations.client import RewardClient, RewardServerError
from activation_rm.scoring.engine import ModelSet, combine
from activation_rm.scoring.isolation import run_isolating
from activation_rm.scoring.reward_model import ActivationRM

logger = logging.getLogger(__name__)


def _as_refs(entry: Any) -> tuple[Any, ...]:
    if entry is None:
        return ()
    return tuple(entry) if isinstance(entry, (list, tuple)) else (entry,)


def _prompt_images(prompt: Any) -> tuple[Any, ...]:
    if isinstance(prompt, str) or not isinstance(prompt, Sequence):
        return ()
    found: list[Any] = []
    for message in prompt:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            found.extend(p.get("image") for p in content
                         if isinstance(p, dict) and p.get("type") == "image" and p.get("image") is not None)
    return tuple(found)


def example_images(prompts: Sequence[Any], kwargs: dict[str, Any]) -> list[tuple[Any, ...]] | None:
    """Each completion's images: the ``images`` column, else the ``image`` column, else the image parts of its
    conversational prompt; None when there are none."""
    if kwargs.get("images") is not None:
        column = [_as_refs(entry) for entry in kwargs["images"]]
    elif kwargs.get("image") is not None:
        column = [_as_refs(entry) for entry in kwargs["image"]]
    else:
        column = [_prompt_images(p) for p in prompts]
    if len(column) != len(prompts):
        raise ValueError(f"{len(column)} image entries for {len(prompts)} prompts")
    return column if any(column) else None


def image_reference(image: Any) -> str:
    """What the server accepts for an image: a string as is, a PIL image as a PNG data URI."""
    if isinstance(image, str):
        return image
    if hasattr(image, "save"):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    raise TypeError(f"an image must be a PIL image, a path or a URL, got {type(image).__name__}")


Scores = dict[int, dict[str, float]]  # item index -> criterion -> score
Failures = dict[int, BaseException]  # item index -> why it cannot be judged


@dataclass
class Judgeable:
    """The items of a batch the judge can take (``index`` into the batch) and why the others cannot be judged."""

    index: list[int]
    prompts: list[Prompt]
    texts: list[str]
    failed: Failures


def judgeable_items(prompts: Sequence[Any], completions: Sequence[Any]) -> Judgeable:
    """Normalise each (prompt, completion); an unusable type or an empty prompt marks that item alone."""
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts for {len(completions)} completions")
    items = Judgeable([], [], [], {})
    for i, (prompt, completion) in enumerate(zip(prompts, completions)):
        try:
            judged, text = check_prompt(prompt_input(prompt)), completion_text(completion)
        except (TypeError, ValueError) as err:
            items.failed[i] = err
            continue
        items.index.append(i)
        items.prompts.append(judged)
        items.texts.append(text)
    return items


def by_item(index: Sequence[int], scores: dict[str, list[float]]) -> Scores:
    """Per-criterion score lists of the items ``index``, regrouped per item."""
    return {i: {name: values[k] for name, values in scores.items()} for k, i in enumerate(index)}


def _reason(err: BaseException) -> str:
    return str(err) if isinstance(err, RewardServerError) else f"{type(err).__name__}: {err}"


class _RewardBase:
    def __init__(self, criteria: Sequence[str] | None, weights: dict[str, float] | None, name: str | None) -> None:
        self.criteria = list(criteria) if criteria else None
        self.weights = weights
        self._names = list(self.criteria or [])  # the criteria scored, once known (a server's: after one batch)
        # TRL names each reward function's logged column after ``__name__``.
        self.__name__ = name or "activation_rm"

    def _finish(self, n: int, scores: Scores, failed: Failures, kwargs: dict[str, Any]) -> list[float | None]:
        """One reward per completion (None where it cannot be judged); logs the per-criterion scores."""
        if failed:
            self._warn(n, failed)
        judged = sorted(scores)
        if judged:  # kept, so a batch with nothing judged still logs a value per completion in each column
            self._names = list(scores[judged[0]])
        names = self._names
        if len(names) > 1:
            self._log({c: [scores[i][c] if i in scores else None for i in range(n)] for c in names}, kwargs)
        rewards: list[float | None] = [None] * n
        if judged:
            for i, reward in zip(judged, combine({c: [scores[i][c] for i in judged] for c in names}, self.weights)):
                rewards[i] = reward
        return rewards

    def _warn(self, n: int, failed: Failures) -> None:
        shown = "; ".join(f"item {i}: {_reason(failed[i])}" for i in sorted(failed)[:3])
        more = f" (and {len(failed) - 3} more)" if len(failed) > 3 else ""
        logger.warning("%s: %d of %d completions cannot be judged and get None, which TRL leaves out of the "
                       "advantages: %s%s", self.__name__, len(failed), n, shown, more)

    def _log(self, columns: dict[str, list[float | None]], kwargs: dict[str, Any]) -> None:
        """Each criterion's scores as a completions-table column (``log_extra``) and its mean (``log_metric``)."""
        log_extra, log_metric = kwargs.get("log_extra"), kwargs.get("log_metric")
        for criterion, values in columns.items():
            column = f"{self.__name__}/{criterion}"
            if callable(log_extra):
                log_extra(column, values)
            judged = [v for v in values if v is not None]
            if callable(log_metric) and judged:
                log_metric(column, sum(judged) / len(judged))


class ActivationRMReward(_RewardBase):
    """In-process reward: the (weighted) mean score over ``criteria`` (default: all) of the given model(s)."""

    def __init__(self, models: ModelSet | ActivationRM, criteria: Sequence[str] | None = None,
                 weights: dict[str, float] | None = None, name: str | None = None) -> None:
        super().__init__(criteria, weights, name)
        self.models = models if isinstance(models, ModelSet) else ModelSet.single(models)
        self._names = list(self.models.resolve(self.criteria))  # fail now, not mid-training, on an unknown one

    @classmethod
    def from_artifacts(cls, artifacts: Sequence[str], backbone: Any = None, *, criteria: Sequence[str] | None = None,
                       weights: dict[str, float] | None = None, name: str | None = None,
                       **backbone_kwargs: Any) -> ActivationRMReward:
        return cls(ModelSet.from_artifacts(artifacts, backbone, **backbone_kwargs), criteria, weights, name)

    def _images(self, prompts: Sequence[Any], kwargs: dict[str, Any]) -> list[tuple[Any, ...]] | None:
        images = example_images(prompts, kwargs)
        if images is not None and not self.models.multimodal:
            if not getattr(self, "_warned_text_only", False):
                logger.warning("the examples carry images but the judge's backbone %r is text-only; it judges the "
                               "text alone", self.models.backbone.name)
                self._warned_text_only = True
            return None
        return images

    def _score(self, items: Judgeable, ks: Sequence[int], images: list[tuple[Any, ...]] | None) -> Scores:
        """Scores of ``items`` at positions ``ks``, keyed by their batch index."""
        picked = None if images is None else [images[items.index[k]] for k in ks]
        scores = self.models.score([items.prompts[k] for k in ks], [items.texts[k] for k in ks], self.criteria,
                                   picked)
        return by_item([items.index[k] for k in ks], scores)

    def _score_isolating(self, items: Judgeable, images: list[tuple[Any, ...]] | None) -> Scores:
        """All items in one call; if that fails, item by item, so only the items that fail alone are lost
        (:func:`~activation_rm.scoring.isolation.run_isolating`). When every item fails, the first error is raised:
        a broken judge, not bad items."""
        if not items.index:
            return {}
        every = list(range(len(items.index)))
        results = run_isolating(lambda ks: list(self._score(items, ks, images).values()), every,
                                raise_if_all_fail=True)
        scores: Scores = {}
        for k, result in zip(every, results):
            if isinstance(result, Exception):
                items.failed[items.index[k]] = result
            else:
                scores[items.index[k]] = result
        return scores

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        images = self._images(prompts, kwargs)
        items = judgeable_items(prompts, completions)
        scores = self._score_isolating(items, images)
        return self._finish(len(completions), scores, items.failed, kwargs)


class RemoteActivationRMReward(_RewardBase):
    """Async reward that calls ``activation-rm serve`` at ``url``; large batches go as concurrent chunks, which the
    server's dynamic batching merges again."""

    def __init__(self, url: str, criteria: Sequence[str] | None = None, weights: dict[str, float] | None = None,
                 token: str | None = None, timeout: float = 120.0, chunk_size: int = 256,
                 name: str | None = None) -> None:
        super().__init__(criteria, weights, name)
        self.client = RewardClient(url, token=token, timeout=timeout)
        self.chunk_size = chunk_size
        self._multimodal: bool | None = None

    async def _server_sees_images(self) -> bool:
        """Whether the server's backbone takes images (asked once); a text-only one judges the text alone."""
        if self._multimodal is None:
            info = await asyncio.to_thread(self.client.info)
            self._multimodal = bool(info.get("backbone", {}).get("multimodal", False))
            if not self._multimodal:
                logger.warning("the examples carry images but the reward server's backbone is text-only; it judges "
                               "the text alone")
        return self._multimodal

    async def _image_refs(self, prompts: Sequence[Any], kwargs: dict[str, Any]) -> list[list[str] | None] | None:
        images = example_images(prompts, kwargs)
        if images is None or not await self._server_sees_images():
            return None
        return [[image_reference(im) for im in entry] or None for entry in images]

    async def _score_chunk(self, items: Judgeable, ks: list[int], refs: list[list[str] | None] | None) -> Scores:
        """Scores of ``items`` at positions ``ks``; an item the server rejects (422 naming it) is dropped and the
        rest resent. Other errors (server down, auth, 5xx) are raised."""
        alive = list(ks)
        while alive:
            try:
                scores = await self.client.ascore([items.prompts[k] for k in alive], [items.texts[k] for k in alive],
                                                  self.criteria,
                                                  None if refs is None else [refs[items.index[k]] for k in alive])
                return by_item([items.index[k] for k in alive], scores)
            except RewardServerError as err:
                if err.status != 422 or err.item is None or not 0 <= err.item < len(alive):
                    raise
                items.failed[items.index[alive.pop(err.item)]] = err
        return {}

    async def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                       **kwargs: Any) -> list[float | None]:
        refs = await self._image_refs(prompts, kwargs)
        items = judgeable_items(prompts, completions)
        n = len(items.index)
        chunks = [list(range(a, min(a + self.chunk_size, n))) for a in range(0, n, self.chunk_size)]
        scores: Scores = {}
        for part in await asyncio.gather(*(self._score_chunk(items, ks, refs) for ks in chunks)):
            scores.update(part)
        return self._finish(len(completions), scores, items.failed, kwargs)
