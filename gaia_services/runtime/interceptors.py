"""The server interceptor every Gaia service runs: request id, trace, deadline, authentication, errors,
metrics, access log.

One interceptor wraps each handler so that the work happens inside the call's own task: the call state is
set in a ``ContextVar`` there, domain errors become gRPC statuses through one table, and an unexpected
exception is logged with its stack and answered with a bare ``INTERNAL`` (never a stack trace on the wire).
Each call is a server span, child of the ``traceparent`` its metadata carries (``telemetry``), opened before
authentication so that the ``Authenticate`` call to the auth service is part of the same trace; it is
counted and timed per method (streams in flight too) on the service's Prometheus instruments.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import asyncpg
import grpc
from grpc import aio
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode

from gaia_services.runtime.calls import CallState, current_call, new_request_id
from gaia_services.runtime.errors import CredentialsRejected, DomainError, grpc_code_for
from gaia_services.runtime.principal import Credentials, Principal
from gaia_services.runtime.telemetry import Telemetry, current_telemetry, extract
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
    def __init__(
        self,
        *,
        authenticator: Authenticator,
        public_methods: frozenset[str] = frozenset(),
        telemetry: Telemetry | None = None,
    ) -> None:
        self._authenticator = authenticator
        self._public = public_methods
        self._telemetry = telemetry or Telemetry()

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
            observed = self._observe(method, context)
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
                observed.end(status, started)
                current_call.reset(token)

        return behavior

    def _wrap_stream(self, inner: Callable[..., Any], method: str, public: bool) -> Callable[..., Any]:
        async def behavior(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            started = time.perf_counter()
            token = current_call.set(CallState(method=method, request_id=new_request_id()))
            observed = self._observe(method, context, stream=True)
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
                observed.end(status, started)
                current_call.reset(token)

        return behavior

    def _observe(self, method: str, context: aio.ServicerContext, *, stream: bool = False) -> _Observed:
        """Open the call's span (current until ``end``) and count it in flight when it is a stream."""
        telemetry = self._telemetry
        parent = extract(context.invocation_metadata() or ())
        span: Span | None = None
        if parent is not None or telemetry.tracing.recording:
            span = telemetry.tracer.start_span(
                method,
                context=parent,
                kind=SpanKind.SERVER,
                attributes={"rpc.system": "grpc", "rpc.method": method},
            )
        if stream:
            telemetry.metrics.streams.labels(method).inc()
        return _Observed(telemetry=telemetry, method=method, span=span, stream=stream)


class _Observed:
    """One call's span (attached to the context while the call runs) and its metrics."""

    __slots__ = ("_method", "_otel", "_span", "_stream", "_telemetry", "_token")

    def __init__(self, *, telemetry: Telemetry, method: str, span: Span | None, stream: bool) -> None:
        self._telemetry, self._method, self._span, self._stream = telemetry, method, span, stream
        self._token = current_telemetry.set(telemetry)
        self._otel = None if span is None else otel_context.attach(trace.set_span_in_context(span))

    def end(self, status: str, started: float) -> None:
        metrics = self._telemetry.metrics
        metrics.requests.labels(self._method, status).inc()
        metrics.latency.labels(self._method).observe(time.perf_counter() - started)
        if self._stream:
            metrics.streams.labels(self._method).dec()
        if self._span is not None:
            self._span.set_attribute("rpc.grpc.status_code", status)
            if status not in ("OK", "CANCELLED"):
                self._span.set_status(StatusCode.ERROR, status)
            self._span.end()
        if self._otel is not None:
            otel_context.detach(self._otel)
        current_telemetry.reset(self._token)


#: A store (PostgreSQL, Redis) or a peer that cannot be reached: the call is answered UNAVAILABLE, as when the
#: service itself is down (the shim's 503), with one log line instead of a stack trace per call.
_STORE_DOWN = (
    OSError,  # refused and reset connections, timeouts
    asyncpg.PostgresConnectionError,  # a dropped connection, a server shutting down
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def _status_name(exc: BaseException, context: aio.ServicerContext) -> str:
    if isinstance(exc, aio.AbortError):
        code = context.code()
        return code.name if isinstance(code, grpc.StatusCode) else "ABORTED"
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):
        return "CANCELLED"
    if isinstance(exc, DomainError):
        return grpc_code_for(exc).name
    if isinstance(exc, _STORE_DOWN):
        return "UNAVAILABLE"
    return "INTERNAL"


async def _abort_for(exc: BaseException, context: aio.ServicerContext) -> None:
    """Answer ``exc`` with its status (``context.abort`` raises); other exceptions pass through."""
    if isinstance(exc, DomainError):
        trailing = [(ERROR_MARKER_KEY, str(exc.marker))]
        if exc.retry_after_s is not None:
            trailing.append((RETRY_AFTER_KEY, str(exc.retry_after_s)))
        context.set_trailing_metadata(tuple(trailing))
        await context.abort(grpc_code_for(exc), exc.message)
    if isinstance(exc, _STORE_DOWN):
        _log.warning("a store is unreachable: %s: %s", type(exc).__name__, exc)
        await context.abort(grpc.StatusCode.UNAVAILABLE, "Service temporarily unavailable")
    if isinstance(exc, Exception) and not isinstance(exc, aio.AbortError):
        _log.error("unhandled error", exc_info=exc)
        await context.abort(grpc.StatusCode.INTERNAL, "Internal server error")


def _access_log(method: str, status: str, started: float) -> None:
    _log.info("%s %s %.1fms", method, status, (time.perf_counter() - started) * 1000)
