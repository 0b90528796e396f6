"""Response models of the pricing and cost-estimator routes (``/api/v0.2/assets/pricing/*``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CostEstimate",
    "CurrentPricing",
    "DalleTier",
    "DalleTiers",
    "MeshyPackages",
    "PricingAnalytics",
    "PricingProviders",
    "PricingUpdated",
    "ProviderComparison",
]


class CurrentPricing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pricing: dict[str, Any] = Field(description="The pricing model and its details, provider, quality")
    effective_date: str
    currency: str


class PricingUpdated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str
    provider: str
    update_time: str
    status: str
    estimated_completion: str


class PricingProviders(BaseModel):
    model_config = ConfigDict(extra="forbid")

    providers: list[dict[str, Any]]
    total_providers: int
    supported_models: list[str]


class CostEstimate(BaseModel):
    """The estimate's fields depend on the provider's pricing model."""

    provider: str
    operation: str
    quantity: int
    currency: str
    estimate_time: str
    cost_per_unit: float | None = None
    total_cost: float | None = None
    tier_fee: float | None = None
    credits_per_operation: float | None = None
    total_credits: float | None = None
    estimated_cost: float | None = None
    input_cost: float | None = None
    output_cost: float | None = None
    tokens_estimated: float | None = None


class DalleTier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    monthly_fee: float
    images_per_minute: int
    monthly_limit: int
    standard_cost: float
    hd_cost: float


class DalleTiers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str
    pricing_model: str
    tiers: list[DalleTier]
    currency: str
    billing_cycle: str


class MeshyPackages(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str
    pricing_model: str
    packages: list[dict[str, Any]] = Field(description="name, credits, cost")
    operations: dict[str, int] = Field(description="Credits per operation")
    currency: str


class ProviderComparison(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: str
    quantity: int
    quality: str
    providers: list[dict[str, Any]]
    cheapest_provider: str | None
    comparison_time: str


class PricingAnalytics(BaseModel):
    """The caller's costs over a period (``filtered_provider``/``provider_cost`` with a provider filter)."""

    model_config = ConfigDict(extra="forbid")

    period: dict[str, Any]
    total_cost: float
    cost_breakdown: dict[str, float]
    usage_metrics: dict[str, Any]
    cost_trends: list[dict[str, Any]]
    top_cost_operations: list[dict[str, Any]]
    filtered_provider: str | None = None
    provider_cost: float | None = None
