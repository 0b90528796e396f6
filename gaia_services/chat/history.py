"""The stored side of a chat turn: which conversation it goes to, the history the model sees, and the
two turns written back (Postgres ``conversations`` / ``chat_messages``), always scoped to the caller.

History modes (chat.proto ``HistoryMode``): ``none`` (a new conversation holds the exchange, the model sees
no history), ``conversation`` (the given conversation; empty or ``"new"`` creates one), ``user_default``
(the caller's default conversation, created on first use; a given id overrides it).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

from gaia_services.chat.providers import Turn
from gaia_services.chat.usage import UsageEntry
from gaia_services.runtime.errors import NotFound

__all__ = ["ChatHistory", "HistoryMode", "Placement", "StoredTurn", "title_for"]

_TITLE_CHARS = 50


class HistoryMode(StrEnum):
    NONE = "none"
    CONVERSATION = "conversation"
    USER_DEFAULT = "user_default"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a turn goes. ``created``: the conversation is new to the caller; ``pending``: its row does not
    exist yet and is written with the turn (``store``), so a refused or failed plan leaves nothing behind."""

    conversation_id: str
    created: bool
    pending: bool = False


@dataclass(frozen=True, slots=True)
class StoredTurn:
    """What one turn leaves in the database."""

    user_id: str
    placement: Placement
    request_id: str
    user_text: str
    reply: str | None  # None: nothing was said, only the user turn is kept
    partial: bool
    usage: UsageEntry


def title_for(message: str) -> str:
    """The December rule: the first 50 characters of the message, plus "..." when it was longer."""
    text = message.strip() or "New Conversation"
    return text[:_TITLE_CHARS] + ("..." if len(text) > _TITLE_CHARS else "")


def _not_found(conversation_id: str) -> NotFound:
    return NotFound(f"Conversation {conversation_id} not found")


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
# Everything a finished (or cut, or failed) turn writes, in one statement: one round trip and one commit
# per turn on the hot path. A conversation that the turn itself opened ($12) is inserted here, with its
# title and preview; an existing one is touched (a conversation created empty, "New Conversation", takes
# its title from its first message, as one created by a chat turn does; the preview follows the latest
# exchange). The two turns are one INSERT in order (seq), the reply only when there is one ($5 not null);
# the usage row goes with them. Foreign keys are checked at the end of the statement, so the messages may
# reference the conversation inserted beside them.
_STORE = """
WITH opened AS (
    INSERT INTO conversations (id, user_id, title, preview, is_default)
    SELECT $2, $1, $10, $11, false WHERE $12
), touched AS (
    UPDATE conversations
       SET updated_at = (now() AT TIME ZONE 'utc'),
           title = CASE WHEN title = 'New Conversation' AND NOT is_default THEN $10 ELSE title END,
           preview = $11
     WHERE id = $2 AND NOT $12
), written AS (
    INSERT INTO chat_messages (user_id, conversation_id, role, content, model, provider, tokens_used,
                               is_partial, request_id)
    SELECT $1, $2, turn.role, turn.content, turn.model, turn.provider, turn.tokens, turn.partial, $3
      FROM (VALUES (1, 'user', $4::text, NULL::varchar, NULL::varchar, NULL::integer, false),
                   (2, 'assistant', $5::text, $6::varchar, $7::varchar, $8::integer, $9::boolean))
           AS turn(ord, role, content, model, provider, tokens, partial)
     WHERE turn.content IS NOT NULL
     ORDER BY turn.ord
    RETURNING id, role
), used AS (
    INSERT INTO usage_records (user_id, provider, operation, model, tokens_in, tokens_out, cost, latency_ms,
                               conversation_id, request_id, status, metadata)
    VALUES ($1, $7, $13, $6, $14, $15, $16, $17, $2, $3, $18, $19::jsonb)
)
SELECT id FROM written WHERE role = 'assistant'
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

    async def place(self, *, user_id: str, mode: HistoryMode, conversation_id: str) -> Placement:
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
        return Placement(str(uuid.uuid4()), created=True, pending=True)

    async def turns(self, *, user_id: str, conversation_id: str) -> list[Turn]:
        rows = await self._pool.fetch(_HISTORY, uuid.UUID(conversation_id), uuid.UUID(user_id), self._limit)
        return [Turn(role=row["role"], content=row["content"]) for row in rows]

    async def store(self, turn: StoredTurn) -> str:
        """Write the turn (user message, reply unless None, the conversation, the usage row) in one
        statement; the reply's id ("" without a reply)."""
        user, conversation = uuid.UUID(turn.user_id), uuid.UUID(turn.placement.conversation_id)
        usage = turn.usage
        latest = (turn.reply if turn.reply else turn.user_text).strip()
        reply_id = await self._pool.fetchval(
            _STORE,
            user,
            conversation,
            turn.request_id,
            turn.user_text,
            turn.reply,
            usage.model,
            usage.provider,
            usage.tokens_out if turn.reply is not None else None,
            turn.partial,
            title_for(turn.user_text),
            latest[:_PREVIEW_CHARS],
            turn.placement.pending,
            usage.operation,
            max(0, usage.tokens_in),
            max(0, usage.tokens_out),
            usage.cost,
            max(0, usage.latency_ms),
            usage.status,
            json.dumps(usage.metadata),
        )
        return "" if reply_id is None else str(reply_id)

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
