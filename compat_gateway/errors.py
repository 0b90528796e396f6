"""The shim's one error table: gRPC status → HTTP status and the legacy body around the message.

Routes the reference forwarded to a service wrap a service's message as
``{"detail":"Service error: {\"detail\":\"<message>\"}"}``; local routes answer ``{"detail": <message>}``.
Authentication failures (marked by the service interceptor) are never wrapped.
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from typing import Any

import grpc
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from grpc import aio
from starlette.exceptions import HTTPException as StarletteHTTPException

from gaia_services.runtime.errors import ERROR_MARKER_KEY, trailing_of

__all__ = [
    "HTTP_STATUS",
    "ErrorStyle",
    "LegacyError",
    "compact",
    "install_error_handlers",
    "rpc_error_response",
    "scrub",
    "service_unavailable",
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


def rpc_error_response(exc: aio.AioRpcError, *, service: str, style: ErrorStyle) -> JSONResponse:
    """The legacy answer to a failed RPC, by the one table above and the service's error marker."""
    trailing = trailing_of(exc)
    marker = trailing.get(ERROR_MARKER_KEY)
    if marker is None:
        # Not a service's own answer: the peer is down, timed out, or failed unexpectedly.
        if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return service_unavailable(service)
        return JSONResponse({"detail": "Internal server error"}, status_code=500)
    status = HTTP_STATUS.get(exc.code(), 500)
    headers = {"Retry-After": str(trailing["retry-after"])} if "retry-after" in trailing else None
    message = exc.details() or ""
    if marker == "ratelimit":
        return JSONResponse({"error": message}, status_code=429, headers=headers)
    if marker in ("auth", "peer"):
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
    {"password", "new_password", "old_password", "refresh_token", "token", "api_key", "_auth"}
)


def scrub(errors: Any) -> Any:
    """422 items as FastAPI writes them, minus ``ctx``/``url``, with secrets removed from ``input``."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in _SECRET_KEYS}
        return value

    items = []
    for err in errors:
        item = {k: err[k] for k in ("type", "loc", "msg", "input") if k in err}
        item["input"] = clean(item.get("input"))
        items.append(item)
    return items


def install_error_handlers(app: Any) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(LegacyError, _legacy)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Exception, _unhandled)
