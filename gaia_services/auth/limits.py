"""Rate limits in Redis, shared by every replica: per-principal sliding windows and failed-login throttling.

The window is the sliding-window counter: this minute's count plus last minute's, weighted by how much of
last minute still overlaps the window. One small script per request, O(1) memory per principal. When Redis
is down, requests pass (the limiter must never take the mesh down with it).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

import redis.asyncio as redis

from gaia_services.runtime.errors import InvalidArgument

__all__ = ["Decision", "LoginThrottle", "NamedLimits", "SlidingWindow"]

_log = logging.getLogger("gaia.auth.limits")

_REDIS_ERRORS = (redis.RedisError, OSError, TimeoutError)

# KEYS[1] = current window, KEYS[2] = previous window; ARGV = limit, weight of previous (0..1), window_s, cost
_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local used = previous * tonumber(ARGV[2]) + current
if used + tonumber(ARGV[4]) > tonumber(ARGV[1]) then
  return {0, current, previous}
end
redis.call('INCRBY', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return {1, current + tonumber(ARGV[4]), previous}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int = 0
    retry_after_s: int = 0


class SlidingWindow:
    def __init__(self, *, client: redis.Redis | None, prefix: str, window_s: int = 60) -> None:
        self._client = client
        self._prefix = prefix
        self._window_s = window_s
        self._script = client.register_script(_SCRIPT) if client is not None else None

    async def hit(self, key: str, *, limit: int, cost: int = 1) -> Decision:
        if self._script is None or limit <= 0:
            return Decision(True, limit, remaining=max(limit, 0))
        now = time.time()
        index = int(now // self._window_s)
        elapsed = now - index * self._window_s
        weight = 1.0 - elapsed / self._window_s
        base = f"{self._prefix}rl:{key}:"
        try:
            allowed, current, previous = await self._script(
                keys=[f"{base}{index}", f"{base}{index - 1}"],
                args=[limit, f"{weight:.6f}", self._window_s, cost],
            )
        except _REDIS_ERRORS as exc:
            _log.warning("rate limiter unavailable, allowing: %s", type(exc).__name__)
            return Decision(True, limit, remaining=limit)
        used = int(previous) * weight + int(current)
        if int(allowed):
            return Decision(True, limit, remaining=max(0, math.floor(limit - used)))
        return Decision(
            False, limit, retry_after_s=self._retry_after(limit, int(current), int(previous), elapsed)
        )

    def _retry_after(self, limit: int, current: int, previous: int, elapsed: float) -> int:
        """Seconds until one more request fits: the previous window's weight decays, or the window turns."""
        if current < limit and previous > 0:
            # previous * (1 - t / w) + current + 1 <= limit
            #   →  t >= w * (1 - (limit - current - 1) / previous)
            needed = self._window_s * (1 - (limit - current - 1) / previous)
            if needed <= self._window_s:
                return max(1, math.ceil(needed - elapsed))
        return max(1, math.ceil(self._window_s - elapsed))


class LoginThrottle:
    """Counts failed logins per email; past ``max_failures`` within the window, logins wait for it to pass."""

    def __init__(self, *, client: redis.Redis | None, prefix: str, max_failures: int, window_s: int) -> None:
        self._client = client
        self._prefix = prefix
        self._max = max_failures
        self._window_s = window_s

    def _key(self, email: str) -> str:
        return f"{self._prefix}auth:login_failures:{hashlib.sha256(email.lower().encode()).hexdigest()}"

    async def blocked_for(self, email: str) -> int:
        """Seconds the email must still wait, 0 when a login may be tried."""
        if self._client is None or self._max <= 0:
            return 0
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.get(self._key(email))
                pipe.ttl(self._key(email))
                count, ttl = await pipe.execute()
        except _REDIS_ERRORS:
            return 0
        if count is not None and int(count) >= self._max:
            return max(1, int(ttl))
        return 0

    async def failed(self, email: str) -> None:
        if self._client is None:
            return
        try:
            if await self._client.incr(self._key(email)) == 1:
                await self._client.expire(self._key(email), self._window_s)
        except _REDIS_ERRORS:
            return

    async def succeeded(self, email: str) -> None:
        if self._client is None:
            return
        try:
            await self._client.delete(self._key(email))
        except _REDIS_ERRORS:
            return


class NamedLimits:
    """Per-minute limits other services ask about by name (``CheckRateLimit``): ``root`` has its own rate,
    every other name the default one."""

    def __init__(self, *, window: SlidingWindow, per_minute: int, root_per_minute: int) -> None:
        self._window = window
        self._per_minute = per_minute
        self._root_per_minute = root_per_minute

    async def hit(self, name: str, key: str, *, cost: int = 1) -> Decision:
        """Count ``cost`` (at least 1) against ``key`` under the limit ``name``."""
        limit = self._root_per_minute if name == "root" else self._per_minute
        if not key:
            raise InvalidArgument("A rate-limit key is required")
        return await self._window.hit(f"{name or 'default'}:{key}", limit=limit, cost=max(1, cost))
