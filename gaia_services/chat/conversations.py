"""Conversations and their stored messages (Postgres ``conversations`` / ``chat_messages``), per user.

Every read and write is scoped to the calling user: an id that is unknown, soft-deleted, foreign or not a
UUID is ``NotFound("Not found")`` (the December gateway's answer), never a database error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from gaia_services.runtime.errors import InvalidArgument, NotFound

__all__ = [
    "DEFAULT_TITLE",
    "NOT_FOUND",
    "ConversationRecord",
    "Conversations",
    "MessageRecord",
    "Page",
    "parse_id",
]

DEFAULT_TITLE = "New Conversation"
NOT_FOUND = "Not found"
_MAX_TITLE = 255
_PREVIEW_CHARS = 100


@dataclass(frozen=True, slots=True)
class Page:
    """Offset paging; ``limit`` 0 means everything."""

    limit: int = 0
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: str
    title: str
    preview: str | None
    created_at: datetime  # naive UTC, as stored
    updated_at: datetime
    message_count: int
    is_default: bool


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    conversation_id: str
    role: str
    content: str
    model: str | None
    provider: str | None
    tokens_used: int | None
    created_at: datetime  # naive UTC, as stored
    cut: bool


def parse_id(value: str) -> uuid.UUID:
    """A conversation id as a UUID, or NotFound (a malformed id names nothing)."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError) as exc:
        raise NotFound(NOT_FOUND) from exc


_COLUMNS = """
    c.id, c.title, c.is_default, c.created_at, c.updated_at,
    COALESCE(NULLIF(c.preview, ''), (
        SELECT left(m.content, $PREVIEW) FROM chat_messages m
         WHERE m.conversation_id = c.id AND m.content <> ''
         ORDER BY m.created_at DESC, m.seq DESC LIMIT 1)) AS preview,
    (SELECT count(*) FROM chat_messages m WHERE m.conversation_id = c.id) AS message_count
""".replace("$PREVIEW", str(_PREVIEW_CHARS))


def _conversation(row: asyncpg.Record) -> ConversationRecord:
    return ConversationRecord(
        id=str(row["id"]),
        title=row["title"],
        preview=row["preview"] or None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        message_count=int(row["message_count"]),
        is_default=bool(row["is_default"]),
    )


def _message(row: asyncpg.Record) -> MessageRecord:
    return MessageRecord(
        id=str(row["id"]),
        conversation_id=str(row["conversation_id"]),
        role=row["role"],
        content=row["content"],
        model=row["model"],
        provider=row["provider"],
        tokens_used=row["tokens_used"],
        created_at=row["created_at"],
        cut=bool(row["is_partial"]),
    )


def _clean_title(title: str) -> str:
    title = title.strip()
    if len(title) > _MAX_TITLE:
        raise InvalidArgument(f"Title longer than {_MAX_TITLE} characters")
    return title or DEFAULT_TITLE


def _paging(page: Page, first_param: int) -> tuple[str, list[int]]:
    if page.limit < 0 or page.offset < 0:
        raise InvalidArgument("Paging values must not be negative")
    sql = f" OFFSET ${first_param}"
    params = [page.offset]
    if page.limit:
        sql += f" LIMIT ${first_param + 1}"
        params.append(page.limit)
    return sql, params


class Conversations:
    """CRUD over one user's conversations; chat turns themselves are written by the streaming side."""

    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, *, user_id: str, title: str = "") -> ConversationRecord:
        row = await self._pool.fetchrow(
            f"""WITH c AS (INSERT INTO conversations (user_id, title) VALUES ($1, $2) RETURNING *)
                SELECT {_COLUMNS} FROM c""",
            uuid.UUID(user_id),
            _clean_title(title),
        )
        assert row is not None
        return _conversation(row)

    async def listing(
        self, *, user_id: str, include_default: bool = True, page: Page = Page()
    ) -> tuple[list[ConversationRecord], int]:
        where = "c.user_id = $1 AND c.is_active" + ("" if include_default else " AND NOT c.is_default")
        paging, params = _paging(page, 2)
        async with self._pool.acquire() as conn:
            total = await conn.fetchval(
                f"SELECT count(*) FROM conversations c WHERE {where}", uuid.UUID(user_id)
            )
            rows = await conn.fetch(
                f"""SELECT {_COLUMNS} FROM conversations c WHERE {where}
                     ORDER BY c.updated_at DESC, c.created_at DESC, c.id{paging}""",
                uuid.UUID(user_id),
                *params,
            )
        return [_conversation(row) for row in rows], int(total)

    async def get(self, *, user_id: str, conversation_id: str) -> ConversationRecord:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM conversations c WHERE c.id = $1 AND c.user_id = $2 AND c.is_active",
            parse_id(conversation_id),
            uuid.UUID(user_id),
        )
        if row is None:
            raise NotFound(NOT_FOUND)
        return _conversation(row)

    async def rename(self, *, user_id: str, conversation_id: str, title: str) -> ConversationRecord:
        row = await self._pool.fetchrow(
            f"""WITH c AS (UPDATE conversations SET title = $3
                            WHERE id = $1 AND user_id = $2 AND is_active RETURNING *)
                SELECT {_COLUMNS} FROM c""",
            parse_id(conversation_id),
            uuid.UUID(user_id),
            _clean_title(title),
        )
        if row is None:
            raise NotFound(NOT_FOUND)
        return _conversation(row)

    async def delete(self, *, user_id: str, conversation_id: str) -> str:
        """Soft delete; a second delete (or a foreign id) is NotFound."""
        deleted = await self._pool.fetchval(
            """UPDATE conversations SET is_active = false
                WHERE id = $1 AND user_id = $2 AND is_active RETURNING id""",
            parse_id(conversation_id),
            uuid.UUID(user_id),
        )
        if deleted is None:
            raise NotFound(NOT_FOUND)
        return str(deleted)

    async def messages(
        self, *, user_id: str, conversation_id: str, page: Page = Page()
    ) -> tuple[list[MessageRecord], int]:
        """The messages of one of the user's active conversations, oldest first."""
        cid = parse_id(conversation_id)
        paging, params = _paging(page, 2)
        async with self._pool.acquire() as conn:
            owned = await conn.fetchval(
                "SELECT 1 FROM conversations WHERE id = $1 AND user_id = $2 AND is_active",
                cid,
                uuid.UUID(user_id),
            )
            if owned is None:
                raise NotFound(NOT_FOUND)
            total = await conn.fetchval("SELECT count(*) FROM chat_messages WHERE conversation_id = $1", cid)
            rows = await conn.fetch(
                f"""SELECT id, conversation_id, role, content, model, provider, tokens_used, created_at,
                           is_partial
                      FROM chat_messages WHERE conversation_id = $1
                     ORDER BY created_at, seq{paging}""",
                cid,
                *params,
            )
        return [_message(row) for row in rows], int(total)
