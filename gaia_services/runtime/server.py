"""Server bootstrap: a grpc.aio server with the standard health service, reflection, the call interceptor,
and graceful shutdown that lets in-flight calls (streams included) drain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from gaia_services.runtime.health import ServiceHealth, postgres_check
from gaia_services.runtime.interceptors import Authenticator, ServerCallInterceptor
from gaia_services.runtime.logs import configure_logging
from gaia_services.runtime.metrics import serve_metrics
from gaia_services.runtime.resources import Resources, open_resources
from gaia_services.runtime.telemetry import Telemetry, current_telemetry, open_tracing
from gaia_services.runtime.wire import POSTGRES_HEALTH
from gaia_services.settings import Settings

__all__ = ["Closer", "RunningService", "ServiceSpec", "serve_forever", "start_service"]

_log = logging.getLogger("gaia.server")

_SERVER_OPTIONS = (
    ("grpc.so_reuseport", 0),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    # Clients reconnect every 5 minutes (calls in flight finish first), so a dns:/// client re-resolves and
    # spreads over scaled-up replicas.
    ("grpc.max_connection_age_ms", 300_000),
)


Closer = Callable[[], Awaitable[None]]
Parts = TypeVar("Parts")


@dataclass(frozen=True)
class ServiceSpec(Generic[Parts]):
    """What makes one Gaia service, built the same way for each: its name and proto services; ``parts``, its
    typed domain objects, built once from the resources; ``register``, which adds its servicer (one per
    proto service, delegating to the parts) and may return an async ``close`` run after the drain; and
    ``authenticator``, who checks its callers (its own parts, for auth; the auth service, for the others)."""

    name: str
    service_names: tuple[str, ...]
    parts: Callable[[Resources], Parts]
    register: Callable[[aio.Server, Parts], Closer | None]
    authenticator: Callable[[Resources, Parts], Authenticator]
    public_methods: frozenset[str] = frozenset()
    database: bool = True
    cache: bool = True
    events: bool = True
    peers: tuple[str, ...] = ()

    def address(self, settings: Settings) -> str:
        return str(getattr(settings, f"{self.name}_addr"))


@dataclass(frozen=True)
class RunningService:
    server: aio.Server
    health: HealthServicer
    port: int
    service_names: tuple[str, ...]
    close: Closer | None = None

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING, refuse new calls, let in-flight ones finish for up to ``grace`` seconds,
        then close what the servicers own (e.g. wait for background writes)."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        if self.close is not None:
            await self.close()


async def start_service(
    spec: ServiceSpec[Any], resources: Resources, *, address: str, telemetry: Telemetry | None = None
) -> RunningService:
    parts = spec.parts(resources)
    server = aio.server(
        interceptors=[
            ServerCallInterceptor(
                authenticator=spec.authenticator(resources, parts),
                public_methods=spec.public_methods,
                telemetry=telemetry,
            )
        ],
        options=_SERVER_OPTIONS,
    )
    close = spec.register(server, parts)
    dependencies = {POSTGRES_HEALTH: postgres_check(resources.db)} if resources.db is not None else {}
    health = ServiceHealth(dependencies)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (
            *spec.service_names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"{spec.name}: cannot bind {address}")
    await server.start()
    for name in ("", *spec.service_names):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    _log.info("%s serving on port %d", spec.name, port)
    return RunningService(
        server=server, health=health, port=port, service_names=spec.service_names, close=close
    )


async def serve_forever(spec: ServiceSpec[Any], settings: Settings) -> None:
    """Run one service until SIGTERM or SIGINT, then drain gracefully (and flush its traces)."""
    configure_logging(settings.log_level, fmt=settings.log_format, service=spec.name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    telemetry = Telemetry(tracing=open_tracing(settings, part=spec.name))
    current_telemetry.set(telemetry)  # events published outside a call (ready, stopping) are counted too
    try:
        await _serve(spec, settings, telemetry, stop)
    finally:
        await asyncio.to_thread(telemetry.tracing.shutdown)


async def _serve(
    spec: ServiceSpec[Any], settings: Settings, telemetry: Telemetry, stop: asyncio.Event
) -> None:
    port = int(getattr(settings, f"{spec.name}_metrics_port", 0) or 0)
    async with (
        serve_metrics(telemetry.metrics, host=settings.host, port=port),
        open_resources(
            settings,
            name=spec.name,
            database=spec.database,
            cache=spec.cache,
            events=spec.events,
            peers=spec.peers,
        ) as resources,
    ):
        running = await start_service(spec, resources, address=spec.address(settings), telemetry=telemetry)
        await resources.events.publish(
            "gaia.service.ready", {"service": spec.name, "status": "healthy", "port": running.port}
        )
        await stop.wait()
        _log.info("%s stopping (grace %.1fs)", spec.name, settings.shutdown_grace_s)
        await resources.events.publish("gaia.service.health", {"service": spec.name, "status": "stopping"})
        with contextlib.suppress(asyncio.CancelledError):
            await running.stop(settings.shutdown_grace_s)
