"""Routes of pricing and the cost estimator: ``/api/v0.2/assets/pricing/*`` (served by the asset service)."""

from __future__ import annotations

from gaia.asset.v1 import asset_pb2
from pydantic import BaseModel

from compat_gateway.errors import LegacyError, wrap
from compat_gateway.inbound import Inbound
from compat_gateway.render import pricing as render_pricing
from compat_gateway.routes.table import Route, Unary, empty_request
from compat_gateway.rpcs import ASSET
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
    Unary(
        method="GET",
        path=f"{_PRICING}/current",
        name="pricing_current",
        build=_current_pricing,
        render=render_pricing.current,
        query=PricingQuery,
        response=schemas.CurrentPricing,
        summary="One provider's pricing",
        rpc=ASSET.GetCurrentPricing,
    ),
    Unary(
        method="GET",
        path=f"{_PRICING}/analytics",
        name="pricing_analytics",
        build=_analytics,
        render=render_pricing.analytics,
        query=AnalyticsQuery,
        response=schemas.PricingAnalytics,
        summary="The caller's costs over a period",
        rpc=ASSET.GetPricingAnalytics,
    ),
    Unary(
        method="POST",
        path=f"{_PRICING}/update",
        name="pricing_update",
        build=_update_pricing,
        render=render_pricing.updated,
        query=ProviderQuery,
        response=schemas.PricingUpdated,
        summary="Reload one provider's pricing",
        rpc=ASSET.UpdatePricing,
    ),
    Unary(
        method="GET",
        path=f"{_PRICING}/providers",
        name="pricing_providers",
        build=empty_request(asset_pb2.ListPricingProvidersRequest),
        render=render_pricing.providers,
        response=schemas.PricingProviders,
        summary="Priced providers",
        rpc=ASSET.ListPricingProviders,
    ),
    Unary(
        method="POST",
        path=f"{_PRICING}/cost-estimator/estimate",
        name="pricing_estimate",
        body=EstimateBody,
        build=_estimate,
        render=render_pricing.estimate,
        response=schemas.CostEstimate,
        summary="Estimate a cost",
        rpc=ASSET.EstimateCost,
    ),
    Unary(
        method="GET",
        path=f"{_PRICING}/cost-estimator/dalle-tiers",
        name="pricing_dalle_tiers",
        build=empty_request(asset_pb2.GetDalleTiersRequest),
        render=render_pricing.dalle_tiers,
        response=schemas.DalleTiers,
        summary="DALL-E tiers",
        rpc=ASSET.GetDalleTiers,
    ),
    Unary(
        method="GET",
        path=f"{_PRICING}/cost-estimator/meshy-packages",
        name="pricing_meshy_packages",
        build=empty_request(asset_pb2.GetMeshyPackagesRequest),
        render=render_pricing.meshy_packages,
        response=schemas.MeshyPackages,
        summary="Meshy credit packages",
        rpc=ASSET.GetMeshyPackages,
    ),
    Unary(
        method="GET",
        path=f"{_PRICING}/cost-estimator/provider-comparison",
        name="pricing_provider_comparison",
        build=_comparison,
        render=render_pricing.comparison,
        query=ComparisonQuery,
        response=schemas.ProviderComparison,
        summary="Compare providers' costs",
        rpc=ASSET.CompareProviders,
    ),
)
