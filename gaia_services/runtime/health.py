"""The standard gRPC health service of every Gaia service, plus live checks of what it depends on.

``Check`` with an empty service name or a proto service's name answers as usual; with a dependency's name
(``wire.POSTGRES_HEALTH``) it checks that dependency now, from this service (a front door's ``/health``
asks the services instead of opening the database itself).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
from grpc import aio
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

__all__ = ["ServiceHealth", "postgres_check"]

_log = logging.getLogger("gaia.health")

#: A live check of one dependency: True when it answers.
DependencyCheck = Callable[[], Awaitable[bool]]


class ServiceHealth(HealthServicer):
    def __init__(self, dependencies: Mapping[str, DependencyCheck]) -> None:
        super().__init__()
        self._dependencies = dict(dependencies)

    async def Check(self, request: health_pb2.HealthCheckRequest, context: aio.ServicerContext) -> Any:
        check = self._dependencies.get(request.service)
        if check is None:
            return await super().Check(request, context)
        serving = await check()
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        return health_pb2.HealthCheckResponse(status=status)


def postgres_check(pool: asyncpg.Pool, *, timeout_s: float = 2.0) -> DependencyCheck:
    """``SELECT 1`` on one of the pool's connections, within ``timeout_s``."""

    async def check() -> bool:
        try:
            async with asyncio.timeout(timeout_s):
                await pool.fetchval("SELECT 1")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _log.warning("postgres health check failed: %r", exc)
            return False
        return True

    return check
