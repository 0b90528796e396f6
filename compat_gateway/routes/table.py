"""The kinds of row in the route table, and the check every row passes when the shim starts.

Every row has a method, a path, a name and how its input is validated (``body``, ``query``), how its errors
are written (``errors``) and what /openapi.json says of it. Then it is one of:

- ``Local``: answered inside the shim (``answer``);
- ``Unary``: one unary RPC; ``build`` makes its request from the inbound request, ``render`` its reply into
  the legacy JSON;
- ``Collected``: a server stream read to its end; ``render`` gets the list of its messages;
- ``Relayed``: a server stream relayed as it arrives, in the SSE grammar ``sse`` (``render/sse.py``);
- ``Choice``: a path whose request picks the row that serves it (JSON or SSE, legacy or OpenAI shape): the
  first of its ``rows`` whose ``when`` holds. Its rows share its method, path, input, errors and auth.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from compat_gateway.errors import ErrorStyle
from compat_gateway.inbound import Inbound
from compat_gateway.rpcs import Rpc

__all__ = [
    "Choice",
    "Collected",
    "Local",
    "Relayed",
    "Route",
    "RpcRow",
    "SseRenderer",
    "Unary",
    "check",
    "empty_request",
    "served",
    "unary_rows",
]

#: Turns the first stream message and the rest into SSE bytes (an ``SseFormat``, or a plain function).
SseRenderer = Callable[[Any, AsyncIterator[Any], Inbound], AsyncIterator[bytes]]
Build = Callable[[Inbound], Any]  # the RPC's request message (or an awaitable of it)
Deadline = Literal["default", "long"]  # GAIA_REQUEST_TIMEOUT_S or GAIA_LONG_REQUEST_TIMEOUT_S


@dataclass(frozen=True, kw_only=True)
class Row:
    method: str = ""
    path: str = ""
    name: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: bool = True
    errors: ErrorStyle = ErrorStyle.WRAPPED
    status_code: int = 200
    summary: str = ""
    response: type[BaseModel] | None = None  # the 200 body's schema, for /openapi.json
    media_type: str = "application/json"  # the success body's content type, for /openapi.json
    #: Statuses this row answers with the reference's bare ``{"error": "..."}`` body, for /openapi.json.
    error_statuses: tuple[int, ...] = ()
    #: In a ``Choice``: whether this row serves the request (None: always).
    when: Callable[[Inbound], bool] | None = None


@dataclass(frozen=True, kw_only=True)
class Local(Row):
    answer: Callable[[Inbound], Awaitable[Any]]


@dataclass(frozen=True, kw_only=True)
class Unary(Row):
    rpc: Rpc
    build: Build
    render: Callable[[Any, Inbound], Any]
    deadline: Deadline = "default"


@dataclass(frozen=True, kw_only=True)
class Collected(Row):
    rpc: Rpc
    build: Build
    render: Callable[[list[Any], Inbound], Any]
    deadline: Deadline = "default"


@dataclass(frozen=True, kw_only=True)
class Relayed(Row):
    rpc: Rpc
    build: Build
    sse: SseRenderer

    @property
    def primed(self) -> bool:
        """Whether the first chunk is awaited before the response starts, so that a ``LegacyError`` the
        renderer raises before it (a refusal the stream reported) is an ordinary HTTP error."""
        return bool(getattr(self.sse, "primed", False))


@dataclass(frozen=True, kw_only=True)
class Choice(Row):
    rows: tuple[Route, ...]

    def __post_init__(self) -> None:
        shared = {k: getattr(self, k) for k in ("method", "path", "body", "query", "auth", "errors")}
        object.__setattr__(self, "rows", tuple(dataclasses.replace(r, **shared) for r in self.rows))

    def pick(self, inbound: Inbound) -> Route:
        for row in self.rows:
            if row.when is None or row.when(inbound):
                return row
        raise LookupError(f"no row of {self.name} serves this request")


Route = Local | Unary | Collected | Relayed | Choice
RpcRow = Unary | Collected | Relayed


def served(routes: tuple[Route, ...]) -> Iterator[Route]:
    """Every row that can answer a request: the table's, with each ``Choice`` replaced by its rows."""
    for route in routes:
        if isinstance(route, Choice):
            yield from route.rows
        else:
            yield route


def check(routes: tuple[Route, ...]) -> None:
    """What the shim checks of its table when it starts: unique names, each RPC row's kind matching its
    RPC's (a unary call or a server stream), and a last row of every ``Choice`` that serves any request."""
    problems: list[str] = []
    choices = [route for route in routes if isinstance(route, Choice)]
    names = Counter(row.name for row in (*choices, *served(routes)))
    problems += [f"row name {name!r} is used {n} times" for name, n in names.items() if n > 1]
    for row in served(routes):
        if isinstance(row, Unary | Collected | Relayed):
            streams = not isinstance(row, Unary)
            if row.rpc.server_streaming != streams:
                kind = "server-streaming" if row.rpc.server_streaming else "unary"
                problems.append(
                    f"row {row.name} is a {type(row).__name__} row on the {kind} RPC {row.rpc.name}"
                )
    for choice in choices:
        if not choice.rows or choice.rows[-1].when is not None:
            problems.append(f"the last row of {choice.name} must serve every request (no ``when``)")
    if problems:
        raise ValueError("the route table is inconsistent: " + "; ".join(problems))


def unary_rows(**defaults: Any) -> Callable[..., Unary]:
    """A builder of unary rows, read like the table's columns:
    ``row(method, path, name, rpc, build, render, **options)`` (``defaults`` apply to every row)."""

    def row(  # noqa: PLR0917 (one table row per call)
        method: str,
        path: str,
        name: str,
        rpc: Rpc,
        build: Build,
        render: Callable[[Any, Inbound], Any],
        **options: Any,
    ) -> Unary:
        return Unary(
            method=method,
            path=path,
            name=name,
            rpc=rpc,
            build=build,
            render=render,
            **{**defaults, **options},
        )

    return row


def empty_request(message: Any) -> Callable[[Inbound], Any]:
    """A build for an RPC whose request has no fields."""
    return lambda inbound: message()
