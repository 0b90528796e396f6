"""One service down: exactly its routes answer 503 within the deadline, the rest keep working, and the shim
heals by itself when the service is back (no shim restart)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh, run_mesh

KEY = {"X-API-Key": DEV_API_KEY}
DEADLINE_S = 2.0


@pytest.fixture(scope="module")
async def short_deadline_mesh(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    env = {"GAIA_REQUEST_TIMEOUT_S": str(DEADLINE_S), "GAIA_HEALTH_PROBE_TIMEOUT_S": "1"}
    async with run_mesh(infra, tmp_path_factory.mktemp("resilience"), extra_env=env) as mesh:
        yield mesh


async def _get(session: aiohttp.ClientSession, path: str) -> tuple[int, object, float]:
    started = time.monotonic()
    async with session.get(path, headers=KEY) as response:
        return response.status, await response.json(), time.monotonic() - started


async def _validate(session: aiohttp.ClientSession) -> int:
    async with session.post("/api/v1/auth/validate", json={"api_key": DEV_API_KEY}) as response:
        return response.status


async def test_a_frozen_service_gives_503_within_the_deadline_and_heals(short_deadline_mesh: Mesh) -> None:
    mesh = short_deadline_mesh
    pid = mesh.child_pid("chat")
    async with aiohttp.ClientSession(base_url=mesh.http) as session:
        assert (await _get(session, "/api/v1/chat/status"))[0] == 200
        os.kill(pid, signal.SIGSTOP)
        try:
            status, body, took = await _get(session, "/api/v1/chat/status")
            assert (status, body) == (503, {"detail": "Service chat unavailable"})
            assert took < DEADLINE_S + 1.5
            assert await _validate(session) == 200  # auth's routes keep working
            async with session.get("/health") as response:
                health = await response.json()
            assert health["status"] == "degraded"
            assert health["services"]["chat"]["status"] == "unhealthy"
            assert health["services"]["auth"]["status"] == "healthy"
        finally:
            os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 15
        while (await _get(session, "/api/v1/chat/status"))[0] != 200:
            assert time.monotonic() < deadline, "chat routes did not heal"
            await asyncio.sleep(0.2)


async def test_a_killed_service_gives_503_until_restarted(short_deadline_mesh: Mesh) -> None:
    mesh = short_deadline_mesh
    old = mesh.child_pid("chat")
    async with aiohttp.ClientSession(base_url=mesh.http) as session:
        os.kill(old, signal.SIGKILL)
        seen_503 = False
        deadline = time.monotonic() + 30
        while True:
            status, body, took = await _get(session, "/api/v1/chat/status")
            assert took < DEADLINE_S + 1.5
            if status == 503:
                assert body == {"detail": "Service chat unavailable"}
                seen_503 = True
            elif status == 200 and mesh.child_pid("chat") != old:
                break
            assert time.monotonic() < deadline, "chat was not restarted"
            await asyncio.sleep(0.05)
        assert seen_503
