"""Spend budgets on a real mesh of their own (Redis and Postgres real, the providers fake): the session budget
holds without a ``session_id``, the user's daily budget holds across sessions and under concurrency, a key's
``max_budget`` refuses chat and assets alike in each route's error shape, and the counters are one limit for
every service process on the same Redis, new processes included."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import grpc
import jwt
import pytest
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from grpc import aio

from tests.integration.test_account_routes import bearer, signed_up
from tests.integration.test_asset import GENERATE, call, fresh_user, wrapped
from tests.support.fake_assets import FakeAssetProviders
from tests.support.fake_llm import FakeLLM
from tests.support.infra import Infra
from tests.support.mesh import Mesh, run_mesh

USER_DAILY = 1.00  # a Meshy model costs 0.20, a standard image 0.04; the session budget stays 0.50
IMAGE = {"category": "image", "style": "realistic", "description": "a budget cube"}
PROP = {"category": "prop", "style": "realistic", "description": "a budget chair"}


def _env(fake_llm: FakeLLM, fake_assets: FakeAssetProviders) -> dict[str, str]:
    return {**fake_llm.env(), **fake_assets.env(), "GAIA_BUDGET_USER_DAILY": str(USER_DAILY)}


@pytest.fixture(scope="module")
async def budget_mesh(
    infra: Infra,
    fake_llm: FakeLLM,
    fake_assets: FakeAssetProviders,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Mesh]:
    env = _env(fake_llm, fake_assets)
    async with run_mesh(infra, tmp_path_factory.mktemp("budgets"), extra_env=env) as value:
        yield value


@pytest.fixture
async def http(budget_mesh: Mesh) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=budget_mesh.http) as session:
        yield session


async def recorded_cost(infra: Infra, headers: dict[str, str]) -> float:
    user_id = jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})["sub"]
    conn = await asyncpg.connect(infra.database_url)
    try:
        return float(
            await conn.fetchval(
                "SELECT COALESCE(SUM(cost), 0) FROM usage_records WHERE user_id = $1", user_id
            )
        )
    finally:
        await conn.close()


async def test_without_a_session_id_the_session_budget_holds_then_the_users_day_across_sessions(
    http: aiohttp.ClientSession, infra: Infra, fake_assets: FakeAssetProviders
) -> None:
    user = await fresh_user(infra)
    statuses = [(await call(http, "POST", GENERATE, user, IMAGE))[0] for _ in range(14)]
    assert statuses == [200] * 12 + [429] * 2  # 12 x 0.04 = 0.48; a 13th would pass 0.50
    calls = len(fake_assets.calls)
    got, body = await call(http, "POST", GENERATE, user, IMAGE)
    assert (got, body) == (429, wrapped("Generation budget exceeded for this session"))
    assert len(fake_assets.calls) == calls  # refused before any provider call
    assert await recorded_cost(infra, user) == pytest.approx(0.48)

    # A new session_id each time is no way around the user's day: 0.48 + 2 x 0.20 = 0.88, then 1.08 > 1.00.
    fresh = [
        (await call(http, "POST", GENERATE, user, {**PROP, "session_id": str(uuid.uuid4())}))
        for _ in range(3)
    ]
    assert [status for status, _ in fresh] == [200, 200, 429]
    assert fresh[-1][1]["detail"].startswith(
        'Service error: {"detail":"Daily budget of $1.00 exceeded for this user'
    )
    assert "resets at" in fresh[-1][1]["detail"]
    assert await recorded_cost(infra, user) == pytest.approx(0.88)

    # The usage routes and the budgets report the same spend.
    status, limits = await call(http, "GET", "/api/v0.2/usage/limits?budgets=true", user)
    assert status == 200
    assert limits["budgets"]["user_daily"]["spent"] == pytest.approx(0.88)
    assert limits["budgets"]["user_daily"]["remaining"] == pytest.approx(0.12)
    assert limits["budgets"]["session_daily"]["spent"] == pytest.approx(0.48)
    status, current = await call(http, "GET", "/api/v0.2/usage/current?budgets=true", user)
    assert status == 200 and current["total_cost"] == pytest.approx(
        limits["budgets"]["user_monthly"]["spent"]
    )


async def test_twenty_concurrent_generations_never_overspend(
    http: aiohttp.ClientSession, infra: Infra
) -> None:
    user = await fresh_user(infra)
    answers = await asyncio.gather(
        *(call(http, "POST", GENERATE, user, {**PROP, "session_id": str(uuid.uuid4())}) for _ in range(20))
    )
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 5 + [429] * 15  # 5 x 0.20 = 1.00
    assert await recorded_cost(infra, user) <= USER_DAILY + 1e-9


async def _budgeted_key(http: aiohttp.ClientSession, max_budget: float) -> tuple[str, dict[str, str]]:
    auth, _ = await signed_up(http)
    mine = bearer(auth)
    body = {"name": "budgeted", "max_budget": max_budget, "budget_duration": "30d"}
    status, created = await call(http, "POST", "/api/v1/auth/keys", mine, body)
    assert status == 201 and created["key"]["budget"] == {"max_budget": max_budget, "budget_duration": "30d"}
    status, listing = await call(http, "GET", "/api/v1/auth/keys", mine)
    assert status == 200 and listing["keys"][0]["budget"] == created["key"]["budget"]
    return created["api_key"], mine


async def _refused_everywhere(base: str, raw: str, addr: str) -> None:
    key = {"X-API-Key": raw}
    async with aiohttp.ClientSession(base_url=base) as http:
        status, body = await call(
            http,
            "POST",
            "/v1/chat/completions",
            {"Authorization": f"Bearer {raw}"},
            {"model": "claude-3-haiku-20240307", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert status == 429 and list(body) == ["error"]
        assert body["error"]["code"] == "rate_limit_exceeded"
        assert body["error"]["message"].startswith("Budget of $0.20 exceeded for this API key; resets at")
        status, body = await call(http, "POST", "/api/v0.3/chat", key, {"message": "hi"})
        assert status == 429 and "exceeded for this API key" in json.dumps(body) and "detail" in body
        status, body = await call(http, "POST", GENERATE, key, IMAGE)
        assert status == 429 and body["detail"].startswith(
            'Service error: {"detail":"Budget of $0.20 exceeded'
        )
    async with aio.insecure_channel(addr) as channel:
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        request = chat_pb2.ChatRequest(turn=chat_pb2.StreamChatRequest(message="hi"))
        with pytest.raises(aio.AioRpcError) as refused:
            await stub.Chat(request, metadata=(("x-api-key", raw),), timeout=10)
        assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_a_budgeted_key_is_refused_on_chat_and_assets_by_every_service_process(
    budget_mesh: Mesh,
    infra: Infra,
    fake_llm: FakeLLM,
    fake_assets: FakeAssetProviders,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    async with aiohttp.ClientSession(base_url=budget_mesh.http) as http:
        raw, _ = await _budgeted_key(http, 0.20)
        key = {"X-API-Key": raw}
        status, body = await call(http, "POST", GENERATE, key, {**PROP, "session_id": str(uuid.uuid4())})
    assert status == 200, body  # 0.20 spent: the key is at its limit, and any further spend would pass it
    await _refused_everywhere(budget_mesh.http, raw, budget_mesh.addrs["chat"])

    # Other service processes on the same Redis (here: a whole second mesh, started after the spend) hold
    # the same limit: the counters are neither per process nor lost when processes start afresh.
    env = _env(fake_llm, fake_assets)
    async with run_mesh(infra, tmp_path_factory.mktemp("budgets-again"), extra_env=env) as again:
        await _refused_everywhere(again.http, raw, again.addrs["chat"])
