"""The shim's ASGI middleware (pure ASGI: streaming and cancellation pass through untouched).

- ``ShimMiddleware``: refuses bodies declared over the size limit (413; chunked bodies are measured as they
  are read, in ``Inbound``), counts requests for ``/metrics``
  (Prometheus), tracks in-flight requests, and stamps ``X-Gaia-Overhead-Ms``: the time the shim itself
  added, that is the wall time until the response starts minus the time spent waiting on services.
"""

from __future__ import annotations

import json
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compat_gateway.timing import RequestTiming, current_timing

__all__ = ["ShimMetrics", "ShimMiddleware"]

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
    def __init__(self, app: ASGIApp, *, metrics: ShimMetrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

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

        async def stamped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                overhead = timing.overhead_ms()
                headers = [*message.get("headers", []), (b"x-gaia-overhead-ms", f"{overhead:.3f}".encode())]
                message = {**message, "headers": headers}
                labels = (scope["method"], _route_of(scope))
                self.metrics.requests.labels(*labels, str(message["status"])).inc()
                self.metrics.latency.labels(*labels).observe(time.perf_counter() - timing.started)
                self.metrics.overhead.labels(*labels).observe(overhead / 1000)
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, stamped_send)
        finally:
            self.metrics.in_flight.dec()
            current_timing.reset(token)


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
