"""v1 chat (July routes, December formats) through the real mesh, for API-key and JWT callers."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.integration.chat_helpers import Caller, dev_caller, new_user, sse_events
from tests.support.fake_llm import FakeLLM
from tests.support.infra import Infra
from tests.support.recorded import load


async def _call(
    http: aiohttp.ClientSession, method: str, path: str, caller: Caller, body: Any = None, **headers: str
) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    async with http.request(method, path, data=data, headers=caller.json_headers(**headers)) as response:
        return response.status, await response.read()


def _assert_chat_response(
    raw: bytes, fixture: str, *, model: str = "claude-3-haiku-20240307", provider: str = "claude"
) -> dict[str, Any]:
    ours, recorded = json.loads(raw), load(fixture).json()
    assert list(ours) == list(recorded)
    assert ours["response"] == recorded["response"]
    assert (ours["model"], ours["provider"]) == (model, provider)
    # July always sent these as null; CONTRACT §2 lets them carry real values of their documented type.
    words = len(recorded["response"].split())
    assert ours["usage"]["completion_tokens"] == words
    assert ours["usage"]["total_tokens"] == ours["usage"]["prompt_tokens"] + words
    assert isinstance(ours["response_time_ms"], int) and ours["reasoning"] is None
    assert ours["fallback_used"] is False
    return ours


@pytest.fixture(params=["api_key", "jwt"])
async def caller(request: pytest.FixtureRequest, infra: Infra, http: aiohttp.ClientSession) -> Caller:
    found = await dev_caller(infra) if request.param == "api_key" else await new_user(infra)
    status, _ = await _call(http, "DELETE", "/api/v1/chat/history", found)
    assert status == 200
    return found


async def test_v1_history_per_user_matches_the_recording(
    http: aiohttp.ClientSession, caller: Caller, fake_llm: FakeLLM
) -> None:
    for method, path, body, fixture in [
        ("GET", "/api/v1/chat/status", None, "v1_chat_status_before"),
        ("POST", "/api/v1/chat", {"message": "hi"}, "v1_chat_hi_1"),
        ("POST", "/api/v1/chat", {"message": "hi"}, "v1_chat_hi_2"),
        ("GET", "/api/v1/chat/status", None, "v1_chat_status"),
        ("DELETE", "/api/v1/chat/history", None, "v1_chat_history_delete"),
        ("GET", "/api/v1/chat/status", None, "v1_chat_status_after_delete"),
        ("POST", "/api/v1/chat/reload-prompt", None, "v1_chat_reload_prompt"),
    ]:
        status, raw = await _call(http, method, path, caller, body)
        recorded = load(fixture)
        assert status == recorded.status, (fixture, raw)
        if path == "/api/v1/chat":
            _assert_chat_response(raw, fixture)
        else:
            assert raw == recorded.body, fixture
    # The second "hi" carried the first exchange, and the persona prompt as Anthropic's system.
    second = fake_llm.find("hi")[-1]
    assert second.messages == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "echo: hi"},
        {"role": "user", "content": "hi"},
    ]
    assert second.system.startswith("You are Mu")


async def test_v1_reload_prompt_with_a_body_is_accepted(http: aiohttp.ClientSession, caller: Caller) -> None:
    status, raw = await _call(http, "POST", "/api/v1/chat/reload-prompt", caller, {})
    assert (status, raw) == (200, load("v1_chat_reload_prompt").body)
    status, raw = await _call(http, "DELETE", "/api/v1/chat/history", caller, {})
    assert (status, raw) == (200, load("v1_chat_history_delete").body)


async def test_v1_completions_model_picks_the_provider(http: aiohttp.ClientSession, caller: Caller) -> None:
    status, raw = await _call(
        http,
        "POST",
        "/api/v1/chat/completions",
        caller,
        {"message": "hi again", "model": "gpt-4o-mini", "stream": False},
    )
    assert status == 200
    _assert_chat_response(raw, "v1_chat_completions", model="gpt-4o-mini", provider="openai")


async def test_v1_upstream_failure_is_the_recorded_500(http: aiohttp.ClientSession, caller: Caller) -> None:
    recorded = load("v1_chat_upstream_fail")
    status, raw = await _call(http, "POST", "/api/v1/chat", caller, {"message": "fail: boom"})
    assert (status, raw) == (recorded.status, recorded.body)
    # The failed turn keeps its user message (as the reference's history did).
    status, raw = await _call(http, "GET", "/api/v1/chat/status", caller)
    assert json.loads(raw) == {"message_count": 1, "has_history": True}


@pytest.mark.parametrize(
    ("body", "fixture"),
    [
        ({"stream": False}, "v1_chat_missing_message_422"),
        ({"message": "hi", "provider": "nope"}, "v1_chat_bad_provider_422"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "v1_chat_openai_messages_422"),
    ],
)
async def test_v1_validation_is_the_recorded_422_without_secrets(
    http: aiohttp.ClientSession, caller: Caller, body: dict[str, Any], fixture: str
) -> None:
    status, raw = await _call(http, "POST", "/api/v1/chat", caller, body)
    recorded = load(fixture)
    assert status == recorded.status
    inner = json.loads(json.loads(recorded.body)["detail"].removeprefix("Service error: "))
    for item in inner["detail"]:
        item.pop("ctx", None)  # CONTRACT §4: FastAPI's items without ctx, and never the _auth echo
        if isinstance(item["input"], dict):
            item["input"].pop("_auth", None)
    expected = {"detail": "Service error: " + json.dumps(inner, ensure_ascii=False, separators=(",", ":"))}
    assert json.loads(raw) == expected


async def test_v1_empty_message_is_422(http: aiohttp.ClientSession, caller: Caller) -> None:
    status, raw = await _call(http, "POST", "/api/v1/chat", caller, {"message": ""})
    assert status == 422
    assert "string_too_short" in json.loads(raw)["detail"]


async def test_v1_openai_format_by_field_and_by_header(
    http: aiohttp.ClientSession, caller: Caller, infra: Infra
) -> None:
    for body, headers in [
        ({"message": "shape one", "response_format": "openai"}, {}),
        ({"message": "shape two"}, {"X-Response-Format": "openai"}),
    ]:
        status, raw = await _call(http, "POST", "/api/v1/chat", caller, body, **headers)
        assert status == 200, raw
        ours = json.loads(raw)
        assert list(ours) == ["id", "object", "created", "model", "choices", "usage", "_metadata"]
        assert ours["object"] == "chat.completion" and ours["model"] == "claude-3-haiku-20240307"
        assert ours["choices"] == [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "echo: " + body["message"]},
                "finish_reason": "stop",
            }
        ]
        assert list(ours["usage"]) == ["input_tokens", "output_tokens", "total_tokens"]
        meta = ours["_metadata"]
        assert list(meta) == [
            "route_type",
            "routing_time_ms",
            "llm_time_ms",
            "total_time_ms",
            "request_id",
            "conversation_id",
        ]
        assert meta["request_id"] == ours["id"] and ours["id"].startswith("chat-")
    conn = await asyncpg.connect(infra.database_url)
    try:
        default = await conn.fetchval(
            "SELECT id::text FROM conversations WHERE user_id = $1 AND is_default AND is_active",
            caller.user_id,
        )
    finally:
        await conn.close()
    assert meta["conversation_id"] == default


async def test_v1_stream_is_the_december_sse(http: aiohttp.ClientSession, caller: Caller) -> None:
    async with http.post(
        "/api/v1/chat", data=b'{"message":"hello there","stream":true}', headers=caller.json_headers()
    ) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        raw = await response.read()
    events = sse_events(raw)
    assert b'{"type": "metadata", "conversation_id": ' in raw  # json.dumps defaults, as the reference wrote
    opening, *chunks, timing, done, end = events
    assert list(opening) == ["type", "conversation_id", "model", "timestamp"]
    assert opening["model"] == "unified-chat"
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["echo:", " hello", " there"]
    for chunk in chunks:
        assert list(chunk) == ["id", "object", "created", "model", "choices"]
        assert chunk["object"] == "chat.completion.chunk" and chunk["choices"][0]["finish_reason"] is None
    assert list(timing) == [
        "type",
        "time_to_first_chunk_ms",
        "routing_time_ms",
        "llm_time_ms",
        "total_time_ms",
    ]
    assert (done, end) == ({"type": "done", "finish_reason": "stop"}, "[DONE]")


async def test_v1_stream_failure_ends_with_the_error_chunk(
    http: aiohttp.ClientSession, caller: Caller
) -> None:
    async with http.post(
        "/api/v1/chat", data=b'{"message":"failmid: a b c d","stream":true}', headers=caller.json_headers()
    ) as response:
        events = sse_events(await response.read())
    assert [e["choices"][0]["delta"].get("content") for e in events[1:4]] == ["echo:", " failmid:", " a"]
    error, end = events[4:]
    assert error["model"] == "error" and error["choices"] == [
        {"index": 0, "delta": {}, "finish_reason": "error"}
    ]
    assert error["error"]["type"] == "streaming_error" and "mid-stream failure" in error["error"]["message"]
    assert end == "[DONE]"


async def test_v1_without_credentials_is_the_recorded_401(http: aiohttp.ClientSession) -> None:
    recorded = load("v1_chat_noauth_401")
    async with http.post("/api/v1/chat", data=b'{"message":"hi"}') as response:
        assert (response.status, await response.read()) == (recorded.status, recorded.body)
