"""Conversations and messages in the December shapes (``/api/v1/conversations*``, ``/api/v0.3/...``)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from gaia.chat.v1 import chat_pb2

from compat_gateway.inbound import Inbound
from compat_gateway.render.timestamps import naive_iso

__all__ = [
    "conversation",
    "conversation_list",
    "created_v03",
    "deleted",
    "message_list",
    "v03_list",
    "v03_messages",
]

_ROLE_PREFIX = "MESSAGE_ROLE_"


def _conversation(item: chat_pb2.Conversation) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "preview": item.preview if item.HasField("preview") else None,
        "created_at": naive_iso(item.created_at),
        "updated_at": naive_iso(item.updated_at),
    }


def _message(item: chat_pb2.Message) -> dict[str, Any]:
    return {
        "id": item.id,
        "role": chat_pb2.MessageRole.Name(item.role).removeprefix(_ROLE_PREFIX).lower(),
        "content": item.content,
        "model": item.model if item.HasField("model") else None,
        "provider": item.provider if item.HasField("provider") else None,
        "tokens_used": item.tokens_used if item.HasField("tokens_used") else None,
        "created_at": naive_iso(item.created_at),
    }


def conversation(reply: Any, inbound: Inbound) -> dict[str, Any]:
    return _conversation(reply.conversation)


def conversation_list(reply: chat_pb2.ListConversationsResponse, inbound: Inbound) -> dict[str, Any]:
    return {"conversations": [_conversation(item) for item in reply.conversations]}


def message_list(reply: chat_pb2.ListMessagesResponse, inbound: Inbound) -> dict[str, Any]:
    return {"messages": [_message(item) for item in reply.messages]}


def v03_messages(reply: chat_pb2.ListMessagesResponse, inbound: Inbound) -> dict[str, Any]:
    """v0.3's own listing: the December message shape plus ``cut`` (what the web UI marks as stopped)."""
    return {
        "conversation_id": inbound.path_params["conversation_id"],
        "messages": [{**_message(item), "cut": item.cut} for item in reply.messages],
    }


def deleted(reply: chat_pb2.DeleteConversationResponse, inbound: Inbound) -> Response:
    return Response(status_code=204)


def v03_list(reply: chat_pb2.ListConversationsResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "conversations": [
            {"conversation_id": item.id, "title": item.title, "created_at": naive_iso(item.created_at)}
            for item in reply.conversations
        ]
    }


def created_v03(reply: chat_pb2.CreateConversationResponse, inbound: Inbound) -> dict[str, Any]:
    return {"conversation_id": reply.conversation.id, "title": reply.conversation.title}
