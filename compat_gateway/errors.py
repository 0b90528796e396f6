"""The shim's one error table: gRPC status → HTTP status and the legacy body around the message.

Routes the reference forwarded to a service wrap a service's message as
``{"detail":"Service error: {\"detail\":\"<message>\"}"}``; local routes answer ``{"detail": <message>}``.
Authentication failures (marked by the service interceptor) are never wrapped.

The OpenAI-compatible door (``/v1/*``, ``ErrorStyle.OPENAI``) answers OpenAI's body
``{"error":{"message","type","param","code"}}`` with OpenAI's statuses, by its own table (CONTRACT §3).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import grpc
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from grpc import aio
from starlette.exceptions import HTTPException as StarletteHTTPException

from gaia_services.runtime.wire import (
    ERROR_MARKER_KEY,
    NOT_AUTHENTICATED,
    RETRY_AFTER_KEY,
    Marker,
    status_of,
    trailing_of,
)

__all__ = [
    "HTTP_STATUS",
    "ErrorStyle",
    "LegacyError",
    "StreamIdleTimeout",
    "compact",
    "failure_status",
    "input_error_response",
    "install_error_handlers",
    "missing_credentials",
    "openai_error",
    "openai_failure",
    "openai_stream_error",
    "rpc_error_response",
    "scrub",
    "service_unavailable",
    "unavailable_response",
    "wrap",
]

_log = logging.getLogger("gaia.shim")

#: grpc-gateway / Envoy mapping (CONTRACT §4).
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


class ErrorStyle(StrEnum):
    WRAPPED = "wrapped"  # {"detail":"Service error: {\"detail\":...}"}
    PLAIN = "plain"  # {"detail": ...}
    OPENAI = "openai"  # {"error":{"message","type","param","code"}}, OpenAI's statuses and credentials


class LegacyError(Exception):
    """An HTTP answer decided by the shim itself (status + exact body)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def compact(value: Any) -> str:
    """JSON as FastAPI writes it: compact separators, raw UTF-8."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def wrap(inner: Any) -> dict[str, Any]:
    """The reference's wrapping of a service's error body on forwarded routes."""
    return {"detail": "Service error: " + compact({"detail": inner})}


def _detail(style: ErrorStyle, inner: Any) -> dict[str, Any]:
    return wrap(inner) if style is ErrorStyle.WRAPPED else {"detail": inner}


def service_unavailable(service: str) -> JSONResponse:
    return JSONResponse({"detail": f"Service {service} unavailable"}, status_code=503)


class StreamIdleTimeout(aio.AioRpcError):
    """A server stream silent for longer than the shim's idle timeout: it ends the relay as
    DEADLINE_EXCEEDED, and each SSE renderer turns it into its format's error event."""

    def __init__(self) -> None:
        super().__init__(
            grpc.StatusCode.DEADLINE_EXCEEDED, aio.Metadata(), aio.Metadata(), details="Stream idle timeout"
        )


# -- the OpenAI door's table ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _OpenAIRow:
    status: int
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    empty: str = ""  # the message when the service gave none
    hidden: str | None = None  # the message instead of one that is not a service's own answer ({service})


_OPENAI_AUTH = _OpenAIRow(401, code="invalid_api_key", empty="Invalid API key")
_OPENAI_DOWN = _OpenAIRow(503, "api_error", hidden="Service {service} unavailable")
_OPENAI_OTHER = _OpenAIRow(500, "api_error", hidden="Internal server error")

#: gRPC status → OpenAI's status, error type, code and param (CONTRACT §3); anything else is a 500.
_OPENAI: dict[grpc.StatusCode, _OpenAIRow] = {
    grpc.StatusCode.UNAUTHENTICATED: _OPENAI_AUTH,
    grpc.StatusCode.PERMISSION_DENIED: _OPENAI_AUTH,
    grpc.StatusCode.NOT_FOUND: _OpenAIRow(404, param="model", code="model_not_found"),
    grpc.StatusCode.INVALID_ARGUMENT: _OpenAIRow(400),
    grpc.StatusCode.RESOURCE_EXHAUSTED: _OpenAIRow(429, "requests", code="rate_limit_exceeded"),
    grpc.StatusCode.UNAVAILABLE: _OPENAI_DOWN,
    grpc.StatusCode.DEADLINE_EXCEEDED: _OPENAI_DOWN,
}
_MISSING_CREDENTIALS = "Missing credentials: provide a Bearer token or an API key."
_UNPARSABLE = "We could not parse the JSON body of your request."
_NOT_AN_OBJECT = "The request body must be a JSON object."


def failure_status(failed: Any) -> int:
    """The HTTP status of a stream's terminal ``gaia.common.v1.Failure`` (never a success, whatever its
    code says), by the same table as RPC errors."""
    status = HTTP_STATUS.get(status_of(failed.code), 500)
    return status if status >= 400 else 500


def openai_error(
    code: grpc.StatusCode, message: str, *, domain: bool, service: str = "chat"
) -> tuple[int, dict[str, Any]]:
    """OpenAI's status and error object (``{"message","type","param","code"}``) for a gRPC status.
    ``domain``: the message is a service's own answer (else a peer down or an unexpected failure, whose
    text is not shown)."""
    row = _OPENAI.get(code, _OPENAI_OTHER)
    text = row.hidden.format(service=service) if row.hidden and not domain else message or row.empty
    return row.status, {"message": text, "type": row.type, "param": row.param, "code": row.code}


def openai_failure(failed: Any) -> tuple[int, dict[str, Any]]:
    """The OpenAI error of a stream's ``failed`` event (``gaia.common.v1.Failure``: code + message)."""
    return openai_error(status_of(failed.code), failed.message, domain=True)


def openai_stream_error(exc: aio.AioRpcError, *, service: str = "chat") -> dict[str, Any]:
    """The OpenAI error event for a stream broken mid-way (its ``param`` is always null)."""
    if isinstance(exc, StreamIdleTimeout):
        return {"error": {"message": exc.details(), "type": "api_error", "param": None, "code": None}}
    domain = ERROR_MARKER_KEY in trailing_of(exc)
    _, error = openai_error(exc.code(), exc.details() or "", domain=domain, service=service)
    return {"error": {**error, "param": None}}


def _openai_response(
    status: int, error: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _param(loc: list[Any]) -> str | None:
    """``["messages", 0, "role"]`` → ``messages[0].role``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or None


def _openai_input(items: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenAI's 400 for malformed input, naming the first problem. Items that carry a ``param`` were written
    for the door and say it themselves."""
    first = items[0] if items else {"type": "missing", "loc": ["body"], "msg": "Field required"}
    loc = list(first.get("loc", ()))
    if "param" in first:
        message, param = str(first.get("msg", "")), first["param"]
    elif loc[:1] == ["body"] and first.get("type") in ("json_invalid", "string_unicode"):
        message, param = _UNPARSABLE, None
    elif loc == ["body"]:
        message, param = _NOT_AN_OBJECT, None
    else:
        param = _param(loc[1:])
        message = f"Invalid '{param}': {first.get('msg', '')}" if param else str(first.get("msg", ""))
    return {"message": message, "type": "invalid_request_error", "param": param, "code": None}


def input_error_response(items: list[dict[str, Any]], style: ErrorStyle) -> JSONResponse:
    """Malformed input: FastAPI's 422 item list (wrapped or plain), or OpenAI's 400 on the door."""
    if style is ErrorStyle.OPENAI:
        return _openai_response(400, _openai_input(items))
    return JSONResponse(_detail(style, scrub(items)), status_code=422)


def missing_credentials(style: ErrorStyle) -> LegacyError:
    """No credentials at all, on a route that needs them."""
    if style is ErrorStyle.OPENAI:
        error = {
            "message": _MISSING_CREDENTIALS,
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
        return LegacyError(401, {"error": error})
    return LegacyError(401, {"detail": NOT_AUTHENTICATED})


def unavailable_response(service: str, style: ErrorStyle) -> JSONResponse:
    """A service that did not answer in time (before a stream's first event)."""
    if style is ErrorStyle.OPENAI:
        return _openai_response(*openai_error(grpc.StatusCode.UNAVAILABLE, "", domain=False, service=service))
    return service_unavailable(service)


def rpc_error_response(exc: aio.AioRpcError, *, service: str, style: ErrorStyle) -> JSONResponse:
    """The answer to a failed RPC, by the tables above and the service's error marker."""
    trailing = trailing_of(exc)
    marker = trailing.get(ERROR_MARKER_KEY)
    headers = {"Retry-After": trailing[RETRY_AFTER_KEY]} if RETRY_AFTER_KEY in trailing else None
    if style is ErrorStyle.OPENAI:
        status, error = openai_error(
            exc.code(), exc.details() or "", domain=marker is not None, service=service
        )
        return _openai_response(status, error, headers)
    if marker is None:
        # Not a service's own answer: the peer is down, timed out, or failed unexpectedly.
        if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return service_unavailable(service)
        return JSONResponse({"detail": "Internal server error"}, status_code=500)
    status = HTTP_STATUS.get(exc.code(), 500)
    message = exc.details() or ""
    if marker == Marker.RATE_LIMIT:
        return JSONResponse({"error": message}, status_code=429, headers=headers)
    if marker in (Marker.AUTH, Marker.PEER):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return JSONResponse(_detail(style, message), status_code=status, headers=headers)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _legacy(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LegacyError)
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": scrub(exc.errors())}, status_code=422)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "Internal server error"}, status_code=500)


_SECRET_KEYS = frozenset(
    {
        "password",
        "current_password",
        "new_password",
        "old_password",
        "refresh_token",
        "token",
        "api_key",
        "_auth",
    }
)


def scrub(errors: Any) -> Any:
    """422 items as FastAPI writes them, minus ``ctx``/``url``, with secrets removed from ``input``: an item
    about a secret field's value has a null ``input``, a missing field's has the body without secrets."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in _SECRET_KEYS}
        return value

    items = []
    for err in errors:
        item = {k: err[k] for k in ("type", "loc", "msg", "input") if k in err}
        secret = bool(item.get("loc")) and item["loc"][-1] in _SECRET_KEYS and item.get("type") != "missing"
        item["input"] = None if secret else clean(item.get("input"))
        items.append(item)
    return items


def install_error_handlers(app: Any) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(LegacyError, _legacy)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Exception, _unhandled)
