"""API keys: the ``gaia_<env>_<32 alphanumerics>`` format, SHA-256 hex storage, lookup by hash."""

from __future__ import annotations

import hashlib
import json
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from gaia_services.runtime.principal import KeyBudget

__all__ = ["ApiKeyRecord", "ApiKeyStore", "generate_key", "hash_key"]

_ALPHABET = string.ascii_letters + string.digits


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def generate_key(env: str) -> str:
    return f"gaia_{env}_" + "".join(secrets.choice(_ALPHABET) for _ in range(32))


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    user_id: str
    email: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    rate_limit: int | None = None  # permissions {"rate_limit_per_minute": N}
    budget: KeyBudget | None = None  # max_budget, budget_duration


def _rate_limit(permissions: object) -> int | None:
    data = json.loads(permissions) if isinstance(permissions, str) else permissions
    value = data.get("rate_limit_per_minute") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _scopes(permissions: object) -> tuple[str, ...]:
    data = json.loads(permissions) if isinstance(permissions, str) else permissions
    if isinstance(data, dict):
        return tuple(sorted(k for k, v in data.items() if v is True))
    if isinstance(data, list):
        return tuple(str(v) for v in data)
    return ()


class ApiKeyStore:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def find_active(self, raw: str) -> ApiKeyRecord | None:
        """The usable key with this raw value: active, not revoked, not expired, owner active."""
        row = await self._pool.fetchrow(
            """
            SELECT k.id, k.user_id, u.email, k.permissions, k.expires_at, k.max_budget, k.budget_duration
              FROM api_keys k JOIN users u ON u.id = k.user_id
             WHERE k.key_hash = $1 AND k.is_active AND k.revoked_at IS NULL AND u.is_active
               AND (k.expires_at IS NULL OR k.expires_at > (now() AT TIME ZONE 'utc'))
            """,
            hash_key(raw),
        )
        if row is None:
            return None
        return ApiKeyRecord(
            id=str(row["id"]),
            user_id=str(row["user_id"]),
            email=row["email"],
            scopes=_scopes(row["permissions"]),
            expires_at=row["expires_at"],
            rate_limit=_rate_limit(row["permissions"]),
            budget=None
            if row["max_budget"] is None
            else KeyBudget(max_budget=float(row["max_budget"]), duration=row["budget_duration"] or ""),
        )

    async def touch(self, key_id: str) -> None:
        """Record a use (callers throttle this: it is not meant to run on every request)."""
        await self._pool.execute(
            "UPDATE api_keys SET last_used_at = (now() AT TIME ZONE 'utc') WHERE id::text = $1", key_id
        )
