"""A service process's Prometheus instruments, and the small HTTP server that shows them on ``/metrics``.

The instruments are on a registry the process owns (``ServiceMetrics``); the page also shows the default
registry (the process collectors, and instruments other modules keep there, e.g. the budget refusals).
Served only when the service's ``GAIA_<PART>_METRICS_PORT`` is set (0, the default, is off).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["ServiceMetrics", "serve_metrics"]

_log = logging.getLogger("gaia.metrics")

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ServiceMetrics:
    """RPCs (from the server interceptor), provider calls and tokens (chat), dropped events (any service)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gaia_rpc_requests",
            "RPCs answered, by method and status",
            ("method", "code"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "gaia_rpc_seconds",
            "RPC duration (for a stream: until its last message)",
            ("method",),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.streams = Gauge(
            "gaia_rpc_streams_in_flight", "Server streams being served", ("method",), registry=self.registry
        )
        self.tokens = Counter(
            "gaia_chat_tokens",
            "Tokens reported by the providers, by provider and kind (prompt, completion)",
            ("provider", "kind"),
            registry=self.registry,
        )
        self.provider_calls = Counter(
            "gaia_chat_provider_calls", "Provider streams opened", ("provider",), registry=self.registry
        )
        self.provider_errors = Counter(
            "gaia_chat_provider_errors",
            "Provider calls that failed, by provider and reason",
            ("provider", "reason"),
            registry=self.registry,
        )
        self.events_dropped = Counter(
            "gaia_events_dropped",
            "Domain events not published (no broker, or the publish failed)",
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(REGISTRY) + generate_latest(self.registry)


@contextlib.asynccontextmanager
async def serve_metrics(metrics: ServiceMetrics, *, host: str, port: int) -> AsyncIterator[int | None]:
    """Serve ``/metrics`` on ``host:port`` while the block runs; yields the bound port (None when off)."""
    if port == 0:
        yield None
        return
    from aiohttp import web  # only when serving

    async def page(_: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", page)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        _log.info("metrics on http://%s:%s/metrics", host, bound)
        yield int(bound)
    finally:
        await runner.cleanup()
