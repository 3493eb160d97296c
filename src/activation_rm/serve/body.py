"""Request bodies: UTF-8 JSON objects sent as ``application/json``, and errors that say exactly what is wrong.

A body is read and parsed here, before FastAPI validates it against the endpoint's model, so every way a body can
be unreadable gets a 4xx that names the problem (no body, wrong content type, not UTF-8, the line and column of a
JSON syntax error, nesting too deep, not an object, an unknown field) instead of pydantic's "Input should be a
valid dictionary" or a 500.

Only JSON content types are accepted (``application/json``, ``application/*+json``), even when a ``text/plain``
or form body holds valid JSON: a web page can send those cross-origin without a CORS preflight, so accepting them
would let any page a user opens drive a reward server on their loopback (FastAPI's strict content-type rule guards
against the same thing). The 415 says which header to send and whether the body itself was valid JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from activation_rm.inputs.prompts import kind_name

SEND_JSON = "send a JSON object with 'Content-Type: application/json' (curl: --json BODY)"


class ApiError(Exception):
    """A request the server refuses: status, message and, when one is to blame, the item and field."""

    def __init__(self, status: int, message: str, item: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.item, self.field = status, message, item, field


def json_kind(value: Any) -> str:
    """The JSON name of a parsed value's type, as error messages show it (the prompt checks' own
    :func:`~activation_rm.inputs.prompts.kind_name`, a tuple counted as an array)."""
    return "an array" if isinstance(value, tuple) else kind_name(value)


def is_json_type(content_type: str | None) -> bool:
    """``application/json`` or ``application/*+json``, parameters such as ``charset`` ignored."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _not_json(name: str) -> Any:
    """Python's json reads NaN and Infinity, which JSON does not have; refuse them like any other bad token."""
    raise ValueError(f"{name} is not a JSON value (use null or a number)")


def decode_json(body: bytes) -> Any:
    """The parsed body; an :class:`ApiError` (400) that says where and why it is not JSON."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        raise ApiError(400, f"the body is not UTF-8 text: byte 0x{body[err.start]:02x} at offset {err.start} "
                            f"({err.reason}); JSON must be sent as UTF-8") from None
    try:
        return json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as err:
        raise ApiError(400, f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise ApiError(400, "invalid JSON: arrays or objects are nested too deeply") from None
    except ValueError as err:  # an integer with more digits than Python converts (4300 by default)
        raise ApiError(400, f"invalid JSON: {str(err).split(';')[0]}") from None


def _wrong_type(content_type: str | None, body: bytes) -> ApiError:
    try:
        decode_json(body)
        verdict = "the body itself is valid JSON"
    except ApiError as err:
        verdict = f"the body is not valid JSON either ({err.message})"
    told = f"Content-Type {content_type!r} is not accepted" if content_type else "the request has no Content-Type"
    return ApiError(415, f"{told}: {SEND_JSON}; {verdict}")


def _unknown_fields(model: type[BaseModel], value: dict[str, Any]) -> ApiError | None:
    if model.model_config.get("extra") != "forbid":
        return None
    unknown = [key for key in value if key not in model.model_fields]
    if not unknown:
        return None
    shown = unknown[0] if len(unknown[0]) <= 60 else unknown[0][:57] + "..."
    return ApiError(422, f"unknown field {shown!r}; the fields are {', '.join(model.model_fields)}", field=unknown[0])


def read_json_object(content_type: str | None, body: bytes, model: type[BaseModel] | None) -> dict[str, Any]:
    """The body as a JSON object with only ``model``'s fields, or the :class:`ApiError` that says why not."""
    if not body:
        raise ApiError(400, f"the request body is empty; {SEND_JSON}")
    if not is_json_type(content_type):
        raise _wrong_type(content_type, body)
    value = decode_json(body)
    if not isinstance(value, dict):
        fields = f" (fields: {', '.join(model.model_fields)})" if model else ""
        raise ApiError(422, f"the body must be a JSON object{fields}, not {json_kind(value)}")
    problem = _unknown_fields(model, value) if model else None
    if problem:
        raise problem
    return value


class JsonBodyRoute(APIRoute):
    """An endpoint whose body is checked by :func:`read_json_object` before FastAPI validates it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler
        model = self.body_field.field_info.annotation
        model = model if isinstance(model, type) and issubclass(model, BaseModel) else None

        async def checked(request: Request) -> Response:
            try:
                body = await request.body()
            except ClientDisconnect:  # nobody is left to read the answer, but it must not be logged as a 500
                raise ApiError(400, "the client disconnected before the whole body arrived") from None
            value = read_json_object(request.headers.get("content-type"), body, model)
            # Starlette's Request.json() returns this cached value, so FastAPI does not parse the body again
            request._json = value
            return await handler(request)

        return checked
