"""pricing/update reaches every asset replica: the replica asked reloads and announces it on NATS
(``gaia.asset.pricing.updated``), and the others reload when they hear it. A second asset replica runs
beside the mesh's own (``gaia serve asset`` on its own port, same database, Redis and NATS)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import grpc
import nats
from gaia.asset.v1 import asset_pb2, asset_pb2_grpc
from grpc import aio

from gaia_services.embedded import free_port
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh

KEY = {"X-API-Key": DEV_API_KEY}
DEV = (("x-api-key", DEV_API_KEY),)
_PRICING = "/api/v0.2/assets/pricing"
SUBJECT = "gaia.asset.pricing.updated"


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def heard(infra: Infra, subject: str) -> AsyncIterator[list[dict[str, Any]]]:
    """The JSON payloads published on ``subject`` while the block runs."""
    seen: list[dict[str, Any]] = []
    client = await nats.connect(infra.nats_url)

    async def collect(message: Any) -> None:
        seen.append(json.loads(message.data))

    subscription = await client.subscribe(subject, cb=collect)
    await client.flush()
    try:
        yield seen
    finally:
        await subscription.unsubscribe()
        await client.close()


@contextlib.asynccontextmanager
async def second_replica(mesh: Mesh, infra: Infra, log: Path) -> AsyncIterator[str]:
    """Another asset service process; its address once it has announced itself ready."""
    port = free_port()
    env = {**mesh.env, "GAIA_ASSET_ADDR": f"127.0.0.1:{port}"}
    async with heard(infra, "gaia.service.ready") as ready:
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gaia_services.cli", "serve", "asset", env=env, stdout=out, stderr=out
            )
        try:

            async def announced() -> bool:
                assert process.returncode is None, f"the second replica exited; see {log}"
                return any(e.get("service") == "asset" and e.get("port") == port for e in ready)

            await eventually(announced, timeout=30)
            yield f"127.0.0.1:{port}"
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def status_of(http: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    async with http.get(path, headers=KEY) as response:
        return response.status, json.loads(await response.read())


async def test_an_update_through_the_shim_is_announced(http: aiohttp.ClientSession, infra: Infra) -> None:
    async with heard(infra, SUBJECT) as seen:
        async with http.post(f"{_PRICING}/update?provider=stability", headers=KEY) as response:
            assert response.status == 200
            assert json.loads(await response.read())["provider"] == "stability"
        async with http.post(f"{_PRICING}/update?provider=nope", headers=KEY) as response:
            assert response.status == 404

        async def announced() -> bool:
            return len(seen) >= 1

        await eventually(announced)
        await asyncio.sleep(0.2)  # an unknown provider announces nothing
    assert [e["provider"] for e in seen] == ["stability"]
    assert seen[0]["origin"].startswith("asset-") and "timestamp" in seen[0]


async def test_an_update_on_one_replica_reloads_the_others(
    http: aiohttp.ClientSession, mesh: Mesh, infra: Infra, tmp_path: Path
) -> None:
    provider = f"reload{uuid.uuid4().hex[:8]}"
    entry = {"model": "per_image", "standard_cost": 0.123, "hd_cost": 0.246, "ultra_cost": 0.5}
    current = f"{_PRICING}/current?provider={provider}"
    conn = await asyncpg.connect(infra.database_url)
    try:
        async with second_replica(mesh, infra, tmp_path / "asset2.log") as address:
            await conn.execute(
                "INSERT INTO pricing_overrides (provider, config) VALUES ($1, $2::jsonb)",
                provider,
                json.dumps(entry),
            )
            # The mesh's replica (behind the shim) still has the catalogue it loaded before the row.
            assert (await status_of(http, current))[0] == 404
            async with heard(infra, SUBJECT) as seen, aio.insecure_channel(address) as channel:
                stub = asset_pb2_grpc.AssetServiceStub(channel)
                reply = await stub.UpdatePricing(
                    asset_pb2.UpdatePricingRequest(provider=provider), metadata=DEV, timeout=10
                )
                assert (reply.provider, reply.status) == (provider, "completed")

                async def shim_sees_it() -> bool:
                    return (await status_of(http, current))[0] == 200

                await eventually(shim_sees_it)
                assert [e["provider"] for e in seen] == [provider]
                _, body = await status_of(http, current)
                assert (body["pricing"]["model"], body["pricing"]["standard_cost"]) == ("per_image", 0.123)

                # And back: the row goes, an update through the shim reaches the second replica.
                await conn.execute("DELETE FROM pricing_overrides WHERE provider = $1", provider)
                async with http.post(f"{_PRICING}/update?provider=dalle", headers=KEY) as response:
                    assert response.status == 200

                async def replica_forgot_it() -> bool:
                    try:
                        await stub.GetCurrentPricing(
                            asset_pb2.GetCurrentPricingRequest(provider=provider), metadata=DEV, timeout=5
                        )
                    except aio.AioRpcError as exc:
                        return exc.code() == grpc.StatusCode.NOT_FOUND
                    return False

                await eventually(replica_forgot_it)
                assert (await status_of(http, current))[0] == 404
    finally:
        await conn.execute("DELETE FROM pricing_overrides WHERE provider = $1", provider)
        await conn.close()
