"""Providers and models through the real mesh: recorded static bodies, computed health and statistics."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest

from tests.integration._callers import Callers, make_callers
from tests.support.infra import Infra
from tests.support.mesh import Mesh
from tests.support.recorded import load, normalise

STATIC = [
    ("/api/v0.2/providers/claude/models", "v02_providers_claude_models"),
    ("/api/v0.2/providers/openai/models", "v02_providers_openai_models"),
    ("/api/v0.2/providers/nope/models", "v02_providers_nope_models"),
    ("/api/v0.2/models", "v02_models"),
    ("/api/v0.2/models?provider=claude", "v02_models_filter_provider"),
    ("/api/v0.2/models?provider=openai&provider=claude", "v02_models_repeated_query_key"),
    ("/api/v0.2/models/claude-3-haiku-20240307", "v02_models_haiku"),
    ("/api/v0.2/models/nope", "v02_models_nope"),
]


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


async def get(http: aiohttp.ClientSession, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    async with http.get(path, headers=headers) as response:
        assert response.headers["content-type"] == "application/json"
        return response.status, await response.read()


async def record_calls(
    db: asyncpg.Connection,
    tag: str,
    provider: str,
    calls: list[tuple[str, int, int, int]],
    cost: float = 0.001,
) -> None:
    """Rows as the chat side writes them: (status, tokens_in, tokens_out, latency_ms) per LLM call."""
    await db.executemany(
        """INSERT INTO usage_records (provider, operation, model, tokens_in, tokens_out, cost, latency_ms,
                                      request_id, status, metadata)
           VALUES ($1, 'chat', 'm', $2, $3, $4, $5, $6, $7, $8::jsonb)""",
        [
            (
                provider,
                t_in,
                t_out,
                cost,
                latency,
                tag,
                status,
                json.dumps({"error": "boom"} if status == "error" else {}),
            )
            for status, t_in, t_out, latency in calls
        ],
    )


@pytest.mark.parametrize(("path", "fixture"), STATIC)
@pytest.mark.parametrize("kind", ["key", "jwt"])
async def test_static_catalogue_answers_the_recorded_bytes(
    http: aiohttp.ClientSession, callers: Callers, path: str, fixture: str, kind: str
) -> None:
    recorded = load(fixture)
    assert await get(http, path, callers.b.headers(kind)) == (recorded.status, recorded.body)


@pytest.mark.parametrize("kind", ["key", "jwt"])
async def test_provider_list_has_the_recorded_shape(
    http: aiohttp.ClientSession, callers: Callers, kind: str
) -> None:
    status, body = await get(http, "/api/v0.2/providers", callers.a.headers(kind))
    assert status == 200
    ours = json.loads(body)
    for provider in ours["providers"]:
        assert provider["health"] in ("healthy", "warning", "degraded", "unhealthy")
        provider["health"] = "healthy"
    ours["health_status"] = "all_healthy"
    assert normalise(ours) == normalise(load("v02_providers").json())
    assert list(ours) == list(load("v02_providers").json())


async def test_statistics_are_computed_from_recorded_calls(
    http: aiohttp.ClientSession, callers: Callers, db: asyncpg.Connection
) -> None:
    headers = callers.a.key_headers()
    before = json.loads((await get(http, "/api/v0.2/providers/stats", headers))[1])
    recorded = load("v02_providers_stats").json()
    assert list(before) == list(recorded) and list(before["summary"]) == list(recorded["summary"])
    assert list(before["provider_stats"]) == ["claude", "openai"]
    assert list(before["provider_stats"]["claude"]) == list(recorded["provider_stats"]["claude"])
    tag = f"catalogue-{uuid.uuid4().hex}"
    await record_calls(db, tag, "claude", [("ok", 100, 50, 400), ("ok", 10, 5, 600), ("error", 7, 0, 200)])
    try:
        after = json.loads((await get(http, "/api/v0.2/providers/stats", headers))[1])
        old, new = before["provider_stats"]["claude"], after["provider_stats"]["claude"]
        assert new["requests_count"] - old["requests_count"] == 3
        assert new["total_tokens"] - old["total_tokens"] == 172
        assert new["error_count"] - old["error_count"] == 1
        assert round(new["total_cost"] - old["total_cost"], 4) == 0.003
        assert new["last_request"] is not None
        assert after["summary"]["total_requests"] - before["summary"]["total_requests"] == 3
        assert after["provider_stats"]["openai"] == before["provider_stats"]["openai"]
        one = json.loads((await get(http, "/api/v0.2/providers/claude/stats", callers.b.jwt_headers()))[1])
        assert list(one["provider_stats"]) == ["claude"]
        assert one["provider_stats"]["claude"]["requests_count"] == new["requests_count"]
    finally:
        await db.execute("DELETE FROM usage_records WHERE request_id = $1", tag)


async def test_health_follows_recent_errors(
    http: aiohttp.ClientSession, callers: Callers, db: asyncpg.Connection
) -> None:
    headers = callers.a.jwt_headers()
    status, body = await get(http, "/api/v0.2/providers/health", headers)
    assert status == 200
    recorded = load("v02_providers_health").json()
    ours = json.loads(body)
    assert list(ours) == list(recorded) and list(ours["providers"]) == ["claude", "openai"]
    assert list(ours["providers"]["openai"]) == list(recorded["providers"]["openai"])
    tag = f"catalogue-{uuid.uuid4().hex}"
    await record_calls(db, tag, "openai", [("error", 5, 0, 100)] * 300)
    try:
        ours = json.loads((await get(http, "/api/v0.2/providers/openai/health", headers))[1])
        assert list(ours["providers"]) == ["openai"]
        assert ours["providers"]["openai"]["status"] == "unhealthy"
        assert ours["overall_status"] == "unhealthy"
        assert ours["providers"]["openai"]["error_rate"] > 0.5
        listed = json.loads((await get(http, "/api/v0.2/providers", headers))[1])
        assert {p["id"]: p["health"] for p in listed["providers"]}["openai"] == "unhealthy"
        assert listed["health_status"] != "all_healthy"
        one = json.loads((await get(http, "/api/v0.2/providers/openai", headers))[1])
        assert one["health"] == "unhealthy"
    finally:
        await db.execute("DELETE FROM usage_records WHERE request_id = $1", tag)


async def test_routes_dead_in_july_now_work(http: aiohttp.ClientSession, callers: Callers) -> None:
    headers = callers.b.key_headers()
    status, body = await get(http, "/api/v0.2/providers/claude", headers)
    assert status == 200
    provider = json.loads(body)
    assert normalise({**provider, "health": "healthy"}) == normalise(
        load("v02_providers").json()["providers"][0]
    )
    status, body = await get(http, "/api/v0.2/providers/nope", headers)
    assert (status, body) == (
        404,
        b'{"detail":"Service error: {\\"detail\\":\\"Provider nope not found\\"}"}',
    )
    for path in ("/api/v0.2/providers/nope/health", "/api/v0.2/providers/nope/stats"):
        assert (await get(http, path, headers))[0] == 404
    status, body = await get(http, "/api/v0.2/models/capabilities", headers)
    capabilities = json.loads(body)["capabilities"]
    assert status == 200
    assert capabilities["chat"] == ["claude-3-haiku-20240307", "gpt-4o-mini"]
    assert capabilities["tool_calling"] == ["gpt-4o-mini"] and capabilities["vision"] == []
    status, body = await get(http, "/api/v0.2/models/priorities", headers)
    priorities = json.loads(body)["priorities"]
    assert [m["id"] for m in priorities["quality"]] == ["gpt-4o-mini", "claude-3-haiku-20240307"]
    assert [m["id"] for m in priorities["speed"]] == ["claude-3-haiku-20240307", "gpt-4o-mini"]
    status, body = await get(http, "/api/v0.2/models/contexts", headers)
    contexts = json.loads(body)["contexts"]
    assert contexts[0] == {
        "id": "claude-3-haiku-20240307",
        "provider": "claude",
        "context_window": 200000,
        "max_tokens": 4096,
    }
    status, body = await get(http, "/api/v0.2/models?capability=vision", headers)
    assert json.loads(body) == {
        "models": [],
        "total": 0,
        "filters": {"provider": None, "capability": "vision"},
    }
    status, body = await get(http, "/api/v0.2/models?capability=tool_calling", headers)
    assert [m["id"] for m in json.loads(body)["models"]] == ["gpt-4o-mini"]
    status, body = await get(http, "/api/v0.2/models?capability=telepathy", headers)
    assert json.loads(body)["models"] == []


async def test_no_credentials_is_401(http: aiohttp.ClientSession) -> None:
    recorded = load("auth_none_401")
    async with http.get("/api/v0.2/providers") as response:
        assert (response.status, await response.read()) == (recorded.status, recorded.body)
