"""Personas in the reference's shapes (``/api/v0.2/personas*`` and the December ``/api/v1/chat/personas``).

Timestamps always take the DB-read form (``...190450Z``), and JSON objects inside a persona keep the key order
Postgres JSONB gives them (shorter keys first, then bytewise), which ``google.protobuf.Struct`` does not keep.
"""

from __future__ import annotations

from typing import Any

from gaia.chat.v1 import chat_pb2
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct

from compat_gateway.inbound import Inbound
from compat_gateway.render.timestamps import persona_iso

__all__ = [
    "created",
    "current",
    "deleted",
    "initialized",
    "jsonb_order",
    "persona",
    "persona_list",
    "persona_list_v1",
    "retrieved",
    "set_current",
    "updated",
]


def jsonb_order(value: Any) -> Any:
    """A JSON value as JSONB stores it: object keys by (byte length, bytes); integral numbers as integers."""
    if isinstance(value, dict):
        ordered = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: jsonb_order(value[k]) for k in ordered}
    if isinstance(value, list):
        return [jsonb_order(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _object(struct: Struct) -> dict[str, Any]:
    return jsonb_order(json_format.MessageToDict(struct))  # type: ignore[no-any-return]


def persona(item: chat_pb2.Persona) -> dict[str, Any]:
    return {
        "name": item.name,
        "description": item.description,
        "system_prompt": item.system_prompt,
        "personality_traits": _object(item.personality_traits),
        "capabilities": _object(item.capabilities),
        "id": item.id,
        "is_active": item.is_active,
        "created_by": item.created_by,
        "created_at": persona_iso(item.created_at),
        "updated_at": persona_iso(item.updated_at),
    }


def persona_list(reply: chat_pb2.ListPersonasResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "success": True,
        "personas": [persona(p) for p in reply.personas],
        "total": reply.total,
        "message": f"Found {reply.total} personas",
    }


def persona_list_v1(reply: chat_pb2.ListPersonasResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "success": True,
        "personas": [persona(p) for p in reply.personas],
        "total": reply.total,
        "message": "Personas retrieved successfully",
    }


def _one(message: str, item: chat_pb2.Persona) -> dict[str, Any]:
    return {"success": True, "message": message, "persona": persona(item)}


def current(reply: chat_pb2.GetCurrentPersonaResponse, inbound: Inbound) -> dict[str, Any]:
    return _one("Current persona retrieved successfully", reply.persona)


def retrieved(reply: chat_pb2.GetPersonaResponse, inbound: Inbound) -> dict[str, Any]:
    return _one("Persona retrieved successfully", reply.persona)


def created(reply: chat_pb2.CreatePersonaResponse, inbound: Inbound) -> dict[str, Any]:
    return _one("Persona created successfully", reply.persona)


def updated(reply: chat_pb2.UpdatePersonaResponse, inbound: Inbound) -> dict[str, Any]:
    return _one("Persona updated successfully", reply.persona)


def deleted(reply: chat_pb2.DeletePersonaResponse, inbound: Inbound) -> dict[str, Any]:
    return {"success": True, "message": "Persona deleted successfully", "persona_id": reply.persona_id}


def set_current(reply: chat_pb2.SetCurrentPersonaResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "success": True,
        "message": f"Active persona set to {reply.persona.name}",
        "persona_id": reply.persona.id,
        "persona_name": reply.persona.name,
    }


def initialized(reply: chat_pb2.InitializeDefaultPersonaResponse, inbound: Inbound) -> dict[str, Any]:
    message = (
        "Default persona created successfully" if reply.was_created else "Default persona already exists"
    )
    return {
        "success": True,
        "message": message,
        "persona": persona(reply.persona),
        "was_created": reply.was_created,
    }
