"""Response models of the routes the shim answers itself."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ApiRoot", "CalculatorResult", "GatewayHealth", "V02Health", "V02Info"]


class GatewayHealth(BaseModel):
    """``/health``: every part's health."""

    status: str = Field(description="healthy, degraded or unhealthy")
    timestamp: str = Field(description="Local ISO timestamp")
    version: str
    services: dict[str, dict[str, Any]] = Field(description="Per service: status and response_time or error")
    database: dict[str, Any]
    redis: dict[str, Any]
    supabase: dict[str, Any] = Field(description="The identity store's health")


class ApiRoot(BaseModel):
    """``/``: the API's greeting and its versions."""

    model_config = ConfigDict(extra="forbid")

    message: str
    versions: dict[str, str]
    note: str


class V02Info(BaseModel):
    """``/api/v0.2/``: the v0.2 API's description."""

    model_config = ConfigDict(extra="forbid")

    version: str
    status: str
    description: str
    features: list[str]
    endpoints: dict[str, str]


class V02Health(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    version: str


class CalculatorResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: float | str = Field(description="The sum, or the concatenation of two strings")
