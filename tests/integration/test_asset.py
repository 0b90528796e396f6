"""Asset generation, storage, catalogue and downloads through the real shim and the fake providers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import jwt
import nats
import pytest
from gaia.asset.v1 import asset_pb2, asset_pb2_grpc
from grpc import aio

from gaia_services.settings import DEFAULT_DEV_JWT_SECRET
from tests.support.fake_assets import GLB, PNG, WAV, FakeAssetProviders
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh
from tests.support.recorded import load, normalise

KEY = {"X-API-Key": DEV_API_KEY}
GENERATE = "/api/v1/assets/generate"


async def fresh_user(infra: Infra) -> dict[str, str]:
    user_id = str(uuid.uuid4())
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute("INSERT INTO users (id, email) VALUES ($1, $2)", user_id, f"{user_id}@asset.test")
    finally:
        await conn.close()
    now = int(time.time())
    claims = {
        "sub": user_id,
        "aud": "authenticated",
        "email": f"{user_id}@asset.test",
        "iat": now,
        "exp": now + 3600,
    }
    return {"Authorization": f"Bearer {jwt.encode(claims, DEFAULT_DEV_JWT_SECRET, algorithm='HS256')}"}


async def call(
    http: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    async with http.request(
        method, path, headers={**headers, "Content-Type": "application/json"}, data=data
    ) as response:
        raw = await response.read()
        return response.status, json.loads(raw) if raw else None


def wrapped(message: str) -> dict[str, str]:
    return {"detail": "Service error: " + json.dumps({"detail": message}, separators=(",", ":"))}


async def counts(infra: Infra, headers: dict[str, str], mesh: Mesh) -> tuple[int, int, int, int]:
    """Rows in assets, asset_generations, usage_records of the user, and files stored by the mesh."""
    user_id = jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})["sub"]
    conn = await asyncpg.connect(infra.database_url)
    try:
        assets = await conn.fetchval("SELECT count(*) FROM assets WHERE user_id = $1", user_id)
        generations = await conn.fetchval(
            "SELECT count(*) FROM asset_generations WHERE user_id = $1", user_id
        )
        usage = await conn.fetchval("SELECT count(*) FROM usage_records WHERE user_id = $1", user_id)
    finally:
        await conn.close()
    root = Path(mesh.data_dir) / "assets"
    files = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    return assets, generations, usage, files


async def test_public_test_route_and_auth_answers_match_the_reference(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/assets/test") as response:
        assert response.status == 200
        assert normalise(json.loads(await response.read())) == normalise(load("v1_assets_test").json())
    async with http.get("/api/v1/assets") as response:
        assert response.status == 401
        assert await response.read() == load("v1_assets_list_noauth").body
    async with http.get("/api/v1/assets/some-asset-id", headers=KEY) as response:
        assert response.status == 404
        assert await response.read() == load("v1_assets_get_id").body


async def test_invalid_request_is_the_wrapped_422_without_secrets(http: aiohttp.ClientSession) -> None:
    recorded = load("v1_assets_generate_422")
    async with http.post(GENERATE, headers=KEY, data=b'{"description":"a red cube"}') as response:
        assert response.status == 422
        body = json.loads(await response.read())
    inner = json.loads(recorded.json()["detail"].removeprefix("Service error: "))
    for item in inner["detail"]:
        item["input"].pop("_auth")
    assert body == wrapped(inner["detail"]) | {}  # same items, minus the reference's echoed credentials
    assert DEV_API_KEY not in json.dumps(body)


async def test_listing_has_the_reference_shape_for_jwt_callers(
    http: aiohttp.ClientSession, infra: Infra
) -> None:
    status, body = await call(http, "GET", "/api/v1/assets", await fresh_user(infra))
    assert status == 200
    assert list(body) == list(load("jwt_v1_assets").json())
    assert (body["assets"], body["total"]) == ([], 0)


async def test_an_image_is_generated_stored_listed_fetched_and_downloaded_by_its_owner_only(
    http: aiohttp.ClientSession, infra: Infra, mesh: Mesh
) -> None:
    owner, other = await fresh_user(infra), await fresh_user(infra)
    status, asset = await call(
        http,
        "POST",
        GENERATE,
        owner,
        {
            "category": "image",
            "style": "realistic",
            "description": "a red cube on a table",
            "requirements": {"platform": "desktop_vr", "quality": "high"},
        },
    )
    assert status == 200, asset
    assert list(asset) == [
        "asset_id",
        "source",
        "cost",
        "response_time_ms",
        "asset_data",
        "storage_info",
        "metadata",
        "cost_breakdown",
    ]
    assert asset["source"] == "generated" and asset["cost"] == 0.08  # hd DALL-E image
    assert asset["storage_info"] == {
        "storage_type": "local",
        "bucket_name": "assets",
        "file_path": f"generated/image/{asset['asset_id']}.png",
        "external_source": "openai_dalle3",
    }
    data = asset["asset_data"]
    assert list(data) == [
        "download_url",
        "preview_image_url",
        "file_format",
        "file_size_mb",
        "quality_score",
        "license_type",
        "attribution_required",
    ]
    assert data["file_format"] == "png" and data["license_type"] == "proprietary"
    assert data["download_url"].endswith(f"/api/v1/assets/{asset['asset_id']}/download")
    assert asset["metadata"]["enhanced_prompt"].startswith("a red cube on a table, photorealistic")
    assert asset["metadata"]["quality"] == "hd"

    path = f"/api/v1/assets/{asset['asset_id']}"
    async with http.get(f"{path}/download", headers=owner) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "image/png"
        assert await response.read() == PNG
    status, listed = await call(http, "GET", "/api/v1/assets", owner)
    assert (
        status == 200
        and listed["total"] == 1
        and listed["assets"][0] == asset | {"response_time_ms": listed["assets"][0]["response_time_ms"]}
    )
    status, fetched = await call(http, "GET", path, owner)
    assert status == 200 and fetched["asset_id"] == asset["asset_id"]
    for query in ("?category=image", "?style=realistic", "?q=cube", "?q=table&category=image"):
        assert (await call(http, "GET", f"/api/v1/assets{query}", owner))[1]["total"] == 1
    for query in ("?category=audio", "?style=cartoon", "?q=banana", "?offset=1"):
        _, page = await call(http, "GET", f"/api/v1/assets{query}", owner)
        assert page["assets"] == [] and page["total"] == (1 if query == "?offset=1" else 0)

    assert await call(http, "GET", path, other) == (404, wrapped("Not Found"))
    assert (await call(http, "GET", f"{path}/download", other))[0] == 404
    assert (await call(http, "GET", "/api/v1/assets", other))[1]["total"] == 0


@pytest.mark.parametrize(
    ("category", "style", "fmt", "source", "cost", "content", "content_type"),
    [
        ("prop", "sci_fi", "glb", "meshy_ai", 0.2, GLB, "model/gltf-binary"),
        ("audio", "ambient-calm", "wav", "mubert", 0.05, WAV, "audio/wav"),
        ("texture", "cartoon", "png", "stability_ai", 0.02, PNG, "image/png"),
        ("animation", "cartoon", "gltf", "local", 0.0, None, "model/gltf+json"),
    ],
)
async def test_each_category_goes_to_its_provider(
    http: aiohttp.ClientSession,
    infra: Infra,
    *,
    category: str,
    style: str,
    fmt: str,
    source: str,
    cost: float,
    content: bytes | None,
    content_type: str,
) -> None:
    user = await fresh_user(infra)
    status, asset = await call(
        http,
        "POST",
        GENERATE,
        user,
        {"category": category, "style": style, "description": f"a {category} thing"},
    )
    assert status == 200, asset
    assert (asset["asset_data"]["file_format"], asset["storage_info"]["external_source"], asset["cost"]) == (
        fmt,
        source,
        cost,
    )
    async with http.get(f"/api/v1/assets/{asset['asset_id']}/download", headers=user) as response:
        assert response.status == 200
        assert response.headers["content-type"].split(";")[0] == content_type
        body = await response.read()
    if content is not None:
        assert body == content
    else:
        assert json.loads(body)["asset"]["version"] == "2.0"  # a real glTF from the local generator


@pytest.mark.parametrize(
    ("description", "status", "message"),
    [
        ("a FAIL cube", 503, "Asset request failed: Stability answered HTTP 500"),
        ("a SLOW cube", 504, "Asset request failed: Stability timed out after 1s"),
    ],
)
async def test_a_failing_or_slow_provider_leaves_nothing_behind(
    http: aiohttp.ClientSession, infra: Infra, mesh: Mesh, *, description: str, status: int, message: str
) -> None:
    user = await fresh_user(infra)
    before = await counts(infra, user, mesh)
    got, body = await call(
        http, "POST", GENERATE, user, {"category": "image", "style": "realistic", "description": description}
    )
    assert (got, body) == (status, wrapped(message))
    assert await counts(infra, user, mesh) == before
    assert (await call(http, "GET", "/api/v1/assets", user))[1]["total"] == 0


async def test_a_failed_meshy_task_is_reported_and_leaves_nothing(
    http: aiohttp.ClientSession, infra: Infra, mesh: Mesh
) -> None:
    user = await fresh_user(infra)
    before = await counts(infra, user, mesh)
    got, body = await call(
        http, "POST", GENERATE, user, {"category": "prop", "style": "x", "description": "MESHFAIL chair"}
    )
    assert (got, body) == (503, wrapped("Asset request failed: Meshy task failed: mesh broke"))
    assert await counts(infra, user, mesh) == before


async def test_the_session_budget_is_enforced_before_any_provider_call(
    http: aiohttp.ClientSession, infra: Infra, mesh: Mesh, fake_assets: FakeAssetProviders
) -> None:
    user = await fresh_user(infra)
    session = str(uuid.uuid4())
    request = {
        "category": "prop",
        "style": "realistic",
        "description": "a budget chair",
        "session_id": session,
    }
    for _ in range(2):  # 2 x 0.20 of the 0.50 daily session budget
        assert (await call(http, "POST", GENERATE, user, request))[0] == 200
    calls, before = len(fake_assets.calls), await counts(infra, user, mesh)
    got, body = await call(http, "POST", GENERATE, user, request)
    assert (got, body) == (429, wrapped("Generation budget exceeded for this session"))
    assert len(fake_assets.calls) == calls and await counts(infra, user, mesh) == before
    other_session = {**request, "session_id": str(uuid.uuid4())}
    assert (await call(http, "POST", GENERATE, user, other_session))[0] == 200


async def test_generation_streams_progress_and_publishes_events(mesh: Mesh, infra: Infra) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    client = await nats.connect(infra.nats_url)

    async def collect(message: Any) -> None:
        seen.append((message.subject, json.loads(message.data)))

    subscription = await client.subscribe("gaia.asset.generation.*", cb=collect)
    try:
        async with aio.insecure_channel(mesh.addrs["asset"]) as channel:
            stub = asset_pb2_grpc.AssetServiceStub(channel)
            request = asset_pb2.GenerateAssetRequest(
                category=asset_pb2.ASSET_CATEGORY_PROP, style="realistic", description="a streamed chair"
            )
            events = [
                e
                async for e in stub.GenerateAsset(request, metadata=(("x-api-key", DEV_API_KEY),), timeout=20)
            ]
        stages = [e.progress.stage for e in events if e.WhichOneof("event") == "progress"]
        assert stages[:3] == [
            asset_pb2.GENERATION_STAGE_QUEUED,
            asset_pb2.GENERATION_STAGE_BUDGET_CHECKED,
            asset_pb2.GENERATION_STAGE_PROVIDER_CALLED,
        ]
        assert (
            asset_pb2.GENERATION_STAGE_POLLING in stages and stages[-1] == asset_pb2.GENERATION_STAGE_STORED
        )
        assert events[-1].WhichOneof("event") == "done"
        assert len({e.generation_id for e in events}) == 1
        generation_id = events[-1].generation_id
        for _ in range(50):
            if any(s.endswith("completed") and p["generation_id"] == generation_id for s, p in seen):
                break
            await asyncio.sleep(0.1)
        mine = {s: p for s, p in seen if p.get("generation_id") == generation_id}
        assert set(mine) == {"gaia.asset.generation.started", "gaia.asset.generation.completed"}
        assert mine["gaia.asset.generation.completed"]["asset_id"] == events[-1].done.asset.asset_id
        assert mine["gaia.asset.generation.completed"]["cost"] == 0.2
    finally:
        await subscription.unsubscribe()
        await client.close()
