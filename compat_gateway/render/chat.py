"""Chat renderers: ``StreamChat`` events → the legacy JSON shapes and SSE formats (presentation only).

Formats: v0.2 (``{"choices": [{"delta": {"content": ...}}]}`` then ``[DONE]``; an error event ends it with no
``[DONE]``), v1 July ``ChatResponse``, v1 December OpenAI shape and SSE, v0.3 December JSON and SSE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
from fastapi.responses import JSONResponse
from grpc import aio

from compat_gateway.errors import LegacyError, wrap
from compat_gateway.inbound import Inbound
from compat_gateway.render.sse import DONE, SseFormat, Stream, event

__all__ = [
    "NO_ANSWER",
    "Outcome",
    "now",
    "outcome",
    "stream_error_text",
    "token_usage",
    "v02_json",
    "v02_sse",
    "v03_json",
    "v03_sse",
    "v1_json",
    "v1_openai_json",
    "v1_sse",
]

#: The December gateway's name for the unified chat in its first metadata event.
UNIFIED_MODEL = "unified-chat"
#: What every format says of a turn that ended without a terminal event.
NO_ANSWER = "The chat turn ended without an answer"


@dataclass
class Outcome:
    """A whole turn, read from its events."""

    started: Any = None
    parts: list[str] = field(default_factory=list)
    completed: Any = None
    failed: Any = None

    @property
    def text(self) -> str:
        return "".join(self.parts)


def outcome(messages: Sequence[Any]) -> Outcome:
    result = Outcome()
    for message in messages:
        kind = message.WhichOneof("event")
        if kind == "token":
            result.parts.append(message.token.text)
        elif kind == "started":
            result.started = message.started
        elif kind == "completed":
            result.completed = message.completed
        elif kind == "failed":
            result.failed = message.failed
    return result


def stream_error_text(exc: aio.AioRpcError, *, service: str = "chat") -> str:
    """What a stream's error event says when the RPC itself broke mid-stream."""
    if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return f"Service {service} unavailable"
    return "Internal server error"


def token_usage(completed: Any) -> dict[str, int]:
    """A ``completed`` event's token counts, as every legacy shape (and OpenAI's) writes them."""
    usage = completed.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


# -- v0.2 -----------------------------------------------------------------------------------------------


def v02_json(messages: Sequence[Any], inbound: Inbound) -> Any:
    turn = outcome(messages)
    if turn.completed is None:
        why = turn.failed.message if turn.failed is not None else NO_ANSWER
        return JSONResponse({"error": "Failed to process chat request", "detail": why}, status_code=500)
    return {"response": turn.text, "model": turn.completed.model, "usage": token_usage(turn.completed)}


def _why(exc: aio.AioRpcError | None) -> str:
    """The error text of a stream that broke (the RPC failed) or ended without a terminal event."""
    return NO_ANSWER if exc is None else stream_error_text(exc)


_TERMINAL = frozenset({"completed", "failed"})

v02_sse = SseFormat(
    events={
        "token": lambda m, s: event({"choices": [{"delta": {"content": m.token.text}}]}),
        "completed": lambda m, s: DONE,
        "failed": lambda m, s: event({"error": m.failed.message}),
    },
    terminal=_TERMINAL,
    broken=lambda exc, s: event({"error": _why(exc)}),
)


# -- v1 (July ChatResponse, December OpenAI shape and SSE) ------------------------------------------------


def _v1_failure(turn: Outcome) -> LegacyError:
    why = turn.failed.message if turn.failed is not None else NO_ANSWER
    return LegacyError(500, wrap(f"500: Chat completion failed: API error: {why}"))


def v1_json(messages: Sequence[Any], inbound: Inbound) -> Any:
    turn = outcome(messages)
    if turn.completed is None:
        raise _v1_failure(turn)
    done = turn.completed
    return {
        "response": turn.text,
        "provider": done.provider,
        "model": done.model,
        "usage": token_usage(done),
        "response_time_ms": done.timings.total_time_ms,
        "reasoning": None,
        "fallback_used": done.fallback_used,
    }


def v1_openai_json(messages: Sequence[Any], inbound: Inbound) -> Any:
    turn = outcome(messages)
    if turn.completed is None:
        raise _v1_failure(turn)
    started, done = turn.started, turn.completed
    usage = done.usage
    return {
        "id": started.request_id,
        "object": "chat.completion",
        "created": started.created,
        "model": done.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": turn.text},
                "finish_reason": done.finish_reason or "stop",
            }
        ],
        "usage": {
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
        "_metadata": {
            "route_type": "direct",
            "routing_time_ms": done.timings.routing_time_ms,
            "llm_time_ms": done.timings.llm_time_ms,
            "total_time_ms": done.timings.total_time_ms,
            "request_id": started.request_id,
            "conversation_id": started.conversation_id,
        },
    }


def _timing_event(done: Any) -> dict[str, Any]:
    timings = done.timings
    return {
        "type": "metadata",
        "time_to_first_chunk_ms": timings.time_to_first_token_ms,
        "routing_time_ms": timings.routing_time_ms,
        "llm_time_ms": timings.llm_time_ms,
        "total_time_ms": timings.total_time_ms,
    }


def _opening(started: Any) -> bytes:
    return event(
        {
            "type": "metadata",
            "conversation_id": started.conversation_id,
            "model": UNIFIED_MODEL,
            "timestamp": started.created,
        }
    )


def _v1_chunk(stream: Stream, model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    started = stream.first.started
    return {
        "id": started.request_id,
        "object": "chat.completion.chunk",
        "created": started.created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _v1_error_event(text: str, stream: Stream) -> bytes:
    return (
        event(
            {**_v1_chunk(stream, "error", {}, "error"), "error": {"message": text, "type": "streaming_error"}}
        )
        + DONE
    )


def _v1_completed(message: Any, stream: Stream) -> bytes:
    done = message.completed
    return (
        event(_timing_event(done))
        + event({"type": "done", "finish_reason": done.finish_reason or "stop"})
        + DONE
    )


v1_sse = SseFormat(
    events={
        "started": lambda m, s: _opening(m.started),
        "token": lambda m, s: event(_v1_chunk(s, s.first.started.model, {"content": m.token.text}, None)),
        "completed": _v1_completed,
        "failed": lambda m, s: _v1_error_event(m.failed.message, s),
    },
    terminal=_TERMINAL,
    broken=lambda exc, s: _v1_error_event(_why(exc), s),
)


# -- v0.3 -----------------------------------------------------------------------------------------------


def v03_json(messages: Sequence[Any], inbound: Inbound) -> Any:
    turn = outcome(messages)
    if turn.completed is None:
        why = turn.failed.message if turn.failed is not None else NO_ANSWER
        raise LegacyError(500, {"detail": f"Chat completion failed: {why}"})
    return {"response": turn.text, "conversation_id": turn.started.conversation_id}


v03_sse = SseFormat(
    events={
        "started": lambda m, s: _opening(m.started),
        "token": lambda m, s: event({"type": "content", "content": m.token.text}),
        "completed": lambda m, s: event(_timing_event(m.completed)) + event({"type": "done"}),
        "failed": lambda m, s: event({"type": "error", "error": m.failed.message}),
    },
    terminal=_TERMINAL,
    broken=lambda exc, s: event({"type": "error", "error": _why(exc)}),
)


def now() -> str:
    """The legacy naive-UTC timestamp."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat()
