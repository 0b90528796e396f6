"""The one generic handler: it reads a ``Route`` and serves it, locally or through its RPC."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from grpc import aio

from compat_gateway.errors import LegacyError, rpc_error_response
from compat_gateway.inbound import Inbound
from compat_gateway.routes import Route
from gaia_services.runtime.interceptors import NOT_AUTHENTICATED

__all__ = ["endpoint_for"]


def _as_response(result: Any, route: Route) -> Response:
    if isinstance(result, Response):
        return result
    return JSONResponse(result, status_code=route.status_code)


async def handle(route: Route, request: Request) -> Response:
    inbound = Inbound(request=request, shim=request.app.state.shim)
    if route.auth and not inbound.credentials.present:
        raise LegacyError(401, {"detail": NOT_AUTHENTICATED})
    if route.local is not None:
        return _as_response(await route.local(inbound), route)
    assert route.service and route.build and route.render, f"route {route.name} is incomplete"
    message = await route.build(inbound)
    rpc = getattr(inbound.shim.stubs[route.service], route.rpc)
    try:
        reply = await rpc(message, metadata=inbound.metadata(), timeout=inbound.shim.settings.request_timeout_s)
    except aio.AioRpcError as exc:
        return rpc_error_response(exc, service=route.service, style=route.errors)
    return _as_response(route.render(reply, inbound), route)


def endpoint_for(route: Route) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handle(route, request)

    endpoint.__name__ = route.name
    return endpoint
