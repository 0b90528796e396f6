"""The typed client on in-process gRPC servers (port 0): credentials as metadata, retries of idempotent
calls and of a stream before its first message only (gRPC's service config), round-robin over several
addresses, deadlines, the error hierarchy, cancellation, and that it imports nothing of the services."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from grpc import aio

from gaia_client import (
    DeadlineExceeded,
    GaiaClient,
    NotFound,
    RateLimited,
    Started,
    Token,
    Unauthenticated,
    Unavailable,
)
from gaia_client.channels import service_config, target_of


@dataclass
class _Chat(chat_pb2_grpc.ChatServiceServicer):
    """A chat service whose answers the test scripts; it records every call."""

    name: str = ""
    fail_first: grpc.StatusCode | None = None  # the first ListPersonas / StreamChat call fails with it
    fail_after_token: bool = False
    delay_s: float = 0.0
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    def _record(self, method: str, context: aio.ServicerContext) -> int:
        self.calls.append((method, {k: v for k, v in context.invocation_metadata() or ()}))
        return sum(1 for m, _ in self.calls if m == method)

    async def ListPersonas(self, request: Any, context: aio.ServicerContext) -> Any:
        attempt = self._record("ListPersonas", context)
        await asyncio.sleep(self.delay_s)
        if self.fail_first is not None and attempt == 1:
            await context.abort(self.fail_first, "first attempt fails")
        return chat_pb2.ListPersonasResponse(personas=[chat_pb2.Persona(id="p1", name=self.name)])

    async def GetPersona(self, request: Any, context: aio.ServicerContext) -> Any:
        self._record("GetPersona", context)
        context.set_trailing_metadata((("gaia-error", "ratelimit"), ("retry-after", "7")))
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down")

    async def Chat(self, request: Any, context: aio.ServicerContext) -> Any:
        self._record("Chat", context)
        await context.abort(grpc.StatusCode.UNAVAILABLE, "never retried")

    async def StreamChat(self, request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        attempt = self._record("StreamChat", context)
        if self.fail_first is not None and attempt == 1:
            await context.abort(self.fail_first, "before the first message")
        yield chat_pb2.StreamChatResponse(started=chat_pb2.ChatStarted(model="m", provider="p"))
        yield chat_pb2.StreamChatResponse(token=chat_pb2.ChatToken(text="one"))
        if self.fail_after_token:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "after a token")
        if request.message == "missing":
            yield chat_pb2.StreamChatResponse(
                failed={"code": 5, "reason": "gone", "message": "no such thing"}
            )
            return
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                yield chat_pb2.StreamChatResponse(token=chat_pb2.ChatToken(text=" more"))
        except asyncio.CancelledError:
            self.cancelled.set()  # the client went away: the server's handler is cancelled
            raise


async def _serve(chat: _Chat) -> tuple[aio.Server, str]:
    server = aio.server()
    chat_pb2_grpc.add_ChatServiceServicer_to_server(chat, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture
async def one() -> AsyncIterator[tuple[_Chat, str]]:
    chat = _Chat(name="one")
    server, addr = await _serve(chat)
    yield chat, addr
    await server.stop(None)


async def test_credentials_are_sent_once_configured(one: tuple[_Chat, str]) -> None:
    chat, addr = one
    async with GaiaClient(chat=addr, api_key="k-123") as gaia:
        await gaia.chat.personas()
        await gaia.chat.personas()
    async with GaiaClient(chat=addr, jwt="j.w.t") as gaia:
        await gaia.chat.personas()
    assert [meta.get("x-api-key") for _, meta in chat.calls[:2]] == ["k-123", "k-123"]
    assert chat.calls[2][1]["authorization"] == "Bearer j.w.t" and "x-api-key" not in chat.calls[2][1]


async def test_one_channel_is_reused_across_calls(one: tuple[_Chat, str]) -> None:
    _, addr = one
    async with GaiaClient(chat=addr) as gaia:
        first = gaia.channel("chat")
        await gaia.chat.personas()
        assert gaia.channel("chat") is first


async def test_an_idempotent_call_is_retried_through_the_service_config(one: tuple[_Chat, str]) -> None:
    chat, addr = one
    chat.fail_first = grpc.StatusCode.UNAVAILABLE
    async with GaiaClient(chat=addr) as gaia:
        assert [p.name for p in await gaia.chat.personas()] == ["one"]
        with pytest.raises(Unavailable):
            await gaia.chat.send("not idempotent")
    assert [m for m, _ in chat.calls] == ["ListPersonas", "ListPersonas", "Chat"]


async def test_other_errors_are_not_retried_and_map_to_the_hierarchy(one: tuple[_Chat, str]) -> None:
    chat, addr = one
    chat.fail_first = grpc.StatusCode.UNAUTHENTICATED
    async with GaiaClient(chat=addr) as gaia:
        with pytest.raises(Unauthenticated) as refused:
            await gaia.chat.personas()
        with pytest.raises(RateLimited) as limited:
            await gaia.chat._client._unary(gaia.chat._stub().GetPersona, chat_pb2.GetPersonaRequest(), None)
    assert (
        refused.value.message == "first attempt fails"
        and refused.value.code is grpc.StatusCode.UNAUTHENTICATED
    )
    assert limited.value.retry_after_s == 7
    assert [m for m, _ in chat.calls] == ["ListPersonas", "GetPersona"]


async def test_a_stream_is_retried_before_its_first_message_never_after(one: tuple[_Chat, str]) -> None:
    chat, addr = one
    chat.fail_first = grpc.StatusCode.UNAVAILABLE
    async with GaiaClient(chat=addr) as gaia:
        async with gaia.chat.stream("hi") as events:
            assert isinstance(await anext(events), Started)
        chat.fail_first, chat.fail_after_token = None, True
        with pytest.raises(Unavailable) as cut:
            async with gaia.chat.stream("hi") as events:
                async for _ in events:
                    pass
    assert cut.value.mid_stream and events.text == "one"
    assert [m for m, _ in chat.calls] == ["StreamChat", "StreamChat", "StreamChat"]


async def test_a_failed_event_is_raised_as_its_error(one: tuple[_Chat, str]) -> None:
    _, addr = one
    async with GaiaClient(chat=addr) as gaia, gaia.chat.stream("missing") as events:
        with pytest.raises(NotFound) as failed:
            await events.collect()
    assert (failed.value.reason, failed.value.mid_stream, events.text) == ("gone", True, "one")


async def test_leaving_the_stream_cancels_the_rpc(one: tuple[_Chat, str]) -> None:
    chat, addr = one
    async with GaiaClient(chat=addr) as gaia:
        async with gaia.chat.stream("hi") as events:
            async for event in events:
                if isinstance(event, Token):
                    break
        await asyncio.wait_for(chat.cancelled.wait(), 5)
        assert events.cancelled


async def test_a_cancelled_consumer_cancels_the_rpc(one: tuple[_Chat, str]) -> None:
    chat, addr = one
    async with GaiaClient(chat=addr) as gaia:

        async def consume() -> None:
            async with gaia.chat.stream("hi") as events:
                async for _ in events:
                    pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(chat.cancelled.wait(), 5)


async def test_each_call_has_a_deadline(one: tuple[_Chat, str]) -> None:
    chat, addr = one
    chat.delay_s = 2
    async with GaiaClient(chat=addr, timeout=10) as gaia:
        with pytest.raises(DeadlineExceeded):
            await gaia.chat.personas(timeout=0.2)


async def test_calls_are_spread_round_robin_over_several_addresses() -> None:
    first, second = _Chat(name="a"), _Chat(name="b")
    (s1, a1), (s2, a2) = await _serve(first), await _serve(second)
    try:
        async with GaiaClient(chat=[a1, a2]) as gaia:
            await gaia.channel("chat").channel_ready()
            names = [(await gaia.chat.personas())[0].name for _ in range(20)]
    finally:
        await s1.stop(None)
        await s2.stop(None)
    assert names.count("a") >= 5 and names.count("b") >= 5, names


def test_targets() -> None:
    assert target_of("chat:50052") == "chat:50052"
    assert target_of("dns:///chat.gaia.svc:50052") == "dns:///chat.gaia.svc:50052"
    assert target_of("10.0.0.1:1, 10.0.0.2:1") == "ipv4:10.0.0.1:1,10.0.0.2:1"
    assert target_of(["[::1]:1", "[::1]:2"]) == "ipv6:[::1]:1,[::1]:2"
    with pytest.raises(ValueError, match="dns:///"):
        target_of("a:1,b:1")


def test_the_service_config_retries_reads_and_streams_before_their_first_message_only() -> None:
    config = service_config()
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    reads, streams = config["methodConfig"]
    read_names = {n["method"] for n in reads["name"]}
    assert {"ListPersonas", "GetProfile", "ListAssets"} <= read_names
    assert not read_names & {"Chat", "CreatePersona", "DeleteConversation", "StreamChat"}
    assert {n["method"] for n in streams["name"]} == {"StreamChat", "GenerateAsset"}
    assert reads["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]


def test_gaia_dispatches_exactly_the_client_commands() -> None:
    from gaia_client.cli import COMMANDS
    from gaia_services.cli import CLIENT_COMMANDS

    assert CLIENT_COMMANDS == COMMANDS


def test_the_client_imports_nothing_of_the_services() -> None:
    code = (
        "import sys, gaia_client, gaia_client.cli, gaia_client.smoke; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('gaia_services', 'compat_gateway', 'web')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
