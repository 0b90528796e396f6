"""Chat RPCs for Chat, StreamChat, chat status/history/prompt/cache (a mixin of ``ChatServicer``).

Only adaptation lives here: protobuf in, the plain ``ChatTurns`` engine, protobuf out.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from gaia.chat.v1 import chat_pb2
from gaia.common.v1 import common_pb2
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from gaia_services.chat.history import HistoryMode
from gaia_services.chat.parts import ChatParts
from gaia_services.chat.persona_prompt import PersonaRow
from gaia_services.chat.providers import Turn
from gaia_services.chat.turns import TurnCompleted, TurnEvent, TurnFailed, TurnRequest, TurnStarted, TurnToken
from gaia_services.runtime.calls import current_call
from gaia_services.runtime.errors import NotFound, Unauthenticated, Unavailable

__all__ = ["StreamingRpcs"]

_MODES = {
    chat_pb2.HISTORY_MODE_NONE: HistoryMode.NONE,
    chat_pb2.HISTORY_MODE_CONVERSATION: HistoryMode.CONVERSATION,
    chat_pb2.HISTORY_MODE_USER_DEFAULT: HistoryMode.USER_DEFAULT,
}
_ROLES = {
    chat_pb2.MESSAGE_ROLE_SYSTEM: "system",
    chat_pb2.MESSAGE_ROLE_DEVELOPER: "system",
    chat_pb2.MESSAGE_ROLE_USER: "user",
    chat_pb2.MESSAGE_ROLE_ASSISTANT: "assistant",
    chat_pb2.MESSAGE_ROLE_TOOL: "tool",
}


def _caller() -> tuple[str, str]:
    state = current_call.get()
    if state is None or state.principal is None:
        raise Unauthenticated("Not authenticated. Provide a valid JWT or API Key.")
    return state.principal.user_id, state.request_id


def _request_id(raw: str) -> str:
    return raw if raw.startswith("chat-") else f"chat-{raw[:24]}"


def _turn_request(request: Any, *, streamed: bool) -> TurnRequest:
    return TurnRequest(
        message=request.message,
        messages=tuple(Turn(role=_ROLES.get(m.role, "user"), content=m.content) for m in request.messages),
        model=request.model,
        provider=request.provider,
        conversation_id=request.conversation_id,
        history_mode=_MODES.get(request.history_mode),
        use_current_persona=request.use_current_persona,
        persona_id=request.persona_id,
        max_tokens=request.max_tokens if request.HasField("max_tokens") else None,
        temperature=request.temperature if request.HasField("temperature") else None,
        top_p=request.top_p if request.HasField("top_p") else None,
        stop=tuple(request.stop),
        enable_fallback=request.enable_fallback if request.HasField("enable_fallback") else None,
        streamed=streamed,
    )


def _usage(prompt: int, completion: int) -> common_pb2.Usage:
    return common_pb2.Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _timings(done: TurnCompleted) -> chat_pb2.ChatTimings:
    return chat_pb2.ChatTimings(
        time_to_first_token_ms=done.time_to_first_token_ms,
        llm_time_ms=done.llm_time_ms,
        total_time_ms=done.total_time_ms,
        routing_time_ms=done.routing_time_ms,
    )


def _timestamp(value: object) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)  # type: ignore[arg-type]
    return stamp


def _persona(row: PersonaRow) -> chat_pb2.Persona:
    traits, capabilities = Struct(), Struct()
    traits.update(row.personality_traits)
    capabilities.update(row.capabilities)
    return chat_pb2.Persona(
        name=row.name,
        description=row.description,
        system_prompt=row.system_prompt,
        personality_traits=traits,
        capabilities=capabilities,
        id=row.id,
        is_active=row.is_active,
        created_by=row.created_by,
        created_at=_timestamp(row.created_at),
        updated_at=_timestamp(row.updated_at),
    )


class StreamingRpcs:
    _parts: ChatParts

    async def _measured_turn(self, request: TurnRequest) -> AsyncGenerator[TurnEvent]:
        """The caller's turn, measured for the performance routes: planning (validation, conversation,
        persona, provider choice) as ``provider_selection``, the provider's answer as ``llm_api_call``,
        time to first token, and the request shown in flight meanwhile."""
        user_id, raw_id = _caller()
        request_id = _request_id(raw_id)
        metrics = self._parts.metrics
        flight = metrics.begin(request_id, user_id=user_id)
        flight.stage = "provider_selection"
        stage_started = time.monotonic()
        run = self._parts.turns.run(user_id=user_id, request_id=request_id, request=request)
        try:
            async for event in run:
                if isinstance(event, TurnStarted):
                    metrics.record_stage("provider_selection", time.monotonic() - stage_started)
                    flight.provider, flight.model, flight.stage = event.provider, event.model, "llm_api_call"
                    stage_started = time.monotonic()
                elif isinstance(event, TurnToken):
                    metrics.first_token(flight)
                elif flight.stage == "llm_api_call":
                    metrics.record_stage("llm_api_call", time.monotonic() - stage_started)
                    flight.stage = "response_processing"
                yield event
        finally:
            metrics.finish(flight)
            await run.aclose()

    # -- chat -----------------------------------------------------------------------------------------

    async def StreamChat(
        self, request: chat_pb2.StreamChatRequest, context: aio.ServicerContext
    ) -> AsyncIterator[chat_pb2.StreamChatResponse]:
        run = self._measured_turn(_turn_request(request, streamed=True))
        try:
            async for event in run:
                if isinstance(event, TurnToken):
                    yield chat_pb2.StreamChatResponse(token=chat_pb2.ChatToken(text=event.text))
                elif isinstance(event, TurnStarted):
                    yield chat_pb2.StreamChatResponse(
                        started=chat_pb2.ChatStarted(
                            conversation_id=event.conversation_id,
                            model=event.model,
                            provider=event.provider,
                            request_id=event.request_id,
                            created=event.created,
                            persona_id=event.persona_id,
                            conversation_created=event.conversation_created,
                        )
                    )
                elif isinstance(event, TurnCompleted):
                    yield chat_pb2.StreamChatResponse(
                        completed=chat_pb2.ChatCompleted(
                            finish_reason=event.finish_reason,
                            usage=_usage(event.prompt_tokens, event.completion_tokens),
                            timings=_timings(event),
                            fallback_used=event.fallback_used,
                            message_id=event.message_id,
                            model=event.model,
                            provider=event.provider,
                        )
                    )
                elif isinstance(event, TurnFailed):
                    yield chat_pb2.StreamChatResponse(
                        failed=common_pb2.Failure(code=event.code, reason=event.reason, message=event.message)
                    )
        finally:
            await run.aclose()

    async def Chat(
        self, request: chat_pb2.ChatRequest, context: aio.ServicerContext
    ) -> chat_pb2.ChatResponse:
        started: TurnStarted | None = None
        parts: list[str] = []
        async for event in self._measured_turn(_turn_request(request, streamed=False)):
            if isinstance(event, TurnToken):
                parts.append(event.text)
            elif isinstance(event, TurnStarted):
                started = event
            elif isinstance(event, TurnFailed):
                raise _failure(event)
            elif isinstance(event, TurnCompleted):
                assert started is not None
                return chat_pb2.ChatResponse(
                    response="".join(parts),
                    conversation_id=started.conversation_id,
                    model=event.model,
                    provider=event.provider,
                    request_id=started.request_id,
                    created=started.created,
                    finish_reason=event.finish_reason,
                    usage=_usage(event.prompt_tokens, event.completion_tokens),
                    timings=_timings(event),
                    fallback_used=event.fallback_used,
                    message_id=event.message_id,
                    persona_id=started.persona_id,
                    conversation_created=started.conversation_created,
                )
        raise Unavailable("The chat turn ended without an answer")

    # -- the caller's default conversation ------------------------------------------------------------------

    async def GetChatStatus(
        self, request: chat_pb2.GetChatStatusRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetChatStatusResponse:
        user_id, _ = _caller()
        conversation_id, count = await self._parts.history.count(
            user_id=user_id, conversation_id=request.conversation_id
        )
        return chat_pb2.GetChatStatusResponse(
            message_count=count, has_history=count > 0, conversation_id=conversation_id
        )

    async def ClearHistory(
        self, request: chat_pb2.ClearHistoryRequest, context: aio.ServicerContext
    ) -> chat_pb2.ClearHistoryResponse:
        user_id, _ = _caller()
        conversation_id, cleared = await self._parts.history.clear(
            user_id=user_id, conversation_id=request.conversation_id
        )
        return chat_pb2.ClearHistoryResponse(messages_cleared=cleared, conversation_id=conversation_id)

    async def ReloadPrompt(
        self, request: chat_pb2.ReloadPromptRequest, context: aio.ServicerContext
    ) -> chat_pb2.ReloadPromptResponse:
        user_id, _ = _caller()
        persona = await self._parts.persona_prompts.current(
            user_id
        )  # read fresh on every turn: nothing to reload
        return chat_pb2.ReloadPromptResponse(persona=_persona(persona) if persona else None)

    async def GetCacheStatus(
        self, request: chat_pb2.GetCacheStatusRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetCacheStatusResponse:
        _caller()
        return chat_pb2.GetCacheStatusResponse()  # personas and tools are read per turn: no caches to report

    async def InvalidateCache(
        self, request: chat_pb2.InvalidateCacheRequest, context: aio.ServicerContext
    ) -> chat_pb2.InvalidateCacheResponse:
        _caller()
        reply = chat_pb2.InvalidateCacheResponse(cache_type=request.cache_type, entries_invalidated=0)
        if request.user_id:
            reply.invalidated_user = request.user_id
        if request.activity:
            reply.invalidated_activity = request.activity
        return reply


def _failure(event: TurnFailed) -> Exception:
    if event.code == 5:
        return NotFound(event.message)
    return Unavailable(event.message)
