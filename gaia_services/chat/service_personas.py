"""Chat RPCs for personas (a mixin of ``ChatServicer``)."""

from __future__ import annotations

from typing import Any

from gaia.chat.v1 import chat_pb2
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct
from grpc import aio

from gaia_services.chat.parts import ChatParts
from gaia_services.chat.personas import PersonaRecord, PersonaUpdate
from gaia_services.chat.service_conversations import caller_id, timestamp

__all__ = ["PersonaRpcs", "persona_to_proto"]


def _struct(value: dict[str, Any]) -> Struct:
    struct = Struct()
    struct.update(value)
    return struct


def _dict(struct: Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def persona_to_proto(record: PersonaRecord) -> chat_pb2.Persona:
    return chat_pb2.Persona(
        name=record.name,
        description=record.description,
        system_prompt=record.system_prompt,
        personality_traits=_struct(record.personality_traits),
        capabilities=_struct(record.capabilities),
        id=record.id,
        is_active=record.is_active,
        created_by=record.created_by,
        created_at=timestamp(record.created_at),
        updated_at=timestamp(record.updated_at),
    )


class PersonaRpcs:
    _parts: ChatParts

    async def ListPersonas(
        self, request: chat_pb2.ListPersonasRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListPersonasResponse:
        active_only = request.active_only if request.HasField("active_only") else True
        records = await self._parts.personas.listing(active_only=active_only, created_by=request.created_by)
        total = len(records)
        if request.HasField("page"):
            start = max(request.page.offset, 0)
            records = records[start : start + request.page.limit] if request.page.limit else records[start:]
        return chat_pb2.ListPersonasResponse(personas=[persona_to_proto(r) for r in records], total=total)

    async def GetPersona(
        self, request: chat_pb2.GetPersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetPersonaResponse:
        return chat_pb2.GetPersonaResponse(
            persona=persona_to_proto(await self._parts.personas.get(request.persona_id))
        )

    async def CreatePersona(
        self, request: chat_pb2.CreatePersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.CreatePersonaResponse:
        record = await self._parts.personas.create(
            name=request.name,
            description=request.description,
            system_prompt=request.system_prompt,
            personality_traits=_dict(request.personality_traits),
            capabilities=_dict(request.capabilities),
            created_by=caller_id(),
        )
        return chat_pb2.CreatePersonaResponse(persona=persona_to_proto(record))

    async def UpdatePersona(
        self, request: chat_pb2.UpdatePersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.UpdatePersonaResponse:
        change = PersonaUpdate(
            name=request.name if request.HasField("name") else None,
            description=request.description if request.HasField("description") else None,
            system_prompt=request.system_prompt if request.HasField("system_prompt") else None,
            personality_traits=_dict(request.personality_traits)
            if request.HasField("personality_traits")
            else None,
            capabilities=_dict(request.capabilities) if request.HasField("capabilities") else None,
        )
        record = await self._parts.personas.update(request.persona_id, change)
        return chat_pb2.UpdatePersonaResponse(persona=persona_to_proto(record))

    async def DeletePersona(
        self, request: chat_pb2.DeletePersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.DeletePersonaResponse:
        already = await self._parts.personas.delete(request.persona_id)
        return chat_pb2.DeletePersonaResponse(persona_id=request.persona_id, already_deleted=already)

    async def SetCurrentPersona(
        self, request: chat_pb2.SetCurrentPersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.SetCurrentPersonaResponse:
        record = await self._parts.personas.set_current(user_id=caller_id(), persona_id=request.persona_id)
        return chat_pb2.SetCurrentPersonaResponse(persona=persona_to_proto(record))

    async def GetCurrentPersona(
        self, request: chat_pb2.GetCurrentPersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetCurrentPersonaResponse:
        record = await self._parts.personas.current(user_id=caller_id())
        return chat_pb2.GetCurrentPersonaResponse(persona=persona_to_proto(record))

    async def InitializeDefaultPersona(
        self, request: chat_pb2.InitializeDefaultPersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.InitializeDefaultPersonaResponse:
        record, created = await self._parts.personas.ensure_default()
        return chat_pb2.InitializeDefaultPersonaResponse(
            persona=persona_to_proto(record), was_created=created
        )
