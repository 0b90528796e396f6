"""The stored side of a chat turn: which conversation it goes to, the history the model sees, and the
two turns written back (Postgres ``conversations`` / ``chat_messages``), always scoped to the caller.

History modes (chat.proto ``HistoryMode``): ``none`` (a new conversation holds the exchange, the model sees
no history), ``conversation`` (the given conversation; empty or ``"new"`` creates one), ``user_default``
(the caller's default conversation, created on first use; a given id overrides it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

from gaia_services.chat.providers import Turn
from gaia_services.runtime.errors import NotFound

__all__ = ["ChatHistory", "HistoryMode", "Placement", "title_for"]

_TITLE_CHARS = 50


class HistoryMode(StrEnum):
    NONE = "none"
    CONVERSATION = "conversation"
    USER_DEFAULT = "user_default"


@dataclass(frozen=True, slots=True)
class Placement:
    conversation_id: str
    created: bool


def title_for(message: str) -> str:
    """The December rule: the first 50 characters of the message, plus "..." when it was longer."""
    text = message.strip() or "New Conversation"
    return text[:_TITLE_CHARS] + ("..." if len(text) > _TITLE_CHARS else "")


def _not_found(conversation_id: str) -> NotFound:
    return NotFound(f"Conversation {conversation_id} not found")


_CREATE = """
INSERT INTO conversations (user_id, title, is_default) VALUES ($1, $2, $3) RETURNING id
"""
_OWNED = "SELECT id FROM conversations WHERE id = $1 AND user_id = $2 AND is_active"
_DEFAULT = "SELECT id FROM conversations WHERE user_id = $1 AND is_default AND is_active"
_CREATE_DEFAULT = """
INSERT INTO conversations (user_id, title, is_default) VALUES ($1, 'New Conversation', true)
ON CONFLICT (user_id) WHERE is_default AND is_active DO NOTHING RETURNING id
"""
_HISTORY = """
SELECT role, content FROM (
    SELECT role, content, created_at, seq FROM chat_messages
     WHERE conversation_id = $1 AND user_id = $2 AND content <> '' AND role IN ('user', 'assistant', 'system')
     ORDER BY created_at DESC, seq DESC LIMIT $3
) recent ORDER BY created_at, seq
"""
_INSERT = """
INSERT INTO chat_messages (user_id, conversation_id, role, content, model, provider, tokens_used, is_partial,
                           request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
"""
# A conversation created empty ("New Conversation") takes its title from its first message, as one created
# by a chat turn does; the preview follows the latest exchange.
_TOUCH = """
UPDATE conversations
   SET updated_at = (now() AT TIME ZONE 'utc'),
       title = CASE WHEN title = 'New Conversation' AND NOT is_default THEN $2 ELSE title END,
       preview = $3
 WHERE id = $1
"""
_PREVIEW_CHARS = 100
_COUNT = """
SELECT count(*) FROM chat_messages m JOIN conversations c ON c.id = m.conversation_id
 WHERE m.conversation_id = $1 AND c.user_id = $2 AND c.is_active AND m.role <> 'system'
"""
_CLEAR_DEFAULT = """
UPDATE conversations c SET is_active = false
 WHERE user_id = $1 AND is_default AND is_active
RETURNING id, (SELECT count(*) FROM chat_messages m WHERE m.conversation_id = c.id AND m.role <> 'system')
"""
_CLEAR_ONE = """
WITH gone AS (DELETE FROM chat_messages m USING conversations c
               WHERE m.conversation_id = c.id AND c.id = $1 AND c.user_id = $2 AND c.is_active
              RETURNING m.role)
SELECT count(*) FILTER (WHERE role <> 'system') FROM gone
"""


class ChatHistory:
    def __init__(self, *, pool: asyncpg.Pool, history_limit: int = 50) -> None:
        self._pool = pool
        self._limit = history_limit

    async def _owned(self, user_id: str, conversation_id: str) -> str:
        try:
            key = uuid.UUID(conversation_id)
        except ValueError as exc:
            raise _not_found(conversation_id) from exc
        found = await self._pool.fetchval(_OWNED, key, uuid.UUID(user_id))
        if found is None:
            raise _not_found(conversation_id)
        return str(found)

    async def default_conversation(self, user_id: str, *, create: bool) -> str | None:
        user = uuid.UUID(user_id)
        found = await self._pool.fetchval(_DEFAULT, user)
        if found is None and create:
            found = await self._pool.fetchval(_CREATE_DEFAULT, user)
            if found is None:  # created concurrently by another turn
                found = await self._pool.fetchval(_DEFAULT, user)
        return None if found is None else str(found)

    async def place(
        self, *, user_id: str, mode: HistoryMode, conversation_id: str, message: str
    ) -> Placement:
        """Where this turn is stored; NotFound for an unknown, deleted or foreign conversation."""
        wanted = conversation_id.strip()
        if wanted and wanted != "new":
            return Placement(await self._owned(user_id, wanted), created=False)
        if mode is HistoryMode.USER_DEFAULT and not wanted:
            existing = await self.default_conversation(user_id, create=False)
            if existing is not None:
                return Placement(existing, created=False)
            created = await self.default_conversation(user_id, create=True)
            assert created is not None
            return Placement(created, created=True)
        new_id = await self._pool.fetchval(_CREATE, uuid.UUID(user_id), title_for(message), False)
        return Placement(str(new_id), created=True)

    async def turns(self, *, user_id: str, conversation_id: str) -> list[Turn]:
        rows = await self._pool.fetch(_HISTORY, uuid.UUID(conversation_id), uuid.UUID(user_id), self._limit)
        return [Turn(role=row["role"], content=row["content"]) for row in rows]

    async def store(
        self,
        *,
        user_id: str,
        conversation_id: str,
        request_id: str,
        user_text: str,
        reply: str | None,
        model: str,
        provider: str,
        tokens_used: int | None,
        partial: bool,
    ) -> str:
        """Write the user turn and (unless ``reply`` is None) the reply in one transaction; the reply's id."""
        user, conversation = uuid.UUID(user_id), uuid.UUID(conversation_id)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                _INSERT, user, conversation, "user", user_text, None, None, None, False, request_id
            )
            reply_id = ""
            if reply is not None:
                reply_id = str(
                    await conn.fetchval(
                        _INSERT,
                        user,
                        conversation,
                        "assistant",
                        reply,
                        model,
                        provider,
                        tokens_used,
                        partial,
                        request_id,
                    )
                )
            latest = (reply if reply else user_text).strip()
            await conn.execute(_TOUCH, conversation, title_for(user_text), latest[:_PREVIEW_CHARS])
        return reply_id

    async def count(self, *, user_id: str, conversation_id: str) -> tuple[str, int]:
        """The number of non-system messages in a conversation (the caller's default one when empty)."""
        if conversation_id:
            target = await self._owned(user_id, conversation_id)
        else:
            found = await self.default_conversation(user_id, create=False)
            if found is None:
                return "", 0
            target = found
        return target, int(await self._pool.fetchval(_COUNT, uuid.UUID(target), uuid.UUID(user_id)))

    async def clear(self, *, user_id: str, conversation_id: str) -> tuple[str, int]:
        """Clear a conversation's messages, or retire the default conversation (its messages are kept
        in the database, no longer the caller's chat history); the id and the number of messages cleared."""
        if conversation_id:
            target = await self._owned(user_id, conversation_id)
            return target, int(await self._pool.fetchval(_CLEAR_ONE, uuid.UUID(target), uuid.UUID(user_id)))
        row = await self._pool.fetchrow(_CLEAR_DEFAULT, uuid.UUID(user_id))
        if row is None:
            return "", 0
        return str(row["id"]), int(row[1])
