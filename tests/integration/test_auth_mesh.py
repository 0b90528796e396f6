"""The auth suites' own mesh (confirmation on, light hashing, quick throttles), and production-mode start-up.

Other ``test_auth_*`` modules import ``auth_mesh`` / ``auth_http`` from here (one mesh per session).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import jwt
import pytest

from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh, run_mesh

__all__ = ["AUTH_ENV", "JWT_SECRET", "auth_http", "auth_mesh", "mint"]

JWT_SECRET = "auth-suite-jwt-secret-0123456789abcdef"
AUTH_ENV = {
    "GAIA_JWT_SECRET": JWT_SECRET,
    "GAIA_AUTH_LIGHT_HASHING": "true",
    "GAIA_AUTH_REQUIRE_CONFIRMATION": "true",
    "GAIA_AUTH_RESEND_INTERVAL_S": "0",
    "GAIA_AUTH_LOGIN_MAX_FAILURES": "3",
    "GAIA_AUTH_LAST_USED_INTERVAL_S": "3600",
}


def mint(claims: dict[str, object], *, secret: str = JWT_SECRET, ttl: int = 3600) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + ttl, **claims}, secret, algorithm="HS256")


_SHARED = pytest.StashKey[dict[str, Any]]()


@pytest.fixture(scope="session")
async def auth_mesh(
    request: pytest.FixtureRequest, infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Mesh]:
    """One mesh for every module that imports this fixture (each import is its own fixture definition,
    so they share the running mesh through the config stash and the last one out stops it)."""
    shared = request.config.stash.setdefault(_SHARED, {"users": 0})
    if "mesh" not in shared:
        stack = contextlib.AsyncExitStack()
        shared["mesh"] = await stack.enter_async_context(
            run_mesh(infra, tmp_path_factory.mktemp("auth-mesh"), extra_env=AUTH_ENV)
        )
        shared["stack"] = stack
    shared["users"] += 1
    try:
        yield shared["mesh"]
    finally:
        shared["users"] -= 1
        if shared["users"] == 0:
            shared.pop("mesh")
            await shared.pop("stack").aclose()


@pytest.fixture
async def auth_http(auth_mesh: Mesh) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=auth_mesh.http) as session:
        yield session


def _database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def test_production_refuses_the_default_or_a_short_jwt_secret(infra: Infra, tmp_path: Path) -> None:
    for secret in ("", "short-secret"):
        env = {**os.environ, **infra.env(), "GAIA_ENV": "prod", "GAIA_DATA_DIR": str(tmp_path)}
        env.pop("SUPABASE_JWT_SECRET", None)
        env.pop("GAIA_JWT_SECRET", None)
        if secret:
            env["GAIA_JWT_SECRET"] = secret
        result = subprocess.run(
            [sys.executable, "-m", "gaia_services.cli", "up"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 2
        assert "GAIA_ENV=prod needs GAIA_JWT_SECRET" in result.stderr
        assert not (tmp_path / "run" / "mesh.json").exists()


async def test_production_seeds_nothing_and_the_dev_key_is_refused(infra: Infra, tmp_path: Path) -> None:
    name = f"gaia_prod_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(infra.database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _database(infra.database_url, name)
    env = {
        "GAIA_ENV": "prod",
        "GAIA_JWT_SECRET": "p" * 48,
        "DATABASE_URL": url,
        "GAIA_REDIS_PREFIX": f"{infra.redis_prefix}prod:",
    }
    try:
        async with run_mesh(infra, tmp_path, extra_env=env) as mesh:
            conn = await asyncpg.connect(url)
            try:
                assert await conn.fetchval("SELECT count(*) FROM users") == 0
                assert await conn.fetchval("SELECT count(*) FROM api_keys") == 0
            finally:
                await conn.close()
            assert not any(DEV_API_KEY in line for line in mesh.log)
            async with aiohttp.ClientSession(base_url=mesh.http) as http:
                body = {"api_key": DEV_API_KEY}
                async with http.post("/api/v1/auth/validate", json=body) as response:
                    assert response.status == 200
                    assert (await response.json())["valid"] is False
    finally:
        admin = await asyncpg.connect(infra.database_url)
        try:
            with contextlib.suppress(asyncpg.PostgresError):
                await asyncio.wait_for(admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'), 20)
        finally:
            await admin.close()
