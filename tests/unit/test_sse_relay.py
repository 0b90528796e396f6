"""The shim's SSE relay ends a finished stream by reading it to its status, and cancels only a stream the
client left (cancelling a finished one made the service see CANCELLED and leaked native memory in
grpc.aio, ~0.2 KB per stream: grpc/grpc#43360). A primed row answers a refusal before its first chunk as an
ordinary HTTP error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from grpc import aio

from compat_gateway.dispatch import _primed, _relay, _rendered
from compat_gateway.errors import LegacyError


class FakeCall:
    """A server stream: its messages, then its status; records a cancel that came before the status."""

    def __init__(self, messages: list[str]) -> None:
        self._messages = list(messages)
        self.ended = False
        self.cancelled_live = False

    async def read(self) -> Any:
        if self._messages:
            return self._messages.pop(0)
        self.ended = True
        return aio.EOF

    def done(self) -> bool:
        return self.ended

    def cancel(self) -> bool:
        if not self.ended:
            self.cancelled_live = True
        return not self.ended


async def _until_terminal(first: Any, rest: AsyncIterator[Any], inbound: Any) -> AsyncIterator[bytes]:
    """A renderer like the real ones: it stops reading at the terminal event."""
    yield f"{first}\n".encode()
    async for message in rest:
        yield f"{message}\n".encode()
        if message == "completed":
            return


_ROUTE = SimpleNamespace(sse=_until_terminal)


def _inbound(keepalive: str = "") -> Any:
    headers = {"x-gaia-sse-keepalive": keepalive} if keepalive else {}
    return SimpleNamespace(
        shim=SimpleNamespace(settings=SimpleNamespace(stream_idle_timeout_s=2.0)),
        request=SimpleNamespace(headers=headers),
    )


@pytest.mark.parametrize("keepalive", ["", "5"])
async def test_a_finished_stream_is_read_to_its_status_not_cancelled(keepalive: str) -> None:
    call = FakeCall(["token", "completed"])
    inbound = _inbound(keepalive)
    rendered = _rendered(_ROUTE, "started", call, inbound)  # type: ignore[arg-type]
    chunks = [c async for c in _relay(rendered, call, inbound)]
    assert chunks == [b"started\n", b"token\n", b"completed\n"]
    assert (call.ended, call.cancelled_live) == (True, False)


async def test_a_stream_the_client_left_is_cancelled() -> None:
    call = FakeCall(["token", "token", "completed"])
    inbound = _inbound()
    relay = _relay(_rendered(_ROUTE, "started", call, inbound), call, inbound)  # type: ignore[arg-type]
    assert await anext(relay) == b"started\n"
    await relay.aclose()  # the client went away
    assert (call.ended, call.cancelled_live) == (False, True)


async def _refusing(first: Any, rest: AsyncIterator[Any], inbound: Any) -> AsyncIterator[bytes]:
    """A renderer that holds the opening back until it knows the stream was accepted."""
    async for message in rest:
        if message == "refused":
            raise LegacyError(429, {"detail": "over budget"})
        yield f"{first}\n{message}\n".encode()
        return


async def test_a_primed_stream_refused_before_its_first_chunk_raises_and_ends_the_call() -> None:
    call = FakeCall(["refused"])
    route = SimpleNamespace(sse=_refusing)
    with pytest.raises(LegacyError) as refused:
        await _primed(_rendered(route, "queued", call, _inbound()), call, 2.0)  # type: ignore[arg-type]
    assert (refused.value.status, refused.value.body) == (429, {"detail": "over budget"})
    assert (call.ended, call.cancelled_live) == (True, False)


async def test_a_primed_stream_accepted_is_relayed_whole() -> None:
    call = FakeCall(["accepted"])
    inbound = _inbound()
    chunks = await _primed(_rendered(SimpleNamespace(sse=_refusing), "queued", call, inbound), call, 2.0)  # type: ignore[arg-type]
    assert [c async for c in _relay(chunks, call, inbound)] == [b"queued\naccepted\n"]
    assert (call.ended, call.cancelled_live) == (True, False)
