"""Providers and models in the reference's shapes (``/api/v0.2/providers*``, ``/api/v0.2/models*``).

Static values (names, pricing, context windows) come from the catalogue; health and statistics are the
service's computed figures, rounded and laid out as the reference's hard-coded ones were.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gaia.chat.v1 import chat_pb2
from gaia.common.v1 import common_pb2

from compat_gateway.inbound import Inbound
from compat_gateway.render.timestamps import naive_iso

__all__ = [
    "capability_name",
    "health_name",
    "model_capabilities",
    "model_contexts",
    "model_detail",
    "model_list",
    "model_priorities",
    "now_iso",
    "provider_health",
    "provider_list",
    "provider_models",
    "provider_one",
    "provider_stats",
]

_STATUS = {
    chat_pb2.PROVIDER_STATUS_AVAILABLE: "available",
    chat_pb2.PROVIDER_STATUS_UNCONFIGURED: "unconfigured",
    chat_pb2.PROVIDER_STATUS_UNAVAILABLE: "unavailable",
}


def now_iso() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat()


def health_name(state: int) -> str:
    if state == common_pb2.HEALTH_STATE_UNSPECIFIED:
        return "unknown"
    return common_pb2.HealthState.Name(state).removeprefix("HEALTH_STATE_").lower()  # type: ignore[arg-type]


def capability_name(capability: int) -> str:
    return chat_pb2.ModelCapability.Name(capability).removeprefix("MODEL_CAPABILITY_").lower()  # type: ignore[arg-type]


def _capabilities(values: Any) -> list[str]:
    return [capability_name(c) for c in values]


def _provider(item: chat_pb2.Provider) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "status": _STATUS.get(item.status, "unknown"),
        "health": health_name(item.health),
        "models": list(item.models),
        "capabilities": _capabilities(item.capabilities),
        "last_health_check": naive_iso(item.last_health_check)
        if item.HasField("last_health_check")
        else None,
    }


def provider_list(reply: chat_pb2.ListProvidersResponse, inbound: Inbound) -> dict[str, Any]:
    overall = reply.overall_health
    return {
        "providers": [_provider(p) for p in reply.providers],
        "total_providers": len(reply.providers),
        "health_status": "all_healthy"
        if overall == common_pb2.HEALTH_STATE_HEALTHY
        else health_name(overall),
        "timestamp": now_iso(),
    }


def provider_one(reply: chat_pb2.GetProviderResponse, inbound: Inbound) -> dict[str, Any]:
    return _provider(reply.provider)


def _per_million(cost_per_token: float) -> float:
    return round(cost_per_token * 1_000_000, 6)


def provider_models(reply: chat_pb2.ListProviderModelsResponse, inbound: Inbound) -> dict[str, Any]:
    models = [
        {
            "id": m.id,
            "name": m.name,
            "capabilities": _capabilities(m.capabilities),
            "max_tokens": m.max_tokens,
            "context_window": m.context_window,
            "pricing": {
                "input_tokens_per_million": _per_million(m.cost_per_input_token),
                "output_tokens_per_million": _per_million(m.cost_per_output_token),
            },
        }
        for m in reply.models
    ]
    return {"provider": reply.provider_id, "models": models, "total": len(models)}


def provider_health(reply: chat_pb2.GetProviderHealthResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "overall_status": health_name(reply.overall_status),
        "providers": {
            p.provider_id: {
                "status": health_name(p.status),
                "response_time_ms": round(p.response_time_ms),
                "last_check": naive_iso(p.last_check),
                "error_rate": round(p.error_rate, 4),
            }
            for p in reply.providers
        },
        "timestamp": naive_iso(reply.checked_at),
    }


def provider_stats(reply: chat_pb2.GetProviderStatsResponse, inbound: Inbound) -> dict[str, Any]:
    summary = reply.summary
    return {
        "provider_stats": {
            p.provider_id: {
                "requests_count": p.requests_count,
                "total_tokens": p.total_tokens,
                "total_cost": round(p.total_cost, 4),
                "avg_response_time_ms": round(p.avg_response_time_ms),
                "error_count": p.error_count,
                "error_rate": round(p.error_rate, 4),
                "last_request": naive_iso(p.last_request) if p.HasField("last_request") else None,
            }
            for p in reply.providers
        },
        "summary": {
            "total_requests": summary.total_requests,
            "total_tokens": summary.total_tokens,
            "total_cost": round(summary.total_cost, 4),
            "total_errors": summary.total_errors,
            "overall_error_rate": round(summary.overall_error_rate, 4),
        },
        "timestamp": naive_iso(reply.generated_at),
    }


def model_list(reply: chat_pb2.ListModelsResponse, inbound: Inbound) -> dict[str, Any]:
    models = [
        {
            "id": m.id,
            "name": m.name,
            "provider": m.provider,
            "capabilities": _capabilities(m.capabilities),
            "max_tokens": m.max_tokens,
            "context_window": m.context_window,
        }
        for m in reply.models
    ]
    query = inbound.query_model
    return {
        "models": models,
        "total": len(models),
        "filters": {"provider": query.provider, "capability": query.capability},
    }


def model_detail(reply: chat_pb2.GetModelResponse, inbound: Inbound) -> dict[str, Any]:
    m = reply.model
    return {
        "id": m.id,
        "name": m.name,
        "provider": m.provider,
        "capabilities": _capabilities(m.capabilities),
        "max_tokens": m.max_tokens,
        "context_window": m.context_window,
        "cost_per_input_token": m.cost_per_input_token,
        "cost_per_output_token": m.cost_per_output_token,
        "avg_response_time_ms": m.avg_response_time_ms,
        "quality_score": m.quality_score,
        "speed_score": m.speed_score,
        "description": m.description,
        "is_deprecated": m.is_deprecated,
        "supports_system_prompt": m.supports_system_prompt,
        "supports_temperature": m.supports_temperature,
        "supports_streaming": m.supports_streaming,
    }


def model_capabilities(reply: chat_pb2.ListModelsResponse, inbound: Inbound) -> dict[str, Any]:
    """Which models have each capability: ``{"capabilities":{"chat":[ids...],...},"total":n}``."""
    grouped: dict[str, list[str]] = {}
    for number in chat_pb2.ModelCapability.values():
        if number != chat_pb2.MODEL_CAPABILITY_UNSPECIFIED:
            grouped[capability_name(number)] = []
    for m in reply.models:
        for capability in _capabilities(m.capabilities):
            grouped.setdefault(capability, []).append(m.id)
    return {"capabilities": grouped, "total": len(grouped), "timestamp": now_iso()}


def model_priorities(reply: chat_pb2.ListModelsResponse, inbound: Inbound) -> dict[str, Any]:
    """Models ranked for each selection priority (quality, speed, cost, balanced), best first."""
    models = list(reply.models)
    rankings = {
        "quality": sorted(models, key=lambda m: -m.quality_score),
        "speed": sorted(models, key=lambda m: -m.speed_score),
        "cost": sorted(models, key=lambda m: m.cost_per_input_token + m.cost_per_output_token),
        "balanced": sorted(models, key=lambda m: -(m.quality_score + m.speed_score) / 2),
    }
    return {
        "priorities": {
            name: [
                {
                    "id": m.id,
                    "provider": m.provider,
                    "quality_score": m.quality_score,
                    "speed_score": m.speed_score,
                }
                for m in ranked
            ]
            for name, ranked in rankings.items()
        },
        "total": len(rankings),
        "timestamp": now_iso(),
    }


def model_contexts(reply: chat_pb2.ListModelsResponse, inbound: Inbound) -> dict[str, Any]:
    """Each model's context window and output limit, largest window first."""
    ranked = sorted(reply.models, key=lambda m: -m.context_window)
    return {
        "contexts": [
            {
                "id": m.id,
                "provider": m.provider,
                "context_window": m.context_window,
                "max_tokens": m.max_tokens,
            }
            for m in ranked
        ],
        "total": len(ranked),
        "timestamp": now_iso(),
    }
