"""Users and API keys as rows: creation, listing and revocation (used by the CLI and the auth service)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from gaia_services.auth.api_keys import generate_key, hash_key
from gaia_services.runtime.budgets import parse_duration
from gaia_services.runtime.errors import AlreadyExists, InvalidArgument, NotFound
from gaia_services.runtime.principal import KeyBudget

__all__ = ["Accounts", "ApiKeyInfo", "IssuedKey", "RevokedKey", "checked_budget", "key_budget"]

_MAX_KEY_NAME = 255  # api_keys.name is VARCHAR(255)


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: str
    user_id: str
    name: str
    key_prefix: str
    scopes: tuple[str, ...]
    is_active: bool
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    budget: KeyBudget | None = None


def key_budget(max_budget: object, duration: object) -> KeyBudget | None:
    """The budget of stored columns (NULL max_budget: none)."""
    if max_budget is None:
        return None
    return KeyBudget(max_budget=float(max_budget), duration=str(duration or ""))  # type: ignore[arg-type]


def checked_budget(budget: KeyBudget | None) -> KeyBudget | None:
    """A budget as asked for, checked: none when ``max_budget`` is 0; a readable duration."""
    if budget is None:
        return None
    if budget.max_budget < 0 or budget.max_budget > 1_000_000:
        raise InvalidArgument("max_budget must be between 0 and 1000000 US dollars")
    parse_duration(budget.duration)
    if budget.max_budget == 0 and not budget.duration:
        return None
    return KeyBudget(max_budget=round(budget.max_budget, 6), duration=budget.duration.strip())


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A newly created key: ``raw`` is shown once and never stored."""

    info: ApiKeyInfo
    raw: str


@dataclass(frozen=True, slots=True)
class RevokedKey:
    """A key just revoked: ``key_hash`` lets caches forget it."""

    info: ApiKeyInfo
    key_hash: str


def _info(row: asyncpg.Record) -> ApiKeyInfo:
    permissions = (
        json.loads(row["permissions"]) if isinstance(row["permissions"], str) else row["permissions"]
    )
    scopes = tuple(sorted(k for k, v in (permissions or {}).items() if v is True))
    return ApiKeyInfo(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        name=row["name"] or "",
        key_prefix=row["key_prefix"] or "",
        scopes=scopes,
        is_active=bool(row["is_active"]) and row["revoked_at"] is None,
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        budget=key_budget(row["max_budget"], row["budget_duration"]),
    )


_KEY_COLUMNS = (
    "id, user_id, name, key_prefix, permissions, is_active, revoked_at, created_at, expires_at, last_used_at,"
    " max_budget, budget_duration"
)


class Accounts:
    def __init__(self, *, pool: asyncpg.Pool, env: str) -> None:
        self._pool = pool
        self._env = env

    async def create_user(
        self, *, email: str, password_hash: str | None, name: str = "", confirmed: bool = True
    ) -> str:
        try:
            user_id = await self._pool.fetchval(
                """INSERT INTO users (email, name, password_hash, email_confirmed_at, user_metadata)
                   VALUES ($1, NULLIF($2, ''), $3, CASE WHEN $4 THEN now() AT TIME ZONE 'utc' END,
                           jsonb_build_object('name', $2::text))
                   RETURNING id""",
                email.lower(),
                name,
                password_hash,
                confirmed,
            )
        except asyncpg.UniqueViolationError as exc:
            raise AlreadyExists("This email is already registered") from exc
        return str(user_id)

    async def user_id_for(self, email: str) -> str:
        user_id = await self._pool.fetchval("SELECT id FROM users WHERE lower(email) = lower($1)", email)
        if user_id is None:
            raise NotFound(f"No user with email {email}")
        return str(user_id)

    async def create_key(
        self,
        *,
        user_id: str,
        name: str,
        scopes: tuple[str, ...] = (),
        expires_in_days: int | None = None,
        expires_at: datetime | None = None,
        raw: str | None = None,
        budget: KeyBudget | None = None,
    ) -> IssuedKey:
        """A new key (``raw`` given: that exact key, e.g. a documented seed); expiry in naive UTC; an optional
        spend limit (``budget``)."""
        budget = checked_budget(budget)
        if len(name) > _MAX_KEY_NAME:
            raise InvalidArgument(f"API key name must be at most {_MAX_KEY_NAME} characters long")
        raw = raw or generate_key(self._env)
        expires = (
            datetime.now(UTC).replace(tzinfo=None) + timedelta(days=expires_in_days)
            if expires_in_days
            else None
        )
        if expires_at is not None:
            expires = expires_at.astimezone(UTC).replace(tzinfo=None) if expires_at.tzinfo else expires_at
        try:
            row = await self._pool.fetchrow(
                f"""INSERT INTO api_keys (user_id, key_hash, key_prefix, name, permissions, expires_at,
                                         max_budget, budget_duration)
                    VALUES ($1::uuid, $2, $3, $4, $5::jsonb, $6, $7, NULLIF($8, ''))
                    RETURNING {_KEY_COLUMNS}""",
                user_id,
                hash_key(raw),
                raw[: len(f"gaia_{self._env}_") + 4],
                name,
                json.dumps({scope: True for scope in scopes}),
                expires,
                None if budget is None else Decimal(str(budget.max_budget)),
                "" if budget is None else budget.duration,
            )
        except asyncpg.UniqueViolationError as exc:
            raise AlreadyExists("This API key already exists") from exc
        assert row is not None
        return IssuedKey(info=_info(row), raw=raw)

    async def list_keys(self, *, user_id: str, include_revoked: bool = True) -> list[ApiKeyInfo]:
        rows = await self._pool.fetch(
            f"""SELECT {_KEY_COLUMNS} FROM api_keys
                 WHERE user_id = $1::uuid AND ($2 OR (is_active AND revoked_at IS NULL))
                 ORDER BY created_at DESC""",
            user_id,
            include_revoked,
        )
        return [_info(row) for row in rows]

    async def revoke_key(self, *, key_id: str, user_id: str | None = None) -> RevokedKey:
        """Revoke an active key (of ``user_id`` when given); NotFound when there is no such live key."""
        try:
            row = await self._pool.fetchrow(
                f"""UPDATE api_keys SET is_active = false, revoked_at = now() AT TIME ZONE 'utc'
                     WHERE id::text = $1 AND ($2::uuid IS NULL OR user_id = $2::uuid) AND revoked_at IS NULL
                 RETURNING {_KEY_COLUMNS}, key_hash""",
                key_id,
                user_id,
            )
        except asyncpg.DataError as exc:
            raise NotFound(f"API key not found: {key_id}") from exc
        if row is None:
            raise NotFound(f"API key not found: {key_id}")
        return RevokedKey(info=_info(row), key_hash=row["key_hash"])
