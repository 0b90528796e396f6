"""The shim in process, on fake gRPC services (``tests/support/fake_services.py``): the route table, the
one relay, the error tables both ways and /health, without a mesh, a database or a provider."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from gaia.chat.v1 import chat_pb2

from compat_gateway.routes import ROUTES, check
from compat_gateway.routes.table import Unary
from compat_gateway.rpcs import CHAT
from tests.support.fake_services import GOOD_KEY, FakeMesh, fake_mesh

KEY = {"X-API-Key": GOOD_KEY}


@pytest.fixture
async def mesh() -> AsyncIterator[FakeMesh]:
    async with fake_mesh() as running:
        yield running


async def _post(mesh: FakeMesh, path: str, body: Any, headers: dict[str, str] = KEY) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(mesh.url) as http,
        http.post(path, json=body, headers=headers) as response,
    ):
        return response.status, await response.read()


async def test_a_v02_stream_is_relayed_in_its_grammar(mesh: FakeMesh) -> None:
    status, body = await _post(mesh, "/api/v0.2/chat/stream", {"message": "tokens:a,b"})
    assert status == 200
    assert body == (
        b'data: {"choices": [{"delta": {"content": "a"}}]}\n\n'
        b'data: {"choices": [{"delta": {"content": "b"}}]}\n\n'
        b"data: [DONE]\n\n"
    )
    assert mesh.chat.requests[-1].door == chat_pb2.CHAT_DOOR_V02  # its default model is the service's choice


async def test_the_openai_door_collects_the_stream_into_one_completion(mesh: FakeMesh) -> None:
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "tokens:x,y"}]}
    status, raw = await _post(mesh, "/v1/chat/completions", body)
    assert status == 200
    assert json.loads(raw) == {
        "id": "chatcmpl-r1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "xy", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


async def test_a_refusal_before_the_first_event_is_the_route_s_http_error(mesh: FakeMesh) -> None:
    assert await _post(mesh, "/api/v0.2/chat", {"message": "refuse:Model nope not found"}) == (
        404,
        b'{"detail":"Model nope not found"}',
    )
    body = {
        "model": "nope",
        "messages": [{"role": "user", "content": "refuse:The model nope does not exist"}],
    }
    status, raw = await _post(mesh, "/v1/chat/completions", body)
    assert (status, json.loads(raw)) == (
        404,
        {
            "error": {
                "message": "The model nope does not exist",
                "type": "invalid_request_error",
                "param": "model",
                "code": "model_not_found",
            }
        },
    )


async def test_credentials_refused_by_the_service_are_never_wrapped(mesh: FakeMesh) -> None:
    status, raw = await _post(mesh, "/api/v0.2/chat", {"message": "tokens:a"}, {"X-API-Key": "wrong"})
    assert (status, raw) == (403, b'{"detail":"Could not validate credentials"}')


async def test_an_unexpected_service_failure_shows_no_internal_text(mesh: FakeMesh) -> None:
    async with (
        aiohttp.ClientSession(mesh.url) as http,
        http.get("/api/v1/auth/profile", headers=KEY) as response,
    ):
        assert (response.status, await response.read()) == (500, b'{"detail":"Internal server error"}')


async def test_a_failed_event_and_a_broken_stream_end_the_grammar_with_its_error_event(
    mesh: FakeMesh,
) -> None:
    status, raw = await _post(mesh, "/api/v0.3/chat", {"message": "fail:gone", "stream": True})
    assert status == 200
    opening = {"type": "metadata", "conversation_id": "c1", "model": "unified-chat", "timestamp": 1700000000}
    error = b'data: {"type": "error", "error": "gone"}\n\n'
    assert raw == f"data: {json.dumps(opening)}\n\n".encode() + error

    status, raw = await _post(mesh, "/api/v1/chat", {"message": "break", "stream": True})
    events = [json.loads(line[6:]) for line in raw.decode().split("\n\n") if line and line != "data: [DONE]"]
    assert status == 200 and raw.endswith(b"data: [DONE]\n\n")
    assert [e.get("choices", [{}])[0].get("delta") for e in events[1:]] == [{"content": "partial"}, {}]
    assert events[-1]["error"] == {"message": "Service chat unavailable", "type": "streaming_error"}


async def test_a_client_that_leaves_cancels_the_service_stream(mesh: FakeMesh) -> None:
    async with aiohttp.ClientSession(mesh.url) as http:
        response = await http.post("/api/v0.2/chat/stream", json={"message": "hang"}, headers=KEY)
        assert (
            await response.content.readuntil(b"\n\n")
            == b'data: {"choices": [{"delta": {"content": "partial"}}]}\n\n'
        )
        response.close()
    await asyncio.wait_for(mesh.chat.cancelled.wait(), 5)


async def test_health_reads_postgres_from_the_services_health_checks(mesh: FakeMesh) -> None:
    async def health() -> dict[str, Any]:
        async with aiohttp.ClientSession(mesh.url) as http, http.get("/health") as response:
            assert response.status == 200
            return dict(await response.json())

    up = await health()
    assert up["database"] == {"status": "healthy", "database": "postgresql", "responsive": True}
    assert {name: entry["status"] for name, entry in up["services"].items()} == dict.fromkeys(
        ("auth", "asset", "chat"), "healthy"
    )
    assert up["redis"] == {"status": "unhealthy", "connected": False}  # its port is closed here
    mesh.pool.down = True
    down = await health()
    assert down["database"]["responsive"] is False
    assert down["database"]["error"] == (
        "PostgreSQL unreachable (auth: NOT_SERVING, asset: NOT_SERVING, chat: NOT_SERVING)"
    )


def test_the_table_is_checked_at_start_and_a_misnamed_rpc_fails_at_once() -> None:
    check(ROUTES)
    wrong = Unary(
        method="POST", path="/x", name="x", rpc=CHAT.StreamChat, build=lambda i: None, render=lambda r, i: r
    )
    with pytest.raises(ValueError, match="Unary row on the server-streaming RPC StreamChat"):
        check((*ROUTES, wrong))
    with pytest.raises(AttributeError, match="has no RPC 'StreamChta'"):
        _ = CHAT.StreamChta
