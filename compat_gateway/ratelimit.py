"""A sliding-window rate limiter in Redis, shared by every shim replica. Redis down: requests pass."""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid
from dataclasses import dataclass

import redis.asyncio as redis
from fastapi import Request

__all__ = ["Decision", "SlidingWindowLimiter", "client_key"]

_log = logging.getLogger("gaia.ratelimit")

# KEYS[1] = window key; ARGV = now_ms, window_ms, limit, member
_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, tonumber(ARGV[1]) - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2])}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, 0}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_s: int = 0


def client_key(request: Request) -> str:
    """The reference's key: a hash of the Bearer token, else of the API key, else the client address."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token:
        return "jwt:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    key = request.headers.get("x-api-key")
    if key:
        return "api:" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return "ip:" + (request.client.host if request.client else "unknown")


class SlidingWindowLimiter:
    def __init__(self, *, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_SCRIPT)

    async def hit(self, name: str, key: str, *, limit: int, window_s: float = 60.0) -> Decision:
        now_ms = int(time.time() * 1000)
        window_ms = int(window_s * 1000)
        try:
            allowed, oldest = await self._script(
                keys=[f"{self._prefix}rl:{name}:{key}"], args=[now_ms, window_ms, limit, uuid.uuid4().hex]
            )
        except (redis.RedisError, OSError) as exc:
            _log.warning("rate limiter unavailable, allowing: %s", exc)
            return Decision(True)
        if int(allowed):
            return Decision(True)
        return Decision(False, max(1, math.ceil((int(oldest) + window_ms - now_ms) / 1000)))
