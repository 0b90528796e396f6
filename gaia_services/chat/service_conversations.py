"""Chat RPCs for conversations and messages (a mixin of ``ChatServicer``)."""

from __future__ import annotations

from gaia.chat.v1 import chat_pb2
from gaia.common.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from gaia_services.chat.conversations import ConversationRecord, MessageRecord, Page
from gaia_services.chat.parts import ChatParts
from gaia_services.runtime.calls import current_call
from gaia_services.runtime.errors import Unauthenticated

__all__ = ["ConversationRpcs", "caller_id", "timestamp"]

_ROLES = {
    "system": chat_pb2.MESSAGE_ROLE_SYSTEM,
    "user": chat_pb2.MESSAGE_ROLE_USER,
    "assistant": chat_pb2.MESSAGE_ROLE_ASSISTANT,
    "tool": chat_pb2.MESSAGE_ROLE_TOOL,
    "developer": chat_pb2.MESSAGE_ROLE_DEVELOPER,
}


def caller_id() -> str:
    """The authenticated caller's user id (the interceptor has already authenticated the call)."""
    state = current_call.get()
    if state is None or state.principal is None:
        raise Unauthenticated("Not authenticated. Provide a valid JWT or API Key.")
    return state.principal.user_id


def timestamp(value: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)  # type: ignore[arg-type]  # naive values are UTC, as stored
    return stamp


def _page(page: common_pb2.PageRequest) -> Page:
    return Page(limit=page.limit, offset=page.offset)


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
        role=_ROLES.get(record.role, chat_pb2.MESSAGE_ROLE_UNSPECIFIED),
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


class ConversationRpcs:
    _parts: ChatParts

    async def CreateConversation(
        self, request: chat_pb2.CreateConversationRequest, context: aio.ServicerContext
    ) -> chat_pb2.CreateConversationResponse:
        record = await self._parts.conversations.create(user_id=caller_id(), title=request.title)
        return chat_pb2.CreateConversationResponse(conversation=conversation_to_proto(record))

    async def ListConversations(
        self, request: chat_pb2.ListConversationsRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListConversationsResponse:
        records, total = await self._parts.conversations.listing(
            user_id=caller_id(), include_default=request.include_default, page=_page(request.page)
        )
        return chat_pb2.ListConversationsResponse(
            conversations=[conversation_to_proto(r) for r in records], total=total
        )

    async def GetConversation(
        self, request: chat_pb2.GetConversationRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetConversationResponse:
        record = await self._parts.conversations.get(
            user_id=caller_id(), conversation_id=request.conversation_id
        )
        return chat_pb2.GetConversationResponse(conversation=conversation_to_proto(record))

    async def RenameConversation(
        self, request: chat_pb2.RenameConversationRequest, context: aio.ServicerContext
    ) -> chat_pb2.RenameConversationResponse:
        record = await self._parts.conversations.rename(
            user_id=caller_id(), conversation_id=request.conversation_id, title=request.title
        )
        return chat_pb2.RenameConversationResponse(conversation=conversation_to_proto(record))

    async def DeleteConversation(
        self, request: chat_pb2.DeleteConversationRequest, context: aio.ServicerContext
    ) -> chat_pb2.DeleteConversationResponse:
        deleted = await self._parts.conversations.delete(
            user_id=caller_id(), conversation_id=request.conversation_id
        )
        return chat_pb2.DeleteConversationResponse(conversation_id=deleted)

    async def ListMessages(
        self, request: chat_pb2.ListMessagesRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListMessagesResponse:
        records, total = await self._parts.conversations.messages(
            user_id=caller_id(), conversation_id=request.conversation_id, page=_page(request.page)
        )
        return chat_pb2.ListMessagesResponse(messages=[message_to_proto(r) for r in records], total=total)
