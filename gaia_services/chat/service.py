"""The chat service's gRPC adapter: one servicer, each RPC protobuf in (``convert``), a call on a domain
object of ``ChatParts``, protobuf out. The caller is ``runtime.calls.caller()``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from grpc import aio

from gaia_services.chat import convert
from gaia_services.chat import convert_catalogue as catalogue_out
from gaia_services.chat.parts import ChatParts
from gaia_services.chat.turns import TurnFailed
from gaia_services.runtime.calls import caller, current_call
from gaia_services.runtime.errors import DomainError, NotFound, Unavailable, grpc_code_for
from gaia_services.runtime.remote_auth import RemoteAuthenticator
from gaia_services.runtime.server import Closer, ServiceSpec

__all__ = ["ChatServicer", "spec"]

_SERVICE = chat_pb2.DESCRIPTOR.services_by_name["ChatService"].full_name
_DEFAULT_ACTIVE_ONLY = True


def _turn_caller() -> tuple[str, str]:
    """The caller's user id, and the turn's request id: ``chat-`` and the call's request id."""
    user_id = caller().user_id
    state = current_call.get()
    raw = state.request_id if state is not None else ""
    return user_id, raw if raw.startswith("chat-") else f"chat-{raw[:24]}"


def _unary_failure(error: DomainError) -> DomainError:
    """A turn that failed after it started, as the unary RPC's status: NOT_FOUND (an unknown model at
    the provider) stays NOT_FOUND, anything else is UNAVAILABLE; the provider's message is kept."""
    if grpc_code_for(error) is grpc.StatusCode.NOT_FOUND:
        return NotFound(error.message)
    return Unavailable(error.message)


class ChatServicer(chat_pb2_grpc.ChatServiceServicer):
    def __init__(self, *, parts: ChatParts) -> None:
        self._turns = parts.turns
        self._history = parts.history
        self._persona_prompts = parts.persona_prompts
        self._conversations = parts.conversations
        self._personas = parts.personas
        self._reports = parts.reports

    # -- chat -----------------------------------------------------------------------------------------

    async def StreamChat(
        self, request: chat_pb2.StreamChatRequest, context: aio.ServicerContext
    ) -> AsyncIterator[chat_pb2.StreamChatResponse]:
        user_id, request_id = _turn_caller()
        run = self._turns.stream(
            user_id=user_id,
            request_id=request_id,
            request=convert.turn_request_from_proto(request, streamed=True),
        )
        try:
            async for event in run:
                yield convert.stream_event_to_proto(event)
        finally:
            await run.aclose()

    async def Chat(
        self, request: chat_pb2.ChatRequest, context: aio.ServicerContext
    ) -> chat_pb2.ChatResponse:
        user_id, request_id = _turn_caller()
        reply = await self._turns.reply(
            user_id=user_id,
            request_id=request_id,
            request=convert.turn_request_from_proto(request.turn, streamed=False),
        )
        if isinstance(reply.outcome, TurnFailed):
            raise _unary_failure(reply.outcome.error)
        return convert.chat_response(reply.started, reply.text, reply.outcome)

    # -- the caller's default conversation ------------------------------------------------------------------

    async def GetChatStatus(
        self, request: chat_pb2.GetChatStatusRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetChatStatusResponse:
        conversation_id, count = await self._history.count(
            user_id=caller().user_id, conversation_id=request.conversation_id
        )
        return chat_pb2.GetChatStatusResponse(
            message_count=count, has_history=count > 0, conversation_id=conversation_id
        )

    async def ClearHistory(
        self, request: chat_pb2.ClearHistoryRequest, context: aio.ServicerContext
    ) -> chat_pb2.ClearHistoryResponse:
        conversation_id, cleared = await self._history.clear(
            user_id=caller().user_id, conversation_id=request.conversation_id
        )
        return chat_pb2.ClearHistoryResponse(messages_cleared=cleared, conversation_id=conversation_id)

    async def ReloadPrompt(
        self, request: chat_pb2.ReloadPromptRequest, context: aio.ServicerContext
    ) -> chat_pb2.ReloadPromptResponse:
        persona = await self._persona_prompts.current(caller().user_id)  # read fresh every turn: no reload
        return chat_pb2.ReloadPromptResponse(persona=convert.persona_to_proto(persona) if persona else None)

    async def GetCacheStatus(
        self, request: chat_pb2.GetCacheStatusRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetCacheStatusResponse:
        caller()
        return chat_pb2.GetCacheStatusResponse()  # personas and tools are read per turn: no caches to report

    async def InvalidateCache(
        self, request: chat_pb2.InvalidateCacheRequest, context: aio.ServicerContext
    ) -> chat_pb2.InvalidateCacheResponse:
        caller()
        reply = chat_pb2.InvalidateCacheResponse(cache_type=request.cache_type, entries_invalidated=0)
        if request.user_id:
            reply.invalidated_user = request.user_id
        if request.activity:
            reply.invalidated_activity = request.activity
        return reply

    # -- conversations and messages ---------------------------------------------------------------------

    async def CreateConversation(
        self, request: chat_pb2.CreateConversationRequest, context: aio.ServicerContext
    ) -> chat_pb2.CreateConversationResponse:
        record = await self._conversations.create(user_id=caller().user_id, title=request.title)
        return chat_pb2.CreateConversationResponse(conversation=convert.conversation_to_proto(record))

    async def ListConversations(
        self, request: chat_pb2.ListConversationsRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListConversationsResponse:
        records, total = await self._conversations.listing(
            user_id=caller().user_id,
            include_default=request.include_default,
            page=convert.page_from_proto(request.page),
        )
        return chat_pb2.ListConversationsResponse(
            conversations=[convert.conversation_to_proto(r) for r in records], total=total
        )

    async def GetConversation(
        self, request: chat_pb2.GetConversationRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetConversationResponse:
        record = await self._conversations.get(
            user_id=caller().user_id, conversation_id=request.conversation_id
        )
        return chat_pb2.GetConversationResponse(conversation=convert.conversation_to_proto(record))

    async def RenameConversation(
        self, request: chat_pb2.RenameConversationRequest, context: aio.ServicerContext
    ) -> chat_pb2.RenameConversationResponse:
        record = await self._conversations.rename(
            user_id=caller().user_id, conversation_id=request.conversation_id, title=request.title
        )
        return chat_pb2.RenameConversationResponse(conversation=convert.conversation_to_proto(record))

    async def DeleteConversation(
        self, request: chat_pb2.DeleteConversationRequest, context: aio.ServicerContext
    ) -> chat_pb2.DeleteConversationResponse:
        deleted = await self._conversations.delete(
            user_id=caller().user_id, conversation_id=request.conversation_id
        )
        return chat_pb2.DeleteConversationResponse(conversation_id=deleted)

    async def ListMessages(
        self, request: chat_pb2.ListMessagesRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListMessagesResponse:
        records, total = await self._conversations.messages(
            user_id=caller().user_id,
            conversation_id=request.conversation_id,
            page=convert.page_from_proto(request.page),
        )
        return chat_pb2.ListMessagesResponse(
            messages=[convert.message_to_proto(r) for r in records], total=total
        )

    # -- personas ---------------------------------------------------------------------------------------

    async def ListPersonas(
        self, request: chat_pb2.ListPersonasRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListPersonasResponse:
        records, total = await self._personas.page(
            active_only=request.active_only if request.HasField("active_only") else _DEFAULT_ACTIVE_ONLY,
            created_by=request.created_by,
            page=convert.page_from_proto(request.page) if request.HasField("page") else None,
        )
        return chat_pb2.ListPersonasResponse(
            personas=[convert.persona_to_proto(r) for r in records], total=total
        )

    async def GetPersona(
        self, request: chat_pb2.GetPersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetPersonaResponse:
        record = await self._personas.get(request.persona_id)
        return chat_pb2.GetPersonaResponse(persona=convert.persona_to_proto(record))

    async def CreatePersona(
        self, request: chat_pb2.CreatePersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.CreatePersonaResponse:
        record = await self._personas.create(
            name=request.name,
            description=request.description,
            system_prompt=request.system_prompt,
            personality_traits=convert.struct_to_dict(request.personality_traits),
            capabilities=convert.struct_to_dict(request.capabilities),
            created_by=caller().user_id,
        )
        return chat_pb2.CreatePersonaResponse(persona=convert.persona_to_proto(record))

    async def UpdatePersona(
        self, request: chat_pb2.UpdatePersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.UpdatePersonaResponse:
        record = await self._personas.update(request.persona_id, convert.persona_change_from_proto(request))
        return chat_pb2.UpdatePersonaResponse(persona=convert.persona_to_proto(record))

    async def DeletePersona(
        self, request: chat_pb2.DeletePersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.DeletePersonaResponse:
        already = await self._personas.delete(request.persona_id)
        return chat_pb2.DeletePersonaResponse(persona_id=request.persona_id, already_deleted=already)

    async def SetCurrentPersona(
        self, request: chat_pb2.SetCurrentPersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.SetCurrentPersonaResponse:
        record = await self._personas.set_current(user_id=caller().user_id, persona_id=request.persona_id)
        return chat_pb2.SetCurrentPersonaResponse(persona=convert.persona_to_proto(record))

    async def GetCurrentPersona(
        self, request: chat_pb2.GetCurrentPersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetCurrentPersonaResponse:
        record = await self._personas.current(user_id=caller().user_id)
        return chat_pb2.GetCurrentPersonaResponse(persona=convert.persona_to_proto(record))

    async def InitializeDefaultPersona(
        self, request: chat_pb2.InitializeDefaultPersonaRequest, context: aio.ServicerContext
    ) -> chat_pb2.InitializeDefaultPersonaResponse:
        record, created = await self._personas.ensure_default()
        return chat_pb2.InitializeDefaultPersonaResponse(
            persona=convert.persona_to_proto(record), was_created=created
        )

    # -- providers and models ---------------------------------------------------------------------------

    async def ListProviders(
        self, request: chat_pb2.ListProvidersRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListProvidersResponse:
        return catalogue_out.providers_to_proto(await self._reports.providers())

    async def GetProvider(
        self, request: chat_pb2.GetProviderRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetProviderResponse:
        view = await self._reports.provider(request.provider_id)
        return chat_pb2.GetProviderResponse(provider=catalogue_out.provider_to_proto(view))

    async def GetProviderHealth(
        self, request: chat_pb2.GetProviderHealthRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetProviderHealthResponse:
        return catalogue_out.health_report_to_proto(await self._reports.health(request.provider_id))

    async def GetProviderStats(
        self, request: chat_pb2.GetProviderStatsRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetProviderStatsResponse:
        since = convert.datetime_from_proto(request.since) if request.HasField("since") else None
        return catalogue_out.stats_to_proto(await self._reports.stats(request.provider_id, since))

    async def ListProviderModels(
        self, request: chat_pb2.ListProviderModelsRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListProviderModelsResponse:
        views = self._reports.provider_models(request.provider_id)
        return chat_pb2.ListProviderModelsResponse(
            provider_id=request.provider_id, models=catalogue_out.models_to_proto(views)
        )

    async def ListModels(
        self, request: chat_pb2.ListModelsRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListModelsResponse:
        views = self._reports.models(
            provider=request.provider,
            capabilities=catalogue_out.capabilities_from_proto(request.capabilities),
            available_only=request.available_only,
        )
        reply = chat_pb2.ListModelsResponse(models=catalogue_out.models_to_proto(views))
        if request.include_stream_models:
            catalogue_out.stream_models_to_proto(self._reports.stream_models(), reply)
        return reply

    async def GetModel(
        self, request: chat_pb2.GetModelRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetModelResponse:
        view = self._reports.model(request.model_id)
        return chat_pb2.GetModelResponse(model=catalogue_out.model_to_proto(view))

    # -- performance ------------------------------------------------------------------------------------

    async def GetPerformance(
        self, request: chat_pb2.GetPerformanceRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetPerformanceResponse:
        report = await self._reports.performance(request.provider_id, request.stage_sample_limit)
        return catalogue_out.performance_to_proto(report)

    async def ResetPerformance(
        self, request: chat_pb2.ResetPerformanceRequest, context: aio.ServicerContext
    ) -> chat_pb2.ResetPerformanceResponse:
        return catalogue_out.reset_to_proto(await self._reports.reset())


def _register(server: aio.Server, parts: ChatParts) -> Closer:
    chat_pb2_grpc.add_ChatServiceServicer_to_server(ChatServicer(parts=parts), server)
    return parts.close


def spec() -> ServiceSpec[ChatParts]:
    return ServiceSpec(
        name="chat",
        service_names=(_SERVICE,),
        parts=ChatParts.build,
        register=_register,
        authenticator=lambda resources, parts: RemoteAuthenticator(channel=resources.channel("auth")),
        peers=("auth",),
    )
