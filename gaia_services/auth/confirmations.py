"""Email confirmation tokens: random, mailed once, stored as SHA-256 hex, spent on use, with an expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from gaia_services.auth.sessions import hash_token, new_token

__all__ = ["Confirmations"]


class Confirmations:
    def __init__(self, *, pool: asyncpg.Pool, ttl_s: int) -> None:
        self._pool = pool
        self._ttl = timedelta(seconds=ttl_s)

    async def issue(self, *, user_id: str, email: str) -> str:
        raw = new_token()
        await self._pool.execute(
            """INSERT INTO email_confirmations (token_hash, user_id, email, expires_at)
               VALUES ($1, $2::uuid, lower($3), now() + $4::interval)""",
            hash_token(raw),
            user_id,
            email,
            self._ttl,
        )
        return raw

    async def last_sent(self, user_id: str) -> datetime | None:
        value = await self._pool.fetchval(
            "SELECT max(created_at) FROM email_confirmations WHERE user_id::text = $1", user_id
        )
        return value if isinstance(value, datetime) else None

    async def redeem(self, *, email: str, raw: str) -> str | None:
        """Spend the token; the user id it confirms, or None when it is unknown, spent, expired or not for
        this address."""
        return await self._pool.fetchval(
            """UPDATE email_confirmations SET used_at = now()
                WHERE token_hash = $1 AND email = lower($2) AND used_at IS NULL AND expires_at > now()
            RETURNING user_id::text""",
            hash_token(raw),
            email,
        )
