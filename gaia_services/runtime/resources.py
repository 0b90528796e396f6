"""One lifespan owns a process's resources: the asyncpg pool, Redis, NATS and outgoing gRPC channels."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import asyncpg
import redis.asyncio as redis
from grpc import aio

from gaia_services.runtime.channels import open_channel
from gaia_services.runtime.events import EventBus, NullEventBus, connect_events
from gaia_services.settings import Settings

__all__ = ["Resources", "open_resources"]

_log = logging.getLogger("gaia.resources")


@dataclass(frozen=True)
class Resources:
    settings: Settings
    db: asyncpg.Pool | None = None
    redis: redis.Redis | None = None
    events: EventBus = field(default_factory=NullEventBus)
    channels: Mapping[str, aio.Channel] = field(default_factory=dict)

    def pool(self) -> asyncpg.Pool:
        if self.db is None:
            raise RuntimeError("this process has no database pool")
        return self.db

    def channel(self, service: str) -> aio.Channel:
        return self.channels[service]


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings,
    *,
    name: str,
    database: bool = False,
    cache: bool = False,
    events: bool = False,
    peers: tuple[str, ...] = (),
) -> AsyncIterator[Resources]:
    """Open what ``name`` needs, in the running loop; close everything on exit, last opened first."""
    async with contextlib.AsyncExitStack() as stack:
        pool = None
        if database:
            pool = await asyncpg.create_pool(
                settings.require("database_url"),
                min_size=settings.db_pool_min,
                max_size=settings.db_pool_max,
                command_timeout=30,
                server_settings={"application_name": f"gaia-{name}", "timezone": "UTC"},
            )
            stack.push_async_callback(pool.close)
        cache_client = None
        if cache:
            cache_client = redis.from_url(
                settings.require("redis_url"),
                decode_responses=True,
                socket_connect_timeout=2,
                socket_timeout=2,
                health_check_interval=30,
            )
            stack.push_async_callback(cache_client.aclose)
        bus: EventBus = NullEventBus()
        if events:
            bus = await connect_events(settings.nats_url, name=f"gaia-{name}")
            stack.push_async_callback(bus.close)
        channels: dict[str, aio.Channel] = {}
        for peer in peers:
            channel = open_channel(getattr(settings, f"{peer}_addr"))
            channels[peer] = channel
            stack.push_async_callback(channel.close)
        _log.debug("resources open for %s", name)
        yield Resources(settings=settings, db=pool, redis=cache_client, events=bus, channels=channels)
