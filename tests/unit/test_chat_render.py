"""The chat renderers' framing and shapes, from StreamChat events built by hand (no network)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gaia.chat.v1 import chat_pb2
from gaia.common.v1 import common_pb2

from compat_gateway.render import chat as render
from compat_gateway.render.sse import compact_event, event
from gaia_services.runtime.principal import Credentials
from tests.support.fake_llm import echo_tokens


def _events(*tokens: str, failed: str = "") -> list[chat_pb2.StreamChatResponse]:
    started = chat_pb2.StreamChatResponse(
        started=chat_pb2.ChatStarted(
            conversation_id="c1", model="m", provider="claude", request_id="chat-1", created=7
        )
    )
    out = [started, *(chat_pb2.StreamChatResponse(token=chat_pb2.ChatToken(text=t)) for t in tokens)]
    if failed:
        out.append(
            chat_pb2.StreamChatResponse(
                failed=common_pb2.Failure(code=13, reason="api_error", message=failed)
            )
        )
    else:
        out.append(
            chat_pb2.StreamChatResponse(
                completed=chat_pb2.ChatCompleted(
                    finish_reason="stop",
                    model="m",
                    provider="claude",
                    usage=common_pb2.Usage(
                        prompt_tokens=2, completion_tokens=len(tokens), total_tokens=2 + len(tokens)
                    ),
                )
            )
        )
    return out


async def _aiter(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def _sse(renderer: Any, messages: list[Any]) -> bytes:
    return b"".join([chunk async for chunk in renderer(messages[0], _aiter(messages[1:]), None)])


def test_legacy_events_use_json_dumps_defaults_and_openai_events_are_compact() -> None:
    assert event({"a": "é", "b": [1]}) == b'data: {"a": "\\u00e9", "b": [1]}\n\n'
    assert compact_event({"a": "é", "b": [1]}) == 'data: {"a":"é","b":[1]}\n\n'.encode()


async def test_v02_stream_ends_in_done_or_one_error_event() -> None:
    assert await _sse(render.v02_sse, _events("echo:", " hi")) == (
        b'data: {"choices": [{"delta": {"content": "echo:"}}]}\n\n'
        b'data: {"choices": [{"delta": {"content": " hi"}}]}\n\ndata: [DONE]\n\n'
    )
    assert await _sse(render.v02_sse, _events("echo:", failed="boom")) == (
        b'data: {"choices": [{"delta": {"content": "echo:"}}]}\n\ndata: {"error": "boom"}\n\n'
    )


async def test_v03_stream_shape() -> None:
    raw = await _sse(render.v03_sse, _events("a"))
    assert raw.startswith(
        b'data: {"type": "metadata", "conversation_id": "c1", "model": "unified-chat", "timestamp": 7}\n\n'
    )
    assert raw.endswith(b'data: {"type": "done"}\n\n')
    assert (await _sse(render.v03_sse, _events(failed="x"))).endswith(
        b'data: {"type": "error", "error": "x"}\n\n'
    )


def test_v02_json_and_failure() -> None:
    assert render.v02_json(_events("echo:", " hi"), None) == {  # type: ignore[arg-type]
        "response": "echo: hi",
        "model": "m",
        "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4},
    }
    response = render.v02_json(_events(failed="Connection error."), None)  # type: ignore[arg-type]
    assert response.status_code == 500
    assert response.body == b'{"error":"Failed to process chat request","detail":"Connection error."}'


def test_openai_door_credentials() -> None:
    assert Credentials.from_openai_headers({"authorization": "Bearer a.b.c"}).jwt == "a.b.c"
    assert Credentials.from_openai_headers({"authorization": "Bearer gaia_dev_key"}).api_key == "gaia_dev_key"
    assert Credentials.from_openai_headers({"x-api-key": "k"}).api_key == "k"
    assert not Credentials.from_openai_headers({"authorization": "Basic xyz"}).present


def test_the_fake_splits_like_the_recording() -> None:
    assert echo_tokens('héllo wörld ✓ 日本 "q" \\ back') == [
        "echo:",
        " héllo",
        " wörld",
        " ✓",
        " 日本",
        ' "q"',
        " \\",
        " back",
    ]
