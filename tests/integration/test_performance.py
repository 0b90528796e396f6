"""Performance routes through the real mesh: recorded shapes, figures from recorded calls, a shared reset."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.integration._callers import Callers, make_callers
from tests.support.infra import Infra
from tests.support.mesh import Mesh
from tests.support.recorded import load, normalise

_BASE = "/api/v0.2/performance"


@pytest.fixture(scope="session")
async def callers(mesh: Mesh, infra: Infra) -> Callers:
    return await make_callers(infra)


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(infra.database_url)
    try:
        yield conn
    finally:
        await conn.close()


async def call(http: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str]) -> Any:
    async with http.request(method, path, headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.headers["content-type"] == "application/json"
        return json.loads(await response.read())


def keys(value: Any) -> Any:
    """The key structure of a body (dict keys in order, recursively; list items by their first element)."""
    if isinstance(value, dict):
        return [(k, keys(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return type(value).__name__


async def test_after_a_reset_every_route_answers_the_recorded_empty_bodies(
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    headers = callers.a.key_headers()
    reset = await call(http, "DELETE", f"{_BASE}/reset", headers)
    assert keys(reset) == keys(load("v02_performance_reset").json())
    assert reset["previous_data_summary"]["data_collection_period"]["end"] == reset["reset_timestamp"]

    summary = await call(http, "GET", f"{_BASE}/summary", callers.b.jwt_headers())
    assert normalise(summary) == normalise(load("v02_performance_summary").json())
    assert summary["data_since"] == reset["reset_timestamp"]  # the reset is shared through Postgres

    health = await call(http, "GET", f"{_BASE}/health", headers)
    assert normalise(health) == normalise(load("v02_performance_health").json())

    live = await call(http, "GET", f"{_BASE}/live", callers.b.key_headers())
    recorded_live = load("v02_performance_live").json()
    assert keys(live) == keys(recorded_live)
    assert live["active_requests"] == recorded_live["active_requests"]
    assert live["system_metrics"]["requests_per_minute"] == 0.0
    assert 5 < live["system_metrics"]["memory_usage_mb"] < 1024  # the chat process's real RSS

    stages = await call(http, "GET", f"{_BASE}/stages?limit=10", headers)
    recorded_stages = load("v02_performance_stages").json()
    assert list(stages["stage_timings"]) == list(recorded_stages["stage_timings"])
    assert keys(stages) == keys(recorded_stages)
    assert stages["limit_applied"] == 10
    assert all(t["samples"] == 0 for t in stages["stage_timings"].values())

    providers = await call(http, "GET", f"{_BASE}/providers", callers.a.jwt_headers())
    recorded_providers = load("v02_performance_providers").json()
    assert list(providers) == list(recorded_providers)
    assert list(providers["providers"]) == ["claude", "openai"]
    assert keys(providers["providers"]["claude"]) == keys(
        {**recorded_providers["providers"]["claude"], "last_error": None}
    )
    assert providers["providers"]["claude"]["total_requests"] == 0


async def test_figures_come_from_recorded_calls_and_reset_clears_them(
    http: aiohttp.ClientSession, callers: Callers, db: asyncpg.Connection
) -> None:
    headers = callers.a.key_headers()
    await call(http, "DELETE", f"{_BASE}/reset", headers)
    tag = f"performance-{uuid.uuid4().hex}"
    rows = [
        ("claude", "ok", 1000, 40),
        ("claude", "ok", 3000, 80),
        ("claude", "error", 500, 0),
        ("openai", "ok", 1500, 30),
    ]
    await db.executemany(
        """INSERT INTO usage_records (provider, operation, model, tokens_in, tokens_out, latency_ms,
                                      request_id, status)
           VALUES ($1, 'chat', 'm', 10, $4, $3, $5, $2)""",
        [(p, s, latency, out, tag) for p, s, latency, out in rows],
    )
    try:
        summary = await call(http, "GET", f"{_BASE}/summary", headers)
        figures = summary["summary"]
        assert figures["total_requests"] == 4
        assert (
            figures["average_response_time"],
            figures["min_response_time"],
            figures["max_response_time"],
        ) == (1.5, 0.5, 3.0)
        assert figures["requests_last_hour"] == figures["requests_last_24h"] == 4
        assert figures["active_requests"] == 0
        assert summary["providers"]["claude"]["total_requests"] == 3
        assert summary["providers"]["claude"]["error_rate"] == 33.33

        providers = (await call(http, "GET", f"{_BASE}/providers", headers))["providers"]
        claude = providers["claude"]
        assert (claude["total_requests"], claude["total_tokens"], claude["error_rate"]) == (3, 150, 33.33)
        assert claude["tokens_per_second"] == round(120 / 4.5, 1)
        assert claude["last_error"] is not None and claude["status"] == "degraded"  # 1 error in 3

        stages = await call(http, "GET", f"{_BASE}/stages?limit=3", headers)
        llm = stages["stage_timings"]["llm_api_call"]
        assert llm["samples"] == 3 and llm["percentage_of_total"] == 100.0
        assert stages["analysis"]["slowest_stages"][0]["stage"] == "llm_api_call"

        health = await call(http, "GET", f"{_BASE}/health", headers)
        assert health["metrics"]["requests_analyzed"] == 4
        assert health["metrics"]["error_rate_percent"] == 25.0
        assert health["health_status"] == "critical" and health["alerts"] == ["High error rate: 25.0%"]

        reset = await call(http, "DELETE", f"{_BASE}/reset", callers.b.jwt_headers())
        previous = reset["previous_data_summary"]
        assert (previous["total_requests"], previous["total_providers"]) == (4, 2)
        assert (await call(http, "GET", f"{_BASE}/summary", headers))["summary"]["total_requests"] == 0
    finally:
        await db.execute("DELETE FROM usage_records WHERE request_id = $1", tag)


async def test_a_real_chat_turn_is_timed_by_stage(http: aiohttp.ClientSession, callers: Callers) -> None:
    headers = callers.a.key_headers()
    await call(http, "DELETE", f"{_BASE}/reset", headers)
    body = {"message": "time me", "model": "gaia-local"}
    async with http.post("/api/v0.2/chat", json=body, headers=headers) as response:
        assert response.status == 200
    stages = (await call(http, "GET", f"{_BASE}/stages?limit=10", headers))["stage_timings"]
    assert stages["provider_selection"]["samples"] == 1
    assert stages["llm_api_call"]["samples"] == 1
    assert stages["llm_api_call"]["average_duration"] >= 0.0
    live = await call(http, "GET", f"{_BASE}/live", headers)
    assert live["active_requests"]["count"] == 0  # the turn is over: nothing left in flight
