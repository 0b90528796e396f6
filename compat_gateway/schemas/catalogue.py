"""Response models of the provider and model catalogue routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ModelCapabilities",
    "ModelContexts",
    "ModelDetail",
    "ModelList",
    "ModelPriorities",
    "Provider",
    "ProviderHealth",
    "ProviderList",
    "ProviderModels",
    "ProviderStats",
]


class Provider(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    status: str = Field(description="available, unconfigured, unavailable or unknown")
    health: str
    models: list[str]
    capabilities: list[str]
    last_health_check: str | None


class ProviderList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    providers: list[Provider]
    total_providers: int
    health_status: str
    timestamp: str


class ProviderModels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str
    models: list[dict[str, Any]] = Field(description="id, name, capabilities, limits and pricing per million")
    total: int


class ProviderHealth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overall_status: str
    providers: dict[str, dict[str, Any]] = Field(description="Per provider: status, latency, error rate")
    timestamp: str


class ProviderStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider_stats: dict[str, dict[str, Any]]
    summary: dict[str, Any]
    timestamp: str


class ModelList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[dict[str, Any]]
    total: int
    filters: dict[str, Any] = Field(description="The provider and capability filters applied (or null)")


class ModelDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    provider: str
    capabilities: list[str]
    max_tokens: int
    context_window: int
    cost_per_input_token: float
    cost_per_output_token: float
    avg_response_time_ms: float
    quality_score: float
    speed_score: float
    description: str
    is_deprecated: bool
    supports_system_prompt: bool
    supports_temperature: bool
    supports_streaming: bool


class ModelCapabilities(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capabilities: dict[str, list[str]] = Field(description="Model ids per capability")
    total: int
    timestamp: str


class ModelPriorities(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priorities: dict[str, list[dict[str, Any]]] = Field(description="Models ranked per priority, best first")
    total: int
    timestamp: str


class ModelContexts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contexts: list[dict[str, Any]]
    total: int
    timestamp: str
