"""Generated assets stored in an S3-compatible bucket: a mesh of its own whose asset service signs every call
to a local fake S3 (which verifies SigV4 with its own code), seen through the real shim."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg
import jwt
import pytest

from gaia_services.settings import DEFAULT_DEV_JWT_SECRET
from tests.integration.test_asset import GENERATE, call, fresh_user, wrapped
from tests.support.fake_assets import PNG, FakeAssetProviders
from tests.support.fake_s3 import FakeS3
from tests.support.infra import Infra
from tests.support.mesh import Mesh, run_mesh

IMAGE = {"category": "image", "style": "realistic", "description": "a red cube in a bucket"}


@pytest.fixture(scope="module")
async def fake_s3() -> AsyncIterator[FakeS3]:
    fake = FakeS3()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="module")
async def s3_mesh(
    infra: Infra,
    fake_assets: FakeAssetProviders,
    fake_s3: FakeS3,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Mesh]:
    env = {**fake_assets.env(), **fake_s3.env()}
    async with run_mesh(infra, tmp_path_factory.mktemp("s3mesh"), extra_env=env) as value:
        yield value


@pytest.fixture
async def s3_http(s3_mesh: Mesh) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=s3_mesh.http) as session:
        yield session


def local_files(mesh: Mesh) -> list[Path]:
    root = Path(mesh.data_dir) / "assets"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_generation_is_stored_in_s3_listed_and_downloaded_by_its_owner_only(
    s3_http: aiohttp.ClientSession, s3_mesh: Mesh, infra: Infra, fake_s3: FakeS3
) -> None:
    owner, other = await fresh_user(infra), await fresh_user(infra)
    status, asset = await call(s3_http, "POST", GENERATE, owner, IMAGE)
    assert status == 200, asset
    key = f"generated/image/{asset['asset_id']}.png"
    assert asset["storage_info"] == {
        "storage_type": "s3",
        "bucket_name": "gaia-assets",
        "file_path": key,
        "external_source": "openai_dalle3",
    }
    assert fake_s3.objects[f"gaia-assets/{key}"] == (PNG, "image/png")
    assert ("PUT", f"/gaia-assets/{key}", 200) in fake_s3.log
    assert local_files(s3_mesh) == []  # nothing on the service's disk

    status, listed = await call(s3_http, "GET", "/api/v1/assets", owner)
    assert status == 200 and listed["total"] == 1
    assert listed["assets"][0]["storage_info"] == asset["storage_info"]
    path = f"/api/v1/assets/{asset['asset_id']}"
    async with s3_http.get(f"{path}/download", headers=owner) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "image/png"
        assert await response.read() == PNG
    assert ("GET", f"/gaia-assets/{key}", 200) in fake_s3.log

    gets = sum(1 for method, _, _ in fake_s3.log if method == "GET")
    assert await call(s3_http, "GET", path, other) == (404, wrapped("Not Found"))
    assert (await call(s3_http, "GET", f"{path}/download", other))[0] == 404
    assert (await call(s3_http, "GET", "/api/v1/assets", other))[1]["total"] == 0
    assert sum(1 for method, _, _ in fake_s3.log if method == "GET") == gets  # refused before the store


async def test_a_failed_provider_stores_nothing(
    s3_http: aiohttp.ClientSession, infra: Infra, fake_s3: FakeS3
) -> None:
    user = await fresh_user(infra)
    keys, requests = fake_s3.keys(), len(fake_s3.log)
    status, body = await call(s3_http, "POST", GENERATE, user, {**IMAGE, "description": "a FAIL cube"})
    assert (status, body) == (503, wrapped("Asset request failed: Stability answered HTTP 500"))
    assert fake_s3.keys() == keys and len(fake_s3.log) == requests


async def test_a_generation_failing_after_the_upload_deletes_the_object(
    s3_http: aiohttp.ClientSession, fake_s3: FakeS3, infra: Infra
) -> None:
    # A valid token whose user row is removed after the token was first seen (its identity stays cached):
    # the file is uploaded, then the asset row cannot be written.
    now = int(time.time())
    ghost = str(uuid.uuid4())
    claims = {
        "sub": ghost,
        "aud": "authenticated",
        "email": f"{ghost}@ghost.test",
        "iat": now,
        "exp": now + 600,
    }
    headers = {"Authorization": f"Bearer {jwt.encode(claims, DEFAULT_DEV_JWT_SECRET, algorithm='HS256')}"}
    assert (await call(s3_http, "GET", "/api/v1/assets", headers))[0] == 200  # seen: the user row exists
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute("DELETE FROM users WHERE id = $1::uuid", ghost)
    finally:
        await conn.close()
    keys, requests = fake_s3.keys(), len(fake_s3.log)
    status, body = await call(s3_http, "POST", GENERATE, headers, IMAGE)
    assert (status, body) == (500, {"detail": "Internal server error"})
    calls = fake_s3.log[requests:]
    assert [(method, code) for method, _, code in calls] == [("PUT", 200), ("DELETE", 204)]
    assert calls[0][1] == calls[1][1]  # the very object that was uploaded
    assert fake_s3.keys() == keys
