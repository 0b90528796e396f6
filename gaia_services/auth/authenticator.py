"""Authentication as the legacy gateway defined it: a Bearer JWT first, then the API key.

No credentials, or an invalid JWT without a key → ``CredentialsRejected`` (401); a key that is unknown,
revoked or expired → ``CredentialsForbidden`` (403, "Could not validate credentials").

A JWT is checked locally (signature, ``aud``, ``exp``: expiry is re-checked on every call, cache or not),
then its session: one this service issued must exist and be live; one from elsewhere (a Supabase project
sharing the secret) is refused only if a session of that id was revoked here. Results are cached
(``cache.CredentialCache``); every successful authentication counts against the principal's rate limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import TypeVar

import asyncpg

from gaia_services.auth.api_keys import ApiKeyStore
from gaia_services.auth.cache import CachedIdentity, CredentialCache
from gaia_services.auth.limits import SlidingWindow
from gaia_services.auth.tokens import TokenError, TokenSigner
from gaia_services.runtime.budgets import Budgets
from gaia_services.runtime.errors import (
    CredentialsForbidden,
    CredentialsRejected,
    DomainError,
    RateLimited,
)
from gaia_services.runtime.principal import AuthType, Credentials, Principal
from gaia_services.runtime.wire import NOT_AUTHENTICATED

__all__ = ["BAD_CREDENTIALS", "LocalAuthenticator", "SessionStatus"]

BAD_CREDENTIALS = "Could not validate credentials"

_log = logging.getLogger("gaia.auth")
_T = TypeVar("_T")
_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

#: session id → True (live), False (revoked), None (unknown here).
SessionStatus = Callable[[str], Awaitable[bool | None]]


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class LocalAuthenticator:
    def __init__(
        self,
        *,
        signer: TokenSigner,
        keys: ApiKeyStore,
        session_status: SessionStatus | None = None,
        adopt_user: Callable[[str, str], Awaitable[None]] | None = None,
        cache: CredentialCache | None = None,
        limiter: SlidingWindow | None = None,
        rate_limit_per_minute: int = 0,
        last_used_interval_s: float = 60.0,
        db_timeout_s: float = 2.0,
        budgets: Budgets | None = None,
    ) -> None:
        self._budgets = budgets
        self._signer = signer
        self._keys = keys
        self._session_status = session_status
        self._adopt_user = adopt_user
        self._cache = cache or CredentialCache(client=None, prefix="", ttl_s=0, local_ttl_s=0.0)
        self._limiter = limiter
        self._rate_limit = rate_limit_per_minute
        self._last_used_interval_s = last_used_interval_s
        self._touched: dict[str, float] = {}
        self._db_timeout_s = db_timeout_s

    async def _db(self, call: Awaitable[_T], fallback: _T) -> _T:
        """A store lookup; with Postgres down it answers ``fallback`` (as the reference did: a key that
        cannot be checked is refused), quickly rather than after the pool's connect timeout."""
        try:
            return await asyncio.wait_for(call, self._db_timeout_s)
        except _DB_ERRORS as exc:
            _log.warning("identity store unavailable: %s", type(exc).__name__)
            return fallback

    @property
    def cache(self) -> CredentialCache:
        return self._cache

    async def authenticate(self, credentials: Credentials) -> Principal:
        identity = await self.identify(credentials)
        await self._count(identity)
        if identity.principal.auth_type is AuthType.API_KEY:
            await self._touch(identity.principal.api_key_id)
        return identity.principal

    async def identify(self, credentials: Credentials) -> CachedIdentity:
        """Who the credentials belong to (no rate limit counted)."""
        if credentials.jwt:
            identity = await self._from_jwt(credentials.jwt)
            if identity is not None:
                return identity
        if credentials.api_key:
            identity = await self._from_key(credentials.api_key)
            if identity is None:
                raise CredentialsForbidden(BAD_CREDENTIALS)
            return identity
        raise CredentialsRejected(NOT_AUTHENTICATED)

    async def validate(self, *, token: str = "", api_key: str = "") -> Principal | None:
        """Whose credentials these are, the JWT tried alone, then the key alone (no rate limit counted);
        None when neither identifies anyone."""
        for credentials in (Credentials(jwt=token), Credentials(api_key=api_key)):
            if not credentials.present:
                continue
            try:
                identity = await self.identify(credentials)
            except DomainError:
                continue
            return identity.principal
        return None

    async def _from_jwt(self, token: str) -> CachedIdentity | None:
        try:
            claims = self._signer.verify(token)
        except TokenError:
            return None
        if not claims.ours and not _is_uuid(claims.user_id):
            return None  # a foreign token (Supabase's) names its user by UUID, as every stored row does
        digest = _digest(token)
        cached, revoked = await self._cache.lookup("jwt", digest, session_id=claims.session_id)
        if revoked:
            return None
        if cached is not None:
            return cached
        if self._session_status is not None:
            if claims.session_id:
                status = await self._db(self._session_status(claims.session_id), None)
                if status is False or (status is None and claims.ours):
                    return None
            elif claims.ours:
                return None
        if not claims.ours and self._adopt_user is not None:
            await self._db(self._adopt_user(claims.user_id, claims.email), None)
        identity = CachedIdentity(
            principal=Principal(
                user_id=claims.user_id,
                auth_type=AuthType.JWT,
                email=claims.email,
                session_id=claims.session_id,
            ),
            expires_at=float(claims.expires_at),
        )
        await self._cache.store("jwt", digest, identity)
        return identity

    async def _from_key(self, raw: str) -> CachedIdentity | None:
        digest = _digest(raw)
        cached, _ = await self._cache.lookup("api_key", digest)
        if cached is not None:
            return cached
        record = await self._db(self._keys.find_active(raw), None)
        if record is None:
            return None
        if self._budgets is not None and record.budget is not None:
            await self._budgets.define_key(record.id, record.budget)  # for every service that counts it
        identity = CachedIdentity(
            principal=Principal(
                user_id=record.user_id,
                auth_type=AuthType.API_KEY,
                email=record.email,
                api_key_id=record.id,
                scopes=record.scopes,
                key_budget=record.budget,
            ),
            rate_limit=record.rate_limit,
            # api_keys.expires_at is naive UTC
            expires_at=record.expires_at.replace(tzinfo=UTC).timestamp() if record.expires_at else None,
        )
        await self._cache.store("api_key", digest, identity)
        return identity

    async def _count(self, identity: CachedIdentity) -> None:
        if self._limiter is None:
            return
        limit = identity.rate_limit or self._rate_limit
        if limit <= 0:
            return
        p = identity.principal
        bucket = f"key:{p.api_key_id}" if p.auth_type is AuthType.API_KEY else f"user:{p.user_id}"
        decision = await self._limiter.hit(bucket, limit=limit)
        if not decision.allowed:
            raise RateLimited(
                f"Rate limit exceeded: {limit} per 1 minute", retry_after_s=decision.retry_after_s
            )

    async def _touch(self, key_id: str) -> None:
        """Keep last_used_at roughly current: at most one write per key per interval, across replicas."""
        now = time.monotonic()
        if now - self._touched.get(key_id, -1e9) < self._last_used_interval_s:
            return
        if len(self._touched) > 50_000:
            self._touched.clear()
        self._touched[key_id] = now
        client = self._cache.redis
        if client is not None:
            try:
                first = await client.set(
                    f"{self._cache.prefix}auth:key_used:{key_id}",
                    "1",
                    ex=max(1, int(self._last_used_interval_s)),
                    nx=True,
                )
            except Exception as exc:  # Redis failing must not fail the request
                self._cache.redis_failed(exc)
                first = True
            if not first:
                return
        await self._db(self._keys.touch(key_id), None)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
