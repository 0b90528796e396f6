"""One row of the route table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from compat_gateway.errors import ErrorStyle
from compat_gateway.inbound import Inbound

__all__ = ["Route", "SseRenderer", "empty_request", "rpc_rows"]

#: Turns the first stream message and the rest into SSE bytes.
SseRenderer = Callable[[Any, AsyncIterator[Any], Inbound], AsyncIterator[bytes]]


@dataclass(frozen=True)
class Route:
    """One method + path.

    ``body`` and ``query`` (pydantic models) validate the input into ``inbound.body_model`` /
    ``inbound.query_model``. Then ``variant`` picks another row for this request, or ``local`` answers
    it inside the shim, or ``service``/``rpc`` name the gRPC call: ``build`` turns the inbound request
    into the RPC's request message, and then
    - a unary RPC's reply goes through ``render`` to the legacy JSON;
    - a server-streaming RPC with ``sse`` set is relayed as it arrives (``sse`` renders the events); when
      ``primed``, the renderer's first chunk is awaited before the response starts, so that a
      ``LegacyError`` it raises before that chunk (a refusal the stream reported) is an ordinary HTTP error;
    - a server-streaming RPC without ``sse`` is read to its end and the list goes through ``render``.
    """

    method: str
    path: str
    name: str
    local: Callable[[Inbound], Awaitable[Any]] | None = None
    service: str | None = None
    rpc: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    build: Callable[[Inbound], Any] | None = None
    render: Callable[[Any, Inbound], Any] | None = None
    sse: SseRenderer | None = None
    primed: bool = False
    streaming: bool = False
    auth: bool = True
    errors: ErrorStyle = ErrorStyle.WRAPPED
    status_code: int = 200
    summary: str = ""
    response: type[BaseModel] | None = None  # the 200 body's schema, for /openapi.json
    media_type: str = "application/json"  # the success body's content type, for /openapi.json
    #: Statuses this row answers with the reference's bare ``{"error": "..."}`` body, for /openapi.json.
    error_statuses: tuple[int, ...] = ()
    #: Picks the row that serves this request (after validation), for paths whose answer format the request
    #: chooses (JSON or SSE, legacy or OpenAI shape).
    variant: Callable[[Inbound], Route] | None = None
    deadline: str = "default"  # "default" (GAIA_REQUEST_TIMEOUT_S) or "long" (GAIA_LONG_REQUEST_TIMEOUT_S)


def rpc_rows(service: str, **defaults: Any) -> Callable[..., Route]:
    """A builder of one service's unary rows, read like the table's columns:
    ``row(method, path, name, rpc, build, render, **options)`` (``defaults`` apply to every row)."""

    def row(  # noqa: PLR0917 (one table row per call)
        method: str,
        path: str,
        name: str,
        rpc: str,
        build: Callable[[Inbound], Any],
        render: Callable[[Any, Inbound], Any],
        **options: Any,
    ) -> Route:
        return Route(
            method,
            path,
            name,
            service=service,
            rpc=rpc,
            build=build,
            render=render,
            **{**defaults, **options},
        )

    return row


def empty_request(message: Any) -> Callable[[Inbound], Any]:
    """A build for an RPC whose request has no fields."""
    return lambda inbound: message()
