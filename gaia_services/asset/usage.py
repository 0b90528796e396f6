"""Usage records: one row per LLM call or generation (``usage_records``), and the per-user sums reports use.

Provider names are reported under the legacy keys: ``anthropic`` counts as ``claude`` and ``openai`` (an
LLM call) as ``openai_gpt``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

__all__ = [
    "LEGACY_PROVIDERS",
    "OperationTotals",
    "ProviderTotals",
    "UsageRecord",
    "UsageStore",
    "canonical_provider",
    "provider_kind",
]

#: The providers every legacy usage report lists, in the reference's order, and what each produces.
LEGACY_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("dalle", "images"),
    ("meshy", "models"),
    ("stability", "images"),
    ("claude", "tokens"),
    ("openai_gpt", "tokens"),
)
_ALIASES = {
    "anthropic": "claude",
    "openai": "openai_gpt",
    "openai_dalle3": "dalle",
    "meshy_ai": "meshy",
    "stability_ai": "stability",
}


def canonical_provider(name: str) -> str:
    return _ALIASES.get(name, name)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    user_id: str
    provider: str
    operation: str
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    images: int = 0
    models_3d: int = 0
    credits: float = 0.0
    cost: Decimal = Decimal(0)
    latency_ms: int | None = None
    conversation_id: str | None = None
    request_id: str | None = None
    status: str = "ok"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProviderTotals:
    provider: str
    cost: Decimal = Decimal(0)
    requests: int = 0
    tokens: int = 0
    images: int = 0
    models: int = 0
    credits: Decimal = Decimal(0)

    def __add__(self, other: ProviderTotals) -> ProviderTotals:
        return ProviderTotals(
            provider=self.provider,
            cost=self.cost + other.cost,
            requests=self.requests + other.requests,
            tokens=self.tokens + other.tokens,
            images=self.images + other.images,
            models=self.models + other.models,
            credits=self.credits + other.credits,
        )


@dataclass(frozen=True, slots=True)
class OperationTotals:
    operation: str
    cost: Decimal
    count: int


def provider_kind(totals: ProviderTotals) -> str:
    """What a provider's usage is counted in: images, models or tokens."""
    known = dict(LEGACY_PROVIDERS)
    if totals.provider in known:
        return known[totals.provider]
    if totals.images:
        return "images"
    if totals.models:
        return "models"
    return "tokens"


_SUMS = """
    SELECT provider, {group} COALESCE(SUM(cost), 0) AS cost, COUNT(*) AS requests,
           COALESCE(SUM(tokens_in + tokens_out), 0) AS tokens, COALESCE(SUM(images), 0) AS images,
           COALESCE(SUM(models_3d), 0) AS models, COALESCE(SUM(credits), 0) AS credits
      FROM usage_records
     WHERE user_id = $1 AND created_at >= $2 AND created_at < $3
     GROUP BY provider {group_by}
"""


def _merge(rows: Sequence[asyncpg.Record]) -> list[ProviderTotals]:
    merged: dict[str, ProviderTotals] = {}
    for row in rows:
        name = canonical_provider(row["provider"])
        totals = ProviderTotals(
            provider=name,
            cost=row["cost"],
            requests=row["requests"],
            tokens=row["tokens"],
            images=row["images"],
            models=row["models"],
            credits=row["credits"],
        )
        merged[name] = merged[name] + totals if name in merged else totals
    return list(merged.values())


class UsageStore:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self,
        record: UsageRecord,
        *,
        conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy | None = None,
    ) -> str:
        usage_id = str(uuid.uuid4())
        query = """
            INSERT INTO usage_records (id, user_id, provider, operation, model, tokens_in, tokens_out,
                                       images, models_3d, credits, cost, latency_ms, conversation_id,
                                       request_id, status, metadata, created_at)
            VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb,
                    COALESCE($17, now()))
        """
        args = (
            usage_id,
            record.user_id,
            record.provider,
            record.operation,
            record.model,
            record.tokens_in,
            record.tokens_out,
            record.images,
            record.models_3d,
            Decimal(str(record.credits)),
            record.cost,
            record.latency_ms,
            record.conversation_id,
            record.request_id,
            record.status,
            json.dumps(dict(record.metadata)),
            record.occurred_at,
        )
        if conn is not None:
            await conn.execute(query, *args)
        else:
            await self._pool.execute(query, *args)
        return usage_id

    async def by_provider(self, user_id: str, start: datetime, end: datetime) -> list[ProviderTotals]:
        rows = await self._pool.fetch(_SUMS.format(group="", group_by=""), user_id, start, end)
        return _merge(rows)

    async def by_day(self, user_id: str, start: datetime, end: datetime) -> dict[date, list[ProviderTotals]]:
        query = _SUMS.format(group="(created_at AT TIME ZONE 'UTC')::date AS day,", group_by=", day")
        rows = await self._pool.fetch(query, user_id, start, end)
        days: dict[date, list[asyncpg.Record]] = {}
        for row in rows:
            days.setdefault(row["day"], []).append(row)
        return {day: _merge(day_rows) for day, day_rows in days.items()}

    async def by_operation(self, user_id: str, start: datetime, end: datetime) -> list[OperationTotals]:
        rows = await self._pool.fetch(
            """
            SELECT operation, COALESCE(SUM(cost), 0) AS cost, COUNT(*) AS count
              FROM usage_records
             WHERE user_id = $1 AND created_at >= $2 AND created_at < $3
             GROUP BY operation
             ORDER BY cost DESC, count DESC, operation
            """,
            user_id,
            start,
            end,
        )
        return [OperationTotals(operation=r["operation"], cost=r["cost"], count=r["count"]) for r in rows]
