"""The one generic handler: it reads a ``Route`` and serves it, locally or through its RPC."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from grpc import aio

from compat_gateway.errors import (
    LegacyError,
    StreamIdleTimeout,
    input_error_response,
    missing_credentials,
    rpc_error_response,
    unavailable_response,
)
from compat_gateway.inbound import Inbound, InputError
from compat_gateway.routes.table import Choice, Collected, Local, Relayed, Route, RpcRow, Unary
from compat_gateway.timing import waiting_on_service

__all__ = ["SSE_HEADERS", "endpoint_for"]

KEEPALIVE_HEADER = "x-gaia-sse-keepalive"
SSE_HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}
SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"


def _as_response(result: Any, route: Route) -> Response:
    if isinstance(result, Response):
        return result
    return JSONResponse(result, status_code=route.status_code)


async def _rest(call: Any, idle_timeout_s: float | None = None) -> AsyncIterator[Any]:
    """The remaining messages of a server stream; silence longer than ``idle_timeout_s`` ends it as
    ``StreamIdleTimeout``, a DEADLINE_EXCEEDED (the renderer turns that into the format's error event)."""
    while True:
        try:
            message = await asyncio.wait_for(call.read(), idle_timeout_s)
        except TimeoutError:
            call.cancel()
            raise StreamIdleTimeout from None
        if message is aio.EOF:
            return
        yield message


def _keepalive_interval(inbound: Inbound) -> float | None:
    """Opt-in SSE comments while the stream is idle (``X-Gaia-SSE-Keepalive: <seconds>``); off by default,
    since naive legacy parsers choke on comment lines."""
    raw = inbound.request.headers.get(KEEPALIVE_HEADER, "")
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return max(1.0, seconds) if seconds > 0 else None


async def _end(call: Any, timeout_s: float) -> None:
    """Let a stream whose terminal event was relayed end by itself: read up to its status (at once, the
    service returns right after that event). Cancelling it instead would cancel a call the service is
    completing, and grpc.aio leaks native memory for each call cancelled that way (grpc/grpc#43360)."""
    if call.done():  # ended already (or cancelled on an idle timeout)
        return
    with contextlib.suppress(aio.AioRpcError, TimeoutError):
        async with asyncio.timeout(timeout_s):
            while await call.read() is not aio.EOF:
                pass


def _rendered(route: Relayed, first: Any, call: Any, inbound: Inbound) -> AsyncIterator[bytes]:
    """The SSE bytes of a stream whose first message was read: the route's renderer over the rest."""
    return aiter(route.sse(first, _rest(call, inbound.shim.settings.stream_idle_timeout_s), inbound))


async def _primed(chunks: AsyncIterator[bytes], call: Any, idle_timeout_s: float) -> AsyncIterator[bytes]:
    """The chunks, their first one awaited now: a ``LegacyError`` raised before it is the HTTP answer."""
    try:
        with waiting_on_service():
            head = await anext(chunks)
    except StopAsyncIteration:
        return chunks
    except LegacyError:
        await _end(call, idle_timeout_s)  # the service ends the call right after its refusal
        call.cancel()  # a no-op once ended
        raise
    except BaseException:
        call.cancel()  # the client went away meanwhile, or the renderer broke
        raise

    async def joined() -> AsyncIterator[bytes]:
        yield head
        async for chunk in chunks:
            yield chunk

    return joined()


async def _relay(chunks: AsyncIterator[bytes], call: Any, inbound: Inbound) -> AsyncGenerator[bytes]:
    """Relay the stream as it arrives; when the client goes away, cancel the RPC (and so the provider)."""
    idle = inbound.shim.settings.stream_idle_timeout_s
    interval = _keepalive_interval(inbound)
    pending: asyncio.Future[bytes] | None = None
    relayed = False  # every chunk went out: the stream ended, not the client
    try:
        while True:
            if interval is None:
                try:
                    yield await anext(chunks)
                except StopAsyncIteration:
                    relayed = True
                    return
                continue
            pending = pending or asyncio.ensure_future(anext(chunks))
            done, _ = await asyncio.wait((pending,), timeout=interval)
            if not done:
                yield b": keepalive\n\n"
                continue
            try:
                chunk = pending.result()
            except StopAsyncIteration:
                relayed = True
                return
            pending = None
            yield chunk
    finally:
        if pending is not None:
            pending.cancel()
        if relayed:
            await _end(call, idle)
        call.cancel()  # the client went away (or the stream did not end in time); a no-op once ended


async def _message(route: RpcRow, inbound: Inbound) -> Any:
    built = route.build(inbound)
    return await built if inspect.isawaitable(built) else built


def _timeout(route: Unary | Collected, inbound: Inbound) -> float:
    settings = inbound.shim.settings
    return settings.long_request_timeout_s if route.deadline == "long" else settings.request_timeout_s


async def _unary(route: Unary, inbound: Inbound) -> Response:
    message = await _message(route, inbound)
    rpc = getattr(inbound.shim.stubs[route.rpc.service], route.rpc.name)
    with waiting_on_service():
        reply = await rpc(message, metadata=inbound.metadata(), timeout=_timeout(route, inbound))
    return _as_response(route.render(reply, inbound), route)


async def _collected(route: Collected, inbound: Inbound) -> Response:
    message = await _message(route, inbound)
    rpc = getattr(inbound.shim.stubs[route.rpc.service], route.rpc.name)
    call = rpc(message, metadata=inbound.metadata(), timeout=_timeout(route, inbound))
    with waiting_on_service():
        messages = [m async for m in _rest(call)]
    return _as_response(route.render(messages, inbound), route)


async def _relayed(route: Relayed, inbound: Inbound) -> Response:
    message = await _message(route, inbound)
    rpc = getattr(inbound.shim.stubs[route.rpc.service], route.rpc.name)
    idle = inbound.shim.settings.stream_idle_timeout_s
    call = rpc(message, metadata=inbound.metadata())
    try:
        with waiting_on_service():
            first = await asyncio.wait_for(call.read(), idle)
    except TimeoutError:
        call.cancel()
        return unavailable_response(route.rpc.service, route.errors)
    chunks = _rendered(route, first, call, inbound)
    if route.primed:
        chunks = await _primed(chunks, call, idle)
    return StreamingResponse(_relay(chunks, call, inbound), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS)


async def _answer(route: Route, inbound: Inbound) -> Response:
    """The answer of the row that serves this request."""
    if isinstance(route, Choice):
        route = route.pick(inbound)
    if isinstance(route, Local):
        return _as_response(await route.answer(inbound), route)
    assert not isinstance(route, Choice), f"{route.name}: a Choice's rows are never Choices"
    try:
        if isinstance(route, Unary):
            return await _unary(route, inbound)
        if isinstance(route, Collected):
            return await _collected(route, inbound)
        return await _relayed(route, inbound)
    except aio.AioRpcError as exc:
        return rpc_error_response(exc, service=route.rpc.service, style=route.errors)


async def handle(route: Route, request: Request) -> Response:
    inbound = Inbound(request=request, shim=request.app.state.shim, style=route.errors)
    if route.auth and not inbound.credentials.present:
        raise missing_credentials(route.errors)
    try:
        await inbound.validate(route.body, route.query)
        response = await _answer(route, inbound)
    except InputError as exc:
        response = input_error_response(exc.items, route.errors)
    response.headers["x-request-id"] = inbound.request_id
    return response


def endpoint_for(route: Route) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handle(route, request)

    endpoint.__name__ = route.name
    return endpoint
