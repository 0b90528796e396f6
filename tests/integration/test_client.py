"""The typed client (``gaia_client``) against the real mesh: a streamed turn, a turn cut mid-stream (the
provider request closes), refusal without credentials, unary calls, and an asset generation."""

from __future__ import annotations

import asyncio
import time

import pytest

from gaia_client import (
    Completed,
    Done,
    GaiaClient,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Progress,
    Started,
    Token,
    Unauthenticated,
)
from tests.integration.chat_helpers import new_user
from tests.support.fake_llm import FakeLLM, echo_tokens
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh


def _client(mesh: Mesh, *, api_key: str = "", jwt: str = "") -> GaiaClient:
    addrs = mesh.addrs
    return GaiaClient(
        chat=addrs["chat"], auth=addrs["auth"], asset=addrs["asset"], timeout=10, api_key=api_key, jwt=jwt
    )


async def test_a_turn_streams_as_typed_events(mesh: Mesh) -> None:
    async with _client(mesh, api_key=DEV_API_KEY) as gaia:
        async with gaia.chat.stream("typed client", model="gaia-local") as events:
            seen = [event async for event in events]
        assert isinstance(seen[0], Started) and seen[0].provider == "gaia-local"
        assert [e.text for e in seen if isinstance(e, Token)] == echo_tokens("typed client")
        assert isinstance(seen[-1], Completed) and seen[-1].finish_reason == "stop"
        assert events.text == "echo: typed client" and events.completed is seen[-1]
        follow = await gaia.chat.send("and again", conversation_id=seen[0].conversation_id)
        assert follow.conversation_id == seen[0].conversation_id and follow.response == "echo: and again"
        messages = await gaia.chat.messages(seen[0].conversation_id)
        assert [m.content for m in messages][-2:] == ["and again", "echo: and again"]
        assert seen[0].conversation_id in {c.id for c in await gaia.chat.conversations()}
        assert await gaia.chat.personas()
        assert "gpt-4o-mini" in {m.id for m in await gaia.chat.models()}
        assert (await gaia.auth.profile()).email == "dev@gaia.local"


async def test_leaving_the_stream_cancels_the_turn_and_closes_the_provider_request(
    mesh: Mesh, infra: Infra, fake_llm: FakeLLM
) -> None:
    caller = await new_user(infra)
    jwt = caller.headers["Authorization"].removeprefix("Bearer ")
    text = "slow200: one two three four five six seven eight"
    async with _client(mesh, jwt=jwt) as gaia:
        async with gaia.chat.stream(text) as events:
            async for event in events:
                if isinstance(event, Token):
                    break  # leaving the ``async with`` below cancels the RPC
        left_at = time.monotonic()
        assert events.cancelled
        deadline = time.monotonic() + 5
        while not fake_llm.find(text) or fake_llm.find(text)[-1].client_gone_at is None:
            assert time.monotonic() < deadline, "the provider request was not closed"
            await asyncio.sleep(0.01)
        record = fake_llm.find(text)[-1]
        assert record.client_gone_at is not None and record.client_gone_at - left_at < 1.0
        assert record.tokens_sent < len(echo_tokens(text))
        # The channel outlives the cancelled call: the next call reuses it.
        assert (await gaia.chat.send("after the cut", model="gaia-local")).response == "echo: after the cut"


async def test_without_credentials_every_call_is_refused(mesh: Mesh) -> None:
    async with _client(mesh) as gaia:
        with pytest.raises(Unauthenticated):
            async with gaia.chat.stream("let me in") as events:
                async for _ in events:
                    pass
        with pytest.raises(Unauthenticated):
            await gaia.chat.personas()
    async with _client(mesh, api_key="not-a-key") as gaia:
        with pytest.raises(PermissionDenied):  # a key the mesh does not know (the legacy 403)
            await gaia.chat.send("let me in")


async def test_domain_errors_are_the_hierarchy(mesh: Mesh) -> None:
    async with _client(mesh, api_key=DEV_API_KEY) as gaia:
        with pytest.raises(InvalidArgument):
            await gaia.chat.send(" ")
        with pytest.raises(NotFound) as unknown:
            async with gaia.chat.stream("x", model="llama-nope") as events:
                await events.collect()
        assert not unknown.value.mid_stream


async def test_an_asset_generation_reports_progress_then_the_asset(mesh: Mesh) -> None:
    async with (
        _client(mesh, api_key=DEV_API_KEY) as gaia,
        gaia.assets.generate("a tiny red cube", type="image") as events,
    ):
        seen = [event async for event in events]
    progress = [e for e in seen if isinstance(e, Progress)]
    assert progress and progress == seen[:-1] and isinstance(seen[-1], Done)
    assert [e.percent for e in progress] == sorted(e.percent for e in progress)
    assert seen[-1].asset_id and seen[-1].generation_id == seen[0].generation_id
