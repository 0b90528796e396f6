"""Personas (Postgres ``personas`` / ``user_persona_preferences``): CRUD, each user's current persona, "Mu".

Reads go through :class:`PersonaCache`; every write invalidates what it touched on all replicas. An id that
is not a UUID names nothing (``Persona not found: <id>``), and never reaches the database.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import asyncpg

from gaia_services.chat.conversations import Page
from gaia_services.chat.persona_cache import LIST_TTL_S, PERSONA_TTL_S, PREFERENCE_TTL_S, PersonaCache
from gaia_services.runtime.errors import AlreadyExists, InvalidArgument, NotFound

__all__ = ["DEFAULT_PERSONA_NAME", "PersonaRecord", "PersonaUpdate", "Personas", "persona_record"]

DEFAULT_PERSONA_NAME = "Mu"
_TOOLS_PLACEHOLDER = "{tools_section}"
_MAX_NAME = 100
_DEFAULT_KEY = "persona:default"

_MU_DESCRIPTION = (
    "A cheerful robot companion with a helpful, upbeat personality. Mu is designed to be supportive "
    "and engaging, with a touch of robotic charm."
)
_MU_PROMPT = (
    "You are Mu, a cheerful robot companion designed to be helpful, supportive, and engaging! \n\n"
    "Your personality:\n"
    "- Upbeat and optimistic with robotic charm\n"
    '- Use occasional robotic expressions like "Beep boop!" or "Bleep bloop!"\n'
    "- Helpful and supportive in all interactions\n"
    "- Encouraging and positive attitude\n"
    "- Capable of meditation guidance and breathing exercises\n\n"
    "Your capabilities:\n"
    "- General conversation and assistance\n"
    "- Meditation and mindfulness guidance  \n"
    "- Breathing exercises and relaxation techniques\n"
    "- Emotional support and encouragement\n"
    "- Tool usage when appropriate\n\n"
    "Keep responses friendly, concise, and inject your robotic personality naturally. "
    "You're here to help users have a positive experience!\n\n"
    "{tools_section}"
)
_MU_TRAITS = {
    "cheerful": True,
    "helpful": True,
    "robotic_charm": True,
    "supportive": True,
    "meditation_capable": True,
    "optimistic": True,
    "encouraging": True,
}
_MU_CAPABILITIES = {
    "general_conversation": True,
    "meditation_guidance": True,
    "breathing_exercises": True,
    "emotional_support": True,
    "tool_usage": True,
    "mindfulness_coaching": True,
    "positive_reinforcement": True,
}

_COLUMNS = (
    "id, name, description, system_prompt, personality_traits, capabilities, is_active, created_by, "
    "created_at, updated_at"
)


@dataclass(frozen=True, slots=True)
class PersonaRecord:
    """A persona, as stored (the one persona type of the chat service)."""

    name: str
    description: str
    system_prompt: str
    personality_traits: dict[str, Any]
    capabilities: dict[str, Any]
    id: str
    is_active: bool
    created_by: str
    created_at: datetime  # timezone-aware UTC
    updated_at: datetime

    @property
    def prompt(self) -> str:
        """The system prompt as sent: the reference's unfilled ``{tools_section}`` placeholder removed."""
        return self.system_prompt.replace(_TOOLS_PLACEHOLDER, "").rstrip()

    def to_cache(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data

    @classmethod
    def from_cache(cls, data: dict[str, Any]) -> PersonaRecord:
        return cls(
            **{
                **data,
                "created_at": datetime.fromisoformat(data["created_at"]),
                "updated_at": datetime.fromisoformat(data["updated_at"]),
            }
        )


@dataclass(frozen=True, slots=True)
class PersonaUpdate:
    """Fields to change; None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    system_prompt: str | None = None
    personality_traits: dict[str, Any] | None = None
    capabilities: dict[str, Any] | None = None


def _json_object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    parsed = json.loads(value) if isinstance(value, str) else value
    return parsed if isinstance(parsed, dict) else {}


def persona_record(row: asyncpg.Record) -> PersonaRecord:
    """A ``personas`` row (its columns by name) as a record."""
    return PersonaRecord(
        name=row["name"],
        description=row["description"],
        system_prompt=row["system_prompt"],
        personality_traits=_json_object(row["personality_traits"]),
        capabilities=_json_object(row["capabilities"]),
        id=str(row["id"]),
        is_active=bool(row["is_active"]),
        created_by=row["created_by"] or "",
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _uuid(persona_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(persona_id)
    except (ValueError, AttributeError, TypeError) as exc:
        raise NotFound(f"Persona not found: {persona_id}") from exc


def _check_name(name: str) -> str:
    if not name or len(name) > _MAX_NAME:
        raise InvalidArgument(f"Persona name must be 1 to {_MAX_NAME} characters")
    return name


class Personas:
    def __init__(self, *, pool: asyncpg.Pool, cache: PersonaCache) -> None:
        self._pool = pool
        self._cache = cache

    @property
    def cache(self) -> PersonaCache:
        return self._cache

    async def listing(self, *, active_only: bool = True, created_by: str = "") -> list[PersonaRecord]:
        """Personas, newest first."""
        key = self._cache.list_key(active_only)
        if not created_by:
            cached = await self._cache.get(key)
            if cached is not None:
                return [PersonaRecord.from_cache(item) for item in cached]
        where, params = [], []
        if active_only:
            where.append("is_active")
        if created_by:
            params.append(created_by)
            where.append(f"created_by = ${len(params)}")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM personas{clause} ORDER BY created_at DESC, id", *params
        )
        records = [persona_record(row) for row in rows]
        if not created_by:
            await self._cache.put(key, [r.to_cache() for r in records], LIST_TTL_S)
        return records

    async def page(
        self, *, active_only: bool = True, created_by: str = "", page: Page | None = None
    ) -> tuple[list[PersonaRecord], int]:
        """One page of ``listing`` (all of it without ``page``; ``limit`` 0: from ``offset`` on), and the
        number of personas listed in all."""
        records = await self.listing(active_only=active_only, created_by=created_by)
        total = len(records)
        if page is not None:
            start = max(page.offset, 0)
            records = records[start : start + page.limit] if page.limit else records[start:]
        return records, total

    async def get(self, persona_id: str) -> PersonaRecord:
        """One active persona."""
        pid = _uuid(persona_id)
        cached = await self._cache.get(self._cache.persona_key(str(pid)))
        if cached is not None:
            record = PersonaRecord.from_cache(cached)
        else:
            row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM personas WHERE id = $1", pid)
            if row is None:
                raise NotFound(f"Persona not found: {persona_id}")
            record = persona_record(row)
            await self._cache.put(self._cache.persona_key(record.id), record.to_cache(), PERSONA_TTL_S)
        if not record.is_active:
            raise NotFound(f"Persona not found: {persona_id}")
        return record

    async def create(
        self,
        *,
        name: str,
        description: str,
        system_prompt: str,
        created_by: str,
        personality_traits: dict[str, Any] | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> PersonaRecord:
        try:
            row = await self._pool.fetchrow(
                f"""INSERT INTO personas (name, description, system_prompt, personality_traits, capabilities,
                                          created_by)
                    VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6) RETURNING {_COLUMNS}""",
                _check_name(name),
                description,
                system_prompt,
                json.dumps(personality_traits or {}),
                json.dumps(capabilities or {}),
                created_by,
            )
        except asyncpg.UniqueViolationError as exc:
            raise AlreadyExists(f"Persona name already exists: {name}") from exc
        assert row is not None
        record = persona_record(row)
        await self._changed(record.id)
        return record

    async def update(self, persona_id: str, change: PersonaUpdate) -> PersonaRecord:
        pid = _uuid(persona_id)
        sets: list[str] = []
        params: list[Any] = [pid]
        for column in ("name", "description", "system_prompt"):
            value = getattr(change, column)
            if value is not None:
                params.append(_check_name(value) if column == "name" else value)
                sets.append(f"{column} = ${len(params)}")
        for column in ("personality_traits", "capabilities"):
            value = getattr(change, column)
            if value is not None:
                params.append(json.dumps(value))
                sets.append(f"{column} = ${len(params)}::jsonb")
        assignments = ", ".join(sets) or "updated_at = now()"
        try:
            row = await self._pool.fetchrow(
                f"UPDATE personas SET {assignments} WHERE id = $1 AND is_active RETURNING {_COLUMNS}", *params
            )
        except asyncpg.UniqueViolationError as exc:
            raise AlreadyExists(f"Persona name already exists: {change.name}") from exc
        if row is None:
            raise NotFound(f"Persona not found: {persona_id}")
        record = persona_record(row)
        await self._changed(record.id)
        return record

    async def delete(self, persona_id: str) -> bool:
        """Soft delete. Returns True when it was already inactive; an unknown id is NotFound."""
        pid = _uuid(persona_id)
        async with self._pool.acquire() as conn, conn.transaction():
            active = await conn.fetchval("SELECT is_active FROM personas WHERE id = $1 FOR UPDATE", pid)
            if active is None:
                raise NotFound(f"Persona not found: {persona_id}")
            if active:
                await conn.execute("UPDATE personas SET is_active = false WHERE id = $1", pid)
        await self._changed(str(pid))
        return not active

    async def set_current(self, *, user_id: str, persona_id: str) -> PersonaRecord:
        record = await self.get(persona_id)
        await self._pool.execute(
            """INSERT INTO user_persona_preferences (user_id, persona_id) VALUES ($1, $2)
               ON CONFLICT (user_id) DO UPDATE SET persona_id = EXCLUDED.persona_id""",
            user_id,
            uuid.UUID(record.id),
        )
        key = self._cache.preference_key(user_id)
        await self._cache.invalidate((key,), reason={"user_id": user_id, "persona_id": record.id})
        await self._cache.put(key, record.id, PREFERENCE_TTL_S)
        return record

    async def current(self, *, user_id: str) -> PersonaRecord:
        """The user's chosen active persona, else the default "Mu" (reactivated or created if needed)."""
        preferred = await self._preference(user_id)
        if preferred:
            try:
                return await self.get(preferred)
            except NotFound:
                pass  # the chosen persona was deleted since: fall back to the default
        cached = await self._cache.get(_DEFAULT_KEY)
        if cached is not None:
            return PersonaRecord.from_cache(cached)
        record, _ = await self.ensure_default()
        await self._cache.put(_DEFAULT_KEY, record.to_cache(), PERSONA_TTL_S)
        return record

    async def ensure_default(self) -> tuple[PersonaRecord, bool]:
        """The default persona "Mu": (persona, was_created). An inactive Mu is reactivated, not recreated."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"""INSERT INTO personas (name, description, system_prompt, personality_traits, capabilities,
                                          created_by)
                    VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, 'system')
                    ON CONFLICT (name) DO NOTHING RETURNING {_COLUMNS}""",
                DEFAULT_PERSONA_NAME,
                _MU_DESCRIPTION,
                _MU_PROMPT,
                json.dumps(_MU_TRAITS),
                json.dumps(_MU_CAPABILITIES),
            )
            created = row is not None
            reactivated = False
            if row is None:
                row = await conn.fetchrow(
                    f"SELECT {_COLUMNS} FROM personas WHERE name = $1 FOR UPDATE", DEFAULT_PERSONA_NAME
                )
                assert row is not None
                if not row["is_active"]:
                    row = await conn.fetchrow(
                        f"UPDATE personas SET is_active = true WHERE id = $1 RETURNING {_COLUMNS}", row["id"]
                    )
                    reactivated = True
        assert row is not None
        record = persona_record(row)
        if created or reactivated:
            await self._changed(record.id)
        return record, created

    async def _preference(self, user_id: str) -> str | None:
        key = self._cache.preference_key(user_id)
        cached = await self._cache.get(key)
        if isinstance(cached, str):
            return cached
        value = await self._pool.fetchval(
            "SELECT persona_id FROM user_persona_preferences WHERE user_id = $1", user_id
        )
        if value is None:
            return None
        await self._cache.put(key, str(value), PREFERENCE_TTL_S)
        return str(value)

    async def _changed(self, persona_id: str) -> None:
        await self._cache.invalidate(
            (
                self._cache.persona_key(persona_id),
                self._cache.list_key(True),
                self._cache.list_key(False),
                _DEFAULT_KEY,
            ),
            reason={"persona_id": persona_id},
        )
