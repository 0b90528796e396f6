"""Routes of pricing and the cost estimator: ``/api/v0.2/assets/pricing/*`` (served by the asset service)."""

from __future__ import annotations

from gaia.asset.v1 import asset_pb2
from pydantic import BaseModel

from compat_gateway.errors import LegacyError, wrap
from compat_gateway.inbound import Inbound
from compat_gateway.render import pricing as render_pricing
from compat_gateway.routes.table import Route, empty_request
from compat_gateway.schemas import pricing as schemas

__all__ = ["ROUTES"]

_PRICING = "/api/v0.2/assets/pricing"


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
    q: PricingQuery = inbound.query_model
    return asset_pb2.GetCurrentPricingRequest(
        provider=q.provider, category=q.category or "", quality=q.quality or ""
    )


def _update_pricing(inbound: Inbound) -> asset_pb2.UpdatePricingRequest:
    return asset_pb2.UpdatePricingRequest(provider=inbound.query_model.provider)


def _analytics(inbound: Inbound) -> asset_pb2.GetPricingAnalyticsRequest:
    q: AnalyticsQuery = inbound.query_model
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
    q: ComparisonQuery = inbound.query_model
    if q.quantity < 1:
        raise LegacyError(400, wrap("quantity must be positive"))
    return asset_pb2.CompareProvidersRequest(operation=q.operation, quantity=q.quantity, quality=q.quality)


ROUTES: tuple[Route, ...] = (
    # Pricing and the cost estimator.
    Route(
        "GET",
        f"{_PRICING}/current",
        "pricing_current",
        service="asset",
        rpc="GetCurrentPricing",
        build=_current_pricing,
        render=render_pricing.current,
        query=PricingQuery,
        response=schemas.CurrentPricing,
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
        query=AnalyticsQuery,
        response=schemas.PricingAnalytics,
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
        query=ProviderQuery,
        response=schemas.PricingUpdated,
        summary="Reload one provider's pricing",
    ),
    Route(
        "GET",
        f"{_PRICING}/providers",
        "pricing_providers",
        service="asset",
        rpc="ListPricingProviders",
        build=empty_request(asset_pb2.ListPricingProvidersRequest),
        render=render_pricing.providers,
        response=schemas.PricingProviders,
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
        response=schemas.CostEstimate,
        summary="Estimate a cost",
    ),
    Route(
        "GET",
        f"{_PRICING}/cost-estimator/dalle-tiers",
        "pricing_dalle_tiers",
        service="asset",
        rpc="GetDalleTiers",
        build=empty_request(asset_pb2.GetDalleTiersRequest),
        render=render_pricing.dalle_tiers,
        response=schemas.DalleTiers,
        summary="DALL-E tiers",
    ),
    Route(
        "GET",
        f"{_PRICING}/cost-estimator/meshy-packages",
        "pricing_meshy_packages",
        service="asset",
        rpc="GetMeshyPackages",
        build=empty_request(asset_pb2.GetMeshyPackagesRequest),
        render=render_pricing.meshy_packages,
        response=schemas.MeshyPackages,
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
        query=ComparisonQuery,
        response=schemas.ProviderComparison,
        summary="Compare providers' costs",
    ),
)
