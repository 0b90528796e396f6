"""Response models of the ``/api/v0.2/performance/*`` routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PerformanceHealth",
    "PerformanceLive",
    "PerformanceProviders",
    "PerformanceReset",
    "PerformanceStages",
    "PerformanceSummary",
]


class PerformanceSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: dict[str, Any] = Field(description="Request counts and response times (seconds)")
    providers: dict[str, dict[str, Any]]
    health_status: str
    data_since: str


class PerformanceProviders(BaseModel):
    model_config = ConfigDict(extra="forbid")

    providers: dict[str, dict[str, Any]]
    overall_health: str
    timestamp: str


class PerformanceStages(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage_timings: dict[str, dict[str, Any]]
    analysis: dict[str, Any]
    limit_applied: Any = Field(description="The limit query parameter as given (or null)")
    timestamp: str


class PerformanceLive(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active_requests: dict[str, Any]
    system_metrics: dict[str, Any]
    timestamp: str


class PerformanceHealth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    health_status: str
    health_score: int
    metrics: dict[str, Any]
    thresholds: dict[str, str]
    alerts: list[Any]
    recommendations: list[str]
    timestamp: str


class PerformanceReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    message: str
    previous_data_summary: dict[str, Any]
    reset_timestamp: str
