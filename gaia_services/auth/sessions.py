"""Login sessions and their rotating refresh tokens.

A session is a refresh-token family: its id is the access token's ``session_id`` claim. Refresh tokens are
opaque, stored only as SHA-256 hex, and spent on first use; presenting a spent one again revokes the whole
family (the session), since only a thief or a replay would do that. One check (``_check``) serves refresh
and logout; only refresh refuses an expired token.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import asyncpg

__all__ = ["RefreshTokenError", "Rotation", "Sessions", "hash_token", "new_token"]

_T = TypeVar("_T")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class RefreshTokenError(Exception):
    """The refresh token cannot be used; ``revoked_session`` is set when its family was revoked for reuse."""

    def __init__(self, reason: str, *, revoked_session: str = "", user_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.revoked_session = revoked_session
        self.user_id = user_id


@dataclass(frozen=True, slots=True)
class Rotation:
    session_id: str
    user_id: str
    refresh_token: str


NOT_FOUND = "Invalid Refresh Token: Refresh Token Not Found"
ALREADY_USED = "Invalid Refresh Token: Already Used"
EXPIRED = "Invalid Refresh Token: Expired"
REVOKED = "Invalid Refresh Token: Session Revoked"


class Sessions:
    def __init__(self, *, pool: asyncpg.Pool, refresh_ttl_s: int) -> None:
        self._pool = pool
        self._ttl = timedelta(seconds=refresh_ttl_s)

    async def open(self, *, user_id: str) -> Rotation:
        raw = new_token()
        async with self._pool.acquire() as conn, conn.transaction():
            session_id = await conn.fetchval(
                "INSERT INTO auth_sessions (user_id) VALUES ($1::uuid) RETURNING id", user_id
            )
            await conn.execute(
                """INSERT INTO refresh_tokens (token_hash, session_id, user_id, expires_at)
                   VALUES ($1, $2, $3::uuid, now() + $4::interval)""",
                hash_token(raw),
                session_id,
                user_id,
                self._ttl,
            )
        return Rotation(session_id=str(session_id), user_id=user_id, refresh_token=raw)

    async def rotate(self, raw: str) -> Rotation:
        """Spend ``raw`` and issue its successor in the same family."""
        return await self._revoking_reuse(self._rotate(raw))

    async def session_of(self, raw: str) -> tuple[str, str]:
        """(session id, user id) of an unspent refresh token, to end its session (logout). An expired one
        still names its session: ending a session is harmless, as with an expired access token."""
        return await self._revoking_reuse(self._session_of(raw))

    async def _revoking_reuse(self, lookup: Awaitable[_T]) -> _T:
        try:
            return await lookup
        except RefreshTokenError as exc:
            if exc.revoked_session:  # reuse: revoke the family (after the lookup's transaction rolled back)
                await self.revoke(exc.revoked_session)
            raise

    @staticmethod
    async def _check(conn: Any, token_hash: str, *, allow_expired: bool) -> tuple[str, str]:
        """The one check of a presented refresh token, its row locked: (session id, user id), or
        ``RefreshTokenError``. A spent token (reuse) names its session, to be revoked."""
        row = await conn.fetchrow(
            """SELECT t.session_id, t.user_id, t.used_at, t.revoked_at, t.expires_at < now() AS expired,
                      s.revoked_at AS session_revoked
                 FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
                WHERE t.token_hash = $1 FOR UPDATE OF t""",
            token_hash,
        )
        if row is None:
            raise RefreshTokenError(NOT_FOUND)
        session_id, user_id = str(row["session_id"]), str(row["user_id"])
        if row["session_revoked"] is not None:
            raise RefreshTokenError(REVOKED)
        if row["used_at"] is not None or row["revoked_at"] is not None:
            raise RefreshTokenError(ALREADY_USED, revoked_session=session_id, user_id=user_id)
        if row["expired"] and not allow_expired:
            raise RefreshTokenError(EXPIRED)
        return session_id, user_id

    async def _rotate(self, raw: str) -> Rotation:
        token_hash = hash_token(raw)
        async with self._pool.acquire() as conn, conn.transaction():
            session_id, user_id = await self._check(conn, token_hash, allow_expired=False)
            successor = new_token()
            await conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1", token_hash)
            await conn.execute(
                """INSERT INTO refresh_tokens (token_hash, session_id, user_id, parent_hash, expires_at)
                   VALUES ($1, $2::uuid, $3::uuid, $4, now() + $5::interval)""",
                hash_token(successor),
                session_id,
                user_id,
                token_hash,
                self._ttl,
            )
            await conn.execute(
                "UPDATE auth_sessions SET refreshed_at = now() WHERE id = $1::uuid", session_id
            )
        return Rotation(session_id=session_id, user_id=user_id, refresh_token=successor)

    async def _session_of(self, raw: str) -> tuple[str, str]:
        async with self._pool.acquire() as conn, conn.transaction():
            return await self._check(conn, hash_token(raw), allow_expired=True)

    async def revoke(self, session_id: str) -> str | None:
        """Revoke a live session and its tokens; the owner's user id, or None when nothing was live."""
        async with self._pool.acquire() as conn, conn.transaction():
            return await self._revoke(conn, session_id)

    async def revoke_all(self, user_id: str, *, keep: str = "") -> list[str]:
        rows = await self._pool.fetch(
            """SELECT id FROM auth_sessions
                WHERE user_id::text = $1 AND revoked_at IS NULL AND id::text <> $2""",
            user_id,
            keep,
        )
        revoked = []
        for row in rows:
            if await self.revoke(str(row["id"])) is not None:
                revoked.append(str(row["id"]))
        return revoked

    async def status(self, session_id: str) -> bool | None:
        """True for a live session, False for a revoked one, None when no such session exists here."""
        try:
            row = await self._pool.fetchrow(
                """SELECT s.revoked_at IS NULL AND u.is_active AS live
                     FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.id::text = $1""",
                session_id,
            )
        except asyncpg.DataError:
            return None
        return None if row is None else bool(row["live"])

    @staticmethod
    async def _revoke(conn: Any, session_id: str) -> str | None:
        user_id = await conn.fetchval(
            """UPDATE auth_sessions SET revoked_at = now()
                WHERE id::text = $1 AND revoked_at IS NULL RETURNING user_id""",
            session_id,
        )
        await conn.execute(
            """UPDATE refresh_tokens SET revoked_at = now()
                WHERE session_id::text = $1 AND revoked_at IS NULL""",
            session_id,
        )
        return None if user_id is None else str(user_id)
