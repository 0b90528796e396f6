"""The rest of /api/v0.2/chat/* through the real mesh: the recorded bodies, for API-key and JWT callers."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.integration.chat_helpers import Caller, dev_caller, new_user
from tests.support.infra import Infra
from tests.support.recorded import load, normalise


@pytest.fixture(params=["api_key", "jwt"])
async def caller(request: pytest.FixtureRequest, infra: Infra) -> Caller:
    return await dev_caller(infra) if request.param == "api_key" else await new_user(infra)


@pytest.mark.parametrize(
    ("method", "path", "fixture"),
    [
        ("DELETE", "/api/v0.2/chat/history", "v02_chat_history_delete"),
        ("GET", "/api/v0.2/chat/status", "v02_chat_status"),
        ("POST", "/api/v0.2/chat/reload-prompt", "v02_chat_reload_prompt"),
        ("POST", "/api/v0.2/chat/stream/cache/invalidate?cache_type=all", "v02_stream_cache_invalidate"),
        ("POST", "/api/v0.2/chat/stream/cache/invalidate", "v02_stream_cache_invalidate_missing"),
        ("GET", "/api/v0.2/chat/stream/cache/status", "v02_stream_cache_status"),
        ("GET", "/api/v0.2/chat/stream/status", "v02_stream_status"),
        ("DELETE", "/api/v0.2/chat/stream/history", "v02_stream_history_delete"),
        ("GET", "/api/v0.2/chat/stream/models", "v02_stream_models"),
        ("GET", "/api/v0.2/chat/stream/models/performance", "v02_stream_models_performance"),
    ],
)
async def test_v02_side_routes_answer_the_recorded_bodies(
    http: aiohttp.ClientSession, caller: Caller, method: str, path: str, fixture: str
) -> None:
    recorded = load(fixture)
    async with http.request(method, path, headers=caller.headers) as response:
        raw = await response.read()
        assert response.status == recorded.status
        assert response.headers["content-type"] == recorded.headers["content-type"]
    if b'"timestamp"' in recorded.body:
        assert normalise(json.loads(raw)) == normalise(recorded.json())
    else:
        assert raw == recorded.body


async def test_v02_status_for_a_jwt_caller_is_the_recorded_body(
    http: aiohttp.ClientSession, infra: Infra
) -> None:
    caller = await new_user(infra)
    async with http.get("/api/v0.2/chat/status", headers=caller.headers) as response:
        assert (response.status, await response.read()) == (200, load("jwt_v02_chat_status").body)


async def test_v02_chat_for_a_jwt_caller_is_the_recorded_body(
    http: aiohttp.ClientSession, infra: Infra
) -> None:
    caller = await new_user(infra)
    for path, fixture in [
        ("/api/v0.2/chat", "jwt_v02_chat_200"),
        ("/api/v0.2/chat/stream", "jwt_v02_chat_stream_200"),
    ]:
        async with http.post(
            path, data=b'{"message":"hello there"}', headers=caller.json_headers()
        ) as response:
            assert (response.status, await response.read()) == (200, load(fixture).body)


async def test_v02_side_routes_refuse_a_bad_key(http: aiohttp.ClientSession) -> None:
    recorded = load("auth_badkey_403")
    async with http.get("/api/v0.2/chat/stream/models", headers={"X-API-Key": "not-a-real-key"}) as response:
        assert (response.status, await response.read()) == (recorded.status, recorded.body)
