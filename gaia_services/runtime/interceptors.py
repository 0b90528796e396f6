"""The server interceptor every Gaia service runs: request id, deadline, authentication, errors, access log.

One interceptor wraps each handler so that the work happens inside the call's own task: the call state is
set in a ``ContextVar`` there, domain errors become gRPC statuses through one table, and an unexpected
exception is logged with its stack and answered with a bare ``INTERNAL`` (never a stack trace on the wire).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import grpc
from grpc import aio

from gaia_services.runtime.calls import CallState, current_call, new_request_id
from gaia_services.runtime.errors import CredentialsRejected, DomainError, grpc_code_for
from gaia_services.runtime.principal import Credentials, Principal
from gaia_services.runtime.wire import ERROR_MARKER_KEY, NOT_AUTHENTICATED, RETRY_AFTER_KEY

__all__ = ["Authenticator", "ServerCallInterceptor", "is_public_method"]

_PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

_log = logging.getLogger("gaia.rpc")


class Authenticator(Protocol):
    """Turns presented credentials into a principal, or raises ``Unauthenticated`` / ``Forbidden``."""

    async def authenticate(self, credentials: Credentials) -> Principal: ...


def is_public_method(method: str, public: frozenset[str]) -> bool:
    return method in public or method.startswith(_PUBLIC_PREFIXES)


class ServerCallInterceptor(aio.ServerInterceptor):
    def __init__(self, *, authenticator: Authenticator, public_methods: frozenset[str] = frozenset()) -> None:
        self._authenticator = authenticator
        self._public = public_methods

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        if handler is None or method.startswith(_PUBLIC_PREFIXES):
            return handler
        public = method in self._public
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method, public),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method, public),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    async def _begin(self, method: str, public: bool, context: aio.ServicerContext) -> CallState:
        metadata = context.invocation_metadata() or ()
        request_id = next((v for k, v in metadata if k == "x-request-id" and isinstance(v, str)), "")
        remaining = context.time_remaining()
        credentials = Credentials.from_metadata(metadata)
        state = CallState(
            method=method,
            request_id=request_id or new_request_id(),
            credentials=credentials,
            deadline=None if remaining is None else time.monotonic() + remaining,
        )
        if public:
            return state
        current_call.set(state)  # the Authenticate call below carries this call's request id and deadline
        if not credentials.present:
            raise CredentialsRejected(NOT_AUTHENTICATED)
        principal = await self._authenticator.authenticate(credentials)
        return CallState(
            method=method,
            request_id=state.request_id,
            credentials=credentials,
            principal=principal,
            deadline=state.deadline,
        )

    def _wrap_unary(self, inner: Callable[..., Any], method: str, public: bool) -> Callable[..., Any]:
        async def behavior(request: Any, context: aio.ServicerContext) -> Any:
            started = time.perf_counter()
            token = current_call.set(CallState(method=method, request_id=new_request_id()))
            status = "OK"
            try:
                current_call.set(await self._begin(method, public, context))
                return await inner(request, context)
            except BaseException as exc:
                status = _status_name(exc, context)
                await _abort_for(exc, context)
                raise
            finally:
                _access_log(method, status, started)
                current_call.reset(token)

        return behavior

    def _wrap_stream(self, inner: Callable[..., Any], method: str, public: bool) -> Callable[..., Any]:
        async def behavior(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            started = time.perf_counter()
            token = current_call.set(CallState(method=method, request_id=new_request_id()))
            status = "OK"
            try:
                current_call.set(await self._begin(method, public, context))
                async for item in inner(request, context):
                    yield item
            except BaseException as exc:
                status = _status_name(exc, context)
                await _abort_for(exc, context)
                raise
            finally:
                _access_log(method, status, started)
                current_call.reset(token)

        return behavior


def _status_name(exc: BaseException, context: aio.ServicerContext) -> str:
    if isinstance(exc, aio.AbortError):
        code = context.code()
        return code.name if isinstance(code, grpc.StatusCode) else "ABORTED"
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):
        return "CANCELLED"
    if isinstance(exc, DomainError):
        return grpc_code_for(exc).name
    return "INTERNAL"


async def _abort_for(exc: BaseException, context: aio.ServicerContext) -> None:
    """Answer ``exc`` with its status (``context.abort`` raises); other exceptions pass through."""
    if isinstance(exc, DomainError):
        trailing = [(ERROR_MARKER_KEY, str(exc.marker))]
        if exc.retry_after_s is not None:
            trailing.append((RETRY_AFTER_KEY, str(exc.retry_after_s)))
        context.set_trailing_metadata(tuple(trailing))
        await context.abort(grpc_code_for(exc), exc.message)
    if isinstance(exc, Exception) and not isinstance(exc, aio.AbortError):
        _log.error("unhandled error", exc_info=exc)
        await context.abort(grpc.StatusCode.INTERNAL, "Internal server error")


def _access_log(method: str, status: str, started: float) -> None:
    _log.info("%s %s %.1fms", method, status, (time.perf_counter() - started) * 1000)
