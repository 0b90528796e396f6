"""Streams for real: cut streams, retries, fallback, failures, isolation, usage, events, v0.3, native gRPC."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import asyncpg
import grpc
import httpx
import nats
import pytest
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from grpc import aio

from compat_gateway.app import build_app
from gaia_services.embedded import free_port
from gaia_services.settings import Settings
from tests.integration.chat_helpers import Caller, new_user, sse_events
from tests.support.fake_llm import FakeLLM, FakeRequest
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh
from tests.support.recorded import load


async def _rows(infra: Infra, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(infra.database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def _eventually(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def _gone(fake: FakeLLM, text: str, timeout: float = 5.0) -> FakeRequest:
    deadline = time.monotonic() + timeout
    while not fake.find(text) or fake.find(text)[-1].client_gone_at is None:
        assert time.monotonic() < deadline, f"the provider request for {text!r} was not closed"
        await asyncio.sleep(0.01)
    return fake.find(text)[-1]


@pytest.fixture
async def caller(infra: Infra) -> Caller:
    return await new_user(infra)


async def test_a_cut_stream_closes_the_provider_request_and_stores_the_partial_reply(
    http: aiohttp.ClientSession, caller: Caller, fake_llm: FakeLLM, infra: Infra
) -> None:
    text = "slow200: one two three four five six seven"
    async with http.post(
        "/api/v0.2/chat/stream", data=json.dumps({"message": text}), headers=caller.json_headers()
    ) as response:
        first = await response.content.readuntil(b"\n\n")
        cut_at = time.monotonic()
        response.close()
    assert first == b'data: {"choices": [{"delta": {"content": "echo:"}}]}\n\n'
    record = await _gone(fake_llm, text)
    assert record.client_gone_at is not None and record.client_gone_at - cut_at < 1.0
    assert record.tokens_sent < 7

    async def stored() -> list[asyncpg.Record]:
        return await _rows(
            infra,
            "SELECT role, content, is_partial FROM chat_messages WHERE user_id = $1 ORDER BY created_at, seq",
            caller.user_id,
        )

    rows = await _eventually(lambda: _two(stored))
    assert [(r["role"], r["is_partial"]) for r in rows] == [("user", False), ("assistant", True)]
    assert rows[0]["content"] == text and rows[1]["content"].startswith("echo:")
    usage = await _rows(
        infra, "SELECT status, provider FROM usage_records WHERE user_id = $1", caller.user_id
    )
    assert [(u["status"], u["provider"]) for u in usage] == [("cut", "claude")]


async def _two(fetch: Any) -> list[asyncpg.Record] | None:
    rows = await fetch()
    return rows if len(rows) == 2 else None


async def test_a_hanging_provider_is_abandoned_when_the_client_leaves(
    http: aiohttp.ClientSession, caller: Caller, fake_llm: FakeLLM
) -> None:
    text = "hang: forever"
    async with http.post(
        "/api/v1/chat", data=json.dumps({"message": text, "stream": True}), headers=caller.json_headers()
    ) as response:
        opening = await response.content.readuntil(b"\n\n")
        assert b'"type": "metadata"' in opening
        await _eventually(lambda: _has(fake_llm, text))
        cut_at = time.monotonic()
        response.close()
    record = await _gone(fake_llm, text)
    assert record.client_gone_at is not None and record.client_gone_at - cut_at < 1.0


async def _has(fake: FakeLLM, text: str) -> bool:
    return bool(fake.find(text))


async def test_a_transient_error_before_the_first_token_is_retried(
    http: aiohttp.ClientSession, caller: Caller, fake_llm: FakeLLM
) -> None:
    async with http.post(
        "/api/v0.2/chat", data=b'{"message":"flaky: retry me"}', headers=caller.json_headers()
    ) as response:
        assert response.status == 200
        assert (await response.json())["response"] == "echo: flaky: retry me"
    assert [r.outcome for r in fake_llm.find("flaky: retry me")] == ["injected_error", "response"]


async def test_a_failure_before_the_first_token_falls_back_when_asked(
    http: aiohttp.ClientSession, caller: Caller, fake_llm: FakeLLM
) -> None:
    body = {"message": "fail: then fall back", "enable_fallback": True}
    async with http.post("/api/v1/chat", data=json.dumps(body), headers=caller.json_headers()) as response:
        assert response.status == 200
        reply = await response.json()
    assert (reply["provider"], reply["model"], reply["fallback_used"]) == ("gaia-local", "gaia-local", True)
    assert reply["response"] == "echo: fail: then fall back"
    assert [r.model for r in fake_llm.find("fail: then fall back")] == [
        "claude-3-haiku-20240307",
        "gpt-4o-mini",
    ]


async def test_without_fallback_the_failure_is_reported(http: aiohttp.ClientSession, caller: Caller) -> None:
    async with http.post(
        "/api/v0.3/chat", data=b'{"message":"fail: no fallback"}', headers=caller.json_headers()
    ) as response:
        assert response.status == 500
        assert "injected failure" in (await response.json())["detail"]


async def test_a_mid_stream_failure_keeps_the_partial_reply(
    http: aiohttp.ClientSession, caller: Caller, infra: Infra
) -> None:
    async with http.post(
        "/api/v0.2/chat/stream", data=b'{"message":"failmid: x y z"}', headers=caller.json_headers()
    ) as response:
        events = sse_events(await response.read())
    assert events[-1] == {
        "error": "{'type': 'error', 'error': {'type': 'overloaded_error', "
        "'message': 'fake_llm: injected mid-stream failure'}}"
    }
    assert "[DONE]" not in events
    rows = await _rows(
        infra,
        "SELECT role, content, is_partial FROM chat_messages WHERE user_id = $1 ORDER BY created_at, seq",
        caller.user_id,
    )
    assert [(r["role"], r["content"], r["is_partial"]) for r in rows] == [
        ("user", "failmid: x y z", False),
        ("assistant", "echo: failmid: x", True),
    ]


async def test_another_users_conversation_is_404_before_any_stream(
    http: aiohttp.ClientSession, infra: Infra
) -> None:
    alice, bob = await new_user(infra), await new_user(infra)
    async with http.post(
        "/api/v0.3/chat", data=b'{"message":"mine"}', headers=alice.json_headers()
    ) as response:
        assert response.status == 200
        conversation = (await response.json())["conversation_id"]
    for path, extra in [
        ("/api/v0.2/chat", {}),
        ("/api/v0.2/chat/stream", {}),
        ("/api/v1/chat", {}),
        ("/api/v1/chat", {"stream": True}),
        ("/api/v0.3/chat", {}),
        ("/api/v0.3/chat", {"stream": True}),
    ]:
        for target in (conversation, "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
            body = {"message": "let me in", "conversation_id": target, **extra}
            async with http.post(path, data=json.dumps(body), headers=bob.json_headers()) as response:
                assert response.status == 404, (path, target)
                assert response.headers["content-type"] == "application/json"
                assert f"Conversation {target} not found" in await response.text()
    rows = await _rows(infra, "SELECT count(*) AS n FROM chat_messages WHERE user_id = $1", bob.user_id)
    assert rows[0]["n"] == 0


async def test_v03_continues_a_conversation_and_streams(
    http: aiohttp.ClientSession, caller: Caller, fake_llm: FakeLLM
) -> None:
    async with http.post(
        "/api/v0.3/chat", data=b'{"message":"first words"}', headers=caller.json_headers()
    ) as r:
        first = await r.json()
    assert list(first) == ["response", "conversation_id"] and first["response"] == "echo: first words"
    body = {"message": "second words", "conversation_id": first["conversation_id"], "stream": True}
    async with http.post("/api/v0.3/chat", data=json.dumps(body), headers=caller.json_headers()) as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        events = sse_events(await response.read())
    opening, *content, timing, done = events
    assert opening["type"] == "metadata" and opening["conversation_id"] == first["conversation_id"]
    assert content == [{"type": "content", "content": t} for t in ("echo:", " second", " words")]
    assert timing["type"] == "metadata" and done == {"type": "done"}
    assert fake_llm.find("second words")[-1].messages == [
        {"role": "user", "content": "first words"},
        {"role": "assistant", "content": "echo: first words"},
        {"role": "user", "content": "second words"},
    ]


async def test_v03_validation(http: aiohttp.ClientSession, caller: Caller) -> None:
    async with http.post(
        "/api/v0.3/chat", data=b'{"stream":true}', headers=caller.json_headers()
    ) as response:
        assert (response.status, await response.read()) == (
            400,
            b'{"error":"Missing required field: message"}',
        )
    async with http.post("/api/v0.3/chat", data=b'{"message":""}', headers=caller.json_headers()) as response:
        assert response.status == 422
        assert (await response.json())["detail"][0]["loc"] == ["body", "message"]


async def test_every_call_is_recorded_as_usage(
    http: aiohttp.ClientSession, caller: Caller, infra: Infra
) -> None:
    async with http.post(
        "/api/v0.2/chat", data=b'{"message":"count my tokens"}', headers=caller.json_headers()
    ) as response:
        assert response.status == 200
    rows = await _rows(
        infra,
        "SELECT provider, operation, model, tokens_in, tokens_out, cost, latency_ms, status, "
        "conversation_id FROM usage_records WHERE user_id = $1",
        caller.user_id,
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["provider"], row["model"], row["tokens_in"], row["tokens_out"], row["status"]) == (
        "claude",
        "claude-3-5-sonnet-20241022",
        3,
        4,
        "ok",
    )
    assert float(row["cost"]) == pytest.approx(3 * 3e-6 + 4 * 1.5e-5)
    assert row["latency_ms"] >= 0 and row["conversation_id"] is not None


async def test_chat_events_are_plain_json_on_nats(
    http: aiohttp.ClientSession, caller: Caller, infra: Infra
) -> None:
    client = await nats.connect(infra.nats_url)
    try:
        subscription = await client.subscribe("gaia.chat.message.>")
        await client.flush()
        async with http.post(
            "/api/v0.2/chat", data=b'{"message":"announce me"}', headers=caller.json_headers()
        ) as response:
            assert response.status == 200
        seen = []
        while len(seen) < 2:
            message = await subscription.next_msg(timeout=5)
            payload = json.loads(message.data)
            if payload.get("user_id") == caller.user_id:
                seen.append((message.subject, payload))
    finally:
        await client.close()
    (start_subject, start), (done_subject, done) = seen
    assert (start_subject, done_subject) == ("gaia.chat.message.start", "gaia.chat.message.complete")
    assert isinstance(start, dict) and start["provider"] == "claude"
    assert done["request_id"] == start["request_id"] and done["completion_tokens"] == 3


async def test_native_grpc_stream_and_unary_chat(mesh: Mesh, caller: Caller) -> None:
    metadata = tuple((k.lower(), v) for k, v in caller.headers.items())
    async with aio.insecure_channel(mesh.addrs["chat"]) as channel:
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        kinds = []
        async for event in stub.StreamChat(
            chat_pb2.StreamChatRequest(message="native call", model="gaia-local"),
            metadata=metadata,
            timeout=10,
        ):
            kinds.append(event.WhichOneof("event"))
        assert kinds == ["started", "token", "token", "token", "completed"]
        reply = await stub.Chat(
            chat_pb2.ChatRequest(turn=chat_pb2.StreamChatRequest(message="unary call", model="gaia-local")),
            metadata=metadata,
            timeout=10,
        )
        assert (reply.response, reply.provider, reply.finish_reason) == (
            "echo: unary call",
            "gaia-local",
            "stop",
        )
        with pytest.raises(aio.AioRpcError) as empty:
            await stub.Chat(
                chat_pb2.ChatRequest(turn=chat_pb2.StreamChatRequest(message=" ")),
                metadata=metadata,
                timeout=10,
            )
        assert empty.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(aio.AioRpcError) as unknown:
            await stub.Chat(
                chat_pb2.ChatRequest(turn=chat_pb2.StreamChatRequest(message="x", model="llama-nope")),
                metadata=metadata,
                timeout=10,
            )
        assert unknown.value.code() is grpc.StatusCode.NOT_FOUND


async def test_a_refused_turn_leaves_no_conversation_and_a_stored_one_is_whole(
    mesh: Mesh, caller: Caller, infra: Infra
) -> None:
    """A new conversation is written with its first turn, in one statement with both messages and the
    usage row: a turn refused after planning (unknown persona) leaves nothing behind."""
    metadata = tuple((k.lower(), v) for k, v in caller.headers.items())
    async with aio.insecure_channel(mesh.addrs["chat"]) as channel:
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        with pytest.raises(aio.AioRpcError) as refused:
            await stub.Chat(
                chat_pb2.ChatRequest(
                    turn=chat_pb2.StreamChatRequest(
                        message="nobody",
                        model="gaia-local",
                        persona_id="00000000-0000-4000-8000-000000000000",
                    )
                ),
                metadata=metadata,
                timeout=10,
            )
        assert refused.value.code() is grpc.StatusCode.NOT_FOUND
        assert await _rows(infra, "SELECT id FROM conversations WHERE user_id = $1", caller.user_id) == []
        reply = await stub.Chat(
            chat_pb2.ChatRequest(turn=chat_pb2.StreamChatRequest(message="first words", model="gaia-local")),
            metadata=metadata,
            timeout=10,
        )
    conversations = await _rows(
        infra, "SELECT id, title, preview FROM conversations WHERE user_id = $1", caller.user_id
    )
    assert [(str(r["id"]), r["title"], r["preview"]) for r in conversations] == [
        (reply.conversation_id, "first words", "echo: first words")
    ]
    messages = await _rows(
        infra,
        "SELECT id, role, content FROM chat_messages WHERE conversation_id = $1 ORDER BY seq",
        conversations[0]["id"],
    )
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "first words"),
        ("assistant", "echo: first words"),
    ]
    assert str(messages[1]["id"]) == reply.message_id
    usage = await _rows(
        infra,
        "SELECT conversation_id, operation, status, tokens_out FROM usage_records WHERE user_id = $1",
        caller.user_id,
    )
    assert [tuple(r) for r in usage] == [(conversations[0]["id"], "chat", "ok", 3)]


async def test_a_dead_chat_service_is_the_recorded_503(infra: Infra, mesh: Mesh) -> None:
    """A shim whose chat service cannot be reached (in process, pointed at a closed port)."""
    settings = Settings(
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        redis_prefix=infra.redis_prefix,
        auth_addr=mesh.addrs["auth"],
        asset_addr=mesh.addrs["asset"],
        chat_addr=f"127.0.0.1:{free_port()}",
        request_timeout_s=2.0,
        stream_idle_timeout_s=2.0,
    )
    app = build_app(settings)
    recorded = load("down_v1_chat_503")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shim") as client,
    ):
        for path in ("/api/v1/chat", "/api/v0.2/chat", "/api/v0.2/chat/stream"):
            response = await client.post(
                path,
                content=b'{"message":"hi"}',
                headers={"X-API-Key": DEV_API_KEY, "Content-Type": "application/json"},
            )
            assert (response.status_code, response.content) == (recorded.status, recorded.body), path
