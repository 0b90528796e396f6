"""Routes of the conversations area: December's ``/api/v1/conversations*`` and ``/api/v0.3/conversations``,
plus renaming (``PATCH /api/v1/conversations/{id}``, a new route)."""

from __future__ import annotations

from typing import Annotated

from gaia.chat.v1 import chat_pb2
from pydantic import BaseModel, StringConstraints

from compat_gateway.errors import ErrorStyle
from compat_gateway.inbound import Inbound, InputError
from compat_gateway.render import conversations as render
from compat_gateway.routes.table import Route, unary_rows
from compat_gateway.rpcs import CHAT
from compat_gateway.schemas import conversations as schemas

__all__ = ["ROUTES"]

_V1 = "/api/v1/conversations"
_V03 = "/api/v0.3/conversations"


async def _create(inbound: Inbound) -> chat_pb2.CreateConversationRequest:
    body = await inbound.json_object()
    title = body.get("title")
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise InputError(
            [
                {
                    "type": "string_type",
                    "loc": ["body", "title"],
                    "msg": "Input should be a valid string",
                    "input": title,
                }
            ]
        )
    return chat_pb2.CreateConversationRequest(title=title)


def _list(inbound: Inbound) -> chat_pb2.ListConversationsRequest:
    return chat_pb2.ListConversationsRequest(include_default=True)


def _get(inbound: Inbound) -> chat_pb2.GetConversationRequest:
    return chat_pb2.GetConversationRequest(conversation_id=inbound.path_params["conversation_id"])


class _Rename(BaseModel):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _rename(inbound: Inbound) -> chat_pb2.RenameConversationRequest:
    return chat_pb2.RenameConversationRequest(
        conversation_id=inbound.path_params["conversation_id"], title=inbound.body_model.title
    )


def _messages(inbound: Inbound) -> chat_pb2.ListMessagesRequest:
    return chat_pb2.ListMessagesRequest(conversation_id=inbound.path_params["conversation_id"])


def _delete(inbound: Inbound) -> chat_pb2.DeleteConversationRequest:
    return chat_pb2.DeleteConversationRequest(conversation_id=inbound.path_params["conversation_id"])


_row = unary_rows(errors=ErrorStyle.PLAIN)


ROUTES: tuple[Route, ...] = (
    _row(
        "POST",
        _V1,
        "v1_conversations_create",
        CHAT.CreateConversation,
        _create,
        render.conversation,
        status_code=201,
        summary="Create a conversation",
        response=schemas.Conversation,
    ),
    _row(
        "GET",
        _V1,
        "v1_conversations_list",
        CHAT.ListConversations,
        _list,
        render.conversation_list,
        summary="List the caller's conversations, most recently updated first",
        response=schemas.ConversationList,
    ),
    _row(
        "GET",
        _V1 + "/{conversation_id}",
        "v1_conversations_get",
        CHAT.GetConversation,
        _get,
        render.conversation,
        summary="One conversation",
        response=schemas.Conversation,
    ),
    _row(
        "PATCH",
        _V1 + "/{conversation_id}",
        "v1_conversations_rename",
        CHAT.RenameConversation,
        _rename,
        render.conversation,
        body=_Rename,
        summary="Rename a conversation",
        response=schemas.Conversation,
    ),
    _row(
        "GET",
        _V1 + "/{conversation_id}/messages",
        "v1_conversations_messages",
        CHAT.ListMessages,
        _messages,
        render.message_list,
        summary="A conversation's messages, oldest first",
        response=schemas.MessageList,
    ),
    _row(
        "DELETE",
        _V1 + "/{conversation_id}",
        "v1_conversations_delete",
        CHAT.DeleteConversation,
        _delete,
        render.deleted,
        status_code=204,
        summary="Delete a conversation",
    ),
    _row(
        "GET",
        _V03,
        "v03_conversations_list",
        CHAT.ListConversations,
        _list,
        render.v03_list,
        summary="List the caller's conversations (v0.3)",
        response=schemas.V03ConversationList,
    ),
    _row(
        "POST",
        _V03,
        "v03_conversations_create",
        CHAT.CreateConversation,
        _create,
        render.created_v03,
        status_code=201,
        summary="Create a conversation (v0.3)",
        response=schemas.V03ConversationCreated,
    ),
    _row(
        "GET",
        _V03 + "/{conversation_id}/messages",
        "v03_conversations_messages",
        CHAT.ListMessages,
        _messages,
        render.v03_messages,
        summary="A conversation's messages, oldest first, each marked when it was cut short (v0.3)",
        response=schemas.V03MessageList,
    ),
)
