"""The OpenAI-compatible door, driven by the official openai SDK through the real mesh."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import openai
import pytest

from tests.integration.chat_helpers import new_user
from tests.support.fake_llm import FakeLLM
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh


def _client(mesh: Mesh, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{mesh.http}/v1", api_key=key, max_retries=0)


@pytest.fixture(params=["api_key", "jwt"])
async def client(
    request: pytest.FixtureRequest, mesh: Mesh, infra: Infra
) -> AsyncIterator[openai.AsyncOpenAI]:
    if request.param == "api_key":
        key = DEV_API_KEY
    else:
        key = (await new_user(infra)).headers["Authorization"].removeprefix("Bearer ")
    async with _client(mesh, key) as sdk:
        yield sdk


async def test_the_sdk_streams_token_by_token_with_usage(
    client: openai.AsyncOpenAI, fake_llm: FakeLLM
) -> None:
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, finish, usage = [], None, None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    assert pieces == ["echo:", " hello", " there"]
    assert finish == "stop"
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (
        2,
        3,
        5,
    )
    sent = fake_llm.find("hello there")[-1]
    assert sent.api == "openai" and sent.system == "Be brief."  # the caller's prompt as given, no persona


async def test_the_sdk_gets_a_whole_completion(client: openai.AsyncOpenAI) -> None:
    reply = await client.chat.completions.create(
        model="claude-3-haiku-20240307",
        messages=[
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "echo: earlier"},
            {"role": "user", "content": "héllo ✓"},
        ],
    )
    assert reply.object == "chat.completion" and reply.id.startswith("chatcmpl-")
    assert reply.model == "claude-3-haiku-20240307"
    assert reply.choices[0].message.content == "echo: héllo ✓"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens == 3


async def test_the_sdk_sees_openai_errors(mesh: Mesh) -> None:
    async with _client(mesh, "not-a-real-key") as bad:
        with pytest.raises(openai.AuthenticationError) as bad_key:
            await bad.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
    assert bad_key.value.status_code == 401
    assert bad_key.value.code == "invalid_api_key"
    async with _client(mesh, DEV_API_KEY) as good:
        await _refused_as_openai_does(good)


async def _refused_as_openai_does(good: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        await good.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as empty:
        await good.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": ""}])
    assert empty.value.code is None and empty.value.type == "invalid_request_error"


async def test_a_mid_stream_failure_is_an_error_event(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "failmid: a b c"}], stream=True
    )
    pieces = []
    with pytest.raises(openai.APIError) as failed:
        async for chunk in stream:
            pieces.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert pieces == ["echo:", " failmid:", " a"]
    assert "mid-stream failure" in failed.value.message


async def test_missing_credentials_are_openai_401(http: aiohttp.ClientSession) -> None:
    async with http.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []}) as response:
        assert response.status == 401
        body = await response.json()
    assert body["error"]["code"] == "invalid_api_key" and set(body["error"]) == {
        "message",
        "type",
        "param",
        "code",
    }


async def test_the_sdk_lists_models(client: openai.AsyncOpenAI) -> None:
    page = await client.models.list()
    ids = [m.id for m in page.data]
    assert ids and all(m.object == "model" for m in page.data)
