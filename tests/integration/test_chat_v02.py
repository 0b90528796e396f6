"""v0.2 chat through the real mesh and the real Anthropic/OpenAI SDKs against the fake provider."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.support.fake_llm import FakeLLM
from tests.support.mesh import DEV_API_KEY
from tests.support.recorded import load

KEY = {"X-API-Key": DEV_API_KEY}


async def _post(
    http: aiohttp.ClientSession,
    path: str,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, bytes]:
    hdrs = {**KEY, "Content-Type": "application/json", **(headers or {})}
    async with http.post(path, data=body, headers=hdrs) as response:
        return response.status, response.headers.copy(), await response.read()


@pytest.mark.parametrize(
    "fixture",
    [
        "v02_chat_hello",
        "v02_chat_haiku",
        "v02_chat_nonascii",
        "v02_chat_model_gpt4o_mini",
        "v02_chat_extra_fields_ignored",
        "v02_chat_stream_flag",
        "v02_chat_upstream_fail",
    ],
)
async def test_v02_chat_answers_the_recorded_bytes(http: aiohttp.ClientSession, fixture: str) -> None:
    body = {
        "v02_chat_hello": {"message": "hello there"},
        "v02_chat_haiku": {"message": "hello there", "model": "claude-3-haiku-20240307"},
        "v02_chat_nonascii": {"message": 'héllo wörld ✓ 日本 "q" \\ back'},
        "v02_chat_model_gpt4o_mini": {"message": "hello there", "model": "gpt-4o-mini"},
        "v02_chat_extra_fields_ignored": {
            "message": "hello there",
            "persona_id": "x",
            "provider": "openai",
            "activity": "vr",
        },
        "v02_chat_stream_flag": {"message": "hello there", "stream": True},
        "v02_chat_upstream_fail": {"message": "fail: boom"},
    }[fixture]
    recorded = load(fixture)
    status, headers, raw = await _post(http, "/api/v0.2/chat", json.dumps(body, ensure_ascii=False).encode())
    assert (status, raw) == (recorded.status, recorded.body)
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "fixture",
    [
        "v02_chat_stream_hello",
        "v02_chat_stream_haiku",
        "v02_chat_stream_nonascii",
        "v02_chat_stream_newline_message",
        "v02_chat_stream_upstream_fail",
        "v02_chat_stream_failmid",
    ],
)
async def test_v02_chat_stream_answers_the_recorded_sse_bytes(
    http: aiohttp.ClientSession, fixture: str
) -> None:
    body = {
        "v02_chat_stream_hello": {"message": "hello there"},
        "v02_chat_stream_haiku": {"message": "hello there", "model": "claude-3-haiku-20240307"},
        "v02_chat_stream_nonascii": {"message": 'héllo wörld ✓ 日本 "q" \\ back'},
        "v02_chat_stream_newline_message": {"message": "line one\nline two\ttab"},
        "v02_chat_stream_upstream_fail": {"message": "fail: boom"},
        "v02_chat_stream_failmid": {"message": "failmid: one two three four five"},
    }[fixture]
    recorded = load(fixture)
    status, headers, raw = await _post(
        http, "/api/v0.2/chat/stream", json.dumps(body, ensure_ascii=False).encode()
    )
    assert (status, raw) == (recorded.status, recorded.body)
    for name in ("content-type", "cache-control", "x-accel-buffering", "connection"):
        assert headers[name] == recorded.headers[name]


async def test_v02_chat_sends_the_persona_prompt_and_no_history(
    http: aiohttp.ClientSession, fake_llm: FakeLLM
) -> None:
    status, _, _ = await _post(http, "/api/v0.2/chat", b'{"message":"persona check one"}')
    assert status == 200
    status, _, _ = await _post(http, "/api/v0.2/chat", b'{"message":"persona check two"}')
    assert status == 200
    record = fake_llm.find("persona check two")[-1]
    assert record.api == "anthropic" and record.model == "claude-3-5-sonnet-20241022"
    assert record.system.startswith("You are Mu, a cheerful robot companion")
    assert "{tools_section}" not in record.system
    assert record.messages == [{"role": "user", "content": "persona check two"}]


@pytest.mark.parametrize(
    ("raw", "loc", "kind"),
    [
        (b'{"message":""}', ["body", "message"], "string_too_short"),
        (b"{}", ["body", "message"], "missing"),
        (b'["hello"]', ["body"], "model_type"),
        (b'{"message": "hi",', ["body", 17], "json_invalid"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v0.2/chat", "/api/v0.2/chat/stream"])
async def test_v02_bad_bodies_are_plain_422(
    http: aiohttp.ClientSession, path: str, raw: bytes, loc: list[object], kind: str
) -> None:
    status, headers, body = await _post(http, path, raw)
    assert status == 422
    assert headers["content-type"] == "application/json"
    detail = json.loads(body)["detail"]
    assert [(d["type"], d["loc"]) for d in detail] == [(kind, loc)]


async def test_v02_chat_without_credentials_is_the_recorded_401(http: aiohttp.ClientSession) -> None:
    recorded = load("v02_chat_stream_noauth")
    async with http.post("/api/v0.2/chat/stream", data=b'{"message":"hello there"}') as response:
        assert (response.status, await response.read()) == (recorded.status, recorded.body)
