"""A server stream as an async iterator of typed events that owns its RPC.

Leaving the ``async with`` (normally, on an exception, or because the consuming task was cancelled)
cancels the RPC, so the service stops the work behind it (a chat turn's provider request). ``cancel()``
does the same at any time; an abandoned stream cancels its RPC when it is garbage collected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import grpc
from gaia.asset.v1 import asset_pb2
from gaia.chat.v1 import chat_pb2
from grpc import aio

from gaia_client.errors import GaiaError, error_for_failure, error_from_rpc
from gaia_client.events import ChatEvent, Completed, Done, GenerationEvent, Progress, Started, Token

__all__ = ["ChatStream", "EventStream", "GenerationStream"]

E = TypeVar("E")


class _Ended(Exception):
    """The message was the stream's terminal one: the event it carries is the last."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class EventStream(Generic[E]):
    """One call of a server-streaming RPC, read as typed events (``async for``), inside ``async with``."""

    def __init__(self, call: aio.UnaryStreamCall, convert: Callable[[Any], E]) -> None:
        self._call = call
        self._convert = convert
        self._started = False
        self._finished = False
        self._terminal = False  # the terminal event (or failure) was read: the RPC ends by itself

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._terminal and not self._call.done():
            # Read to the status instead of cancelling: the service would count a finished turn as cut.
            try:
                await asyncio.wait_for(self._call.code(), 1.0)
            except TimeoutError:
                self.cancel()
            except asyncio.CancelledError:
                self.cancel()
                raise
            return
        self.cancel()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> E:
        if self._finished:
            raise StopAsyncIteration
        try:
            message = await self._call.read()
        except asyncio.CancelledError:
            self.cancel()
            raise
        except grpc.RpcError as exc:
            self._finished = True
            raise error_from_rpc(exc, mid_stream=self._started) from exc
        if message is aio.EOF:
            self._finished = True
            raise StopAsyncIteration
        self._started = True
        try:
            return self._convert(message)
        except _Ended as ended:
            self._finished = self._terminal = True
            return ended.event  # type: ignore[no-any-return]
        except GaiaError:
            self._finished = self._terminal = True
            raise

    def cancel(self) -> bool:
        """Cancel the RPC (nothing when it has ended); True when this call cancelled it."""
        self._finished = True
        return bool(self._call.cancel()) if not self._call.done() else False

    @property
    def cancelled(self) -> bool:
        return self._call.cancelled()

    def __del__(self) -> None:
        call = getattr(self, "_call", None)
        if call is not None and not call.done():
            call.cancel()


def _chat_event(message: chat_pb2.StreamChatResponse) -> ChatEvent:
    kind = message.WhichOneof("event")
    if kind == "token":
        return Token(message.token.text)
    if kind == "started":
        return Started.of(message.started)
    if kind == "completed":
        raise _Ended(Completed.of(message.completed))
    failure = message.failed
    raise error_for_failure(failure.code, failure.reason, failure.message)


class ChatStream(EventStream[ChatEvent]):
    """A chat turn: ``Started``, then ``Token``s, then ``Completed``; a failure is raised as a ``GaiaError``
    (``mid_stream`` True). ``started``, ``completed`` and ``text`` collect what was read."""

    def __init__(self, call: aio.UnaryStreamCall) -> None:
        super().__init__(call, _chat_event)
        self.started: Started | None = None
        self.completed: Completed | None = None
        self._pieces: list[str] = []

    async def __anext__(self) -> ChatEvent:
        event = await super().__anext__()
        if isinstance(event, Token):
            self._pieces.append(event.text)
        elif isinstance(event, Started):
            self.started = event
        else:
            self.completed = event
        return event

    @property
    def text(self) -> str:
        """The reply so far."""
        return "".join(self._pieces)

    async def collect(self) -> str:
        """Read the turn to its end and return the reply."""
        async for _ in self:
            pass
        return self.text


def _generation_event(message: asset_pb2.GenerateAssetResponse) -> GenerationEvent:
    kind = message.WhichOneof("event")
    if kind == "progress":
        return Progress.of(message.generation_id, message.progress)
    if kind == "done":
        raise _Ended(Done(generation_id=message.generation_id, asset=message.done.asset))
    failure = message.failed
    raise error_for_failure(failure.code, failure.reason, failure.message)


class GenerationStream(EventStream[GenerationEvent]):
    """An asset generation: ``Progress`` events, then ``Done``; a failure is raised as a ``GaiaError``."""

    def __init__(self, call: aio.UnaryStreamCall) -> None:
        super().__init__(call, _generation_event)
        self.done: Done | None = None

    async def __anext__(self) -> GenerationEvent:
        event = await super().__anext__()
        if isinstance(event, Done):
            self.done = event
        return event
