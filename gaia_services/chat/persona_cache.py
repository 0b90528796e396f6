"""The persona cache: a short in-process layer over Redis, invalidated on every replica through NATS.

Keys (under the configured Redis prefix) follow the reference: ``persona:<id>`` (1 h),
``personas:list:<active|all>`` (5 min) and ``user:persona:preference:<user_id>`` (10 min). A write deletes the
Redis keys it affects (shared by all replicas) and publishes ``gaia.chat.persona.changed``; every replica,
the writer included, drops its in-process layer when that event arrives. Redis or NATS being down only
costs speed: every miss falls through to Postgres.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

import redis.asyncio as redis

from gaia_services.runtime.events import EventBus

__all__ = ["CHANGED_SUBJECT", "PersonaCache"]

CHANGED_SUBJECT = "gaia.chat.persona.changed"

_log = logging.getLogger("gaia.chat.personas")

PERSONA_TTL_S = 3600
LIST_TTL_S = 300
PREFERENCE_TTL_S = 600
LOCAL_TTL_S = 30.0


class PersonaCache:
    def __init__(
        self,
        *,
        redis_client: redis.Redis | None,
        prefix: str,
        events: EventBus,
        local_ttl_s: float = LOCAL_TTL_S,
    ) -> None:
        self._redis = redis_client
        self._prefix = prefix
        self._events = events
        self._local_ttl_s = local_ttl_s
        self._local: dict[str, tuple[float, Any]] = {}
        self._subscribed = False
        self._subscribe_lock = asyncio.Lock()

    # Keys -------------------------------------------------------------------------------------------------

    @staticmethod
    def persona_key(persona_id: str) -> str:
        return f"persona:{persona_id}"

    @staticmethod
    def list_key(active_only: bool) -> str:
        return f"personas:list:{'active' if active_only else 'all'}"

    @staticmethod
    def preference_key(user_id: str) -> str:
        return f"user:persona:preference:{user_id}"

    # Reads and writes -------------------------------------------------------------------------------------

    async def get(self, key: str) -> Any | None:
        await self._ensure_subscribed()
        hit = self._local.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        if self._redis is None:
            return None
        try:
            raw = await self._redis.get(self._prefix + key)
        except (redis.RedisError, OSError) as exc:
            _log.debug("persona cache read failed: %s", exc)
            return None
        if raw is None:
            return None
        value = json.loads(raw)
        self._local[key] = (time.monotonic() + self._local_ttl_s, value)
        return value

    async def put(self, key: str, value: Any, ttl_s: int) -> None:
        self._local[key] = (time.monotonic() + self._local_ttl_s, value)
        if self._redis is None:
            return
        try:
            await self._redis.set(self._prefix + key, json.dumps(value, separators=(",", ":")), ex=ttl_s)
        except (redis.RedisError, OSError) as exc:
            _log.debug("persona cache write failed: %s", exc)

    async def invalidate(self, keys: Iterable[str], *, reason: dict[str, Any]) -> None:
        """Drop ``keys`` here and in Redis, then tell every replica to drop its in-process layer."""
        keys = list(keys)
        for key in keys:
            self._local.pop(key, None)
        if self._redis is not None and keys:
            try:
                await self._redis.delete(*(self._prefix + key for key in keys))
            except (redis.RedisError, OSError) as exc:
                _log.warning("persona cache invalidation in Redis failed: %s", exc)
        await self._events.publish(CHANGED_SUBJECT, {**reason, "keys": keys})

    def clear_local(self) -> None:
        self._local.clear()

    def local_keys(self) -> list[str]:
        now = time.monotonic()
        return sorted(key for key, (expires, _) in self._local.items() if expires > now)

    # Cross-replica invalidation ---------------------------------------------------------------------------

    async def _ensure_subscribed(self) -> None:
        if self._subscribed:
            return
        async with self._subscribe_lock:
            if self._subscribed:
                return
            self._subscribed = True
            client = getattr(self._events, "client", None)  # a NatsEventBus exposes its connection
            if client is None:
                return
            try:
                await client.subscribe(CHANGED_SUBJECT, cb=self._on_changed)
                await client.flush(timeout=2)  # the broker knows the subscription before we rely on it
            except Exception as exc:  # NATS trouble degrades to the local TTL
                _log.warning("cannot subscribe to %s: %s", CHANGED_SUBJECT, exc)

    async def _on_changed(self, message: Any) -> None:
        self._local.clear()
