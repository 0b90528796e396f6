"""The shim's ASGI middleware (pure ASGI: streaming and cancellation pass through untouched).

- ``ShimMiddleware``: refuses bodies declared over the size limit (413; chunked bodies are measured as they
  are read, in ``Inbound``), counts requests for ``/metrics``
  (Prometheus), tracks in-flight requests, and stamps ``X-Gaia-Overhead-Ms``: the time the shim itself
  added, that is the wall time until the response starts minus the time spent waiting on services.
  It also opens the request's server span, child of the client's W3C ``traceparent`` when it sent one,
  current while the request is served (the gRPC channels carry it to the services), and returns
  ``traceparent`` naming it; and it sets the request id (the client's ``X-Request-Id`` when valid, else a
  new one, put in the headers for ``Inbound``) as the call state, so log lines carry it.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, SpanKind, StatusCode, Tracer
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compat_gateway.timing import RequestTiming, current_timing
from gaia_services.runtime.calls import CallState, current_call, new_request_id
from gaia_services.runtime.telemetry import as_mapping, extract, headers_for

__all__ = ["ShimMetrics", "ShimMiddleware"]

_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{8,64}")  # as Inbound accepts it
_NO_TRACER = NoOpTracer()

_TOO_LARGE = json.dumps({"detail": "Request body too large"}, separators=(",", ":")).encode()


class ShimMetrics:
    """The shim's Prometheus instruments, on a registry owned by the app (no process-global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gaia_shim_requests",
            "HTTP requests answered",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "gaia_shim_request_seconds",
            "Time to the response start",
            ("method", "route"),
            registry=self.registry,
        )
        self.overhead = Histogram(
            "gaia_shim_overhead_seconds",
            "Time the shim itself added",
            ("method", "route"),
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
        )
        self.in_flight = Gauge("gaia_shim_in_flight", "Requests being served", registry=self.registry)


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class ShimMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ShimMetrics,
        max_body_bytes: int,
        tracer: Tracer = _NO_TRACER,
        recording: bool = False,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.tracer = tracer
        self.recording = recording  # spans are exported: open one for every request, traced or not

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _answer_too_large(send)
            return
        timing = RequestTiming(started=time.perf_counter())
        token = current_timing.set(timing)
        scope, request_id = _with_request_id(scope)
        call = CallState(method=f"{scope['method']} {scope['path']}", request_id=request_id)
        call_token = current_call.set(call)
        parent = extract(as_mapping(scope["headers"]).items())
        span = None
        if parent is not None or self.recording:
            span = self.tracer.start_span(
                scope["method"],
                context=parent,
                kind=SpanKind.SERVER,
                attributes={"http.request.method": scope["method"], "url.path": scope["path"]},
            )
        otel_token = None if span is None else otel_context.attach(trace.set_span_in_context(span))

        async def stamped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                overhead = timing.overhead_ms()
                headers = [*message.get("headers", []), (b"x-gaia-overhead-ms", f"{overhead:.3f}".encode())]
                labels = (scope["method"], _route_of(scope))
                if span is not None:
                    headers.extend((k.encode(), v.encode()) for k, v in headers_for(span).items())
                    span.update_name(" ".join(labels))
                    span.set_attribute("http.route", labels[1])
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(StatusCode.ERROR)
                message = {**message, "headers": headers}
                self.metrics.requests.labels(*labels, str(message["status"])).inc()
                self.metrics.latency.labels(*labels).observe(time.perf_counter() - timing.started)
                self.metrics.overhead.labels(*labels).observe(overhead / 1000)
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, stamped_send)
        finally:
            self.metrics.in_flight.dec()
            if span is not None:
                span.end()
            if otel_token is not None:
                otel_context.detach(otel_token)
            current_call.reset(call_token)
            current_timing.reset(token)


def _with_request_id(scope: Scope) -> tuple[Scope, str]:
    """The request's id: the client's ``X-Request-Id`` when ``Inbound`` would accept it, else a new one,
    added to the headers so that ``Inbound`` (and the response) use the same."""
    given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
    if _REQUEST_ID.fullmatch(given):
        return scope, given.decode()
    request_id = new_request_id()
    headers = [(k, v) for k, v in scope["headers"] if k != b"x-request-id"]
    headers.append((b"x-request-id", request_id.encode()))
    return {**scope, "headers": headers}, request_id


async def _answer_too_large(send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_TOO_LARGE)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _TOO_LARGE})
