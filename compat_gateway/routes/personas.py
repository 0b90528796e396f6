"""Routes of the personas area: ``/api/v0.2/personas*`` and the December ``/api/v1/chat/personas``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gaia.chat.v1 import chat_pb2
from google.protobuf.struct_pb2 import Struct
from pydantic import BaseModel, Field

from compat_gateway.inbound import Inbound
from compat_gateway.render import personas as render
from compat_gateway.routes.table import Route, unary_rows
from compat_gateway.rpcs import CHAT
from compat_gateway.schemas import personas as schemas

__all__ = ["ROUTES"]

_V02 = "/api/v0.2/personas"


class ListQuery(BaseModel):
    active_only: bool = True


class PersonaCreate(BaseModel):
    name: str = Field(max_length=100)
    description: str
    system_prompt: str
    personality_traits: dict[str, Any] = Field(default_factory=dict)
    capabilities: dict[str, Any] = Field(default_factory=dict)


class PersonaChange(BaseModel):
    name: str | None = Field(default=None, max_length=100)
    description: str | None = None
    system_prompt: str | None = None
    personality_traits: dict[str, Any] | None = None
    capabilities: dict[str, Any] | None = None


class PersonaChoice(BaseModel):
    persona_id: str


def _struct(value: dict[str, Any]) -> Struct:
    struct = Struct()
    struct.update(value)
    return struct


def _list(inbound: Inbound) -> chat_pb2.ListPersonasRequest:
    query: ListQuery | None = inbound.query_model
    return chat_pb2.ListPersonasRequest(active_only=True if query is None else query.active_only)


def _create(inbound: Inbound) -> chat_pb2.CreatePersonaRequest:
    body: PersonaCreate = inbound.body_model
    return chat_pb2.CreatePersonaRequest(
        name=body.name,
        description=body.description,
        system_prompt=body.system_prompt,
        personality_traits=_struct(body.personality_traits),
        capabilities=_struct(body.capabilities),
    )


def _update(inbound: Inbound) -> chat_pb2.UpdatePersonaRequest:
    body: PersonaChange = inbound.body_model
    request = chat_pb2.UpdatePersonaRequest(persona_id=inbound.path_params["persona_id"])
    for field in ("name", "description", "system_prompt"):
        value = getattr(body, field)
        if value is not None:
            setattr(request, field, value)
    if body.personality_traits is not None:
        request.personality_traits.CopyFrom(_struct(body.personality_traits))
    if body.capabilities is not None:
        request.capabilities.CopyFrom(_struct(body.capabilities))
    return request


def _by_id(message: Callable[..., Any]) -> Callable[[Inbound], Any]:
    def build(inbound: Inbound) -> Any:
        return message(persona_id=inbound.path_params["persona_id"])

    return build


def _set(inbound: Inbound) -> chat_pb2.SetCurrentPersonaRequest:
    body: PersonaChoice = inbound.body_model
    return chat_pb2.SetCurrentPersonaRequest(persona_id=body.persona_id)


_row = unary_rows()


ROUTES: tuple[Route, ...] = (
    _row(
        "GET",
        _V02,
        "v02_personas_list",
        CHAT.ListPersonas,
        _list,
        render.persona_list,
        query=ListQuery,
        summary="List personas, newest first",
        response=schemas.PersonaList,
    ),
    _row(
        "GET",
        f"{_V02}/current",
        "v02_personas_current",
        CHAT.GetCurrentPersona,
        lambda inbound: chat_pb2.GetCurrentPersonaRequest(),
        render.current,
        summary="The caller's persona",
        response=schemas.PersonaOne,
    ),
    _row(
        "POST",
        f"{_V02}/set",
        "v02_personas_set",
        CHAT.SetCurrentPersona,
        _set,
        render.set_current,
        body=PersonaChoice,
        summary="Choose the caller's persona",
        response=schemas.PersonaSet,
    ),
    _row(
        "POST",
        f"{_V02}/initialize-default",
        "v02_personas_initialize_default",
        CHAT.InitializeDefaultPersona,
        lambda inbound: chat_pb2.InitializeDefaultPersonaRequest(),
        render.initialized,
        summary="Ensure the default persona Mu exists and is active",
        response=schemas.PersonaInitialized,
    ),
    _row(
        "GET",
        f"{_V02}/{{persona_id}}",
        "v02_personas_get",
        CHAT.GetPersona,
        _by_id(chat_pb2.GetPersonaRequest),
        render.retrieved,
        summary="One persona",
        response=schemas.PersonaOne,
    ),
    _row(
        "POST",
        _V02,
        "v02_personas_create",
        CHAT.CreatePersona,
        _create,
        render.created,
        body=PersonaCreate,
        summary="Create a persona",
        response=schemas.PersonaOne,
    ),
    _row(
        "PUT",
        f"{_V02}/{{persona_id}}",
        "v02_personas_update",
        CHAT.UpdatePersona,
        _update,
        render.updated,
        body=PersonaChange,
        summary="Change a persona",
        response=schemas.PersonaOne,
    ),
    _row(
        "DELETE",
        f"{_V02}/{{persona_id}}",
        "v02_personas_delete",
        CHAT.DeletePersona,
        _by_id(chat_pb2.DeletePersonaRequest),
        render.deleted,
        summary="Delete a persona (soft)",
        response=schemas.PersonaDeleted,
    ),
    _row(
        "GET",
        "/api/v1/chat/personas",
        "v1_chat_personas_list",
        CHAT.ListPersonas,
        _list,
        render.persona_list_v1,
        query=ListQuery,
        summary="List personas (v1)",
        response=schemas.PersonaList,
    ),
    _row(
        "POST",
        "/api/v1/chat/personas",
        "v1_chat_personas_create",
        CHAT.CreatePersona,
        _create,
        render.created,
        body=PersonaCreate,
        summary="Create a persona (v1)",
        response=schemas.PersonaOne,
    ),
)
