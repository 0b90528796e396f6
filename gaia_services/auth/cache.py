"""Authentication results, cached in two layers.

- Redis, shared by every replica, under the credential's full SHA-256 (``auth:jwt:<hex>``,
  ``auth:api_key:<hex>``) with a TTL no longer than the credential's remaining life.
- A short in-process layer (seconds) in front of it, dropped on every replica at once when a key is revoked
  or a session ends (``gaia.auth.api_key.revoked`` / ``gaia.auth.session.revoked`` on NATS).

A revoked session also leaves a marker in Redis (``auth:session_revoked:<id>``) for as long as its access
tokens can live, so a JWT cached before the logout is refused after it. When Redis fails, the cache steps
aside for a few seconds and every lookup goes to Postgres: slower, still correct.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis

from gaia_services.runtime.principal import AuthType, KeyBudget, Principal

__all__ = ["CachedIdentity", "CredentialCache"]

_log = logging.getLogger("gaia.auth.cache")

_REDIS_ERRORS = (redis.RedisError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class CachedIdentity:
    principal: Principal
    rate_limit: int | None = None  # a key's own per-minute limit, when its permissions set one
    expires_at: float | None = None  # epoch seconds when the credential itself stops being valid

    def to_json(self) -> str:
        p = self.principal
        return json.dumps(
            {
                "user_id": p.user_id,
                "auth_type": p.auth_type.value,
                "email": p.email,
                "api_key_id": p.api_key_id,
                "session_id": p.session_id,
                "scopes": list(p.scopes),
                "key_budget": None
                if p.key_budget is None
                else {"max_budget": p.key_budget.max_budget, "duration": p.key_budget.duration},
                "rate_limit": self.rate_limit,
                "expires_at": self.expires_at,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> CachedIdentity:
        data: dict[str, Any] = json.loads(text)
        budget = data.get("key_budget")
        principal = Principal(
            user_id=data["user_id"],
            auth_type=AuthType(data["auth_type"]),
            email=data.get("email", ""),
            api_key_id=data.get("api_key_id", ""),
            session_id=data.get("session_id", ""),
            scopes=tuple(data.get("scopes") or ()),
            key_budget=None
            if not isinstance(budget, dict)
            else KeyBudget(
                max_budget=float(budget["max_budget"]), duration=str(budget.get("duration") or "")
            ),
        )
        return cls(principal=principal, rate_limit=data.get("rate_limit"), expires_at=data.get("expires_at"))

    def live(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True, slots=True)
class _Local:
    identity: CachedIdentity
    until: float  # time.monotonic()


class CredentialCache:
    def __init__(
        self,
        *,
        client: redis.Redis | None,
        prefix: str,
        ttl_s: int,
        local_ttl_s: float,
        max_local: int = 20_000,
        backoff_s: float = 2.0,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl_s = ttl_s
        self._local_ttl_s = local_ttl_s
        self._max_local = max_local
        self._backoff_s = backoff_s
        self._local: dict[str, _Local] = {}
        self._down_until = 0.0

    # ----- keys -----
    def _key(self, kind: str, digest: str) -> str:
        return f"{self._prefix}auth:{kind}:{digest}"

    def _revoked_key(self, session_id: str) -> str:
        return f"{self._prefix}auth:session_revoked:{session_id}"

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def redis(self) -> redis.Redis | None:
        """The Redis client while it is believed up, else None."""
        if self._client is None or time.monotonic() < self._down_until:
            return None
        return self._client

    def redis_failed(self, exc: BaseException) -> None:
        _log.warning("redis unavailable, using Postgres for %.0fs: %s", self._backoff_s, type(exc).__name__)
        self._down_until = time.monotonic() + self._backoff_s

    # ----- the in-process layer -----
    def local(self, kind: str, digest: str) -> CachedIdentity | None:
        entry = self._local.get(f"{kind}:{digest}")
        if entry is None:
            return None
        if entry.until <= time.monotonic() or not entry.identity.live(time.time()):
            self._local.pop(f"{kind}:{digest}", None)
            return None
        return entry.identity

    def _remember(self, kind: str, digest: str, identity: CachedIdentity) -> None:
        if len(self._local) >= self._max_local:
            self._local.clear()
        until = time.monotonic() + self._local_ttl_s
        if identity.expires_at is not None:
            until = min(until, time.monotonic() + max(0.0, identity.expires_at - time.time()))
        self._local[f"{kind}:{digest}"] = _Local(identity=identity, until=until)

    def drop(self, *, api_key_id: str = "", session_id: str = "", user_id: str = "") -> int:
        """Forget local entries of a key, a session or a user (called on NATS invalidations)."""

        def matches(p: Principal) -> bool:
            return bool(
                (api_key_id and p.api_key_id == api_key_id)
                or (session_id and p.session_id == session_id)
                or (user_id and p.user_id == user_id)
            )

        doomed = [k for k, v in self._local.items() if matches(v.identity.principal)]
        for k in doomed:
            self._local.pop(k, None)
        return len(doomed)

    # ----- the shared layer -----
    async def lookup(
        self, kind: str, digest: str, *, session_id: str = ""
    ) -> tuple[CachedIdentity | None, bool]:
        """(cached identity or None, whether ``session_id`` is marked revoked) in one round trip."""
        if (hit := self.local(kind, digest)) is not None:
            return hit, False
        client = self.redis
        if client is None:
            return None, False
        try:
            if session_id:
                cached, revoked = await client.mget(self._key(kind, digest), self._revoked_key(session_id))
            else:
                cached, revoked = await client.get(self._key(kind, digest)), None
        except _REDIS_ERRORS as exc:
            self.redis_failed(exc)
            return None, False
        if revoked is not None:
            return None, True
        if cached is None:
            return None, False
        identity = CachedIdentity.from_json(str(cached))
        if not identity.live(time.time()):
            return None, False
        self._remember(kind, digest, identity)
        return identity, False

    async def store(self, kind: str, digest: str, identity: CachedIdentity) -> None:
        self._remember(kind, digest, identity)
        client = self.redis
        if client is None:
            return
        ttl = self._ttl_s
        if identity.expires_at is not None:
            ttl = min(ttl, int(identity.expires_at - time.time()))
        if ttl <= 0:
            return
        try:
            await client.set(self._key(kind, digest), identity.to_json(), ex=ttl)
        except _REDIS_ERRORS as exc:
            self.redis_failed(exc)

    async def forget(self, kind: str, digest: str) -> None:
        self._local.pop(f"{kind}:{digest}", None)
        client = self.redis
        if client is None:
            return
        try:
            await client.delete(self._key(kind, digest))
        except _REDIS_ERRORS as exc:
            self.redis_failed(exc)

    async def mark_revoked(self, session_id: str, *, ttl_s: int) -> None:
        self.drop(session_id=session_id)
        client = self.redis
        if client is None:
            return
        try:
            await client.set(self._revoked_key(session_id), "1", ex=max(1, ttl_s))
        except _REDIS_ERRORS as exc:
            self.redis_failed(exc)
