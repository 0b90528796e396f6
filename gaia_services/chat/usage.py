"""One ``usage_records`` row per LLM call: provider, model, tokens, cost, latency, caller, conversation."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from gaia_services.chat.llm_config import LLMSettings

__all__ = ["UsageEntry", "UsageRecorder"]

_log = logging.getLogger("gaia.chat.usage")

_INSERT = """
INSERT INTO usage_records (user_id, provider, operation, model, tokens_in, tokens_out, cost, latency_ms,
                           conversation_id, request_id, status, metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
"""


@dataclass(frozen=True, slots=True)
class UsageEntry:
    user_id: str
    provider: str
    model: str
    operation: str  # "chat" or "chat_stream"
    tokens_in: int
    tokens_out: int
    latency_ms: int
    conversation_id: str | None
    request_id: str
    status: str  # ok, error, cut
    metadata: dict[str, Any] = field(default_factory=dict)


class UsageRecorder:
    def __init__(self, *, pool: asyncpg.Pool, settings: LLMSettings) -> None:
        self._pool = pool
        self._settings = settings

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> float:
        price = self._settings.price(model)
        return round(tokens_in * price.input + tokens_out * price.output, 6)

    async def record(self, entry: UsageEntry) -> None:
        """Insert the row; a failure is logged, never raised (usage must not fail a chat turn)."""
        try:
            await self._pool.execute(
                _INSERT,
                uuid.UUID(entry.user_id),
                entry.provider,
                entry.operation,
                entry.model,
                max(0, entry.tokens_in),
                max(0, entry.tokens_out),
                self.cost(entry.model, entry.tokens_in, entry.tokens_out),
                max(0, entry.latency_ms),
                uuid.UUID(entry.conversation_id) if entry.conversation_id else None,
                entry.request_id,
                entry.status,
                json.dumps(entry.metadata),
            )
        except (asyncpg.PostgresError, OSError, ValueError) as exc:
            _log.warning("usage not recorded for %s: %s", entry.request_id, exc)
