"""The persona cache across two replicas: shared Redis, in-process layers dropped through NATS."""

from __future__ import annotations

import asyncio
import uuid

import redis.asyncio as redis

from gaia_services.chat.persona_cache import PersonaCache
from gaia_services.runtime.events import NullEventBus, connect_events
from tests.support.infra import Infra


async def test_a_write_on_one_replica_is_seen_by_the_other(infra: Infra) -> None:
    prefix = f"{infra.redis_prefix}cache-{uuid.uuid4().hex[:6]}:"
    client = redis.from_url(infra.redis_url, decode_responses=True)
    bus_a = await connect_events(infra.nats_url, name="replica-a")
    bus_b = await connect_events(infra.nats_url, name="replica-b")
    try:
        a = PersonaCache(redis_client=client, prefix=prefix, events=bus_a, local_ttl_s=3600)
        b = PersonaCache(redis_client=client, prefix=prefix, events=bus_b, local_ttl_s=3600)
        await a.put("persona:1", {"name": "old"}, 60)
        assert await b.get("persona:1") == {"name": "old"}  # from Redis, now also in B's own layer
        assert b.local_keys() == ["persona:1"]
        await client.set(prefix + "persona:1", '{"name":"sneaky"}')
        assert await b.get("persona:1") == {"name": "old"}  # B answers from its layer while nothing changed

        await a.invalidate(["persona:1"], reason={"persona_id": "1"})
        for _ in range(100):
            if not b.local_keys():
                break
            await asyncio.sleep(0.02)
        assert b.local_keys() == []  # the NATS event reached the other replica
        assert await client.get(prefix + "persona:1") is None
        assert await b.get("persona:1") is None
    finally:
        await bus_a.close()
        await bus_b.close()
        await client.aclose()


async def test_without_redis_or_nats_the_cache_only_misses() -> None:
    cache = PersonaCache(redis_client=None, prefix="x:", events=NullEventBus())
    assert await cache.get("persona:1") is None
    await cache.put("persona:1", {"a": 1}, 60)
    assert await cache.get("persona:1") == {"a": 1}
    await cache.invalidate(["persona:1"], reason={})
    assert await cache.get("persona:1") is None
