"""Users as the identity store keeps them: lookup, creation, confirmation, profile and password changes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from gaia_services.runtime.errors import AlreadyExists, NotFound

__all__ = ["UserRecord", "Users"]


def _json(value: object) -> dict[str, Any]:
    data = json.loads(value) if isinstance(value, str) else value
    return dict(data) if isinstance(data, dict) else {}


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    email: str
    name: str
    password_hash: str | None
    email_confirmed_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    last_sign_in_at: datetime | None
    is_active: bool
    user_metadata: dict[str, Any] = field(default_factory=dict)
    app_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def confirmed(self) -> bool:
        return self.email_confirmed_at is not None


_COLUMNS = """id, email, name, password_hash, email_confirmed_at, created_at, updated_at, last_sign_in_at,
              is_active, user_metadata, app_metadata"""


def _record(row: asyncpg.Record) -> UserRecord:
    return UserRecord(
        id=str(row["id"]),
        email=row["email"],
        name=row["name"] or "",
        password_hash=row["password_hash"],
        email_confirmed_at=row["email_confirmed_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_sign_in_at=row["last_sign_in_at"],
        is_active=bool(row["is_active"]),
        user_metadata=_json(row["user_metadata"]),
        app_metadata=_json(row["app_metadata"]),
    )


class Users:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def adopt(self, user_id: str, email: str) -> None:
        """Give a user known only from a token signed elsewhere with our secret (a Supabase project) a row,
        so what they create (conversations, usage, assets) has an owner. Confirmed: the issuer vouched."""
        try:
            uuid.UUID(user_id)
        except ValueError:
            return
        await self._pool.execute(
            """INSERT INTO users (id, email, email_confirmed_at)
               VALUES ($1::uuid, $2, now() AT TIME ZONE 'utc') ON CONFLICT DO NOTHING""",
            user_id,
            email or f"{user_id}@external.invalid",
        )

    async def by_email(self, email: str) -> UserRecord | None:
        row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE lower(email) = lower($1)", email)
        return None if row is None else _record(row)

    async def by_id(self, user_id: str) -> UserRecord | None:
        row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id::text = $1", user_id)
        return None if row is None else _record(row)

    async def require(self, user_id: str) -> UserRecord:
        user = await self.by_id(user_id)
        if user is None or not user.is_active:
            raise NotFound("User not found")
        return user

    async def create(
        self, *, email: str, password_hash: str | None, name: str, confirmed: bool
    ) -> UserRecord:
        metadata = json.dumps({"name": name} if name else {})
        try:
            row = await self._pool.fetchrow(
                f"""INSERT INTO users (email, name, password_hash, email_confirmed_at, user_metadata)
                    VALUES (lower($1), NULLIF($2, ''), $3, CASE WHEN $4 THEN now() END, $5::jsonb)
                    RETURNING {_COLUMNS}""",
                email,
                name,
                password_hash,
                confirmed,
                metadata,
            )
        except asyncpg.UniqueViolationError as exc:
            raise AlreadyExists("This email is already registered") from exc
        assert row is not None
        return _record(row)

    async def confirm(self, user_id: str) -> UserRecord:
        row = await self._pool.fetchrow(
            f"""UPDATE users SET email_confirmed_at = COALESCE(email_confirmed_at, now())
                WHERE id::text = $1 RETURNING {_COLUMNS}""",
            user_id,
        )
        if row is None:
            raise NotFound("User not found")
        return _record(row)

    async def signed_in(self, user_id: str) -> UserRecord:
        row = await self._pool.fetchrow(
            f"UPDATE users SET last_sign_in_at = now() WHERE id::text = $1 RETURNING {_COLUMNS}", user_id
        )
        if row is None:
            raise NotFound("User not found")
        return _record(row)

    async def update_profile(self, user_id: str, *, name: str | None, metadata: dict[str, Any]) -> UserRecord:
        """Merge ``metadata`` into user_metadata (None removes a key); ``name`` also sets the column."""
        user = await self.require(user_id)
        merged = dict(user.user_metadata)
        for key, value in metadata.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        if name is not None:
            merged["name"] = name
            if not name:
                merged.pop("name")
        row = await self._pool.fetchrow(
            f"""UPDATE users SET name = CASE WHEN $2 THEN NULLIF($3, '') ELSE name END,
                                 user_metadata = $4::jsonb
                WHERE id::text = $1 RETURNING {_COLUMNS}""",
            user_id,
            name is not None,
            name or "",
            json.dumps(merged),
        )
        assert row is not None
        return _record(row)

    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self._pool.execute(
            "UPDATE users SET password_hash = $2 WHERE id::text = $1", user_id, password_hash
        )
