"""Plain chat data ↔ protobuf: turns and their events, conversations, messages, personas.

With ``convert_catalogue`` the one place the chat domain meets generated code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gaia.chat.v1 import chat_pb2
from gaia.common.v1 import common_pb2
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from gaia_services.chat.catalogue import Door
from gaia_services.chat.conversations import ConversationRecord, MessageRecord, Page
from gaia_services.chat.history import HistoryMode
from gaia_services.chat.personas import PersonaRecord, PersonaUpdate
from gaia_services.chat.providers import Turn
from gaia_services.chat.turns import (
    TurnCompleted,
    TurnEvent,
    TurnFailed,
    TurnRequest,
    TurnStarted,
    TurnToken,
)
from gaia_services.runtime.errors import DomainError, failure_code

__all__ = [
    "chat_response",
    "conversation_to_proto",
    "datetime_from_proto",
    "failure_to_proto",
    "message_to_proto",
    "page_from_proto",
    "persona_change_from_proto",
    "persona_to_proto",
    "stream_event_to_proto",
    "struct_to_dict",
    "timestamp",
    "turn_request_from_proto",
]

_MODES = {
    chat_pb2.HISTORY_MODE_NONE: HistoryMode.NONE,
    chat_pb2.HISTORY_MODE_CONVERSATION: HistoryMode.CONVERSATION,
    chat_pb2.HISTORY_MODE_USER_DEFAULT: HistoryMode.USER_DEFAULT,
}
_DOORS = {chat_pb2.CHAT_DOOR_V02: Door.V02}
_ROLES_IN = {
    chat_pb2.MESSAGE_ROLE_SYSTEM: "system",
    chat_pb2.MESSAGE_ROLE_DEVELOPER: "system",
    chat_pb2.MESSAGE_ROLE_USER: "user",
    chat_pb2.MESSAGE_ROLE_ASSISTANT: "assistant",
    chat_pb2.MESSAGE_ROLE_TOOL: "tool",
}
_ROLES_OUT = {
    "system": chat_pb2.MESSAGE_ROLE_SYSTEM,
    "user": chat_pb2.MESSAGE_ROLE_USER,
    "assistant": chat_pb2.MESSAGE_ROLE_ASSISTANT,
    "tool": chat_pb2.MESSAGE_ROLE_TOOL,
    "developer": chat_pb2.MESSAGE_ROLE_DEVELOPER,
}


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)  # naive values are UTC, as stored
    return stamp


def datetime_from_proto(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def struct_to_dict(struct: Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def _struct(value: dict[str, Any]) -> Struct:
    struct = Struct()
    struct.update(value)
    return struct


def page_from_proto(page: common_pb2.PageRequest) -> Page:
    return Page(limit=page.limit, offset=page.offset)


# -- turns ----------------------------------------------------------------------------------------------


def turn_request_from_proto(request: chat_pb2.StreamChatRequest, *, streamed: bool) -> TurnRequest:
    """The request of a turn, streamed (StreamChat) or answered whole (Chat)."""
    return TurnRequest(
        message=request.message,
        messages=tuple(Turn(role=_ROLES_IN.get(m.role, "user"), content=m.content) for m in request.messages),
        model=request.model,
        provider=request.provider,
        conversation_id=request.conversation_id,
        history_mode=_MODES.get(request.history_mode),
        use_current_persona=request.use_current_persona,
        persona_id=request.persona_id,
        max_tokens=request.max_tokens if request.HasField("max_tokens") else None,
        temperature=request.temperature if request.HasField("temperature") else None,
        top_p=request.top_p if request.HasField("top_p") else None,
        stop=tuple(request.stop),
        enable_fallback=request.enable_fallback if request.HasField("enable_fallback") else None,
        door=_DOORS.get(request.door),
        streamed=streamed,
    )


def _usage(prompt: int, completion: int) -> common_pb2.Usage:
    return common_pb2.Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _timings(done: TurnCompleted) -> chat_pb2.ChatTimings:
    return chat_pb2.ChatTimings(
        time_to_first_token_ms=done.time_to_first_token_ms,
        llm_time_ms=done.llm_time_ms,
        total_time_ms=done.total_time_ms,
        routing_time_ms=done.routing_time_ms,
    )


def failure_to_proto(error: DomainError) -> common_pb2.Failure:
    """A turn's failure as a stream's terminal ``Failure`` (its status number from the one table)."""
    return common_pb2.Failure(code=failure_code(error), reason=error.reason, message=error.message)


def stream_event_to_proto(event: TurnEvent) -> chat_pb2.StreamChatResponse:
    if isinstance(event, TurnToken):
        return chat_pb2.StreamChatResponse(token=chat_pb2.ChatToken(text=event.text))
    if isinstance(event, TurnStarted):
        return chat_pb2.StreamChatResponse(
            started=chat_pb2.ChatStarted(
                conversation_id=event.conversation_id,
                model=event.model,
                provider=event.provider,
                request_id=event.request_id,
                created=event.created,
                persona_id=event.persona_id,
                conversation_created=event.conversation_created,
            )
        )
    if isinstance(event, TurnCompleted):
        return chat_pb2.StreamChatResponse(
            completed=chat_pb2.ChatCompleted(
                finish_reason=event.finish_reason,
                usage=_usage(event.prompt_tokens, event.completion_tokens),
                timings=_timings(event),
                fallback_used=event.fallback_used,
                message_id=event.message_id,
                model=event.model,
                provider=event.provider,
            )
        )
    assert isinstance(event, TurnFailed)
    return chat_pb2.StreamChatResponse(failed=failure_to_proto(event.error))


def chat_response(started: TurnStarted, text: str, done: TurnCompleted) -> chat_pb2.ChatResponse:
    return chat_pb2.ChatResponse(
        response=text,
        conversation_id=started.conversation_id,
        model=done.model,
        provider=done.provider,
        request_id=started.request_id,
        created=started.created,
        finish_reason=done.finish_reason,
        usage=_usage(done.prompt_tokens, done.completion_tokens),
        timings=_timings(done),
        fallback_used=done.fallback_used,
        message_id=done.message_id,
        persona_id=started.persona_id,
        conversation_created=started.conversation_created,
    )


# -- conversations --------------------------------------------------------------------------------------


def conversation_to_proto(record: ConversationRecord) -> chat_pb2.Conversation:
    message = chat_pb2.Conversation(
        id=record.id,
        title=record.title,
        created_at=timestamp(record.created_at),
        updated_at=timestamp(record.updated_at),
        message_count=record.message_count,
        is_default=record.is_default,
    )
    if record.preview is not None:
        message.preview = record.preview
    return message


def message_to_proto(record: MessageRecord) -> chat_pb2.Message:
    message = chat_pb2.Message(
        id=record.id,
        conversation_id=record.conversation_id,
        role=_ROLES_OUT.get(record.role, chat_pb2.MESSAGE_ROLE_UNSPECIFIED),
        content=record.content,
        created_at=timestamp(record.created_at),
        cut=record.cut,
    )
    if record.model is not None:
        message.model = record.model
    if record.provider is not None:
        message.provider = record.provider
    if record.tokens_used is not None:
        message.tokens_used = record.tokens_used
    return message


# -- personas -------------------------------------------------------------------------------------------


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


def persona_change_from_proto(request: chat_pb2.UpdatePersonaRequest) -> PersonaUpdate:
    return PersonaUpdate(
        name=request.name if request.HasField("name") else None,
        description=request.description if request.HasField("description") else None,
        system_prompt=request.system_prompt if request.HasField("system_prompt") else None,
        personality_traits=struct_to_dict(request.personality_traits)
        if request.HasField("personality_traits")
        else None,
        capabilities=struct_to_dict(request.capabilities) if request.HasField("capabilities") else None,
    )
