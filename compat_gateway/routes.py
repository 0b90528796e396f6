"""The route table: every legacy path the shim serves, and how. Read by ``dispatch.handle`` alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from compat_gateway import local
from compat_gateway.errors import ErrorStyle
from compat_gateway.inbound import Inbound

__all__ = ["ROUTES", "Route"]


@dataclass(frozen=True)
class Route:
    """One method + path.

    Either ``local`` answers it inside the shim, or ``service``/``rpc`` name the gRPC call, ``build`` turns
    the inbound request into the RPC's request message and ``render`` turns the reply into the legacy JSON.
    """

    method: str
    path: str
    name: str
    local: Callable[[Inbound], Awaitable[Any]] | None = None
    service: str | None = None
    rpc: str = ""
    build: Callable[[Inbound], Awaitable[Any]] | None = None
    render: Callable[[Any, Inbound], Any] | None = None
    auth: bool = True
    errors: ErrorStyle = ErrorStyle.WRAPPED
    status_code: int = 200
    summary: str = ""


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "health", local=local.gateway_health, auth=False, summary="Health of every part"),
    Route("GET", "/", "root", local=local.api_root, auth=False, summary="API root (60 per minute)"),
    Route("GET", "/api/v0.2/", "v02_info", local=local.v02_info, auth=False, summary="v0.2 API information"),
    Route("GET", "/api/v0.2/health", "v02_health", local=local.v02_health, auth=False, summary="v0.2 health"),
    Route("POST", "/calculator/add", "calculator_add", local=local.calculator_add, auth=False,
          errors=ErrorStyle.PLAIN, summary="Add two numbers (or concatenate two strings)"),
)
