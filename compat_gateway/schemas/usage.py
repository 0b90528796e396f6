"""Response models of the usage and billing routes (``/api/v0.2/usage/*``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CurrentBilling",
    "CurrentUsage",
    "MonthlyReport",
    "UsageHistory",
    "UsageLimits",
    "UsageLogged",
]


class CurrentUsage(BaseModel):
    """This month's usage (``filtered_provider``/``provider_usage`` with a provider filter)."""

    model_config = ConfigDict(extra="forbid")

    total_cost: float
    total_requests: int
    total_tokens: int
    total_images: int
    total_3d_models: int
    providers: dict[str, dict[str, Any]]
    billing_period: dict[str, str]
    as_of: str
    filtered_provider: str | None = None
    provider_usage: dict[str, Any] | None = None
    budgets: dict[str, dict[str, Any]] | None = Field(
        default=None, description="With budgets=true: each spend limit's limit, spent, remaining, resets_at"
    )


class UsageHistory(BaseModel):
    """Usage per day (``filtered_provider``/``provider_history`` with a provider filter)."""

    model_config = ConfigDict(extra="forbid")

    period: dict[str, Any]
    usage_history: list[dict[str, Any]]
    summary: dict[str, Any]
    filtered_provider: str | None = None
    provider_history: list[dict[str, Any]] | None = None


class UsageLogged(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str
    log_id: str
    cost_logged: float
    timestamp: str


class UsageLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    billing_period: dict[str, str]
    limits: dict[str, dict[str, Any] | None] = Field(
        description="Per provider: its kind of limit and its use (null for an asked-for provider without one)"
    )
    warnings: list[dict[str, Any]]
    budgets: dict[str, dict[str, Any]] | None = Field(
        default=None, description="With budgets=true: each spend limit's limit, spent, remaining, resets_at"
    )


class CurrentBilling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    billing_period: dict[str, Any]
    current_charges: dict[str, float]
    payment_method: dict[str, Any]
    next_billing_date: str
    auto_payment: bool
    estimated_next_bill: float
    billing_alerts: list[dict[str, Any]]


class MonthlyReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_period: str
    generated_at: str
    summary: dict[str, Any]
    provider_breakdown: dict[str, dict[str, Any]]
    cost_categories: dict[str, float]
    top_operations: list[dict[str, Any]]
    cost_optimization_suggestions: list[dict[str, Any]]
