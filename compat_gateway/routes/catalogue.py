"""Routes of the catalogue area: providers, models and performance under ``/api/v0.2``.

Fixed paths come before the ``{provider}`` / ``{model_id}`` paths that would otherwise shadow them.
"""

from __future__ import annotations

from gaia.chat.v1 import chat_pb2
from pydantic import BaseModel

from compat_gateway.inbound import Inbound
from compat_gateway.render import catalogue as render
from compat_gateway.render import performance
from compat_gateway.routes.table import Route, unary_rows
from compat_gateway.rpcs import CHAT
from compat_gateway.schemas import catalogue as schemas
from compat_gateway.schemas import performance as perf_schemas

__all__ = ["ROUTES"]

_PROVIDERS = "/api/v0.2/providers"
_MODELS = "/api/v0.2/models"
_PERFORMANCE = "/api/v0.2/performance"


class ModelsQuery(BaseModel):
    provider: str | None = None
    capability: str | None = None


class StagesQuery(BaseModel):
    limit: int = 100


def _capability(name: str) -> int:
    """A legacy capability name as the enum; an unknown name becomes UNSPECIFIED, which no model has."""
    return dict(chat_pb2.ModelCapability.items()).get(f"MODEL_CAPABILITY_{name.upper()}", 0)


def _models(inbound: Inbound) -> chat_pb2.ListModelsRequest:
    query: ModelsQuery = inbound.query_model
    request = chat_pb2.ListModelsRequest(provider=query.provider or "")
    if query.capability is not None:
        request.capabilities.append(_capability(query.capability))  # type: ignore[arg-type]
    return request


def _provider_id(inbound: Inbound) -> str:
    return inbound.path_params["provider"]


def _performance(inbound: Inbound) -> chat_pb2.GetPerformanceRequest:
    query = inbound.query_model
    limit = query.limit if isinstance(query, StagesQuery) else 0
    return chat_pb2.GetPerformanceRequest(stage_sample_limit=max(limit, 0))


_row = unary_rows()


ROUTES: tuple[Route, ...] = (
    _row(
        "GET",
        _PROVIDERS,
        "v02_providers",
        CHAT.ListProviders,
        lambda i: chat_pb2.ListProvidersRequest(),
        render.provider_list,
        summary="LLM providers with their health",
        response=schemas.ProviderList,
    ),
    _row(
        "GET",
        f"{_PROVIDERS}/health",
        "v02_providers_health",
        CHAT.GetProviderHealth,
        lambda i: chat_pb2.GetProviderHealthRequest(),
        render.provider_health,
        summary="Health of every provider, from recent calls",
        response=schemas.ProviderHealth,
    ),
    _row(
        "GET",
        f"{_PROVIDERS}/stats",
        "v02_providers_stats",
        CHAT.GetProviderStats,
        lambda i: chat_pb2.GetProviderStatsRequest(),
        render.provider_stats,
        summary="Request, token, cost and error statistics per provider",
        response=schemas.ProviderStats,
    ),
    _row(
        "GET",
        f"{_PROVIDERS}/{{provider}}",
        "v02_provider",
        CHAT.GetProvider,
        lambda i: chat_pb2.GetProviderRequest(provider_id=_provider_id(i)),
        render.provider_one,
        summary="One provider",
        response=schemas.Provider,
    ),
    _row(
        "GET",
        f"{_PROVIDERS}/{{provider}}/models",
        "v02_provider_models",
        CHAT.ListProviderModels,
        lambda i: chat_pb2.ListProviderModelsRequest(provider_id=_provider_id(i)),
        render.provider_models,
        summary="One provider's models with pricing",
        response=schemas.ProviderModels,
    ),
    _row(
        "GET",
        f"{_PROVIDERS}/{{provider}}/health",
        "v02_provider_health",
        CHAT.GetProviderHealth,
        lambda i: chat_pb2.GetProviderHealthRequest(provider_id=_provider_id(i)),
        render.provider_health,
        summary="One provider's health",
        response=schemas.ProviderHealth,
    ),
    _row(
        "GET",
        f"{_PROVIDERS}/{{provider}}/stats",
        "v02_provider_stats",
        CHAT.GetProviderStats,
        lambda i: chat_pb2.GetProviderStatsRequest(provider_id=_provider_id(i)),
        render.provider_stats,
        summary="One provider's statistics",
        response=schemas.ProviderStats,
    ),
    _row(
        "GET",
        _MODELS,
        "v02_models",
        CHAT.ListModels,
        _models,
        render.model_list,
        query=ModelsQuery,
        summary="Catalogue models (filters: provider, capability)",
        response=schemas.ModelList,
    ),
    _row(
        "GET",
        f"{_MODELS}/capabilities",
        "v02_models_capabilities",
        CHAT.ListModels,
        lambda i: chat_pb2.ListModelsRequest(),
        render.model_capabilities,
        summary="Models by capability",
        response=schemas.ModelCapabilities,
    ),
    _row(
        "GET",
        f"{_MODELS}/priorities",
        "v02_models_priorities",
        CHAT.ListModels,
        lambda i: chat_pb2.ListModelsRequest(),
        render.model_priorities,
        summary="Models ranked per priority",
        response=schemas.ModelPriorities,
    ),
    _row(
        "GET",
        f"{_MODELS}/contexts",
        "v02_models_contexts",
        CHAT.ListModels,
        lambda i: chat_pb2.ListModelsRequest(),
        render.model_contexts,
        summary="Context windows of the models",
        response=schemas.ModelContexts,
    ),
    _row(
        "GET",
        f"{_MODELS}/{{model_id}}",
        "v02_model",
        CHAT.GetModel,
        lambda i: chat_pb2.GetModelRequest(model_id=i.path_params["model_id"]),
        render.model_detail,
        summary="One model in detail",
        response=schemas.ModelDetail,
    ),
    _row(
        "GET",
        f"{_PERFORMANCE}/summary",
        "v02_performance_summary",
        CHAT.GetPerformance,
        _performance,
        performance.summary,
        summary="Request counts and response times since the last reset",
        response=perf_schemas.PerformanceSummary,
    ),
    _row(
        "GET",
        f"{_PERFORMANCE}/providers",
        "v02_performance_providers",
        CHAT.GetPerformance,
        _performance,
        performance.providers,
        summary="Measured performance per provider",
        response=perf_schemas.PerformanceProviders,
    ),
    _row(
        "GET",
        f"{_PERFORMANCE}/stages",
        "v02_performance_stages",
        CHAT.GetPerformance,
        _performance,
        performance.stages,
        query=StagesQuery,
        summary="Time spent per stage of request handling",
        response=perf_schemas.PerformanceStages,
    ),
    _row(
        "GET",
        f"{_PERFORMANCE}/live",
        "v02_performance_live",
        CHAT.GetPerformance,
        _performance,
        performance.live,
        summary="Requests in flight and process metrics",
        response=perf_schemas.PerformanceLive,
    ),
    _row(
        "GET",
        f"{_PERFORMANCE}/health",
        "v02_performance_health",
        CHAT.GetPerformance,
        _performance,
        performance.health,
        summary="Performance health and alerts",
        response=perf_schemas.PerformanceHealth,
    ),
    _row(
        "DELETE",
        f"{_PERFORMANCE}/reset",
        "v02_performance_reset",
        CHAT.ResetPerformance,
        lambda i: chat_pb2.ResetPerformanceRequest(),
        performance.reset,
        summary="Reset the performance measurements (all replicas)",
        response=perf_schemas.PerformanceReset,
    ),
)
