"""The persona whose system prompt a chat turn sends: the caller's preference, else the active "Mu".

Read-only: personas themselves (and auto-creating "Mu") belong to the personas RPCs.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from gaia_services.runtime.errors import NotFound

__all__ = ["PersonaPrompts", "PersonaRow"]

_TOOLS_PLACEHOLDER = "{tools_section}"
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


@dataclass(frozen=True, slots=True)
class PersonaRow:
    id: str
    name: str
    description: str
    system_prompt: str
    personality_traits: dict[str, Any] = field(default_factory=dict)
    capabilities: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def prompt(self) -> str:
        """The system prompt as sent: the reference's unfilled ``{tools_section}`` placeholder removed."""
        return self.system_prompt.replace(_TOOLS_PLACEHOLDER, "").rstrip()


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})


def _row(row: asyncpg.Record) -> PersonaRow:
    return PersonaRow(
        id=str(row["id"]),
        name=row["name"],
        description=row["description"],
        system_prompt=row["system_prompt"],
        personality_traits=_json(row["personality_traits"]),
        capabilities=_json(row["capabilities"]),
        is_active=bool(row["is_active"]),
        created_by=row["created_by"] or "",
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class PersonaPrompts:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def current(self, user_id: str) -> PersonaRow | None:
        row = await self._pool.fetchrow(_PREFERRED, user_id) or await self._pool.fetchrow(_MU)
        return None if row is None else _row(row)

    async def by_id(self, persona_id: str) -> PersonaRow:
        try:
            key = uuid.UUID(persona_id)
        except ValueError as exc:
            raise NotFound(f"Persona not found: {persona_id}") from exc
        row = await self._pool.fetchrow(_BY_ID, key)
        if row is None:
            raise NotFound(f"Persona not found: {persona_id}")
        return _row(row)
