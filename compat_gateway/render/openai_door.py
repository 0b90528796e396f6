"""The OpenAI-compatible front door (``POST /v1/chat/completions``, ``GET /v1/models``): its request model
and checks, the ``StreamChat`` request it builds, and its renderers.

Its rows (in ``routes/chat.py``) are ordinary rows of the one table with ``errors=ErrorStyle.OPENAI``, so the
generic handler reads credentials by OpenAI's convention and the one error table answers OpenAI's body
``{"error":{"message","type","param","code"}}`` with OpenAI's statuses (CONTRACT §3). Streams are compact
chunks ending in ``data: [DONE]``, or in one OpenAI error event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from gaia.chat.v1 import chat_pb2
from pydantic import BaseModel, ConfigDict, Field, SkipValidation, model_validator
from pydantic_core import PydanticCustomError

from compat_gateway.errors import LegacyError, openai_failure, openai_stream_error
from compat_gateway.inbound import Inbound
from compat_gateway.render.chat import outcome, token_usage
from compat_gateway.render.sse import DONE, SseFormat, Stream, compact_event

__all__ = [
    "ChatCompletionBody",
    "build_chat",
    "completion",
    "completion_sse",
    "model_list",
]

_MAX_TOKENS_LIMIT = 2**31 - 1  # ChatTurn.max_tokens is an int32

_ROLES = {
    "system": chat_pb2.MESSAGE_ROLE_SYSTEM,
    "developer": chat_pb2.MESSAGE_ROLE_DEVELOPER,
    "user": chat_pb2.MESSAGE_ROLE_USER,
    "assistant": chat_pb2.MESSAGE_ROLE_ASSISTANT,
    "tool": chat_pb2.MESSAGE_ROLE_TOOL,
}
_NO_ANSWER = {
    "message": "The chat turn ended without an answer",
    "type": "api_error",
    "param": None,
    "code": None,
}

# -- the request ------------------------------------------------------------------------------------------


def _text(content: Any) -> str | None:
    """A message's text: a string, or the ``text`` parts of a part list joined; None when malformed."""
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        return "".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return None


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _first_problem(data: Any) -> tuple[str, str | None] | None:
    """The door's checks, in its order: OpenAI's message and ``param`` for the first problem found."""
    if not isinstance(data, dict):
        return "The request body must be a JSON object.", None
    model = data.get("model")
    if not isinstance(model, str) or not model:
        return "you must provide a model parameter", "model"
    raw = data.get("messages")
    if not isinstance(raw, list) or not raw:
        return "'messages' must be a non-empty array.", "messages"
    last_user = ""
    for index, item in enumerate(raw):
        role = item.get("role") if isinstance(item, dict) else None
        text = _text(item.get("content")) if isinstance(item, dict) else None
        if not isinstance(role, str) or role not in _ROLES or text is None:
            return f"Invalid message at messages[{index}].", f"messages[{index}]"
        last_user = text if role == "user" else last_user
    if not last_user.strip():
        return "The last user message must not be empty.", "messages"
    limit = data.get("max_completion_tokens", data.get("max_tokens"))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        return "'max_tokens' must be a positive integer.", "max_tokens"
    if limit is not None and limit > _MAX_TOKENS_LIMIT:  # past int32: protobuf refuses it (was a 500)
        return f"'max_tokens' must be at most {_MAX_TOKENS_LIMIT}.", "max_tokens"
    for name in ("temperature", "top_p"):
        if not _is_number(data.get(name)):
            return f"Invalid type for '{name}': expected a number.", name
    stop = data.get("stop")
    if not (
        stop is None
        or isinstance(stop, str)
        or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        return "'stop' must be a string or an array of strings.", "stop"
    return None


class ContentPart(BaseModel):
    """One part of a message's content; only ``text`` parts are read."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: SkipValidation[str | list[ContentPart] | None] = None
    name: SkipValidation[str | None] = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool | None = None


class ChatCompletionBody(BaseModel):
    """OpenAI's chat completion request: the fields the door reads (others are accepted and ignored).

    The door's own checks run first and name the first problem with OpenAI's message and ``param``; the
    fields they leave as the client sent them are not validated again (``SkipValidation``)."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: SkipValidation[bool | None] = None
    stream_options: SkipValidation[StreamOptions | None] = None
    max_tokens: SkipValidation[int | None] = Field(default=None, description="a positive integer")
    max_completion_tokens: SkipValidation[int | None] = Field(default=None, description="a positive integer")
    temperature: float | None = None
    top_p: float | None = None
    stop: str | list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _door_checks(cls, data: Any) -> Any:
        problem = _first_problem(data)
        if problem is not None:
            message, param = problem
            raise PydanticCustomError("invalid_request_error", message, {"param": param})
        return data


def build_chat(inbound: Inbound) -> chat_pb2.StreamChatRequest:
    """The caller's messages as given (no stored history, no persona), for ``StreamChat``."""
    body: ChatCompletionBody = inbound.body_model
    request = chat_pb2.StreamChatRequest(
        messages=[
            chat_pb2.InputMessage(role=_ROLES[m.role], content=_text(m.content) or "", name=str(m.name or ""))
            for m in body.messages
        ],
        model=body.model,
        history_mode=chat_pb2.HISTORY_MODE_NONE,
        stream=body.stream is True,
    )
    given = body.model_fields_set
    limit = body.max_completion_tokens if "max_completion_tokens" in given else body.max_tokens
    if limit is not None:
        request.max_tokens = limit
    if body.temperature is not None:
        request.temperature = body.temperature
    if body.top_p is not None:
        request.top_p = body.top_p
    if isinstance(body.stop, str):
        request.stop.append(body.stop)
    elif body.stop is not None:
        request.stop.extend(body.stop)
    return request


# -- the answers ------------------------------------------------------------------------------------------


def _completion_id(started: Any) -> str:
    return "chatcmpl-" + started.request_id.removeprefix("chat-")


def completion(messages: Sequence[Any], inbound: Inbound) -> dict[str, Any]:
    """One ``chat.completion`` from the whole turn; a failed turn is its OpenAI error."""
    turn = outcome(messages)
    if turn.completed is None:
        status, error = openai_failure(turn.failed) if turn.failed is not None else (500, _NO_ANSWER)
        raise LegacyError(status, {"error": error})
    done = turn.completed
    return {
        "id": _completion_id(turn.started),
        "object": "chat.completion",
        "created": turn.started.created,
        "model": done.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": turn.text, "refusal": None},
                "logprobs": None,
                "finish_reason": done.finish_reason or "stop",
            }
        ],
        "usage": token_usage(done),
    }


def _include_usage(inbound: Inbound) -> bool:
    options = inbound.body_model.stream_options or {}
    return isinstance(options, dict) and options.get("include_usage") is True


def _chunk(stream: Stream, model: str, **fields: Any) -> bytes:
    started = stream.first.started
    head = {"id": _completion_id(started), "object": "chat.completion.chunk", "created": started.created}
    return compact_event({**head, "model": model, **fields})


def _delta(stream: Stream, delta: dict[str, Any], finish: str | None, model: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return _chunk(stream, model or stream.first.started.model, choices=[choice])


def _completed(message: Any, stream: Stream) -> bytes:
    """The finishing chunk, the usage chunk on request, then ``[DONE]``."""
    done = message.completed
    out = _delta(stream, {}, done.finish_reason or "stop", done.model)
    if _include_usage(stream.inbound):
        out += _chunk(stream, done.model, choices=[], usage=token_usage(done))
    return out + DONE


def _failed(message: Any, stream: Stream) -> bytes:
    _, error = openai_failure(message.failed)
    return compact_event({"error": {**error, "param": None}})


#: ``chat.completion.chunk`` events as tokens arrive, then ``[DONE]``; a failure (a ``failed`` event, a broken
#: or idle stream) ends it with one OpenAI error event instead.
completion_sse = SseFormat(
    events={
        "started": lambda m, s: _delta(s, {"role": "assistant", "content": ""}, None),
        "token": lambda m, s: _delta(s, {"content": m.token.text}, None),
        "completed": _completed,
        "failed": _failed,
    },
    terminal=frozenset({"completed", "failed"}),
    broken=lambda exc, s: compact_event({"error": _NO_ANSWER} if exc is None else openai_stream_error(exc)),
)


def model_list(reply: chat_pb2.ListModelsResponse, inbound: Inbound) -> dict[str, Any]:
    data = [
        {"id": m.id, "object": "model", "created": m.created, "owned_by": m.provider} for m in reply.models
    ]
    return {"object": "list", "data": data}
