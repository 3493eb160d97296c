"""The FastAPI reward server: ``/score``, OpenRLHF's ``/get_reward``, ``/health`` and ``/info``.

Every request is validated item by item before it can join a batch, so a bad item is answered with a 4xx that
names it and never reaches the model; a failure inside a batch is narrowed down to the request and item that
cause it (see :func:`~activation_rm.serve.models.score_requests`). Errors are JSON:
``{"error": "...", "item": 3, "field": "responses"}``.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..data import check_prompt
from ..integrations.openrlhf import reward_response, special_token_strings, split_query
from .batcher import DynamicBatcher
from .config import ServerConfig
from .models import ItemError, ModelSet, ScoreRequest, UnknownCriterionError, score_requests

logger = logging.getLogger(__name__)

PromptIn = str | list[dict[str, Any]]


class ScoreBody(BaseModel):
    """``POST /score``: one prompt per response; ``criteria`` defaults to every served criterion."""

    model_config = ConfigDict(extra="forbid")
    prompts: list[PromptIn]
    responses: list[str]
    criteria: list[str] | None = None


class RewardBody(BaseModel):
    """``POST /get_reward`` (OpenRLHF): extra fields some OpenRLHF versions send are ignored."""

    model_config = ConfigDict(extra="ignore")
    query: list[str]
    prompts: list[str] | None = None
    labels: list[Any] | None = None
    criteria: list[str] | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str, item: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.item, self.field = status, message, item, field


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in; an HTTPException so FastAPI passes it through body parsing untouched."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds the limit of {limit} bytes")


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes: by Content-Length up front, else while streaming (chunked uploads)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            response = JSONResponse({"error": f"request body exceeds the limit of {self.limit} bytes",
                                     "item": None, "field": None}, status_code=413)
            return await response(scope, receive, send)
        received = 0

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited_receive, send)


def _error(status: int, message: str, item: int | None = None, field: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "item": item, "field": field}, status_code=status, headers=headers)


def _text_length(prompt: Any) -> int:
    if isinstance(prompt, str):
        return len(prompt)
    return sum(len(str(m.get("content", ""))) for m in prompt)


def create_app(models: ModelSet, config: ServerConfig | None = None) -> FastAPI:
    """A FastAPI app serving ``models``; run it with uvicorn, mount it in Ray Serve, or test it in-process."""
    config = config or ServerConfig()
    reward_criteria = models.resolve(config.reward_criteria)
    markers = special_token_strings(models.backbone.tokenizer, config.strip_tokens)
    batcher: DynamicBatcher[ScoreRequest, dict[str, list[float]]] = DynamicBatcher(
        lambda requests: score_requests(models, requests), config.batching, size=len)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        batcher.close()

    app = FastAPI(title="activation-rm reward server", version=__version__, lifespan=lifespan)
    app.state.models, app.state.config, app.state.batcher = models, config, batcher
    app.add_middleware(BodyLimitMiddleware, limit=config.max_body_bytes)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, err: ApiError) -> JSONResponse:
        return _error(err.status, err.message, err.item, err.field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        return _error(err.status_code, str(err.detail), headers=getattr(err, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, err: RequestValidationError) -> JSONResponse:
        problems = err.errors()
        first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            return _error(400, f"invalid JSON: {first.get('ctx', {}).get('error', first.get('msg'))}")
        loc = [part for part in first.get("loc", ()) if part != "body"]
        field = str(loc[0]) if loc and isinstance(loc[0], str) else None
        item = next((part for part in loc[1:] if isinstance(part, int)), None)
        where = f"{field}[{item}]" if item is not None else (field or "body")
        return _error(422, f"{where}: {first.get('msg')}", item, field)

    @app.exception_handler(Exception)
    async def internal_error(_: Request, err: Exception) -> JSONResponse:
        logger.exception("internal error")
        return _error(500, f"internal error: {type(err).__name__}: {err}")

    def require_token(request: Request) -> None:
        if config.token is None:
            return
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(value.strip().encode(), config.token.encode()):
            raise StarletteHTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    def check_items(prompts: list[Any], responses: list[Any], prompt_field: str, response_field: str) -> None:
        if len(prompts) != len(responses):
            raise ApiError(422, f"{len(prompts)} {prompt_field} but {len(responses)} {response_field}; give one each")
        if not responses:
            raise ApiError(422, "no items to score", field=response_field)
        if len(responses) > config.max_items:
            raise ApiError(413, f"{len(responses)} items; the limit is {config.max_items} per request")
        for i, (prompt, response) in enumerate(zip(prompts, responses)):
            try:
                check_prompt(prompt)
            except ValueError as err:
                raise ApiError(422, f"{prompt_field}[{i}]: {err}", i, prompt_field) from None
            if _text_length(prompt) > config.max_chars:
                raise ApiError(422, f"{prompt_field}[{i}] has {_text_length(prompt)} characters; the limit is "
                                    f"{config.max_chars}", i, prompt_field)
            if len(response) > config.max_chars:
                raise ApiError(422, f"{response_field}[{i}] has {len(response)} characters; the limit is "
                                    f"{config.max_chars}", i, response_field)

    def criteria_of(requested: list[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return models.resolve(requested) if requested else default
        except UnknownCriterionError as err:
            raise ApiError(422, str(err), field="criteria") from None

    async def run(request: ScoreRequest, field: str) -> dict[str, list[float]]:
        try:
            return await batcher.submit(request)
        except ItemError as err:
            raise ApiError(422, f"{field}[{err.item}] could not be scored: {err.message}", err.item, field) from None

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness (no auth, so load balancers can probe it)."""
        return {"status": "ok", "criteria": len(models.models)}

    @app.get("/info", dependencies=[Depends(require_token)])
    async def info() -> dict[str, Any]:
        return {**models.info(), "server": {**config.public(), "batch_stats": batcher.stats.to_dict()}}

    @app.post("/score", dependencies=[Depends(require_token)])
    async def score(body: ScoreBody) -> dict[str, Any]:
        """Scores in [0, 1] per criterion: ``{"scores": {"name": [...]}, "criteria": [...]}``."""
        check_items(body.prompts, body.responses, "prompts", "responses")
        criteria = criteria_of(body.criteria, models.resolve(None))
        scores = await run(ScoreRequest(list(body.prompts), list(body.responses), criteria), "responses")
        return {"scores": scores, "criteria": list(criteria)}

    @app.post("/get_reward", dependencies=[Depends(require_token)])
    async def get_reward(body: RewardBody) -> dict[str, Any]:
        """OpenRLHF remote reward model; see :mod:`activation_rm.integrations.openrlhf` for the splitting rule."""
        if body.prompts is None:
            raise ApiError(422, "'prompts' is required to split each query into prompt and response", field="prompts")
        check_items(body.prompts, body.query, "prompts", "query")
        prompts, responses = [], []
        for i, (query, prompt) in enumerate(zip(body.query, body.prompts)):
            try:
                judge_prompt, response = split_query(query, prompt, markers)
            except ValueError as err:
                raise ApiError(422, f"query[{i}]: {err}", i, "query") from None
            prompts.append(judge_prompt)
            responses.append(response)
        criteria = criteria_of(body.criteria, reward_criteria)
        scores = await run(ScoreRequest(prompts, responses, criteria), "query")
        return reward_response(criteria, scores)

    return app
