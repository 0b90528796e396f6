"""The catalogue's plain reports ↔ protobuf: providers, models, health, statistics, performance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gaia.chat.v1 import chat_pb2
from gaia.common.v1 import common_pb2

from gaia_services.chat.catalogue_reports import (
    HealthReport,
    ModelView,
    Percentiles,
    PerformanceReport,
    ProviderPerformanceRow,
    ProvidersReport,
    ProviderView,
    ResetReport,
    StageRow,
    StatsReport,
    StreamModels,
)
from gaia_services.chat.convert import timestamp

__all__ = [
    "capabilities_from_proto",
    "health_report_to_proto",
    "models_to_proto",
    "performance_to_proto",
    "provider_to_proto",
    "providers_to_proto",
    "reset_to_proto",
    "stats_to_proto",
    "stream_models_to_proto",
]

_HEALTH = {
    "healthy": common_pb2.HEALTH_STATE_HEALTHY,
    "warning": common_pb2.HEALTH_STATE_WARNING,
    "degraded": common_pb2.HEALTH_STATE_DEGRADED,
    "unhealthy": common_pb2.HEALTH_STATE_UNHEALTHY,
}
_ASSESSED = {
    "healthy": common_pb2.HEALTH_STATE_HEALTHY,
    "warning": common_pb2.HEALTH_STATE_WARNING,
    "critical": common_pb2.HEALTH_STATE_UNHEALTHY,
}
_CAPABILITIES = {
    name.removeprefix("MODEL_CAPABILITY_").lower(): number
    for name, number in chat_pb2.ModelCapability.items()
    if number != chat_pb2.MODEL_CAPABILITY_UNSPECIFIED
}
_CAPABILITY_NAMES = {v: k for k, v in _CAPABILITIES.items()}


def _capabilities(names: tuple[str, ...]) -> list[Any]:
    return [_CAPABILITIES[n] for n in names if n in _CAPABILITIES]


def capabilities_from_proto(capabilities: Sequence[int]) -> tuple[str, ...]:
    """Capability names asked for; an unknown (or unspecified) one matches no model."""
    return tuple(_CAPABILITY_NAMES.get(c, "unspecified") for c in capabilities)


# -- models ---------------------------------------------------------------------------------------------


def model_to_proto(view: ModelView) -> chat_pb2.ModelInfo:
    entry = view.entry
    return chat_pb2.ModelInfo(
        id=entry.id,
        name=entry.name,
        provider=entry.provider,
        capabilities=_capabilities(entry.capabilities),
        max_tokens=entry.max_tokens,
        context_window=entry.context_window,
        cost_per_input_token=entry.cost_per_input_token,
        cost_per_output_token=entry.cost_per_output_token,
        avg_response_time_ms=entry.avg_response_time_ms,
        quality_score=entry.quality_score,
        speed_score=entry.speed_score,
        description=entry.description,
        is_deprecated=entry.is_deprecated,
        supports_system_prompt=entry.supports_system_prompt,
        supports_temperature=entry.supports_temperature,
        supports_streaming=entry.supports_streaming,
        available=view.available,
        avg_ttft_ms=entry.avg_ttft_ms,
        vr_suitable=entry.vr_suitable,
        created=entry.created,
    )


def models_to_proto(views: list[ModelView]) -> list[chat_pb2.ModelInfo]:
    return [model_to_proto(v) for v in views]


def stream_models_to_proto(table: StreamModels, reply: chat_pb2.ListModelsResponse) -> None:
    """Fill ``reply``'s v0.2 streaming door table."""
    reply.stream_models.extend(
        chat_pb2.StreamModel(
            model_id=m.model_id,
            name=m.name,
            provider=m.provider,
            avg_ttft_ms=m.avg_ttft_ms,
            quality_score=m.quality_score,
            vr_suitable=m.vr_suitable,
        )
        for m in table.models
    )
    advice = table.recommendations
    reply.stream_recommendations.CopyFrom(
        chat_pb2.StreamModelRecommendations(
            vr_best=advice.vr_best,
            quality_best=advice.quality_best,
            balanced=advice.balanced,
            emergency=advice.emergency,
        )
    )


# -- providers ------------------------------------------------------------------------------------------


def provider_to_proto(view: ProviderView) -> chat_pb2.Provider:
    entry = view.entry
    return chat_pb2.Provider(
        id=entry.id,
        name=entry.name,
        status=chat_pb2.PROVIDER_STATUS_AVAILABLE
        if view.available
        else chat_pb2.PROVIDER_STATUS_UNCONFIGURED,
        health=_HEALTH[view.health],
        models=list(entry.models),
        capabilities=_capabilities(entry.capabilities),
        last_health_check=timestamp(view.checked),
        api_key_env=entry.api_key_env,
    )


def providers_to_proto(report: ProvidersReport) -> chat_pb2.ListProvidersResponse:
    return chat_pb2.ListProvidersResponse(
        providers=[provider_to_proto(p) for p in report.providers], overall_health=_HEALTH[report.overall]
    )


def health_report_to_proto(report: HealthReport) -> chat_pb2.GetProviderHealthResponse:
    checked = timestamp(report.checked)
    return chat_pb2.GetProviderHealthResponse(
        overall_status=_HEALTH[report.overall],
        providers=[
            chat_pb2.ProviderHealth(
                provider_id=row.provider_id,
                status=_HEALTH[row.health],
                response_time_ms=row.figures.avg_latency_ms,
                last_check=checked,
                error_rate=row.figures.error_rate,
                last_error=row.figures.last_error_message,
            )
            for row in report.providers
        ],
        checked_at=checked,
    )


def stats_to_proto(report: StatsReport) -> chat_pb2.GetProviderStatsResponse:
    stats = []
    for f in report.providers:
        item = chat_pb2.ProviderStats(
            provider_id=f.provider,
            requests_count=f.requests,
            total_tokens=f.tokens,
            total_cost=f.cost,
            avg_response_time_ms=f.avg_latency_ms,
            error_count=f.errors,
            error_rate=f.error_rate,
        )
        if f.last_request is not None:
            item.last_request.CopyFrom(timestamp(f.last_request))
        stats.append(item)
    total = report.total
    summary = chat_pb2.ProviderStatsSummary(
        total_requests=total.requests,
        total_tokens=total.tokens,
        total_cost=total.cost,
        total_errors=total.errors,
        overall_error_rate=total.error_rate,
    )
    return chat_pb2.GetProviderStatsResponse(
        providers=stats, summary=summary, generated_at=timestamp(report.generated_at)
    )


# -- performance ----------------------------------------------------------------------------------------


def _percentiles(p: Percentiles) -> chat_pb2.LatencyPercentiles:
    return chat_pb2.LatencyPercentiles(p50_ms=p.p50_ms, p95_ms=p.p95_ms, p99_ms=p.p99_ms)


def _provider_performance(row: ProviderPerformanceRow) -> chat_pb2.ProviderPerformance:
    f = row.figures
    item = chat_pb2.ProviderPerformance(
        provider_id=f.provider,
        status=_HEALTH[row.health],
        average_response_time_ms=f.avg_latency_ms,
        min_response_time_ms=f.min_latency_ms,
        max_response_time_ms=f.max_latency_ms,
        total_requests=f.requests,
        total_tokens=f.tokens,
        tokens_per_second=row.tokens_per_second,
        error_rate_percent=f.error_rate * 100,
        uptime_percentage=row.uptime_percentage,
        available_models=list(row.available_models),
        health_score=row.health_score,
        latency=chat_pb2.LatencyPercentiles(p50_ms=f.p50_ms, p95_ms=f.p95_ms, p99_ms=f.p99_ms),
    )
    if f.last_error is not None:
        item.last_error_at.CopyFrom(timestamp(f.last_error))
    return item


def _stage(row: StageRow) -> chat_pb2.StageTiming:
    f = row.figures
    return chat_pb2.StageTiming(
        stage=f.stage,
        average_duration_ms=f.average_s * 1000,
        min_duration_ms=f.min_s * 1000,
        max_duration_ms=f.max_s * 1000,
        samples=f.samples,
        percentage_of_total=row.percentage_of_total,
    )


def performance_to_proto(report: PerformanceReport) -> chat_pb2.GetPerformanceResponse:
    overall, calls, active = report.overall, report.calls, report.active
    summary = chat_pb2.PerformanceSummary(
        total_requests=overall.requests,
        average_response_time_ms=overall.avg_latency_ms,
        min_response_time_ms=overall.min_latency_ms,
        max_response_time_ms=overall.max_latency_ms,
        requests_last_hour=calls.last_hour,
        requests_last_24h=calls.last_day,
        active_requests=len(active),
        latency=chat_pb2.LatencyPercentiles(
            p50_ms=overall.p50_ms, p95_ms=overall.p95_ms, p99_ms=overall.p99_ms
        ),
        time_to_first_token=_percentiles(report.time_to_first_token),
        error_count=overall.errors,
    )
    live = chat_pb2.LiveMetrics(
        active_requests=len(active),
        requests=[
            chat_pb2.InFlightRequest(
                request_id=f.request_id,
                provider=f.provider,
                model=f.model,
                started_at=timestamp(f.started_at),
                elapsed_ms=elapsed * 1000,
                stage=f.stage,
            )
            for f, elapsed in active
        ],
        total_active_time_ms=sum(elapsed for _, elapsed in active) * 1000,
        requests_per_minute=float(calls.last_minute),
        memory_usage_mb=report.process.memory_mb,
        cpu_usage_percent=report.process.cpu_percent,
        active_connections=len(active),
    )
    assessment = report.assessment
    health = chat_pb2.PerformanceHealth(
        health_status=_ASSESSED[assessment.status],
        health_score=assessment.score,
        average_response_time_ms=assessment.average_s * 1000,
        slow_requests_count=assessment.slow,
        error_rate_percent=assessment.error_rate_percent,
        active_requests=assessment.active,
        requests_analyzed=assessment.analyzed,
        alerts=list(assessment.alerts),
    )
    return chat_pb2.GetPerformanceResponse(
        summary=summary,
        providers=[_provider_performance(row) for row in report.providers],
        stages=[_stage(row) for row in report.stages],
        live=live,
        health=health,
        data_since=timestamp(report.since),
        generated_at=timestamp(report.now),
    )


def reset_to_proto(report: ResetReport) -> chat_pb2.ResetPerformanceResponse:
    return chat_pb2.ResetPerformanceResponse(
        total_requests=report.total_requests,
        total_providers=report.total_providers,
        active_requests=report.active_requests,
        data_since=timestamp(report.data_since),
        reset_at=timestamp(report.reset_at),
    )
