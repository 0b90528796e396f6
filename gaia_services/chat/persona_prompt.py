"""The persona whose system prompt a chat turn sends: the caller's preference, else the active "Mu".

Read-only: personas themselves (and auto-creating "Mu") belong to the personas RPCs.
"""

from __future__ import annotations

import uuid

import asyncpg

from gaia_services.chat.personas import PersonaRecord, persona_record
from gaia_services.runtime.errors import NotFound

__all__ = ["PersonaPrompts"]

_COLUMNS = (
    "p.id, p.name, p.description, p.system_prompt, p.personality_traits, p.capabilities, p.is_active, "
    "p.created_by, p.created_at, p.updated_at"
)
_PREFERRED = f"""
SELECT {_COLUMNS} FROM user_persona_preferences u JOIN personas p ON p.id = u.persona_id
 WHERE u.user_id = $1 AND p.is_active
"""
_MU = f"SELECT {_COLUMNS} FROM personas p WHERE p.name = 'Mu' AND p.is_active LIMIT 1"
_BY_ID = f"SELECT {_COLUMNS} FROM personas p WHERE p.id = $1 AND p.is_active"


class PersonaPrompts:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def current(self, user_id: str) -> PersonaRecord | None:
        row = await self._pool.fetchrow(_PREFERRED, user_id) or await self._pool.fetchrow(_MU)
        return None if row is None else persona_record(row)

    async def by_id(self, persona_id: str) -> PersonaRecord:
        try:
            key = uuid.UUID(persona_id)
        except ValueError as exc:
            raise NotFound(f"Persona not found: {persona_id}") from exc
        row = await self._pool.fetchrow(_BY_ID, key)
        if row is None:
            raise NotFound(f"Persona not found: {persona_id}")
        return persona_record(row)
