"""The OpenAI-compatible front door: ``POST /v1/chat/completions`` and ``GET /v1/models``.

It follows OpenAI's conventions because its clients are OpenAI SDKs (CONTRACT §3): a Bearer JWT is tried
first, then a Bearer value that is not a JWT as an API key, then ``X-API-Key``; errors are
``{"error":{"message","type","param","code"}}`` with OpenAI's statuses; streams are compact chunks ending
in ``data: [DONE]``. The chat itself is the chat service's ``StreamChat``, called with the credentials as
metadata.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
from fastapi import Response
from fastapi.responses import JSONResponse, StreamingResponse
from gaia.chat.v1 import chat_pb2
from grpc import aio

from compat_gateway.inbound import Inbound, InputError
from compat_gateway.render.chat import outcome
from compat_gateway.render.sse import DONE, compact_event
from gaia_services.runtime.errors import ERROR_MARKER_KEY
from gaia_services.runtime.principal import Credentials

__all__ = ["chat_completions", "credentials", "models"]

_ROLES = {
    "system": chat_pb2.MESSAGE_ROLE_SYSTEM,
    "developer": chat_pb2.MESSAGE_ROLE_DEVELOPER,
    "user": chat_pb2.MESSAGE_ROLE_USER,
    "assistant": chat_pb2.MESSAGE_ROLE_ASSISTANT,
    "tool": chat_pb2.MESSAGE_ROLE_TOOL,
}
_CODES = {code.value[0]: code for code in grpc.StatusCode}
_SSE_HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}


class OpenAIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status)


def credentials(headers: Any) -> Credentials:
    """Bearer JWT, else a Bearer non-JWT as an API key, else ``X-API-Key``."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    key = headers.get("x-api-key", "").strip()
    if token and token.count(".") == 2:
        return Credentials(jwt=token, api_key=key)
    return Credentials(api_key=token or key)


def _metadata(inbound: Inbound) -> tuple[tuple[str, str], ...]:
    found = credentials(inbound.request.headers)
    if not found.present:
        raise OpenAIError(
            401, "Missing credentials: provide a Bearer token or an API key.", code="invalid_api_key"
        )
    return (*found.as_metadata(), ("x-request-id", inbound.request_id))


def _status_error(code: grpc.StatusCode, message: str, *, domain: bool) -> OpenAIError:
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return OpenAIError(401, message or "Invalid API key", code="invalid_api_key")
    if code is grpc.StatusCode.NOT_FOUND:
        return OpenAIError(404, message, param="model", code="model_not_found")
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return OpenAIError(400, message)
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        return OpenAIError(429, message, kind="requests", code="rate_limit_exceeded")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return OpenAIError(503, message if domain else "Service chat unavailable", kind="api_error")
    return OpenAIError(500, message if domain else "Internal server error", kind="api_error")


def _rpc_error(exc: aio.AioRpcError) -> OpenAIError:
    trailing = {k: v for k, v in (exc.trailing_metadata() or ())}
    return _status_error(exc.code(), exc.details() or "", domain=ERROR_MARKER_KEY in trailing)


def _failure_error(failed: Any) -> OpenAIError:
    return _status_error(_CODES.get(failed.code, grpc.StatusCode.INTERNAL), failed.message, domain=True)


def _text(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        return "".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return None


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OpenAIError(400, f"Invalid type for '{name}': expected a number.", param=name)
    return float(value)


async def _request(inbound: Inbound) -> tuple[chat_pb2.StreamChatRequest, bool, bool]:
    try:
        body = await inbound.json()
    except InputError as exc:
        raise OpenAIError(400, "We could not parse the JSON body of your request.") from exc
    if not isinstance(body, dict):
        raise OpenAIError(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise OpenAIError(400, "you must provide a model parameter", param="model")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise OpenAIError(400, "'messages' must be a non-empty array.", param="messages")
    messages = []
    for index, item in enumerate(raw):
        role = item.get("role") if isinstance(item, dict) else None
        text = _text(item.get("content")) if isinstance(item, dict) else None
        if role not in _ROLES or text is None:
            raise OpenAIError(400, f"Invalid message at messages[{index}].", param=f"messages[{index}]")
        messages.append(
            chat_pb2.InputMessage(role=_ROLES[role], content=text, name=str(item.get("name") or ""))
        )
    last_user = next((m.content for m in reversed(messages) if m.role == chat_pb2.MESSAGE_ROLE_USER), "")
    if not last_user.strip():
        raise OpenAIError(400, "The last user message must not be empty.", param="messages")
    request = chat_pb2.StreamChatRequest(
        messages=messages,
        model=model,
        history_mode=chat_pb2.HISTORY_MODE_NONE,
        stream=body.get("stream") is True,
    )
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise OpenAIError(400, "'max_tokens' must be a positive integer.", param="max_tokens")
        request.max_tokens = limit
    if (temperature := _number(body, "temperature")) is not None:
        request.temperature = temperature
    if (top_p := _number(body, "top_p")) is not None:
        request.top_p = top_p
    stop = body.get("stop")
    if isinstance(stop, str):
        request.stop.append(stop)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        request.stop.extend(stop)
    elif stop is not None:
        raise OpenAIError(400, "'stop' must be a string or an array of strings.", param="stop")
    options = body.get("stream_options") or {}
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    return request, body.get("stream") is True, include_usage


def _completion_id(started: Any) -> str:
    return "chatcmpl-" + started.request_id.removeprefix("chat-")


async def chat_completions(inbound: Inbound) -> Response:
    try:
        metadata = _metadata(inbound)
        request, stream, include_usage = await _request(inbound)
        stub = inbound.shim.stubs["chat"]
        settings = inbound.shim.settings
        if not stream:
            try:
                call = stub.StreamChat(request, metadata=metadata, timeout=settings.request_timeout_s)
                turn = outcome([message async for message in call])
            except aio.AioRpcError as exc:
                raise _rpc_error(exc) from exc
            if turn.completed is None:
                raise (
                    _failure_error(turn.failed)
                    if turn.failed is not None
                    else OpenAIError(500, "The chat turn ended without an answer", kind="api_error")
                )
            done, usage = turn.completed, turn.completed.usage
            return JSONResponse(
                {
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
                    "usage": {
                        "prompt_tokens": usage.prompt_tokens,
                        "completion_tokens": usage.completion_tokens,
                        "total_tokens": usage.total_tokens,
                    },
                }
            )
        call = stub.StreamChat(request, metadata=metadata)
        try:
            first = await asyncio.wait_for(call.read(), settings.stream_idle_timeout_s)
        except aio.AioRpcError as exc:
            raise _rpc_error(exc) from exc
        except TimeoutError as exc:
            call.cancel()
            raise OpenAIError(503, "Service chat unavailable", kind="api_error") from exc
    except OpenAIError as exc:
        return exc.response()
    return StreamingResponse(
        _relay(first.started, call, include_usage, settings.stream_idle_timeout_s),
        media_type="text/event-stream; charset=utf-8",
        headers=_SSE_HEADERS,
    )


async def _relay(started: Any, call: Any, include_usage: bool, idle_s: float) -> AsyncIterator[bytes]:
    ident, created = _completion_id(started), started.created

    def chunk(delta: dict[str, Any], finish: str | None, model: str = started.model) -> bytes:
        return compact_event(
            {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
        )

    try:
        yield chunk({"role": "assistant", "content": ""}, None)
        while True:
            try:
                message = await asyncio.wait_for(call.read(), idle_s)
            except TimeoutError:
                yield compact_event(
                    {
                        "error": {
                            "message": "Stream idle timeout",
                            "type": "api_error",
                            "param": None,
                            "code": None,
                        }
                    }
                )
                return
            except aio.AioRpcError as exc:
                error = _rpc_error(exc)
                yield compact_event(
                    {
                        "error": {
                            "message": error.message,
                            "type": error.kind,
                            "param": None,
                            "code": error.code,
                        }
                    }
                )
                return
            if message is aio.EOF:
                yield compact_event(
                    {
                        "error": {
                            "message": "The chat turn ended without an answer",
                            "type": "api_error",
                            "param": None,
                            "code": None,
                        }
                    }
                )
                return
            kind = message.WhichOneof("event")
            if kind == "token":
                yield chunk({"content": message.token.text}, None)
            elif kind == "completed":
                done = message.completed
                yield chunk({}, done.finish_reason or "stop", done.model)
                if include_usage:
                    usage = done.usage
                    yield compact_event(
                        {
                            "id": ident,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": done.model,
                            "choices": [],
                            "usage": {
                                "prompt_tokens": usage.prompt_tokens,
                                "completion_tokens": usage.completion_tokens,
                                "total_tokens": usage.total_tokens,
                            },
                        }
                    )
                yield DONE
                return
            elif kind == "failed":
                error = _failure_error(message.failed)
                yield compact_event(
                    {
                        "error": {
                            "message": error.message,
                            "type": error.kind,
                            "param": None,
                            "code": error.code,
                        }
                    }
                )
                return
    finally:
        call.cancel()


async def models(inbound: Inbound) -> Response:
    try:
        metadata = _metadata(inbound)
        stub = inbound.shim.stubs["chat"]
        try:
            reply = await stub.ListModels(
                chat_pb2.ListModelsRequest(),
                metadata=metadata,
                timeout=inbound.shim.settings.request_timeout_s,
            )
        except aio.AioRpcError as exc:
            raise _rpc_error(exc) from exc
    except OpenAIError as exc:
        return exc.response()
    data = [
        {"id": m.id, "object": "model", "created": m.created, "owned_by": m.provider} for m in reply.models
    ]
    return JSONResponse({"object": "list", "data": data})
