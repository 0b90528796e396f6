"""What the catalogue RPCs answer, as plain data: providers and models with their availability, health,
statistics and performance.

Static facts come from the catalogue (configuration); health, statistics and performance are computed from
``usage_records`` (every LLM call) and the in-process :class:`Metrics` the streaming side feeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gaia_services.chat.catalogue import (
    Catalogue,
    ModelEntry,
    ProviderEntry,
    StreamModel,
    StreamRecommendations,
)
from gaia_services.chat.metrics import InFlight, Metrics, ProcessFigures, StageFigures
from gaia_services.chat.performance import Assessment, assess, health_of, provider_score
from gaia_services.chat.provider_stats import CallFigures, ProviderStats, RecentCalls

__all__ = [
    "CatalogueReports",
    "HealthReport",
    "ModelView",
    "Percentiles",
    "PerformanceReport",
    "ProviderHealthRow",
    "ProviderPerformanceRow",
    "ProviderView",
    "ProvidersReport",
    "ResetReport",
    "StageRow",
    "StatsReport",
    "StreamModels",
]

_HEALTH_WINDOW = timedelta(minutes=15)
_RECENT_WINDOW = timedelta(minutes=5)
_DEFAULT_STAGE_SAMPLES = 100


@dataclass(frozen=True, slots=True)
class ModelView:
    entry: ModelEntry
    available: bool  # its provider can serve requests


@dataclass(frozen=True, slots=True)
class StreamModels:
    """The v0.2 streaming door's own model table and recommendations."""

    models: tuple[StreamModel, ...]
    recommendations: StreamRecommendations


@dataclass(frozen=True, slots=True)
class ProviderView:
    entry: ProviderEntry
    available: bool
    health: str  # healthy | warning | degraded | unhealthy
    checked: datetime


@dataclass(frozen=True, slots=True)
class ProvidersReport:
    providers: list[ProviderView]
    overall: str


@dataclass(frozen=True, slots=True)
class ProviderHealthRow:
    provider_id: str
    health: str
    figures: CallFigures


@dataclass(frozen=True, slots=True)
class HealthReport:
    overall: str
    providers: list[ProviderHealthRow]
    checked: datetime


@dataclass(frozen=True, slots=True)
class StatsReport:
    providers: list[CallFigures]
    total: CallFigures
    generated_at: datetime


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class ProviderPerformanceRow:
    figures: CallFigures
    health: str
    tokens_per_second: float
    uptime_percentage: float
    available_models: tuple[str, ...]
    health_score: float


@dataclass(frozen=True, slots=True)
class StageRow:
    figures: StageFigures
    percentage_of_total: float


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    overall: CallFigures
    calls: RecentCalls
    time_to_first_token: Percentiles
    providers: list[ProviderPerformanceRow]
    stages: list[StageRow]
    active: list[tuple[InFlight, float]]  # requests in flight, with their elapsed seconds
    process: ProcessFigures
    assessment: Assessment
    since: datetime
    now: datetime


@dataclass(frozen=True, slots=True)
class ResetReport:
    total_requests: int
    total_providers: int
    active_requests: int
    data_since: datetime
    reset_at: datetime


class CatalogueReports:
    def __init__(self, *, catalogue: Catalogue, stats: ProviderStats, metrics: Metrics) -> None:
        self._catalogue = catalogue
        self._stats = stats
        self._metrics = metrics

    # -- models -----------------------------------------------------------------------------------------

    def _view(self, entry: ModelEntry) -> ModelView:
        return ModelView(entry, self._catalogue.is_available(entry.provider))

    def provider_models(self, provider_id: str) -> list[ModelView]:
        return [self._view(m) for m in self._catalogue.provider_models(provider_id)]

    def models(
        self, *, provider: str = "", capabilities: tuple[str, ...] = (), available_only: bool = False
    ) -> list[ModelView]:
        models = self._catalogue.models(
            provider=provider, capabilities=capabilities, available_only=available_only
        )
        return [self._view(m) for m in models]

    def model(self, model_id: str) -> ModelView:
        return self._view(self._catalogue.model(model_id))

    def stream_models(self) -> StreamModels:
        models, recommendations = self._catalogue.stream_models()
        return StreamModels(models, recommendations)

    # -- providers --------------------------------------------------------------------------------------

    def _provider_ids(self) -> list[str]:
        return [p.id for p in self._catalogue.providers()]

    def _selected(self, provider_id: str) -> list[str]:
        return [self._catalogue.provider(provider_id).id] if provider_id else self._provider_ids()

    async def _health(self, provider_ids: list[str]) -> list[ProviderHealthRow]:
        now = await self._stats.now()
        figures = await self._stats.per_provider(provider_ids, since=now - _HEALTH_WINDOW)
        return [
            ProviderHealthRow(
                f.provider, health_of(f, configured=self._catalogue.is_available(f.provider)), f
            )
            for f in figures
        ]

    def _provider(self, entry: ProviderEntry, health: str, checked: datetime) -> ProviderView:
        return ProviderView(entry, self._catalogue.is_available(entry.id), health, checked)

    async def providers(self) -> ProvidersReport:
        health = await self._health(self._provider_ids())
        checked = datetime.now(UTC)
        providers = [
            self._provider(self._catalogue.provider(h.provider_id), h.health, checked) for h in health
        ]
        return ProvidersReport(providers, overall_health([h.health for h in health]))

    async def provider(self, provider_id: str) -> ProviderView:
        entry = self._catalogue.provider(provider_id)
        [row] = await self._health([entry.id])
        return self._provider(entry, row.health, datetime.now(UTC))

    async def health(self, provider_id: str) -> HealthReport:
        health = await self._health(self._selected(provider_id))
        return HealthReport(overall_health([h.health for h in health]), health, datetime.now(UTC))

    async def stats(self, provider_id: str, since: datetime | None) -> StatsReport:
        ids = self._selected(provider_id)
        figures = await self._stats.per_provider(ids, since=since)
        total = await self._stats.overall(ids, since=since)
        return StatsReport(figures, total, datetime.now(UTC))

    # -- performance ------------------------------------------------------------------------------------

    async def performance(self, provider_id: str, stage_sample_limit: int) -> PerformanceReport:
        ids = self._selected(provider_id)
        stats = self._stats
        since = await stats.reset_at()
        now = await stats.now()
        overall = await stats.overall(ids, since=since)
        calls = await stats.recent(ids, since=since)
        recent = await stats.overall(ids, since=max(since, now - _RECENT_WINDOW))
        per_provider = await stats.per_provider(ids, since=since)
        limit = stage_sample_limit if stage_sample_limit > 0 else _DEFAULT_STAGE_SAMPLES
        llm_ms = await stats.latencies(ids, since=since, limit=limit)
        active = self._metrics.active()
        assessment = assess(recent, active=len(active))
        ttft = sorted(self._metrics.time_to_first_token(since=since))
        return PerformanceReport(
            overall=overall,
            calls=calls,
            time_to_first_token=_percentiles([s * 1000 for s in ttft]),
            providers=[self._performance(f) for f in per_provider],
            stages=_stages(self._metrics.stages(since=since, limit=limit), llm_ms),
            active=active,
            process=self._metrics.process(),
            assessment=assessment,
            since=since,
            now=now,
        )

    def _performance(self, f: CallFigures) -> ProviderPerformanceRow:
        configured = self._catalogue.is_available(f.provider)
        generating_s = f.latency_sum_ms / 1000
        return ProviderPerformanceRow(
            figures=f,
            health=health_of(f, configured=configured),
            tokens_per_second=f.tokens_out / generating_s if generating_s > 0 else 0.0,
            uptime_percentage=(100.0 - f.error_rate * 100) if f.requests else (100.0 if configured else 0.0),
            available_models=self._catalogue.provider(f.provider).models,
            health_score=provider_score(f) if configured else 0.0,
        )

    async def reset(self) -> ResetReport:
        ids = self._provider_ids()
        stats = self._stats
        since = await stats.reset_at()
        overall = await stats.overall(ids, since=since)
        measured = [f for f in await stats.per_provider(ids, since=since) if f.requests]
        previous, reset_at = await stats.reset()
        return ResetReport(
            total_requests=overall.requests,
            total_providers=len(measured),
            active_requests=len(self._metrics.active()),
            data_since=previous,
            reset_at=reset_at,
        )


def overall_health(states: list[str]) -> str:
    if all(s == "healthy" for s in states):
        return "healthy"
    if any(s == "healthy" for s in states):
        return "degraded"
    return "unhealthy"


def _percentiles(values_ms: list[float]) -> Percentiles:
    if not values_ms:
        return Percentiles()

    def pick(q: float) -> float:
        return values_ms[min(len(values_ms) - 1, int(q * len(values_ms)))]

    return Percentiles(p50_ms=pick(0.5), p95_ms=pick(0.95), p99_ms=pick(0.99))


def _stages(figures: list[StageFigures], llm_ms: list[float]) -> list[StageRow]:
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
    return [StageRow(f, (f.average_s / total * 100) if total > 0 else 0.0) for f in rows]
