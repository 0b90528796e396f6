"""Relaying one of the shim's SSE streams to the browser as it arrives.

Each ``data:`` event of the shim is passed on unchanged, the moment its line is complete; a ``Finisher``
may add one event of the UI's own before any event (the chat adds the reply rendered as safe HTML before
``done``; the asset page adds the new gallery card). A browser that goes away ends the generator, which
leaves the shim's stream and so cancels the work upstream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

import httpx
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, Response, StreamingResponse

from web.shim_client import ShimError, ShimUnreachable

__all__ = ["Finisher", "event", "relay"]

#: Sees each event of the shim (decoded) and returns an extra event to send before it, or None.
Finisher = Callable[[dict[str, Any]], dict[str, Any] | None]


def event(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


async def relay(opening: AbstractAsyncContextManager[httpx.Response], finisher: Finisher) -> Response:
    """Open the shim's stream; its HTTP error (or no answer) becomes a JSON error, else the relayed stream."""
    stack = AsyncExitStack()
    try:
        response = await stack.enter_async_context(opening)
    except ShimError as exc:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)
    except ShimUnreachable:
        return JSONResponse(
            {"detail": "The Gaia API is not answering. Try again in a moment."}, status_code=503
        )

    async def body() -> AsyncIterator[bytes]:
        try:
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                try:
                    data = json.loads(line[6:])
                except ValueError:
                    continue
                extra = finisher(data) if isinstance(data, dict) else None
                if extra is not None:
                    yield event(extra)
                yield (line + "\n\n").encode()
        except (httpx.TransportError, ShimUnreachable):
            yield event({"type": "error", "error": "The connection to the Gaia API was lost."})
        finally:
            await stack.aclose()

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(stack.aclose),  # also when the browser left before the first event
    )
