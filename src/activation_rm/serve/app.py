"""The FastAPI reward server: ``/score``, ``/compare``, OpenRLHF's ``/get_reward``, ``/health`` and ``/info``.

Bodies must be JSON objects sent as ``application/json`` (:mod:`.body` says why and reads them). Every request is
validated item by item before it can join a batch (its images decoded too), so a bad item is answered with a 4xx
that names it and never reaches the model; a failure inside a batch is narrowed down to the request and item that
cause it (see :func:`~activation_rm.scoring.run_requests`). Errors are JSON, the message starting with the
field and item to blame: ``{"error": "responses[3] has 70000 characters; ...", "item": 3, "field": "responses"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, WithJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..openrlhf_queries import reward_response, special_token_strings, split_query
from ..scoring import (
    CompareRequest,
    CriterionModeError,
    ItemError,
    ModelSet,
    ScoreRequest,
    UnknownCriterionError,
    request_cost,
    run_requests,
)
from .batcher import DynamicBatcher
from .body import ApiError, JsonBodyRoute, json_kind
from .config import ServerConfig
from .images import RequestImageError, load_request_images

logger = logging.getLogger(__name__)

#: a string or a list of {"role", "content"} messages; checked by :func:`_check_prompt` (not by pydantic, whose
#: errors for a union name its branches instead of what is wrong)
PromptIn = Annotated[Any, WithJsonSchema({"anyOf": [
    {"type": "string"},
    {"type": "array", "items": {"type": "object", "required": ["role", "content"],
                                "properties": {"role": {"type": "string"}, "content": {"type": "string"}}}}]})]
#: per item: image references (paths under --image-root, data:image/...;base64 URIs, http(s) URLs) or null
ImagesIn = list[list[str] | None] | None
#: names of served criteria, or null for the endpoint's default
CriteriaIn = list[str] | None


class _JudgeBody(BaseModel):
    """What ``/score`` and ``/compare`` bodies share: unknown fields are refused, and ``prompts`` comes first (a
    base's fields precede a subclass's, and field order decides which problem an error names first)."""

    model_config = ConfigDict(extra="forbid")
    prompts: list[PromptIn]


class ScoreBody(_JudgeBody):
    """``POST /score``: one prompt per response; ``criteria`` defaults to every served pointwise criterion."""

    responses: list[str]
    criteria: CriteriaIn = None
    images: ImagesIn = None


class CompareBody(_JudgeBody):
    """``POST /compare``: pairs of responses to one prompt each; ``criteria`` defaults to every served criterion."""

    responses_a: list[str]
    responses_b: list[str]
    criteria: CriteriaIn = None
    images: ImagesIn = None


class RewardBody(BaseModel):
    """``POST /get_reward`` (OpenRLHF): extra fields some OpenRLHF versions send are ignored."""

    model_config = ConfigDict(extra="ignore")
    query: list[str]
    prompts: list[str] | None = None
    labels: list[Any] | None = None
    criteria: list[str] | None = None


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


class ErrorResponse(JSONResponse):
    """An error body that always encodes: a lone surrogate quoted from a client's text (sent as a JSON escape such
    as ``\\ud800``) is written back as that escape instead of making the error itself fail with a 500."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


def _error(status: int, message: str, item: int | None = None, field: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return ErrorResponse({"error": message, "item": item, "field": field}, status_code=status, headers=headers)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(text: str, max_chars: int) -> str | None:
    """Why ``text`` cannot be scored (too long; a lone surrogate, which no tokenizer can encode), or None."""
    if len(text) > max_chars:
        return f"has {len(text)} characters; the limit is {max_chars}"
    bad = _SURROGATE.search(text)
    if bad:
        return f"has a lone surrogate U+{ord(bad.group()):04X} at character {bad.start()}, which is not valid Unicode"
    return None


def _message_problem(message: Any, j: int, max_chars: int) -> str | None:
    if not isinstance(message, dict) or "role" not in message or "content" not in message:
        return f"message {j} must be an object with 'role' and 'content', not {json_kind(message)}"
    for key in ("role", "content"):
        if not isinstance(message[key], str):
            return f"message {j}'s {key!r} must be a string, not {json_kind(message[key])}"
        problem = _text_problem(message[key], max_chars)
        if problem:
            return f"message {j}'s {key!r} {problem}"
    return None


def _prompt_problem(prompt: Any, max_chars: int) -> str | None:
    """Why ``prompt`` is not a scorable prompt (a non-empty string or a list of string messages), or None."""
    if isinstance(prompt, str):
        return "is empty" if not prompt.strip() else _text_problem(prompt, max_chars)
    if not isinstance(prompt, list) or not prompt:
        got = "an empty array" if isinstance(prompt, list) else json_kind(prompt)
        return f"must be a non-empty string or a list of {{\"role\", \"content\"}} messages, not {got}"
    for j, message in enumerate(prompt):
        problem = _message_problem(message, j, max_chars)
        if problem:
            return problem
    total = sum(len(m["content"]) for m in prompt)
    return f"has {total} characters; the limit is {max_chars}" if total > max_chars else None


def _validation_error(problems: list[dict[str, Any]]) -> ApiError:
    """Pydantic's first complaint as ``field[item]...: what is wrong, not <JSON type>``."""
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":  # only if a body slipped past JsonBodyRoute's own parsing
        return ApiError(400, f"invalid JSON: {first.get('ctx', {}).get('error', first.get('msg'))}")
    loc = [part for part in first.get("loc", ()) if part != "body"]
    field = str(loc[0]) if loc and isinstance(loc[0], str) else None
    indices = [part for part in loc[1:] if isinstance(part, int)]
    where = (field or "body") + "".join(f"[{i}]" for i in indices)
    if first.get("type") == "missing":
        what = "required field is missing"
    else:
        what = str(first.get("msg"))
        what += f", not {json_kind(first['input'])}" if "input" in first else ""
    others = len(problems) - 1
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    return ApiError(422, f"{where}: {what}{more}", indices[0] if indices else None, field)


def _reward_info(models: ModelSet, chosen: tuple[str, ...], configured: bool) -> dict[str, Any]:
    """What ``/get_reward`` scores, so a client can see it before training on it."""
    if configured:
        source = "--reward-criteria"
    elif chosen:
        source = "default: every served pointwise criterion"
    else:
        source = "none: every served criterion is pairwise, so /get_reward answers 422 (use /compare)"
    return {"criteria": [{"name": name, "criterion": models.models[name].criterion} for name in chosen],
            "reward": "mean of the criteria's scores", "chosen_by": source}


@dataclass(frozen=True)
class _Server:
    """What the endpoints share, built once per app: the served models, the limits and the one batcher."""

    models: ModelSet
    config: ServerConfig
    batcher: DynamicBatcher[ScoreRequest | CompareRequest, Any]
    reward_criteria: tuple[str, ...]
    reward_info: dict[str, Any]
    markers: tuple[str, ...]

    @classmethod
    def create(cls, models: ModelSet, config: ServerConfig) -> _Server:
        """Named reward criteria must be served and pointwise (checked now); by default every pointwise one."""
        reward_criteria = models.resolve(config.reward_criteria) if config.reward_criteria else tuple(models.pointwise)
        batcher: DynamicBatcher[ScoreRequest | CompareRequest, Any] = DynamicBatcher(
            lambda requests: run_requests(models, requests), config.batching, size=request_cost)
        return cls(models, config, batcher, reward_criteria,
                   _reward_info(models, reward_criteria, bool(config.reward_criteria)),
                   special_token_strings(models.backbone.tokenizer, config.strip_tokens))

    def require_token(self, request: Request) -> None:
        if self.config.token is None:
            return
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(value.strip().encode(), self.config.token.encode()):
            raise StarletteHTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    def check_items(self, prompts: list[Any], responses: list[Any], prompt_field: str, response_field: str,
                    *more: tuple[list[Any], str]) -> None:
        """Refuse a bad request before it can join a batch, naming the field and item to blame."""
        for other, other_field in more:
            if len(other) != len(responses):
                raise ApiError(422, f"{len(responses)} {response_field} but {len(other)} {other_field}; give one each")
        if len(prompts) != len(responses):
            raise ApiError(422, f"{len(prompts)} {prompt_field} but {len(responses)} {response_field}; give one each")
        if not responses:
            raise ApiError(422, f"{response_field}: no items to score", field=response_field)
        if len(responses) > self.config.max_items:
            raise ApiError(413, f"{len(responses)} items; the limit is {self.config.max_items} per request")
        for i, prompt in enumerate(prompts):
            problem = _prompt_problem(prompt, self.config.max_chars)
            if problem:
                raise ApiError(422, f"{prompt_field}[{i}] {problem}", i, prompt_field)
        for texts, name in ((responses, response_field), *more):
            for i, text in enumerate(texts):
                problem = _text_problem(text, self.config.max_chars)
                if problem:
                    raise ApiError(422, f"{name}[{i}] {problem}", i, name)

    def criteria_of(self, requested: list[str] | None, default: tuple[str, ...] | None = None, *,
                    pairwise_ok: bool = False) -> tuple[str, ...]:
        try:
            if not requested and default is not None:
                if not default:
                    raise CriterionModeError("no pointwise criterion is served (pairwise reward models judge pairs: "
                                             "use /compare)")
                return default
            return self.models.resolve(requested, pairwise_ok=pairwise_ok)
        except (UnknownCriterionError, CriterionModeError) as err:
            raise ApiError(422, f"criteria: {err}", field="criteria") from None

    async def images_of(self, entries: list[list[str] | None] | None, n: int) -> list[tuple[Any, ...]] | None:
        """Decoded images per item (in a worker thread: decoding must not stall the event loop), or None."""
        if entries is None:
            return None
        if len(entries) != n:
            raise ApiError(422, f"images: {len(entries)} entries for {n} items; give one list (or null) per item",
                           field="images")
        if not any(entries):
            return None
        if not self.models.multimodal:
            first = next(i for i, e in enumerate(entries) if e)
            raise ApiError(422, f"images[{first}]: backbone {self.models.backbone.name!r} is text-only and cannot "
                                "see images", first, "images")
        try:
            return await asyncio.to_thread(load_request_images, entries, self.config.images)
        except RequestImageError as err:
            raise ApiError(422, err.message, err.item, "images") from None

    async def run(self, request: ScoreRequest | CompareRequest, field: str) -> Any:
        try:
            return await self.batcher.submit(request)
        except ItemError as err:
            raise ApiError(422, f"{field}[{err.item}] could not be scored: {err.message}", err.item, field) from None


def _lifespan(batcher: DynamicBatcher) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Close the batcher's worker thread when the app shuts down."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        batcher.close()

    return lifespan


def _add_error_handlers(app: FastAPI) -> None:
    """Every error, ours or the framework's, as ``{"error", "item", "field"}`` JSON."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, err: ApiError) -> JSONResponse:
        return _error(err.status, err.message, err.item, err.field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        return _error(err.status_code, str(err.detail), headers=getattr(err, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, err: RequestValidationError) -> JSONResponse:
        return await api_error(_, _validation_error(list(err.errors())))

    @app.exception_handler(Exception)
    async def internal_error(_: Request, err: Exception) -> JSONResponse:
        logger.exception("internal error")
        return _error(500, f"internal error: {type(err).__name__}: {err}")


def _add_health_route(app: FastAPI, server: _Server) -> None:
    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness (no auth, so load balancers can probe it)."""
        return {"status": "ok", "criteria": len(server.models.models)}


def _add_info_route(app: FastAPI, server: _Server) -> None:
    @app.get("/info", dependencies=[Depends(server.require_token)])
    async def info() -> dict[str, Any]:
        return {**server.models.info(), "server": {
            **server.config.public(), "reward_criteria": list(server.reward_criteria),
            "get_reward": server.reward_info, "batch_stats": server.batcher.stats.to_dict()}}


def _add_score_route(app: FastAPI, server: _Server) -> None:
    @app.post("/score", dependencies=[Depends(server.require_token)])
    async def score(body: ScoreBody) -> dict[str, Any]:
        """Scores in [0, 1] per criterion: ``{"scores": {"name": [...]}, "criteria": [...]}``."""
        server.check_items(body.prompts, body.responses, "prompts", "responses")
        criteria = server.criteria_of(body.criteria, tuple(server.models.pointwise))
        images = await server.images_of(body.images, len(body.responses))
        scores = await server.run(ScoreRequest(list(body.prompts), list(body.responses), criteria, images),
                                  "responses")
        return {"scores": scores, "criteria": list(criteria)}


def _add_compare_route(app: FastAPI, server: _Server) -> None:
    @app.post("/compare", dependencies=[Depends(server.require_token)])
    async def compare(body: CompareBody) -> dict[str, Any]:
        """Which response of each pair every criterion prefers, with both scores: ``{"comparisons": {"name":
        {"preferred": ["a" | "b" | "tie", ...], "score_a": [...], "score_b": [...]}}, "criteria": [...]}``."""
        server.check_items(body.prompts, body.responses_a, "prompts", "responses_a", (body.responses_b, "responses_b"))
        criteria = server.criteria_of(body.criteria, pairwise_ok=True)
        images = await server.images_of(body.images, len(body.responses_a))
        request = CompareRequest(list(body.prompts), list(body.responses_a), list(body.responses_b), criteria, images)
        result = await server.run(request, "responses_a")
        return {"comparisons": {name: judged.to_dict() for name, judged in result.items()}, "criteria": list(criteria)}


def _reward_pairs(server: _Server, queries: list[str], query_prompts: list[str]) -> tuple[list[str], list[str]]:
    """Each OpenRLHF query split into the judge's prompt and the response, refusing a query that will not split."""
    prompts, responses = [], []
    for i, (query, prompt) in enumerate(zip(queries, query_prompts)):
        try:
            judge_prompt, response = split_query(query, prompt, server.markers)
        except ValueError as err:
            raise ApiError(422, f"query[{i}] and prompts[{i}]: {err}", i, "query") from None
        if _prompt_problem(judge_prompt, server.config.max_chars):
            raise ApiError(422, f"prompts[{i}]: no prompt text is left once chat markers and role names are "
                                "removed", i, "prompts")
        prompts.append(judge_prompt)
        responses.append(response)
    return prompts, responses


def _add_get_reward_route(app: FastAPI, server: _Server) -> None:
    @app.post("/get_reward", dependencies=[Depends(server.require_token)])
    async def get_reward(body: RewardBody) -> dict[str, Any]:
        """OpenRLHF remote reward model; see :mod:`activation_rm.integrations.openrlhf` for the splitting rule."""
        if body.prompts is None:
            raise ApiError(422, "prompts: required to split each query into prompt and response", field="prompts")
        server.check_items(body.prompts, body.query, "prompts", "query")
        prompts, responses = _reward_pairs(server, body.query, body.prompts)
        criteria = server.criteria_of(body.criteria, server.reward_criteria)
        scores = await server.run(ScoreRequest(prompts, responses, criteria), "query")
        return reward_response(criteria, scores)


def create_app(models: ModelSet, config: ServerConfig | None = None) -> FastAPI:
    """A FastAPI app serving ``models``; run it with uvicorn, mount it in Ray Serve, or test it in-process."""
    server = _Server.create(models, config or ServerConfig())
    app = FastAPI(title="activation-rm reward server", version=__version__, lifespan=_lifespan(server.batcher))
    app.router.route_class = JsonBodyRoute  # bodies: JSON objects only, with errors that say what is wrong
    app.state.models, app.state.config, app.state.batcher = models, server.config, server.batcher
    app.add_middleware(BodyLimitMiddleware, limit=server.config.max_body_bytes)
    _add_error_handlers(app)
    for add_route in (_add_health_route, _add_info_route, _add_score_route, _add_compare_route, _add_get_reward_route):
        add_route(app, server)
    return app
