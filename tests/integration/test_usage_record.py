"""RecordUsage over native gRPC (how other services report a call) and what the usage routes then show."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import grpc
import jwt
import pytest
from gaia.asset.v1 import asset_pb2, asset_pb2_grpc
from grpc import aio

from tests.integration.test_usage import call, fresh_user, wrapped
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh

KEY = {"X-API-Key": DEV_API_KEY}
DEV = (("x-api-key", DEV_API_KEY),)


@pytest.fixture
async def stub(mesh: Mesh) -> AsyncIterator[asset_pb2_grpc.AssetServiceStub]:
    async with aio.insecure_channel(mesh.addrs["asset"]) as channel:
        yield asset_pb2_grpc.AssetServiceStub(channel)


def user_id(headers: dict[str, str]) -> str:
    token = headers["Authorization"].split()[1]
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


async def test_a_recorded_call_is_stored_and_reported_by_the_usage_routes(
    stub: asset_pb2_grpc.AssetServiceStub, http: aiohttp.ClientSession, infra: Infra
) -> None:
    provider = f"rec{uuid.uuid4().hex[:10]}"
    path = f"/api/v0.2/usage/current?provider={provider}"
    assert await call(http, "GET", path, KEY) == (404, wrapped(f"No usage data for provider: {provider}"))

    first = await stub.RecordUsage(
        asset_pb2.RecordUsageRequest(
            provider=provider,
            model="model-x",
            operation="chat",
            input_tokens=120,
            output_tokens=30,
            cost=0.0125,
            latency_ms=42,
            request_id="req-record-1",
        ),
        metadata=DEV,
        timeout=10,
    )
    second = await stub.RecordUsage(
        asset_pb2.RecordUsageRequest(
            provider=provider, operation="chat", input_tokens=10, cost=0.5, error_code="rate_limit"
        ),
        metadata=DEV,
        timeout=10,
    )
    conn = await asyncpg.connect(infra.database_url)
    try:
        rows = await conn.fetch(
            """SELECT r.id::text AS id, u.email, r.model, r.tokens_in, r.tokens_out, r.cost::float8 AS cost,
                      r.latency_ms, r.request_id, r.status
                 FROM usage_records r JOIN users u ON u.id = r.user_id
                WHERE r.provider = $1 ORDER BY r.created_at""",
            provider,
        )
    finally:
        await conn.close()
    assert [dict(r) for r in rows] == [
        {
            "id": first.usage_id,
            "email": "dev@gaia.local",
            "model": "model-x",
            "tokens_in": 120,
            "tokens_out": 30,
            "cost": 0.0125,
            "latency_ms": 42,
            "request_id": "req-record-1",
            "status": "ok",
        },
        {
            "id": second.usage_id,
            "email": "dev@gaia.local",
            "model": None,
            "tokens_in": 10,
            "tokens_out": 0,
            "cost": 0.5,
            "latency_ms": None,
            "request_id": None,
            "status": "error",
        },
    ]
    status, body = await call(http, "GET", path, KEY)
    assert status == 200
    assert body["filtered_provider"] == provider
    assert body["provider_usage"] == {"cost": 0.5125, "requests": 2, "tokens": 160}
    status, body = await call(http, "GET", f"/api/v0.2/usage/history?days=1&provider={provider}", KEY)
    assert status == 200
    assert [(h["provider"], h["cost"], h["requests"]) for h in body["provider_history"]] == [
        (provider, 0.5125, 2)
    ]


async def test_a_privileged_caller_records_for_a_user_who_alone_sees_it(
    stub: asset_pb2_grpc.AssetServiceStub, http: aiohttp.ClientSession, infra: Infra
) -> None:
    user, other = await fresh_user(infra), await fresh_user(infra)
    await stub.RecordUsage(
        asset_pb2.RecordUsageRequest(
            provider="claude",
            operation="chat",
            input_tokens=7,
            output_tokens=3,
            cost=0.25,
            user_id=user_id(user),
        ),
        metadata=DEV,  # the dev key is an admin key: it may charge another user, as services do
        timeout=10,
    )
    status, body = await call(http, "GET", "/api/v0.2/usage/current", user)
    assert status == 200
    assert (body["total_cost"], body["total_requests"], body["total_tokens"]) == (0.25, 1, 10)
    assert body["providers"]["claude"] == {"cost": 0.25, "requests": 1, "tokens": 10}
    status, body = await call(http, "GET", "/api/v0.2/usage/current", other)
    assert (status, body["total_cost"], body["total_requests"]) == (200, 0.0, 0)


@pytest.mark.parametrize(
    ("request_fields", "credentials", "code"),
    [
        ({"provider": "claude", "operation": "chat", "cost": 0.1}, None, grpc.StatusCode.UNAUTHENTICATED),
        ({"operation": "chat", "cost": 0.1}, "dev", grpc.StatusCode.INVALID_ARGUMENT),
        ({"provider": "claude", "cost": 0.1}, "dev", grpc.StatusCode.INVALID_ARGUMENT),
        (
            {"provider": "claude", "operation": "chat", "cost": 0.1, "user_id": str(uuid.uuid4())},
            "user",
            grpc.StatusCode.PERMISSION_DENIED,
        ),
    ],
)
async def test_refused_records_leave_no_row(
    stub: asset_pb2_grpc.AssetServiceStub,
    infra: Infra,
    *,
    request_fields: dict[str, object],
    credentials: str | None,
    code: grpc.StatusCode,
) -> None:
    user = await fresh_user(infra)
    metadata: tuple[tuple[str, str], ...] = ()
    if credentials == "dev":
        metadata = DEV
    elif credentials == "user":
        metadata = (("authorization", user["Authorization"]),)
    conn = await asyncpg.connect(infra.database_url)
    try:
        before = await conn.fetchval("SELECT count(*) FROM usage_records")
        with pytest.raises(aio.AioRpcError) as failure:
            await stub.RecordUsage(
                asset_pb2.RecordUsageRequest(**request_fields), metadata=metadata, timeout=10
            )
        assert failure.value.code() == code
        assert await conn.fetchval("SELECT count(*) FROM usage_records") == before
    finally:
        await conn.close()
