"""The shim's lifespan-owned state: settings, channels and stubs to each service, Redis, the limiter."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from grpc import aio
from redis import asyncio as redis

from compat_gateway.ratelimit import SlidingWindowLimiter
from compat_gateway.stubs import stubs_for
from gaia_services.runtime.channels import open_channel
from gaia_services.settings import Settings

__all__ = ["Shim", "open_shim"]

SERVICES = ("auth", "chat", "asset")


@dataclass(frozen=True)
class Shim:
    settings: Settings
    channels: Mapping[str, aio.Channel]
    stubs: Mapping[str, Any]
    redis: redis.Redis
    limiter: SlidingWindowLimiter


@contextlib.asynccontextmanager
async def open_shim(settings: Settings) -> AsyncIterator[Shim]:
    async with contextlib.AsyncExitStack() as stack:
        channels = {}
        for name in SERVICES:
            channel = open_channel(getattr(settings, f"{name}_addr"), forward_credentials=False)
            stack.push_async_callback(channel.close)
            channels[name] = channel
        cache = redis.from_url(
            settings.require("redis_url"), decode_responses=True, socket_connect_timeout=1, socket_timeout=1
        )
        stack.push_async_callback(cache.aclose)
        yield Shim(
            settings=settings,
            channels=channels,
            stubs=stubs_for(channels),
            redis=cache,
            limiter=SlidingWindowLimiter(client=cache, prefix=settings.redis_prefix),
        )
