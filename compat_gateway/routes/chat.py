"""Routes of the chat area: ``/api/v0.2/chat*``, ``/api/v1/chat*``, ``/api/v0.3/chat`` and the
OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models`` (rows of the one route table).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from gaia.chat.v1 import chat_pb2
from grpc import aio
from pydantic import BaseModel, Field

from compat_gateway.errors import ErrorStyle, LegacyError, rpc_error_response
from compat_gateway.inbound import Inbound, InputError
from compat_gateway.render import chat as render
from compat_gateway.render import openai_door
from compat_gateway.routes.table import Choice, Collected, Local, Relayed, Route, Unary, unary_rows
from compat_gateway.rpcs import CHAT, Rpc
from compat_gateway.schemas import chat as schemas
from compat_gateway.schemas import openai as openai_schemas

__all__ = ["ROUTES"]

NonEmpty = Annotated[str, Field(min_length=1)]


class V02ChatBody(BaseModel):
    message: NonEmpty
    model: str | None = None
    conversation_id: str | None = None


class V1ChatBody(BaseModel):
    """The reference's ``ChatRequest`` (its validation kept; ``model`` and ``conversation_id`` now used)."""

    message: NonEmpty
    stream: bool = False
    provider: Literal["claude", "openai", "gemini", "mistral"] | None = None
    activity: str = "generic"
    persona_id: str = "default"
    model: str | None = None
    auto_select_model: bool | None = None
    force_provider: bool = True
    force_model_override: bool | None = None
    enable_fallback: bool | None = None
    priority: Literal["speed", "quality", "balanced", "vr", "cost"] | None = None
    context_type: (
        Literal["greeting", "conversation", "technical", "creative", "vr", "emergency", "multimodal"] | None
    ) = None
    max_response_time_ms: int | None = None
    required_capabilities: list[str] | None = None
    conversation_id: str | None = None
    response_format: str | None = None


class V03ChatBody(BaseModel):
    """December's v0.3 chat; a missing ``message`` is the reference's 400, so it is optional here."""

    message: NonEmpty | None = None
    conversation_id: str | None = None
    model: str | None = None
    stream: bool = False


class CacheQuery(BaseModel):
    cache_type: str | None = None  # required; checked in the build so that the 422 says "input": null
    user_id: str | None = None
    activity: str | None = None


# -- requests -------------------------------------------------------------------------------------------


def _v02_chat(inbound: Inbound) -> chat_pb2.StreamChatRequest:
    body: V02ChatBody = inbound.body_model
    conversation = body.conversation_id or ""
    return chat_pb2.StreamChatRequest(
        message=body.message,
        model=body.model or "",
        door=chat_pb2.CHAT_DOOR_V02,  # with no model: this door's default, chosen by the chat service
        conversation_id=conversation,
        history_mode=chat_pb2.HISTORY_MODE_CONVERSATION if conversation else chat_pb2.HISTORY_MODE_NONE,
        use_current_persona=True,
    )


def _v1_chat(inbound: Inbound) -> chat_pb2.StreamChatRequest:
    body: V1ChatBody = inbound.body_model
    request = chat_pb2.StreamChatRequest(
        message=body.message,
        model=body.model or "",
        conversation_id=body.conversation_id or "",
        history_mode=chat_pb2.HISTORY_MODE_USER_DEFAULT,
        use_current_persona=True,
        stream=body.stream,
    )
    if body.enable_fallback is not None:
        request.enable_fallback = body.enable_fallback
    return request


def _v03_chat(inbound: Inbound) -> chat_pb2.StreamChatRequest:
    body: V03ChatBody = inbound.body_model
    return chat_pb2.StreamChatRequest(
        message=body.message or "",
        model=body.model or "",
        conversation_id=body.conversation_id or "",
        history_mode=chat_pb2.HISTORY_MODE_CONVERSATION,
        use_current_persona=True,
        stream=body.stream,
    )


def _empty(message: Any) -> Any:
    return lambda inbound: message


# -- what a request asks for, on the doors whose answer format it chooses -----------------------------------


def _streams(inbound: Inbound) -> bool:
    return inbound.body_model.stream is True


def _wants_openai_shape(inbound: Inbound) -> bool:
    """December's v1 door answers in OpenAI's shape on request (``response_format`` or a header)."""
    body: V1ChatBody = inbound.body_model
    return (body.response_format or inbound.request.headers.get("x-response-format", "")).lower() == "openai"


def _no_message(inbound: Inbound) -> bool:
    return inbound.body_model.message is None


async def _missing_message(inbound: Inbound) -> Any:
    raise LegacyError(400, {"error": "Missing required field: message"})


def _v1_chat_door(path: str, name: str, summary: str) -> Choice:
    """July JSON by default; December's OpenAI shape on request; December's SSE with ``stream: true``."""
    return Choice(
        method="POST",
        path=path,
        name=name,
        body=V1ChatBody,
        response=schemas.V1Chat,
        summary=summary,
        rows=(
            Relayed(
                name=f"{name}_sse", when=_streams, rpc=CHAT.StreamChat, build=_v1_chat, sse=render.v1_sse
            ),
            Collected(
                name=f"{name}_openai",
                when=_wants_openai_shape,
                rpc=CHAT.StreamChat,
                build=_v1_chat,
                render=render.v1_openai_json,
            ),
            Collected(name=f"{name}_json", rpc=CHAT.StreamChat, build=_v1_chat, render=render.v1_json),
        ),
    )


# -- side routes ------------------------------------------------------------------------------------------


def _v02_status(reply: chat_pb2.GetChatStatusResponse, inbound: Inbound) -> dict[str, Any]:
    return {"message_count": reply.message_count, "has_history": reply.has_history, "api_version": "0.2"}


def _v1_status(reply: chat_pb2.GetChatStatusResponse, inbound: Inbound) -> dict[str, Any]:
    return {"message_count": reply.message_count, "has_history": reply.has_history}


def _cache_stats(reply: chat_pb2.GetCacheStatusResponse) -> dict[str, Any]:
    return {
        "persona_cache_entries": reply.persona_cache_entries,
        "tools_cache_entries": reply.tools_cache_entries,
        "persona_cache_keys": list(reply.persona_cache_keys),
        "tools_cache_keys": list(reply.tools_cache_keys),
    }


def _cache_query(inbound: Inbound) -> chat_pb2.InvalidateCacheRequest:
    query: CacheQuery = inbound.query_model
    if query.cache_type is None:
        raise InputError(
            [{"type": "missing", "loc": ["query", "cache_type"], "msg": "Field required", "input": None}]
        )
    return chat_pb2.InvalidateCacheRequest(
        cache_type=query.cache_type, user_id=query.user_id or "", activity=query.activity or ""
    )


def _invalidated(reply: chat_pb2.InvalidateCacheResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "status": "success",
        "cache_type": reply.cache_type,
        "invalidated_user": reply.invalidated_user if reply.HasField("invalidated_user") else None,
        "invalidated_activity": reply.invalidated_activity
        if reply.HasField("invalidated_activity")
        else None,
        "timestamp": render.now(),
    }


async def v02_stream_status(inbound: Inbound) -> Any:
    """Chat status and cache status together (two RPCs, one legacy body)."""
    stub, metadata = inbound.shim.stubs["chat"], inbound.metadata()
    timeout = inbound.shim.settings.request_timeout_s
    try:
        status, cache = await asyncio.gather(
            stub.GetChatStatus(chat_pb2.GetChatStatusRequest(), metadata=metadata, timeout=timeout),
            stub.GetCacheStatus(chat_pb2.GetCacheStatusRequest(), metadata=metadata, timeout=timeout),
        )
    except aio.AioRpcError as exc:
        return rpc_error_response(exc, service="chat", style=ErrorStyle.WRAPPED)
    return {
        "status": "ready",
        "performance_mode": "optimized",
        "message_count": status.message_count,
        "has_history": status.has_history,
        "cache_status": _cache_stats(cache),
        "capabilities": {
            "sse_streaming": True,
            "model_selection": True,
            "cache_optimization": True,
            "parallel_fetching": True,
        },
        "timestamp": render.now(),
    }


def _stream_model_rows(reply: chat_pb2.ListModelsResponse) -> list[dict[str, Any]]:
    return [
        {
            "model_id": m.model_id,
            "name": m.name,
            "provider": m.provider,
            "avg_ttft_ms": m.avg_ttft_ms,
            "quality_score": m.quality_score,
            "vr_suitable": m.vr_suitable,
        }
        for m in reply.stream_models
    ]


def _stream_models(reply: chat_pb2.ListModelsResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "models": _stream_model_rows(reply),
        "default_selection": "intelligent",
        "selection_criteria": [
            "message_content",
            "activity_context",
            "user_preferences",
            "performance_requirements",
        ],
    }


def _stream_models_performance(reply: chat_pb2.ListModelsResponse, inbound: Inbound) -> dict[str, Any]:
    models = [{k: v for k, v in m.items() if k != "provider"} for m in _stream_model_rows(reply)]
    advice = reply.stream_recommendations
    by_ttft = sorted(models, key=lambda m: m["avg_ttft_ms"])
    by_quality = sorted(models, key=lambda m: -m["quality_score"])
    return {
        "all_models": models,
        "rankings": {
            "fastest_ttft": [
                {"rank": i + 1, "model": m["name"], "ttft_ms": m["avg_ttft_ms"]}
                for i, m in enumerate(by_ttft)
            ],
            "highest_quality": [
                {"rank": i + 1, "model": m["name"], "quality": m["quality_score"]}
                for i, m in enumerate(by_quality)
            ],
            "vr_suitable": [
                {"model": m["name"], "ttft_ms": m["avg_ttft_ms"]} for m in models if m["vr_suitable"]
            ],
        },
        "recommendations": {
            "vr_best": advice.vr_best,
            "quality_best": advice.quality_best,
            "balanced": advice.balanced,
            "emergency": advice.emergency,
        },
    }


_row = unary_rows()


def _rpc(method: str, path: str, name: str, rpc: Rpc, request: Any, result: Any, **extra: Any) -> Route:  # noqa: PLR0917
    """A row whose request carries nothing but the caller's credentials."""
    return _row(method, path, name, rpc, _empty(request), result, **extra)


_V02 = "/api/v0.2/chat"

ROUTES: tuple[Route, ...] = (
    Collected(
        method="POST",
        path=_V02,
        name="v02_chat",
        body=V02ChatBody,
        build=_v02_chat,
        render=render.v02_json,
        response=schemas.V02Chat,
        errors=ErrorStyle.PLAIN,
        summary="Chat (one JSON answer)",
        rpc=CHAT.StreamChat,
    ),
    Relayed(
        method="POST",
        path=f"{_V02}/stream",
        name="v02_chat_stream",
        body=V02ChatBody,
        build=_v02_chat,
        sse=render.v02_sse,
        errors=ErrorStyle.PLAIN,
        summary="Chat, streamed as SSE",
        rpc=CHAT.StreamChat,
    ),
    _rpc(
        "GET",
        f"{_V02}/status",
        "v02_chat_status",
        CHAT.GetChatStatus,
        chat_pb2.GetChatStatusRequest(),
        _v02_status,
        response=schemas.V02ChatStatus,
    ),
    _rpc(
        "DELETE",
        f"{_V02}/history",
        "v02_chat_history",
        CHAT.ClearHistory,
        chat_pb2.ClearHistoryRequest(),
        lambda r, i: {"status": "success", "message": "Chat history cleared", "api_version": "0.2"},
        response=schemas.DoneWithVersion,
    ),
    _rpc(
        "POST",
        f"{_V02}/reload-prompt",
        "v02_chat_reload_prompt",
        CHAT.ReloadPrompt,
        chat_pb2.ReloadPromptRequest(),
        lambda r, i: {
            "status": "success",
            "message": "System prompt reloaded successfully",
            "api_version": "0.2",
        },
        response=schemas.DoneWithVersion,
    ),
    Unary(
        method="POST",
        path=f"{_V02}/stream/cache/invalidate",
        name="v02_stream_cache_invalidate",
        query=CacheQuery,
        build=_cache_query,
        render=_invalidated,
        response=schemas.CacheInvalidated,
        rpc=CHAT.InvalidateCache,
    ),
    _rpc(
        "GET",
        f"{_V02}/stream/cache/status",
        "v02_stream_cache_status",
        CHAT.GetCacheStatus,
        chat_pb2.GetCacheStatusRequest(),
        lambda r, i: {"cache_stats": _cache_stats(r), "timestamp": render.now()},
        response=schemas.CacheStatus,
    ),
    Local(
        method="GET",
        path=f"{_V02}/stream/status",
        name="v02_stream_status",
        response=schemas.StreamStatus,
        answer=v02_stream_status,
    ),
    _rpc(
        "DELETE",
        f"{_V02}/stream/history",
        "v02_stream_history",
        CHAT.ClearHistory,
        chat_pb2.ClearHistoryRequest(),
        lambda r, i: {
            "status": "success",
            "message": "Streaming chat history cleared",
            "timestamp": render.now(),
        },
        response=schemas.StreamHistoryCleared,
    ),
    _rpc(
        "GET",
        f"{_V02}/stream/models",
        "v02_stream_models",
        CHAT.ListModels,
        chat_pb2.ListModelsRequest(include_stream_models=True),
        _stream_models,
        response=schemas.StreamModels,
    ),
    _rpc(
        "GET",
        f"{_V02}/stream/models/performance",
        "v02_stream_models_performance",
        CHAT.ListModels,
        chat_pb2.ListModelsRequest(include_stream_models=True),
        _stream_models_performance,
        response=schemas.StreamModelsPerformance,
    ),
    _v1_chat_door("/api/v1/chat", "v1_chat", "Legacy chat"),
    _v1_chat_door("/api/v1/chat/completions", "v1_chat_completions", "Legacy chat (same as /api/v1/chat)"),
    _rpc(
        "GET",
        "/api/v1/chat/status",
        "v1_chat_status",
        CHAT.GetChatStatus,
        chat_pb2.GetChatStatusRequest(),
        _v1_status,
        response=schemas.ChatStatus,
    ),
    _rpc(
        "DELETE",
        "/api/v1/chat/history",
        "v1_chat_history",
        CHAT.ClearHistory,
        chat_pb2.ClearHistoryRequest(),
        lambda r, i: {"status": "success"},
        response=schemas.Done,
    ),
    _rpc(
        "POST",
        "/api/v1/chat/reload-prompt",
        "v1_chat_reload_prompt",
        CHAT.ReloadPrompt,
        chat_pb2.ReloadPromptRequest(),
        lambda r, i: {"status": "success", "message": "System prompt reloaded successfully"},
        response=schemas.Done,
    ),
    Choice(
        method="POST",
        path="/api/v0.3/chat",
        name="v03_chat",
        body=V03ChatBody,
        response=schemas.V03Chat,
        errors=ErrorStyle.PLAIN,
        error_statuses=(400,),  # a missing message: {"error":"Missing required field: message"}
        summary="December chat",
        rows=(
            Local(name="v03_chat_no_message", when=_no_message, answer=_missing_message),
            Relayed(
                name="v03_chat_sse", when=_streams, rpc=CHAT.StreamChat, build=_v03_chat, sse=render.v03_sse
            ),
            Collected(name="v03_chat_json", rpc=CHAT.StreamChat, build=_v03_chat, render=render.v03_json),
        ),
    ),
    Choice(
        method="POST",
        path="/v1/chat/completions",
        name="openai_chat_completions",
        body=openai_door.ChatCompletionBody,
        response=openai_schemas.ChatCompletion,
        errors=ErrorStyle.OPENAI,
        summary="OpenAI-compatible chat completions",
        rows=(
            Relayed(
                name="openai_chat_completions_sse",
                when=_streams,
                rpc=CHAT.StreamChat,
                build=openai_door.build_chat,
                sse=openai_door.completion_sse,
            ),
            Collected(
                name="openai_chat_completions_json",
                rpc=CHAT.StreamChat,
                build=openai_door.build_chat,
                render=openai_door.completion,
            ),
        ),
    ),
    _rpc(
        "GET",
        "/v1/models",
        "openai_models",
        CHAT.ListModels,
        chat_pb2.ListModelsRequest(),
        openai_door.model_list,
        response=openai_schemas.OpenAIModelList,
        errors=ErrorStyle.OPENAI,
        summary="OpenAI-compatible model list",
    ),
)
