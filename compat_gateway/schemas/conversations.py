"""Response models of the conversation routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Conversation",
    "ConversationList",
    "Message",
    "MessageList",
    "V03Conversation",
    "V03ConversationCreated",
    "V03ConversationList",
]


class Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    preview: str | None
    created_at: str
    updated_at: str


class ConversationList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversations: list[Conversation]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    role: str = Field(description="user, assistant or system")
    content: str
    model: str | None
    provider: str | None
    tokens_used: int | None
    created_at: str


class MessageList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[Message]


class V03Message(Message):
    cut: bool = Field(description="true for a reply cut short (stopped by the client or a provider failure)")


class V03MessageList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str
    messages: list[V03Message]


class V03Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str
    title: str
    created_at: str


class V03ConversationList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversations: list[V03Conversation]


class V03ConversationCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str
    title: str
