"""Chat RPCs for providers, models and performance (a mixin of ``ChatServicer``).

Static facts come from the catalogue (configuration); health, statistics and performance are computed from
``usage_records`` (every LLM call) and the in-process :class:`Metrics` the streaming side feeds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gaia.chat.v1 import chat_pb2
from gaia.common.v1 import common_pb2
from grpc import aio

from gaia_services.chat.catalogue import ModelEntry, ProviderEntry
from gaia_services.chat.metrics import StageFigures
from gaia_services.chat.parts import ChatParts
from gaia_services.chat.performance import assess, health_of, provider_score
from gaia_services.chat.provider_stats import CallFigures
from gaia_services.chat.service_conversations import timestamp

__all__ = ["CatalogueRpcs"]

_HEALTH = {
    "healthy": common_pb2.HEALTH_STATE_HEALTHY,
    "warning": common_pb2.HEALTH_STATE_WARNING,
    "degraded": common_pb2.HEALTH_STATE_DEGRADED,
    "unhealthy": common_pb2.HEALTH_STATE_UNHEALTHY,
}
_CAPABILITIES = {
    name.removeprefix("MODEL_CAPABILITY_").lower(): number
    for name, number in chat_pb2.ModelCapability.items()
    if number != chat_pb2.MODEL_CAPABILITY_UNSPECIFIED
}
_CAPABILITY_NAMES = {v: k for k, v in _CAPABILITIES.items()}
_HEALTH_WINDOW = timedelta(minutes=15)
_RECENT_WINDOW = timedelta(minutes=5)


def _capabilities(names: tuple[str, ...]) -> list[Any]:
    return [_CAPABILITIES[n] for n in names if n in _CAPABILITIES]


def _model(entry: ModelEntry, available: bool) -> chat_pb2.ModelInfo:
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
        available=available,
        avg_ttft_ms=entry.avg_ttft_ms,
        vr_suitable=entry.avg_response_time_ms <= 700,
        created=entry.created,
    )


class CatalogueRpcs:
    _parts: ChatParts

    def _provider_ids(self) -> list[str]:
        return [p.id for p in self._parts.catalogue.providers()]

    def _selected(self, provider_id: str) -> list[str]:
        return [self._parts.catalogue.provider(provider_id).id] if provider_id else self._provider_ids()

    async def _health(self, provider_ids: list[str]) -> list[tuple[str, str, CallFigures]]:
        now = await self._parts.provider_stats.now()
        figures = await self._parts.provider_stats.per_provider(provider_ids, since=now - _HEALTH_WINDOW)
        return [
            (f.provider, health_of(f, configured=self._parts.catalogue.is_available(f.provider)), f)
            for f in figures
        ]

    def _provider(self, entry: ProviderEntry, health: str, checked: datetime) -> chat_pb2.Provider:
        available = self._parts.catalogue.is_available(entry.id)
        return chat_pb2.Provider(
            id=entry.id,
            name=entry.name,
            status=chat_pb2.PROVIDER_STATUS_AVAILABLE if available else chat_pb2.PROVIDER_STATUS_UNCONFIGURED,
            health=_HEALTH[health],
            models=list(entry.models),
            capabilities=_capabilities(entry.capabilities),
            last_health_check=timestamp(checked),
            api_key_env=entry.api_key_env,
        )

    async def ListProviders(
        self, request: chat_pb2.ListProvidersRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListProvidersResponse:
        health = await self._health(self._provider_ids())
        checked = datetime.now(UTC)
        providers = [
            self._provider(self._parts.catalogue.provider(pid), state, checked) for pid, state, _ in health
        ]
        overall = assess_overall([state for _, state, _ in health])
        return chat_pb2.ListProvidersResponse(providers=providers, overall_health=_HEALTH[overall])

    async def GetProvider(
        self, request: chat_pb2.GetProviderRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetProviderResponse:
        entry = self._parts.catalogue.provider(request.provider_id)
        [(_, state, _)] = await self._health([entry.id])
        return chat_pb2.GetProviderResponse(provider=self._provider(entry, state, datetime.now(UTC)))

    async def GetProviderHealth(
        self, request: chat_pb2.GetProviderHealthRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetProviderHealthResponse:
        health = await self._health(self._selected(request.provider_id))
        checked = timestamp(datetime.now(UTC))
        return chat_pb2.GetProviderHealthResponse(
            overall_status=_HEALTH[assess_overall([state for _, state, _ in health])],
            providers=[
                chat_pb2.ProviderHealth(
                    provider_id=pid,
                    status=_HEALTH[state],
                    response_time_ms=f.avg_latency_ms,
                    last_check=checked,
                    error_rate=f.error_rate,
                    last_error=f.last_error_message,
                )
                for pid, state, f in health
            ],
            checked_at=checked,
        )

    async def GetProviderStats(
        self, request: chat_pb2.GetProviderStatsRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetProviderStatsResponse:
        ids = self._selected(request.provider_id)
        since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
        figures = await self._parts.provider_stats.per_provider(ids, since=since)
        total = await self._parts.provider_stats.overall(ids, since=since)
        stats = []
        for f in figures:
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
        summary = chat_pb2.ProviderStatsSummary(
            total_requests=total.requests,
            total_tokens=total.tokens,
            total_cost=total.cost,
            total_errors=total.errors,
            overall_error_rate=total.error_rate,
        )
        return chat_pb2.GetProviderStatsResponse(
            providers=stats, summary=summary, generated_at=timestamp(datetime.now(UTC))
        )

    async def ListProviderModels(
        self, request: chat_pb2.ListProviderModelsRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListProviderModelsResponse:
        models = self._parts.catalogue.provider_models(request.provider_id)
        return chat_pb2.ListProviderModelsResponse(
            provider_id=request.provider_id,
            models=[_model(m, self._parts.catalogue.is_available(m.provider)) for m in models],
        )

    async def ListModels(
        self, request: chat_pb2.ListModelsRequest, context: aio.ServicerContext
    ) -> chat_pb2.ListModelsResponse:
        wanted = tuple(_CAPABILITY_NAMES.get(c, "unspecified") for c in request.capabilities)
        models = self._parts.catalogue.models(
            provider=request.provider, capabilities=wanted, available_only=request.available_only
        )
        return chat_pb2.ListModelsResponse(
            models=[_model(m, self._parts.catalogue.is_available(m.provider)) for m in models]
        )

    async def GetModel(
        self, request: chat_pb2.GetModelRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetModelResponse:
        entry = self._parts.catalogue.model(request.model_id)
        return chat_pb2.GetModelResponse(
            model=_model(entry, self._parts.catalogue.is_available(entry.provider))
        )

    async def GetPerformance(
        self, request: chat_pb2.GetPerformanceRequest, context: aio.ServicerContext
    ) -> chat_pb2.GetPerformanceResponse:
        ids = self._selected(request.provider_id)
        stats = self._parts.provider_stats
        since = await stats.reset_at()
        now = await stats.now()
        overall = await stats.overall(ids, since=since)
        calls = await stats.recent(ids, since=since)
        recent = await stats.overall(ids, since=max(since, now - _RECENT_WINDOW))
        per_provider = await stats.per_provider(ids, since=since)
        limit = request.stage_sample_limit if request.stage_sample_limit > 0 else 100
        llm_ms = await stats.latencies(ids, since=since, limit=limit)
        active = self._parts.metrics.active()
        assessment = assess(recent, active=len(active))
        ttft = sorted(self._parts.metrics.time_to_first_token(since=since))

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
            time_to_first_token=_percentiles([s * 1000 for s in ttft]),
            error_count=overall.errors,
        )
        providers = [self._performance(f) for f in per_provider]
        stages = _stages(self._parts.metrics.stages(since=since, limit=limit), llm_ms)
        process = self._parts.metrics.process()
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
            memory_usage_mb=process.memory_mb,
            cpu_usage_percent=process.cpu_percent,
            active_connections=len(active),
        )
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
            providers=providers,
            stages=stages,
            live=live,
            health=health,
            data_since=timestamp(since),
            generated_at=timestamp(now),
        )

    def _performance(self, f: CallFigures) -> chat_pb2.ProviderPerformance:
        configured = self._parts.catalogue.is_available(f.provider)
        generating_s = f.latency_sum_ms / 1000
        item = chat_pb2.ProviderPerformance(
            provider_id=f.provider,
            status=_HEALTH[health_of(f, configured=configured)],
            average_response_time_ms=f.avg_latency_ms,
            min_response_time_ms=f.min_latency_ms,
            max_response_time_ms=f.max_latency_ms,
            total_requests=f.requests,
            total_tokens=f.tokens,
            tokens_per_second=f.tokens_out / generating_s if generating_s > 0 else 0.0,
            error_rate_percent=f.error_rate * 100,
            uptime_percentage=(100.0 - f.error_rate * 100) if f.requests else (100.0 if configured else 0.0),
            available_models=list(self._parts.catalogue.provider(f.provider).models),
            health_score=provider_score(f) if configured else 0.0,
            latency=chat_pb2.LatencyPercentiles(p50_ms=f.p50_ms, p95_ms=f.p95_ms, p99_ms=f.p99_ms),
        )
        if f.last_error is not None:
            item.last_error_at.CopyFrom(timestamp(f.last_error))
        return item

    async def ResetPerformance(
        self, request: chat_pb2.ResetPerformanceRequest, context: aio.ServicerContext
    ) -> chat_pb2.ResetPerformanceResponse:
        ids = self._provider_ids()
        stats = self._parts.provider_stats
        since = await stats.reset_at()
        overall = await stats.overall(ids, since=since)
        measured = [f for f in await stats.per_provider(ids, since=since) if f.requests]
        previous, reset_at = await stats.reset()
        return chat_pb2.ResetPerformanceResponse(
            total_requests=overall.requests,
            total_providers=len(measured),
            active_requests=len(self._parts.metrics.active()),
            data_since=timestamp(previous),
            reset_at=timestamp(reset_at),
        )


def assess_overall(states: list[str]) -> str:
    if all(s == "healthy" for s in states):
        return "healthy"
    if any(s == "healthy" for s in states):
        return "degraded"
    return "unhealthy"


_ASSESSED = {
    "healthy": common_pb2.HEALTH_STATE_HEALTHY,
    "warning": common_pb2.HEALTH_STATE_WARNING,
    "critical": common_pb2.HEALTH_STATE_UNHEALTHY,
}


def _percentiles(values_ms: list[float]) -> chat_pb2.LatencyPercentiles:
    if not values_ms:
        return chat_pb2.LatencyPercentiles()

    def pick(q: float) -> float:
        return values_ms[min(len(values_ms) - 1, int(q * len(values_ms)))]

    return chat_pb2.LatencyPercentiles(p50_ms=pick(0.5), p95_ms=pick(0.95), p99_ms=pick(0.99))


def _stages(figures: list[StageFigures], llm_ms: list[float]) -> list[chat_pb2.StageTiming]:
    """Stage timings; an LLM call stage not timed in process falls back on the recorded call latencies."""
    rows = []
    for figure in figures:
        if figure.stage == "llm_api_call" and not figure.samples and llm_ms:
            seconds = [ms / 1000 for ms in llm_ms]
            rows.append(
                StageFigures(
                    figure.stage, len(seconds), sum(seconds) / len(seconds), min(seconds), max(seconds)
                )
            )
        else:
            rows.append(figure)
    total = sum(f.average_s for f in rows)
    return [
        chat_pb2.StageTiming(
            stage=f.stage,
            average_duration_ms=f.average_s * 1000,
            min_duration_ms=f.min_s * 1000,
            max_duration_ms=f.max_s * 1000,
            samples=f.samples,
            percentage_of_total=(f.average_s / total * 100) if total > 0 else 0.0,
        )
        for f in rows
    ]
