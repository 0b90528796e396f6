"""Routes of the asset area: ``/api/v1/assets*``, ``/api/v0.2/assets/pricing/*`` and ``/api/v0.2/usage/*``."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from gaia.asset.v1 import asset_pb2
from gaia.common.v1 import common_pb2
from pydantic import BaseModel, Field, ValidationError

from compat_gateway.errors import LegacyError, wrap
from compat_gateway.inbound import Inbound, InputError
from compat_gateway.render import asset as render_asset
from compat_gateway.render import pricing as render_pricing
from compat_gateway.render import usage as render_usage
from compat_gateway.routes.table import Route
from gaia_services.runtime.probes import probe_grpc_channel

__all__ = ["ROUTES"]

_Q = TypeVar("_Q", bound=BaseModel)


def _query(inbound: Inbound, model: type[_Q]) -> _Q:
    """Query parameters validated as FastAPI does: one item per bad parameter, ``input`` its value or null."""
    raw = inbound.query
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        items = []
        for e in exc.errors(include_url=False, include_context=False):
            name = str(e["loc"][0]) if e["loc"] else ""
            items.append({"type": e["type"], "loc": ["query", name], "msg": e["msg"], "input": raw.get(name)})
        raise InputError(items) from exc


# ---- v1 assets ----


class Category(StrEnum):
    ENVIRONMENT = "environment"
    CHARACTER = "character"
    PROP = "prop"
    AUDIO = "audio"
    TEXTURE = "texture"
    ANIMATION = "animation"
    IMAGE = "image"


class Quality(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    ULTRA = "ultra"


class Requirements(BaseModel):
    platform: str
    quality: Quality = Quality.MEDIUM
    polygon_count_max: int | None = None
    file_size_max_mb: int | None = None
    format: str | None = None


class Preferences(BaseModel):
    allow_database: bool = True
    allow_modifications: bool = True
    allow_generation: bool = True
    max_cost: float = 0.50
    max_wait_time_ms: int = 5000


class AssetRequest(BaseModel):
    """The reference's ``AssetRequest``."""

    category: Category
    style: str
    description: str
    requirements: Requirements | None = None
    preferences: Preferences | None = None
    session_id: str | None = None


_CATEGORY = {c.value: getattr(asset_pb2, f"ASSET_CATEGORY_{c.name}") for c in Category}
_QUALITY = {q.value: getattr(asset_pb2, f"ASSET_QUALITY_{q.name}") for q in Quality}


def _generate(inbound: Inbound) -> asset_pb2.GenerateAssetRequest:
    body: AssetRequest = inbound.body_model
    message = asset_pb2.GenerateAssetRequest(
        category=_CATEGORY[body.category.value],
        style=body.style,
        description=body.description,
        session_id=body.session_id or "",
    )
    if body.requirements is not None:
        r = body.requirements
        message.requirements.CopyFrom(
            asset_pb2.AssetRequirements(
                platform=r.platform,
                quality=_QUALITY[r.quality.value],
                polygon_count_max=r.polygon_count_max,
                file_size_max_mb=r.file_size_max_mb,
                format=r.format,
            )
        )
    if body.preferences is not None:
        p = body.preferences
        message.preferences.CopyFrom(
            asset_pb2.AssetPreferences(
                allow_database=p.allow_database,
                allow_modifications=p.allow_modifications,
                allow_generation=p.allow_generation,
                max_cost=p.max_cost,
                max_wait_time_ms=p.max_wait_time_ms,
            )
        )
    return message


class ListQuery(BaseModel):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)
    category: Category | None = None
    style: str = ""
    query: str = Field("", alias="q")
    search: str = ""


def _list(inbound: Inbound) -> asset_pb2.ListAssetsRequest:
    q = _query(inbound, ListQuery)
    return asset_pb2.ListAssetsRequest(
        page=common_pb2.PageRequest(limit=q.limit, offset=q.offset),
        category=_CATEGORY[q.category.value] if q.category else asset_pb2.ASSET_CATEGORY_UNSPECIFIED,
        style=q.style,
        query=q.query or q.search or inbound.query.get("query", ""),
    )


def _asset_id(inbound: Inbound) -> Any:
    return inbound.path_params["asset_id"]


async def assets_test(inbound: Inbound) -> dict[str, Any]:
    from datetime import UTC, datetime

    shim = inbound.shim
    result = await probe_grpc_channel(shim.channels["asset"], timeout=shim.settings.health_probe_timeout_s)
    if not result.ok:
        raise LegacyError(503, {"detail": "Service asset unavailable"})
    return {
        "status": "ok",
        "service": "asset-service",
        "message": "Asset service is running",
        "timestamp": datetime.now(UTC).replace(tzinfo=None).isoformat(),
    }


# ---- pricing ----


class PricingQuery(BaseModel):
    provider: str
    category: str | None = None
    quality: str | None = "standard"


class ProviderQuery(BaseModel):
    provider: str


class AnalyticsQuery(BaseModel):
    start_date: str | None = None
    end_date: str | None = None
    provider: str | None = None


class EstimateBody(BaseModel):
    provider: str | None = None
    operation: str = "standard"
    quantity: int = 1
    quality: str = "standard"
    estimated_tokens: int = 1000


class ComparisonQuery(BaseModel):
    operation: str
    quantity: int = 1
    quality: str = "standard"


def _current_pricing(inbound: Inbound) -> asset_pb2.GetCurrentPricingRequest:
    q = _query(inbound, PricingQuery)
    return asset_pb2.GetCurrentPricingRequest(
        provider=q.provider, category=q.category or "", quality=q.quality or ""
    )


def _update_pricing(inbound: Inbound) -> asset_pb2.UpdatePricingRequest:
    return asset_pb2.UpdatePricingRequest(provider=_query(inbound, ProviderQuery).provider)


def _analytics(inbound: Inbound) -> asset_pb2.GetPricingAnalyticsRequest:
    q = _query(inbound, AnalyticsQuery)
    return asset_pb2.GetPricingAnalyticsRequest(
        start_date=q.start_date or "", end_date=q.end_date or "", provider=q.provider or ""
    )


def _estimate(inbound: Inbound) -> asset_pb2.EstimateCostRequest:
    b: EstimateBody = inbound.body_model
    if b.quantity < 1 or b.estimated_tokens < 1:
        raise LegacyError(400, wrap("quantity and estimated_tokens must be positive"))
    return asset_pb2.EstimateCostRequest(
        provider=b.provider or "",
        operation=b.operation,
        quantity=b.quantity,
        quality=b.quality,
        estimated_tokens=b.estimated_tokens,
    )


def _comparison(inbound: Inbound) -> asset_pb2.CompareProvidersRequest:
    q = _query(inbound, ComparisonQuery)
    if q.quantity < 1:
        raise LegacyError(400, wrap("quantity must be positive"))
    return asset_pb2.CompareProvidersRequest(operation=q.operation, quantity=q.quantity, quality=q.quality)


# ---- usage ----


class OptionalProvider(BaseModel):
    provider: str | None = None


class HistoryQuery(BaseModel):
    days: int = 30
    provider: str | None = None


class MonthQuery(BaseModel):
    month: str | None = None


class LogBody(BaseModel):
    provider: str | None = None
    operation: str | None = None
    cost: float | None = None
    tokens: int | None = None
    images: int | None = None
    credits: float | None = None
    quality: str | None = None
    model: str | None = None
    request_id: str | None = None


def _current_usage(inbound: Inbound) -> asset_pb2.GetCurrentUsageRequest:
    return asset_pb2.GetCurrentUsageRequest(provider=_query(inbound, OptionalProvider).provider or "")


def _history(inbound: Inbound) -> asset_pb2.GetUsageHistoryRequest:
    q = _query(inbound, HistoryQuery)
    if q.days < 1:
        raise LegacyError(400, wrap("days must be a positive number"))
    return asset_pb2.GetUsageHistoryRequest(days=q.days, provider=q.provider or "")


def _limits(inbound: Inbound) -> asset_pb2.GetUsageLimitsRequest:
    return asset_pb2.GetUsageLimitsRequest(provider=_query(inbound, OptionalProvider).provider or "")


def _monthly(inbound: Inbound) -> asset_pb2.GetMonthlyReportRequest:
    month = _query(inbound, MonthQuery).month
    if month == "":
        raise LegacyError(400, wrap("Invalid month format. Use YYYY-MM"))
    return asset_pb2.GetMonthlyReportRequest(month=month or "")


def _log(inbound: Inbound) -> asset_pb2.LogUsageRequest:
    b: LogBody = inbound.body_model
    # Present-but-null counts as present, as in the reference ("field in body"); then it is not a number.
    return asset_pb2.LogUsageRequest(
        provider=b.provider or "",
        operation=b.operation or "",
        cost=b.cost,
        tokens=b.tokens,
        images=b.images,
        credits=b.credits,
        quality=b.quality or "",
        model=b.model or "",
        request_id=b.request_id or "",
    )


def _empty(message: Any) -> Any:
    return lambda inbound: message()


_PRICING = "/api/v0.2/assets/pricing"
_USAGE = "/api/v0.2/usage"

ROUTES: tuple[Route, ...] = (
    # v1 assets (``test`` before ``{asset_id}``).
    Route(
        "GET",
        "/api/v1/assets/test",
        "assets_test",
        local=assets_test,
        auth=False,
        summary="Asset service liveness",
    ),
    Route(
        "GET",
        "/api/v1/assets",
        "assets_list",
        service="asset",
        rpc="ListAssets",
        build=_list,
        render=render_asset.listing,
        summary="The caller's assets (paged, filtered, searched)",
    ),
    Route(
        "POST",
        "/api/v1/assets/generate",
        "assets_generate",
        service="asset",
        rpc="GenerateAsset",
        body=AssetRequest,
        build=_generate,
        streaming=True,
        render=render_asset.generated,
        summary="Generate an asset (waits for the end of the generation)",
    ),
    Route(
        "GET",
        "/api/v1/assets/{asset_id}",
        "assets_get",
        service="asset",
        rpc="GetAsset",
        build=lambda i: asset_pb2.GetAssetRequest(asset_id=_asset_id(i)),
        render=render_asset.one,
        summary="One of the caller's assets",
    ),
    Route(
        "GET",
        "/api/v1/assets/{asset_id}/download",
        "assets_download",
        service="asset",
        rpc="DownloadAsset",
        build=lambda i: asset_pb2.DownloadAssetRequest(asset_id=_asset_id(i)),
        streaming=True,
        render=render_asset.download,
        summary="The stored file of one of the caller's assets",
    ),
    # Pricing and the cost estimator.
    Route(
        "GET",
        f"{_PRICING}/current",
        "pricing_current",
        service="asset",
        rpc="GetCurrentPricing",
        build=_current_pricing,
        render=render_pricing.current,
        summary="One provider's pricing",
    ),
    Route(
        "GET",
        f"{_PRICING}/analytics",
        "pricing_analytics",
        service="asset",
        rpc="GetPricingAnalytics",
        build=_analytics,
        render=render_pricing.analytics,
        summary="The caller's costs over a period",
    ),
    Route(
        "POST",
        f"{_PRICING}/update",
        "pricing_update",
        service="asset",
        rpc="UpdatePricing",
        build=_update_pricing,
        render=render_pricing.updated,
        summary="Reload one provider's pricing",
    ),
    Route(
        "GET",
        f"{_PRICING}/providers",
        "pricing_providers",
        service="asset",
        rpc="ListPricingProviders",
        build=_empty(asset_pb2.ListPricingProvidersRequest),
        render=render_pricing.providers,
        summary="Priced providers",
    ),
    Route(
        "POST",
        f"{_PRICING}/cost-estimator/estimate",
        "pricing_estimate",
        service="asset",
        rpc="EstimateCost",
        body=EstimateBody,
        build=_estimate,
        render=render_pricing.estimate,
        summary="Estimate a cost",
    ),
    Route(
        "GET",
        f"{_PRICING}/cost-estimator/dalle-tiers",
        "pricing_dalle_tiers",
        service="asset",
        rpc="GetDalleTiers",
        build=_empty(asset_pb2.GetDalleTiersRequest),
        render=render_pricing.dalle_tiers,
        summary="DALL-E tiers",
    ),
    Route(
        "GET",
        f"{_PRICING}/cost-estimator/meshy-packages",
        "pricing_meshy_packages",
        service="asset",
        rpc="GetMeshyPackages",
        build=_empty(asset_pb2.GetMeshyPackagesRequest),
        render=render_pricing.meshy_packages,
        summary="Meshy credit packages",
    ),
    Route(
        "GET",
        f"{_PRICING}/cost-estimator/provider-comparison",
        "pricing_provider_comparison",
        service="asset",
        rpc="CompareProviders",
        build=_comparison,
        render=render_pricing.comparison,
        summary="Compare providers' costs",
    ),
    # Usage.
    Route(
        "GET",
        f"{_USAGE}/current",
        "usage_current",
        service="asset",
        rpc="GetCurrentUsage",
        build=_current_usage,
        render=render_usage.current,
        summary="The caller's usage this month",
    ),
    Route(
        "GET",
        f"{_USAGE}/history",
        "usage_history",
        service="asset",
        rpc="GetUsageHistory",
        build=_history,
        render=render_usage.history,
        summary="The caller's usage per day",
    ),
    Route(
        "POST",
        f"{_USAGE}/log",
        "usage_log",
        service="asset",
        rpc="LogUsage",
        body=LogBody,
        build=_log,
        render=render_usage.logged,
        summary="Record usage",
    ),
    Route(
        "GET",
        f"{_USAGE}/limits",
        "usage_limits",
        service="asset",
        rpc="GetUsageLimits",
        build=_limits,
        render=render_usage.limits,
        summary="The caller's usage against limits",
    ),
    Route(
        "GET",
        f"{_USAGE}/billing/current",
        "usage_billing_current",
        service="asset",
        rpc="GetCurrentBilling",
        build=_empty(asset_pb2.GetCurrentBillingRequest),
        render=render_usage.billing,
        summary="The caller's charges this month",
    ),
    Route(
        "GET",
        f"{_USAGE}/reports/monthly",
        "usage_reports_monthly",
        service="asset",
        rpc="GetMonthlyReport",
        build=_monthly,
        render=render_usage.monthly,
        summary="One month of the caller's usage",
    ),
)
