"""Server-sent events: the framing (one ``data:`` line and a blank line per event, nothing else) and the one
renderer of every SSE grammar the shim speaks (``SseFormat``, a row of data per grammar).

The legacy streams are written with Python ``json.dumps`` defaults (``", "`` / ``": "`` separators,
non-ASCII escaped), as the reference did; the OpenAI-compatible door writes compact chunks as OpenAI does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from grpc import aio

__all__ = ["DONE", "Render", "SseFormat", "Stream", "compact_event", "event"]

#: The OpenAI-style end of a stream.
DONE = b"data: [DONE]\n\n"


def event(data: Any) -> bytes:
    """A legacy event: ``json.dumps`` with its defaults."""
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def compact_event(data: Any) -> bytes:
    """An OpenAI-style event: compact JSON, raw UTF-8."""
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


@dataclass(frozen=True, slots=True)
class Stream:
    """What rendering an event may read besides the event: the stream's first message and the request."""

    first: Any
    inbound: Any  # compat_gateway.inbound.Inbound (None in renderer tests)


#: One event kind's SSE bytes (empty: nothing is sent for it).
Render = Callable[[Any, Stream], bytes]


@dataclass(frozen=True, slots=True)
class SseFormat:
    """One SSE grammar, as data, over a server stream whose messages are a ``oneof`` of event kinds.

    ``events`` renders each kind (kinds it does not name are skipped); a kind in ``terminal`` ends the
    stream; ``broken`` is the last event when the RPC broke mid-way (the ``AioRpcError``) or ended without a
    terminal event (``None``). A format with ``accepted`` is *primed*: its events are held back until one is
    accepted, and a message before that for which ``refused`` gives a ``LegacyError`` raises it, so that the
    relay answers it as an ordinary HTTP error. Called like any renderer: ``(first, rest, inbound)``.
    """

    events: Mapping[str, Render]
    terminal: frozenset[str]
    broken: Callable[[aio.AioRpcError | None, Stream], bytes]
    accepted: Callable[[Any], bool] | None = None
    refused: Callable[[Any], Exception | None] = lambda message: None
    oneof: str = "event"

    @property
    def primed(self) -> bool:
        return self.accepted is not None

    async def __call__(self, first: Any, rest: AsyncIterator[Any], inbound: Any) -> AsyncIterator[bytes]:
        stream = Stream(first, inbound)
        held: list[bytes] = []
        accepted = self.accepted is None

        async def messages() -> AsyncIterator[Any]:
            yield first
            async for message in rest:
                yield message

        try:
            async for message in messages():
                if not accepted and (refusal := self.refused(message)) is not None:
                    raise refusal
                kind = message.WhichOneof(self.oneof)
                render = self.events.get(kind)
                if render is not None:
                    held.append(render(message, stream))
                accepted = accepted or bool(self.accepted and self.accepted(message))
                if accepted and any(held):
                    yield b"".join(held)
                    held.clear()
                if kind in self.terminal:
                    return
            tail = self.broken(None, stream)
        except aio.AioRpcError as exc:
            tail = self.broken(exc, stream)
        yield b"".join(held) + tail
