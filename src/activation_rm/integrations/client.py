"""A small client for the reward server, on the standard library only (the adapters use it without extras)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from activation_rm.inputs.data import Prompt


class RewardServerError(RuntimeError):
    """The server answered with an error (``status``; ``item`` names the bad item when there is one)."""

    def __init__(self, status: int, message: str, item: int | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.message, self.item = status, message, item


@dataclass
class RewardClient:
    """``url`` is the server root, e.g. ``http://127.0.0.1:5000``; ``token`` the bearer token, if any."""

    url: str
    token: str | None = None
    timeout: float = 120.0

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            try:
                detail = json.loads(err.read())
            except (ValueError, OSError):
                detail = {"error": err.reason}
            raise RewardServerError(err.code, str(detail.get("error", detail)), detail.get("item")) from None

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health")

    def info(self) -> dict[str, Any]:
        return self._request("GET", "/info")

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], criteria: Sequence[str] | None = None,
              images: Sequence[Sequence[str] | None] | None = None) -> dict[str, list[float]]:
        """Scores per criterion, as ``POST /score`` returns them. ``images[i]``: item ``i``'s image references
        (paths under the server's ``--image-root``, ``data:image/...;base64`` URIs, or URLs), or None."""
        body: dict[str, Any] = {"prompts": list(prompts), "responses": list(responses)}
        if criteria:
            body["criteria"] = list(criteria)
        if images is not None:
            body["images"] = [list(refs) if refs else None for refs in images]
        return self._request("POST", "/score", body)["scores"]

    def compare(self, prompts: Sequence[Prompt], responses_a: Sequence[str], responses_b: Sequence[str],
                criteria: Sequence[str] | None = None,
                images: Sequence[Sequence[str] | None] | None = None) -> dict[str, dict[str, list]]:
        """Per criterion ``{"preferred": [...], "score_a": [...], "score_b": [...]}``, as ``POST /compare``."""
        body: dict[str, Any] = {"prompts": list(prompts), "responses_a": list(responses_a),
                                "responses_b": list(responses_b)}
        if criteria:
            body["criteria"] = list(criteria)
        if images is not None:
            body["images"] = [list(refs) if refs else None for refs in images]
        return self._request("POST", "/compare", body)["comparisons"]

    async def ascore(self, prompts: Sequence[Prompt], responses: Sequence[str], criteria: Sequence[str] | None = None,
                     images: Sequence[Sequence[str] | None] | None = None) -> dict[str, list[float]]:
        """:meth:`score` without blocking the event loop (the request runs in a thread)."""
        return await asyncio.to_thread(self.score, prompts, responses, criteria, images)

    def get_reward(self, query: Sequence[str], prompts: Sequence[str],
                   labels: Sequence[Any] | None = None) -> dict[str, Any]:
        return self._request("POST", "/get_reward", {"query": list(query), "prompts": list(prompts),
                                                     "labels": list(labels) if labels is not None else None})
