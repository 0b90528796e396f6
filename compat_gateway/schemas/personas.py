"""Response models of the persona routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Persona",
    "PersonaDeleted",
    "PersonaInitialized",
    "PersonaList",
    "PersonaOne",
    "PersonaSet",
]


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    system_prompt: str
    personality_traits: dict[str, Any]
    capabilities: dict[str, Any]
    id: str
    is_active: bool
    created_by: str
    created_at: str | None = Field(description="ISO timestamp as read from the database")
    updated_at: str | None


class PersonaList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success: bool
    personas: list[Persona]
    total: int
    message: str


class PersonaOne(BaseModel):
    """One persona: current, get, create, update."""

    model_config = ConfigDict(extra="forbid")

    success: bool
    message: str
    persona: Persona


class PersonaDeleted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success: bool
    message: str
    persona_id: str


class PersonaSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success: bool
    message: str
    persona_id: str
    persona_name: str


class PersonaInitialized(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success: bool
    message: str
    persona: Persona
    was_created: bool
