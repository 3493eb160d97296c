"""The FastAPI reward server: ``/score``, ``/compare``, OpenRLHF's ``/get_reward``, ``/health`` and ``/info``.

Before any body byte is read, :class:`GateMiddleware` refuses a ``Host`` the server does not answer to (DNS
rebinding) and a missing or wrong token, on every path but ``/health`` (``/docs`` and ``/openapi.json``
included); :class:`BodyLimitMiddleware` then bounds the body's size and the time it may take to arrive.
Bodies must be JSON objects sent as ``application/json`` (:mod:`.body` says why and reads them). Every request is
validated item by item before it can join a batch (its images decoded too), so a bad item is answered with a 4xx
that names it and never reaches the model; a failure inside a batch is narrowed down to the request and item that
cause it (see :func:`~activation_rm.scoring.engine.run_requests`). Scoring is fair (see :mod:`.batcher`): large requests
are cut into micro-batches that take turns with the others, a request whose client disconnected is dropped, and
one that outlasts ``--request-timeout`` gets a 504. Errors are JSON, the message starting with the field and item
to blame: ``{"error": "responses[3] has 70000 characters; ...", "item": 3, "field": "responses"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import operator
import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from functools import reduce
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, WithJsonSchema
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from activation_rm.forward.batching import DEFAULT_BATCH_TOKENS
from activation_rm.inputs.prompts import prompt_problem
from activation_rm.integrations.openrlhf_queries import reward_response, split_query
from activation_rm.judge.templates import special_token_strings
from activation_rm.scoring.engine import (
    CompareRequest,
    CriterionModeError,
    ItemError,
    ModelSet,
    ScoreRequest,
    UnknownCriterionError,
    request_cost,
    run_requests,
)
from activation_rm.serve.batcher import DynamicBatcher, ItemCost
from activation_rm.serve.body import ApiError, JsonBodyRoute, json_kind
from activation_rm.serve.config import ServerConfig, host_name
from activation_rm.serve.images import RequestImageError, load_request_images
from activation_rm.version import __version__

logger = logging.getLogger(__name__)

#: a string or a list of {"role", "content"} messages; checked by :func:`~activation_rm.inputs.prompts.prompt_problem`
#: (not by pydantic, whose errors for a union name its branches instead of what is wrong)
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


#: paths open to every client on every host: liveness probes (which send the machine's address as Host) need it,
#: and it tells nothing but that the server is up
OPEN_PATHS = frozenset({"/health"})


#: the rest of a refused body is never read, so the connection cannot carry another request: close it at once
CLOSE = {"Connection": "close"}


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in; an HTTPException so FastAPI passes it through body parsing untouched."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds the limit of {limit} bytes", headers=CLOSE)


class BodyTooSlow(StarletteHTTPException):
    """The body did not arrive within the read timeout (a stalled or trickling upload)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"the request body did not arrive within the server's read timeout of {seconds:g} s "
                              "(--read-timeout)", headers=CLOSE)


def _token_ok(authorization: str | None, token: str) -> bool:
    scheme, _, value = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(value.strip().encode(), token.encode())


class GateMiddleware:
    """Answer for the app, before it reads a byte of the body: 400 for a ``Host`` the server does not answer to,
    401 for a missing or wrong bearer token. Every path but :data:`OPEN_PATHS`, unknown ones and ``/docs``
    included, so nothing about the server is told to a client without the token."""

    def __init__(self, app: Any, config: ServerConfig) -> None:
        self.app, self.config = app, config

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        host = headers.get("host")
        if not self.config.accepts_host(host):
            return await _error(400, self._host_problem(host))(scope, receive, send)
        if self.config.token is not None and not _token_ok(headers.get("authorization"), self.config.token):
            response = _error(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
            return await response(scope, receive, send)
        await self.app(scope, receive, send)

    def _host_problem(self, host: str | None) -> str:
        answered = ", ".join(self.config.public()["hosts"])
        if not host:
            return f"the request has no Host header; send one naming the server (it answers to {answered})"
        return (f"Host {host[:100]!r} is not accepted: this server answers to {answered} (against DNS rebinding); "
                f"start it with --allow-host {host_name(host)[:100]} to accept it")


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes (by Content-Length up front, else while streaming: chunked uploads) and
    bodies that have not fully arrived ``read_timeout_s`` after the request began (the connection is then closed,
    so a stalled upload cannot hold it). Once the body is in, ``receive`` is passed through untouched: waiting on it
    is how a handler learns that its client disconnected."""

    def __init__(self, app: Any, limit: int, read_timeout_s: float) -> None:
        self.app, self.limit, self.read_timeout_s = app, limit, read_timeout_s

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            response = _error(413, f"request body exceeds the limit of {self.limit} bytes", headers=CLOSE)
            return await response(scope, receive, send)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.read_timeout_s
        received, complete = 0, False

        async def limited_receive() -> dict:
            nonlocal received, complete
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise BodyTooSlow(self.read_timeout_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
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


def _prompt_problem(prompt: Any, max_chars: int) -> str | None:
    """Why ``prompt`` is not a scorable prompt, or None: a prompt with string roles and contents
    (:func:`~activation_rm.inputs.prompts.prompt_problem`, strict) whose texts and contents together are within
    ``max_chars``."""
    problem = prompt_problem(prompt, strict=True, text=lambda text: _text_problem(text, max_chars))
    if problem or isinstance(prompt, str):
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


#: micro-batch budget on a CPU; on other devices one forward pass of the scoring core (it batches up to
#: DEFAULT_BATCH_TOKENS padded tokens): such a pass takes milliseconds on a GPU, so large requests keep full
#: batches there, while on a CPU, whose cost grows with every token, it takes tens of seconds
CPU_MICRO_BATCH_TOKENS = 2048


def default_micro_batch_tokens(models: ModelSet) -> int:
    """The server's micro-batch budget when none is given, by the backbone's device."""
    return CPU_MICRO_BATCH_TOKENS if models.backbone.input_device.type == "cpu" else DEFAULT_BATCH_TOKENS


#: estimated tokens of the judge template around one query (instructions, criterion, chat markers) and of one
#: image: the micro-batch budget needs an estimate before any tokenizer runs, not an exact count
TEMPLATE_TOKENS = 64
IMAGE_TOKENS = 256


def estimated_tokens(text: Any) -> int:
    """About one token per 4 UTF-8 bytes (English text; text in other scripts has fewer bytes per token, so it is
    under-counted at most about 3 times). ``text`` is a string or a messages list."""
    if isinstance(text, list):
        return sum(estimated_tokens(m.get("role", "")) + estimated_tokens(m.get("content", "")) for m in text)
    return math.ceil(len(str(text).encode("utf-8", "surrogatepass")) / 4)


class RequestSplitter:
    """How the batcher cuts score and compare requests into micro-batches: per item, its batch slots (judge
    queries, as :func:`~activation_rm.scoring.engine.request_cost` counts them) and the tokens of its queries over all
    criteria; parts are :meth:`~activation_rm.scoring.engine.ScoreRequest.span` and their results joined in order."""

    def __init__(self, models: ModelSet) -> None:
        self.models = models

    def costs(self, request: ScoreRequest | CompareRequest) -> list[ItemCost]:
        slots = request_cost(request) // max(1, len(request))
        modes = [self.models.models[name].mode for name in request.criteria]
        images = request.images or [()] * len(request)
        out = []
        for i, prompt in enumerate(request.prompts):
            shared = estimated_tokens(prompt) + TEMPLATE_TOKENS + IMAGE_TOKENS * len(images[i] or ())
            if isinstance(request, ScoreRequest):
                tokens = len(modes) * (shared + estimated_tokens(request.responses[i]))
            else:
                a, b = estimated_tokens(request.responses_a[i]), estimated_tokens(request.responses_b[i])
                # pointwise: one query per response; pairwise: both responses in each of the two orders
                tokens = sum(2 * shared + a + b if mode == "pointwise" else 2 * (shared + a + b) for mode in modes)
            out.append(ItemCost(slots, tokens))
        return out

    def part(self, request: ScoreRequest | CompareRequest, start: int, stop: int) -> ScoreRequest | CompareRequest:
        return request if (start, stop) == (0, len(request)) else request.span(start, stop)

    def join(self, request: ScoreRequest | CompareRequest, results: list[dict[str, Any]]) -> dict[str, Any]:
        # per criterion, lists of scores (score) or Comparisons (compare): both concatenate with +
        return {name: reduce(operator.add, (result[name] for result in results)) for name in results[0]}

    def part_error(self, error: BaseException, start: int) -> BaseException:
        return ItemError(error.item + start, error.message) if isinstance(error, ItemError) else error


async def _client_gone(http: Request) -> None:
    """Return once the client has disconnected (the body was read: ``receive`` then only reports that)."""
    while (await http.receive())["type"] != "http.disconnect":
        pass


def _public_name(name: str | None) -> str | None:
    """A local path as its last component only, so ``/info`` tells nobody where files lie on the server; a hub id
    (``org/model``) stays as it is."""
    if not name:
        return name
    path = Path(name).expanduser()
    return path.resolve().name if path.is_absolute() or path.exists() else name


def _public_info(info: dict[str, Any]) -> dict[str, Any]:
    """The model set's :meth:`~activation_rm.scoring.engine.ModelSet.info` without absolute paths: artifacts and a
    backbone loaded from a local directory or GGUF file are named by their last path component."""
    backbone = dict(info["backbone"])
    backbone["name"] = _public_name(backbone.get("name"))
    if isinstance(backbone.get("fingerprint"), dict):
        backbone["fingerprint"] = {**backbone["fingerprint"], "name": _public_name(backbone["fingerprint"].get("name"))}
    criteria = [{**c, "artifact": _public_name(c.get("artifact"))} for c in info["criteria"]]
    return {**info, "backbone": backbone, "criteria": criteria}


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
        """Named reward criteria must be served and pointwise (checked now); by default every pointwise one. Without
        a micro-batch budget, the device's default is used (and shown by ``/info``)."""
        reward_criteria = models.resolve(config.reward_criteria) if config.reward_criteria else tuple(models.pointwise)
        if config.batching.micro_batch_tokens is None:
            budget = default_micro_batch_tokens(models)
            config = replace(config, batching=replace(config.batching, micro_batch_tokens=budget))
        batcher: DynamicBatcher[ScoreRequest | CompareRequest, Any] = DynamicBatcher(
            lambda requests: run_requests(models, requests), config.batching, splitter=RequestSplitter(models))
        return cls(models, config, batcher, reward_criteria,
                   _reward_info(models, reward_criteria, bool(config.reward_criteria)),
                   special_token_strings(models.backbone.tokenizer, config.strip_tokens))

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

    async def run(self, request: ScoreRequest | CompareRequest, field: str, http: Request) -> Any:
        """The request's result; its unscored parts are dropped when the client disconnects or the request
        outlasts ``request_timeout_s`` (504)."""
        job = asyncio.ensure_future(self.batcher.submit(request))
        gone = asyncio.ensure_future(_client_gone(http))
        try:
            await asyncio.wait({job, gone}, timeout=self.config.request_timeout_s,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            job.cancel()  # no-op once it is done
        if job.done() and not job.cancelled():
            try:
                return job.result()
            except ItemError as err:
                raise ApiError(422, f"{field}[{err.item}] could not be scored: {err.message}", err.item,
                               field) from None
        if gone.done() and not gone.cancelled():
            gone.result()  # an error while waiting for the disconnect is the server's: raised as it is
            raise ApiError(499, "the client disconnected before its scores were ready; the rest of its work was "
                                "dropped")
        raise ApiError(504, f"the request was not scored within the server's request timeout of "
                            f"{self.config.request_timeout_s:g} s (--request-timeout): the server is busy or the "
                            f"request is large; send fewer or shorter items, or retry later")


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
    @app.get("/info")
    async def info() -> dict[str, Any]:
        return {**_public_info(server.models.info()), "server": {
            **server.config.public(), "reward_criteria": list(server.reward_criteria),
            "get_reward": server.reward_info, "batch_stats": server.batcher.stats.to_dict()}}


def _add_score_route(app: FastAPI, server: _Server) -> None:
    @app.post("/score")
    async def score(body: ScoreBody, http: Request) -> dict[str, Any]:
        """Scores in [0, 1] per criterion: ``{"scores": {"name": [...]}, "criteria": [...]}``."""
        server.check_items(body.prompts, body.responses, "prompts", "responses")
        criteria = server.criteria_of(body.criteria, tuple(server.models.pointwise))
        images = await server.images_of(body.images, len(body.responses))
        scores = await server.run(ScoreRequest(list(body.prompts), list(body.responses), criteria, images),
                                  "responses", http)
        return {"scores": scores, "criteria": list(criteria)}


def _add_compare_route(app: FastAPI, server: _Server) -> None:
    @app.post("/compare")
    async def compare(body: CompareBody, http: Request) -> dict[str, Any]:
        """Which response of each pair every criterion prefers, with both scores: ``{"comparisons": {"name":
        {"preferred": ["a" | "b" | "tie", ...], "score_a": [...], "score_b": [...]}}, "criteria": [...]}``."""
        server.check_items(body.prompts, body.responses_a, "prompts", "responses_a", (body.responses_b, "responses_b"))
        criteria = server.criteria_of(body.criteria, pairwise_ok=True)
        images = await server.images_of(body.images, len(body.responses_a))
        request = CompareRequest(list(body.prompts), list(body.responses_a), list(body.responses_b), criteria, images)
        result = await server.run(request, "responses_a", http)
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
    @app.post("/get_reward")
    async def get_reward(body: RewardBody, http: Request) -> dict[str, Any]:
        """OpenRLHF remote reward model; see :mod:`activation_rm.integrations.openrlhf` for the splitting rule."""
        if body.prompts is None:
            raise ApiError(422, "prompts: required to split each query into prompt and response", field="prompts")
        server.check_items(body.prompts, body.query, "prompts", "query")
        prompts, responses = _reward_pairs(server, body.query, body.prompts)
        criteria = server.criteria_of(body.criteria, server.reward_criteria)
        scores = await server.run(ScoreRequest(prompts, responses, criteria), "query", http)
        return reward_response(criteria, scores)


def create_app(models: ModelSet, config: ServerConfig | None = None) -> FastAPI:
    """A FastAPI app serving ``models``; run it with uvicorn, mount it in Ray Serve, or test it in-process."""
    server = _Server.create(models, config or ServerConfig())
    app = FastAPI(title="activation-rm reward server", version=__version__, lifespan=_lifespan(server.batcher))
    app.router.route_class = JsonBodyRoute  # bodies: JSON objects only, with errors that say what is wrong
    app.state.models, app.state.config, app.state.batcher = models, server.config, server.batcher
    # the last added runs first: host and token are checked before the body's size and time limits apply
    app.add_middleware(BodyLimitMiddleware, limit=server.config.max_body_bytes,
                       read_timeout_s=server.config.read_timeout_s)
    app.add_middleware(GateMiddleware, config=server.config)
    _add_error_handlers(app)
    for add_route in (_add_health_route, _add_info_route, _add_score_route, _add_compare_route, _add_get_reward_route):
        add_route(app, server)
    return app
