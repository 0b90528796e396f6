"""Provider figures computed from what really happened: the ``usage_records`` row of every LLM call.

Also keeps the one shared "measurements reset at" instant (table ``chat_performance_state``), so that every
chat replica reports performance from the same starting point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

__all__ = ["CallFigures", "ProviderStats", "RecentCalls"]


@dataclass(frozen=True, slots=True)
class CallFigures:
    """Totals over a set of LLM calls (one provider, or all of them)."""

    provider: str
    requests: int = 0
    tokens: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    errors: int = 0
    avg_latency_ms: float = 0.0
    min_latency_ms: float = 0.0
    max_latency_ms: float = 0.0
    latency_sum_ms: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    slow: int = 0
    last_request: datetime | None = None
    last_error: datetime | None = None
    last_error_message: str = ""

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class RecentCalls:
    """Request counts over the last minute, hour and day."""

    last_minute: int = 0
    last_hour: int = 0
    last_day: int = 0


_FIGURES = """
    count(*) AS requests,
    COALESCE(sum(tokens_in + tokens_out), 0) AS tokens,
    COALESCE(sum(tokens_out), 0) AS tokens_out,
    COALESCE(sum(cost), 0)::float8 AS cost,
    count(*) FILTER (WHERE status = 'error') AS errors,
    COALESCE(avg(latency_ms), 0)::float8 AS avg_ms,
    COALESCE(min(latency_ms), 0)::float8 AS min_ms,
    COALESCE(max(latency_ms), 0)::float8 AS max_ms,
    COALESCE(sum(latency_ms), 0)::float8 AS sum_ms,
    COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), 0)::float8 AS p50,
    COALESCE(percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), 0)::float8 AS p95,
    COALESCE(percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms), 0)::float8 AS p99,
    count(*) FILTER (WHERE latency_ms > $3) AS slow,
    max(created_at) AS last_request,
    max(created_at) FILTER (WHERE status = 'error') AS last_error,
    (array_agg(metadata->>'error' ORDER BY created_at DESC) FILTER (WHERE status = 'error'))[1]
        AS last_error_message
"""

_WHERE = "provider = ANY($1::text[]) AND ($2::timestamptz IS NULL OR created_at >= $2)"


def _figures(provider: str, row: asyncpg.Record | None) -> CallFigures:
    if row is None or not row["requests"]:
        return CallFigures(provider=provider)
    return CallFigures(
        provider=provider,
        requests=int(row["requests"]),
        tokens=int(row["tokens"]),
        tokens_out=int(row["tokens_out"]),
        cost=float(row["cost"]),
        errors=int(row["errors"]),
        avg_latency_ms=float(row["avg_ms"]),
        min_latency_ms=float(row["min_ms"]),
        max_latency_ms=float(row["max_ms"]),
        latency_sum_ms=float(row["sum_ms"]),
        p50_ms=float(row["p50"]),
        p95_ms=float(row["p95"]),
        p99_ms=float(row["p99"]),
        slow=int(row["slow"]),
        last_request=row["last_request"],
        last_error=row["last_error"],
        last_error_message=row["last_error_message"] or "",
    )


class ProviderStats:
    """Read-only queries over ``usage_records`` for the LLM providers of the catalogue."""

    def __init__(self, *, pool: asyncpg.Pool, slow_ms: int = 5000) -> None:
        self._pool = pool
        self._slow_ms = slow_ms

    async def per_provider(
        self, providers: Sequence[str], *, since: datetime | None = None
    ) -> list[CallFigures]:
        """One entry per provider asked for, in that order (zeros when it has no calls)."""
        rows = await self._pool.fetch(
            f"SELECT provider, {_FIGURES} FROM usage_records WHERE {_WHERE} GROUP BY provider",
            list(providers),
            since,
            self._slow_ms,
        )
        by_provider = {row["provider"]: row for row in rows}
        return [_figures(p, by_provider.get(p)) for p in providers]

    async def overall(self, providers: Sequence[str], *, since: datetime | None = None) -> CallFigures:
        row = await self._pool.fetchrow(
            f"SELECT {_FIGURES} FROM usage_records WHERE {_WHERE}", list(providers), since, self._slow_ms
        )
        return _figures("", row)

    async def recent(self, providers: Sequence[str], *, since: datetime | None = None) -> RecentCalls:
        row = await self._pool.fetchrow(
            f"""SELECT count(*) FILTER (WHERE created_at >= now() - interval '1 minute') AS minute,
                       count(*) FILTER (WHERE created_at >= now() - interval '1 hour') AS hour,
                       count(*) FILTER (WHERE created_at >= now() - interval '1 day') AS day
                  FROM usage_records WHERE {_WHERE}""",
            list(providers),
            since,
        )
        assert row is not None
        return RecentCalls(
            last_minute=int(row["minute"]), last_hour=int(row["hour"]), last_day=int(row["day"])
        )

    async def latencies(self, providers: Sequence[str], *, since: datetime | None, limit: int) -> list[float]:
        """The latencies (ms) of the most recent ``limit`` calls."""
        rows = await self._pool.fetch(
            f"""SELECT latency_ms FROM usage_records WHERE {_WHERE} AND latency_ms IS NOT NULL
                 ORDER BY created_at DESC LIMIT $3""",
            list(providers),
            since,
            limit,
        )
        return [float(row["latency_ms"]) for row in rows]

    async def now(self) -> datetime:
        value = await self._pool.fetchval("SELECT now()")
        assert isinstance(value, datetime)
        return value

    async def reset_at(self) -> datetime:
        value = await self._pool.fetchval("SELECT reset_at FROM chat_performance_state")
        if value is None:
            value = await self._pool.fetchval(
                "INSERT INTO chat_performance_state DEFAULT VALUES ON CONFLICT (id) DO UPDATE SET id = true "
                "RETURNING reset_at"
            )
        assert isinstance(value, datetime)
        return value

    async def reset(self) -> tuple[datetime, datetime]:
        """Start measuring afresh on every replica: returns (previous reset instant, new one)."""
        previous = await self.reset_at()
        async with self._pool.acquire() as conn, conn.transaction():
            previous = (
                await conn.fetchval("SELECT reset_at FROM chat_performance_state FOR UPDATE") or previous
            )
            now = await conn.fetchval(
                "UPDATE chat_performance_state SET reset_at = clock_timestamp() RETURNING reset_at"
            )
        return previous, now
