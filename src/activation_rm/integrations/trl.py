"""Reward functions for TRL's ``GRPOTrainer(reward_funcs=...)``.

TRL calls ``reward_func(prompts=..., completions=..., completion_ids=..., **dataset_columns, trainer_state=...,
log_extra=..., log_metric=...)`` and expects one float per completion. Prompts and completions are strings in the
standard format, or lists of ``{"role", "content"}`` messages in the conversational format; both are accepted.
:class:`ActivationRMReward` scores in-process; :class:`RemoteActivationRMReward` is async (TRL runs async reward
functions concurrently on its own event loop) and calls a running ``activation-rm serve``. TRL itself is never
imported here.

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
from typing import Any

from ..data import Prompt
from ..reward_model import ActivationRM
from ..serve.client import RewardClient, combine
from ..serve.models import ModelSet

logger = logging.getLogger(__name__)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal parts: keep the text ones
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


def completion_text(completion: Any) -> str:
    """A completion as plain text: a string as is, a messages list as its assistant turns joined."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return _content_text(completion.get("content"))
    if isinstance(completion, Sequence):
        turns = [m for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
        return "\n".join(_content_text(m.get("content")) for m in turns)
    raise TypeError(f"completion must be a string or a list of messages, got {type(completion).__name__}")


def prompt_input(prompt: Any) -> Prompt:
    """A prompt as the judge takes it: a string, or messages with plain-text content."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        return [{"role": str(m.get("role", "user")), "content": _content_text(m.get("content"))} for m in prompt]
    raise TypeError(f"prompt must be a string or a list of messages, got {type(prompt).__name__}")


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


class _RewardBase:
    def __init__(self, criteria: Sequence[str] | None, weights: dict[str, float] | None, name: str | None) -> None:
        self.criteria = list(criteria) if criteria else None
        self.weights = weights
        # TRL names each reward function's logged column after ``__name__``.
        self.__name__ = name or "activation_rm"

    def _finish(self, scores: dict[str, list[float]], kwargs: dict[str, Any]) -> list[float]:
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and len(scores) > 1:
            for criterion, values in scores.items():
                log_metric(f"{self.__name__}/{criterion}", sum(values) / max(len(values), 1))
        return combine(scores, self.weights)


class ActivationRMReward(_RewardBase):
    """In-process reward: the (weighted) mean score over ``criteria`` (default: all) of the given model(s)."""

    def __init__(self, models: ModelSet | ActivationRM, criteria: Sequence[str] | None = None,
                 weights: dict[str, float] | None = None, name: str | None = None) -> None:
        super().__init__(criteria, weights, name)
        self.models = models if isinstance(models, ModelSet) else ModelSet.single(models)
        self.models.resolve(self.criteria)  # fail now, not mid-training, on an unknown criterion

    @classmethod
    def from_artifacts(cls, artifacts: Sequence[str], backbone: Any = None, *, criteria: Sequence[str] | None = None,
                       weights: dict[str, float] | None = None, name: str | None = None,
                       **backbone_kwargs: Any) -> ActivationRMReward:
        return cls(ModelSet.from_artifacts(artifacts, backbone, **backbone_kwargs), criteria, weights, name)

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        images = example_images(prompts, kwargs)
        if images is not None and not self.models.multimodal:
            if not getattr(self, "_warned_text_only", False):
                logger.warning("the examples carry images but the judge's backbone %r is text-only; it judges the "
                               "text alone", self.models.backbone.name)
                self._warned_text_only = True
            images = None
        scores = self.models.score([prompt_input(p) for p in prompts], [completion_text(c) for c in completions],
                                   self.criteria, images)
        return self._finish(scores, kwargs)


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

    async def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        judged = [prompt_input(p) for p in prompts]
        texts = [completion_text(c) for c in completions]
        images = example_images(prompts, kwargs)
        if images is not None and not await self._server_sees_images():
            images = None
        refs = None if images is None else [[image_reference(im) for im in entry] or None for entry in images]
        spans = [(i, min(i + self.chunk_size, len(texts))) for i in range(0, len(texts), self.chunk_size)]
        parts = await asyncio.gather(*(self.client.ascore(judged[a:b], texts[a:b], self.criteria,
                                                          None if refs is None else refs[a:b]) for a, b in spans))
        scores: dict[str, list[float]] = {}
        for part in parts:
            for criterion, values in part.items():
                scores.setdefault(criterion, []).extend(values)
        return self._finish(scores, kwargs)
