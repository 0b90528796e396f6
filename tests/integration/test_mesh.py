"""The foundation, end to end: the mesh from one command, health, reflection, auth, restart, shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import grpc
import psutil
import pytest
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh, run_mesh
from tests.support.recorded import load, normalise


async def _services(address: str) -> list[str]:
    async with aio.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        async for reply in call:
            return sorted(s.name for s in reply.list_services_response.service)
    return []


async def test_health_reports_every_part_healthy_in_the_reference_shape(http: aiohttp.ClientSession) -> None:
    async with http.get("/health") as response:
        body = await response.read()
        assert response.status == 200
        assert response.headers["content-type"] == "application/json"
    recorded = load("health")
    floats = ("response_time",)
    assert normalise(json.loads(body), floats=floats) == normalise(recorded.json(), floats=floats)


@pytest.mark.parametrize(
    ("path", "fixture"), [("/", "root"), ("/api/v0.2/", "v02_info"), ("/api/v0.2/health", "v02_health")]
)
async def test_local_routes_answer_the_recorded_bytes(
    http: aiohttp.ClientSession, path: str, fixture: str
) -> None:
    recorded = load(fixture)
    async with http.get(path) as response:
        assert response.status == recorded.status
        assert await response.read() == recorded.body
        assert response.headers["content-type"] == recorded.headers["content-type"]


@pytest.mark.parametrize(
    ("method", "path", "fixture"),
    [
        ("GET", "/api/v1/filesystem", "unknown_route_404"),
        ("GET", "/api/v0.2", "v02_info_noslash"),
    ],
)
async def test_framework_answers_match_the_reference(
    http: aiohttp.ClientSession, mesh: Mesh, method: str, path: str, fixture: str
) -> None:
    recorded = load(fixture)
    async with http.request(
        method, path, allow_redirects=False, headers={"X-API-Key": DEV_API_KEY}
    ) as response:
        assert response.status == recorded.status
        body = await response.read()
        if recorded.status == 307:
            assert response.headers["location"] == f"{mesh.http}/api/v0.2/"
        else:
            assert body == recorded.body


async def test_each_service_reports_serving_and_reflects_gaia_services(mesh: Mesh) -> None:
    for name, address in mesh.addrs.items():
        async with aio.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for service in ("", f"gaia.{name}.v1.{name.capitalize()}Service"):
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
        services = await _services(address)
        assert f"gaia.{name}.v1.{name.capitalize()}Service" in services
        assert "grpc.health.v1.Health" in services


async def test_rpc_without_credentials_is_refused_and_with_the_dev_key_passes_auth(mesh: Mesh) -> None:
    async with aio.insecure_channel(mesh.addrs["chat"]) as channel:
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        with pytest.raises(aio.AioRpcError) as refused:
            await stub.ListConversations(chat_pb2.ListConversationsRequest(), timeout=5)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert refused.value.details() == "Not authenticated. Provide a valid JWT or API Key."
        with pytest.raises(aio.AioRpcError) as forbidden:
            await stub.ListConversations(
                chat_pb2.ListConversationsRequest(), timeout=5, metadata=(("x-api-key", "not-a-real-key"),)
            )
        assert forbidden.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert forbidden.value.details() == "Could not validate credentials"
        try:
            await stub.ListConversations(
                chat_pb2.ListConversationsRequest(), timeout=5, metadata=(("x-api-key", DEV_API_KEY),)
            )
        except aio.AioRpcError as exc:  # past authentication, whatever the RPC itself answers
            assert exc.code() not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


async def test_a_child_that_dies_is_restarted(mesh: Mesh) -> None:
    old = mesh.child_pid("asset")
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        new = mesh.child_pid("asset")
        if new != old:
            async with aio.insecure_channel(mesh.addrs["asset"]) as channel:
                try:
                    reply = await health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=1
                    )
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except aio.AioRpcError:
                    pass
        assert time.monotonic() < deadline, "asset was not restarted within 30 s"
        await asyncio.sleep(0.2)
    assert any("asset exited with" in line for line in mesh.log)


def test_gaia_status_shows_every_part_healthy(mesh: Mesh) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gaia_services.cli", "status", "--json"],
        env=dict(mesh.env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    parts = {p["name"]: p for p in json.loads(result.stdout)["parts"]}
    for name in ("auth", "chat", "asset", "shim", "web"):
        assert parts[name]["state"] == "healthy", parts[name]


async def test_shutdown_stops_everything_within_ten_seconds(infra: Infra, tmp_path: Path) -> None:
    async with run_mesh(infra, tmp_path) as mesh:
        pids = mesh.all_pids()
        assert len(pids) >= 6
        started = time.monotonic()
        mesh.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(mesh.process.wait(), 10)
        assert time.monotonic() - started < 10
        alive = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
        assert alive == []
        assert not (tmp_path / "run" / "mesh.json").exists()


async def test_every_response_reports_the_shims_own_overhead(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v0.2/health") as response:
        overhead = float(response.headers["x-gaia-overhead-ms"])
    assert 0.0 <= overhead < 1000.0


async def test_metrics_count_requests_by_route(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v0.2/health"):
        pass
    async with http.get("/metrics") as response:
        text = await response.text()
    assert response.status == 200
    series = 'gaia_shim_requests_total{method="GET",route="/api/v0.2/health",status="200"}'
    line = next(row for row in text.splitlines() if row.startswith(series))
    assert float(line.rsplit(" ", 1)[1]) >= 1.0


async def test_oversized_bodies_are_refused_with_413(http: aiohttp.ClientSession) -> None:
    big = b'{"a":"' + b"x" * 2_000_000 + b'"}'
    async with http.post(
        "/calculator/add", data=big, headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 413
        assert await response.json() == {"detail": "Request body too large"}


async def test_malformed_json_is_422_not_500(http: aiohttp.ClientSession) -> None:
    async with http.post(
        "/calculator/add", data=b'{"a": 1,', headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 422
        assert (await r.json())["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("text", ["nul\u0000byte", "lone \ud800 surrogate"])
async def test_text_no_service_can_store_is_422(http: aiohttp.ClientSession, text: str) -> None:
    body = json.dumps({"a": text, "b": "x"}).encode()  # json.dumps escapes both as \\u sequences
    headers = {"Content-Type": "application/json"}
    async with http.post("/calculator/add", data=body, headers=headers) as response:
        assert response.status == 422
        detail = (await response.json())["detail"]
        assert detail[0]["type"] == "string_unicode"
        assert detail[0]["loc"] == ["body", "a"]


async def test_a_request_id_follows_the_call_through_the_services(
    http: aiohttp.ClientSession, mesh: Mesh
) -> None:
    request_id = "trace1234abcd"  # the service logs show the first 12 characters
    headers = {"X-API-Key": DEV_API_KEY, "X-Request-Id": request_id}
    async with http.get("/api/v1/chat/status", headers=headers) as response:
        assert response.status == 200
        assert response.headers["x-request-id"] == request_id
    deadline = time.monotonic() + 5
    tagged = f"[{request_id[:12]}]"
    while not {"auth", "chat"} <= {line.split("|")[0].strip() for line in mesh.log if tagged in line}:
        assert time.monotonic() < deadline, "the request id did not reach both services' logs"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    ("body", "fixture"),
    [(b'{"a":2,"b":3}', "calculator_add"), (b'{"a":"2","b":"3"}', "calculator_add_strings")],
)
async def test_calculator_answers_the_recorded_bytes(
    http: aiohttp.ClientSession, body: bytes, fixture: str
) -> None:
    recorded = load(fixture)
    async with http.post(
        "/calculator/add", data=body, headers={"Content-Type": "application/json"}
    ) as response:
        assert (response.status, await response.read()) == (recorded.status, recorded.body)


async def test_calculator_mixed_types_are_a_client_error_not_500(http: aiohttp.ClientSession) -> None:
    async with http.post(
        "/calculator/add", data=b'{"a":2,"b":"3"}', headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 422
        assert (await r.json())["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize("fixture", ["root_with_origin", "cors_preflight_chat", "cors_preflight_bad_origin"])
async def test_cors_answers_as_recorded(http: aiohttp.ClientSession, fixture: str) -> None:
    recorded = load(fixture)
    if fixture == "root_with_origin":
        method, headers = "GET", {"Origin": "http://localhost:3000"}
        path = "/"
    elif fixture == "cors_preflight_chat":
        method, path = "OPTIONS", "/api/v0.2/chat"
        headers = {
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key,content-type",
        }
    else:
        method, path = "OPTIONS", "/api/v0.2/chat"
        headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    async with http.request(method, path, headers={**headers, "X-API-Key": "cors-check-key"}) as response:
        assert (response.status, await response.read()) == (recorded.status, recorded.body)
        for name, value in recorded.headers.items():
            if name.startswith("access-control"):
                assert response.headers.get(name) == value, name
        # Today's Starlette also lists the preflight request headers in Vary (more correct for caches).
        assert response.headers["vary"].split(",")[0] == recorded.headers["vary"]
