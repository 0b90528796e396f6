"""The pricing catalogue's plain values → protobuf messages (and the time stamps every asset reply uses)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from gaia.asset.v1 import asset_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from gaia_services.asset.estimator import Comparison, Estimate
from gaia_services.asset.pricing import Package, PricingModel, ProviderPrice, Tier
from gaia_services.asset.usage import ProviderTotals, provider_kind

__all__ = [
    "PRICING_MODELS",
    "comparison_pb",
    "comparisons_pb",
    "current_pricing_pb",
    "dalle_tiers_pb",
    "estimate_pb",
    "meshy_packages_pb",
    "package_pb",
    "pricing_pb",
    "provider_usage_pb",
    "providers_pb",
    "tier_pb",
    "ts",
]

PRICING_MODELS = {
    PricingModel.TIER_BASED: asset_pb2.PRICING_MODEL_TIER_BASED,
    PricingModel.CREDIT_BASED: asset_pb2.PRICING_MODEL_CREDIT_BASED,
    PricingModel.PER_IMAGE: asset_pb2.PRICING_MODEL_PER_IMAGE,
    PricingModel.TOKEN_BASED: asset_pb2.PRICING_MODEL_TOKEN_BASED,
}

_CAPABILITIES = {
    PricingModel.TIER_BASED: ("image_generation", "tier_management"),
    PricingModel.CREDIT_BASED: ("3d_generation", "texture_generation"),
    PricingModel.PER_IMAGE: ("image_generation", "quality_tiers"),
    PricingModel.TOKEN_BASED: ("text_completion", "chat"),
}


def ts(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when if when.tzinfo else when.replace(tzinfo=UTC))
    return stamp


def tier_pb(tier: Tier) -> asset_pb2.DalleTier:
    return asset_pb2.DalleTier(
        name=tier.name,
        monthly_fee=tier.monthly_fee,
        images_per_minute=tier.images_per_minute,
        monthly_limit=tier.monthly_limit,
        standard_cost=tier.standard_cost,
        hd_cost=tier.hd_cost,
    )


def package_pb(package: Package) -> asset_pb2.MeshyPackage:
    return asset_pb2.MeshyPackage(name=package.name, credits=package.credits, cost=package.cost)


def operations_pb(price: ProviderPrice) -> list[asset_pb2.OperationCredits]:
    return [asset_pb2.OperationCredits(operation=op, credits=n) for op, n in price.operations]


def pricing_pb(price: ProviderPrice, quality: str) -> asset_pb2.ProviderPricing:
    message = asset_pb2.ProviderPricing(
        provider=price.provider,
        pricing_model=PRICING_MODELS[price.model],
        quality=quality,
        last_updated=ts(price.last_updated),
    )
    match price.model:
        case PricingModel.TIER_BASED:
            message.tier_pricing.CopyFrom(asset_pb2.TierPricing(tiers=[tier_pb(t) for t in price.tiers]))
        case PricingModel.CREDIT_BASED:
            message.credit_pricing.CopyFrom(
                asset_pb2.CreditPricing(
                    packages=[package_pb(p) for p in price.packages],
                    operations=operations_pb(price),
                    cost_per_credit=price.cost_per_credit,
                )
            )
        case PricingModel.PER_IMAGE:
            message.per_image_pricing.CopyFrom(
                asset_pb2.PerImagePricing(
                    standard_cost=price.standard_cost, hd_cost=price.hd_cost, ultra_cost=price.ultra_cost
                )
            )
        case PricingModel.TOKEN_BASED:
            message.token_pricing.CopyFrom(
                asset_pb2.TokenPricing(
                    input_cost_per_1k=price.input_cost_per_1k, output_cost_per_1k=price.output_cost_per_1k
                )
            )
    return message


def estimate_pb(value: Estimate, when: datetime) -> asset_pb2.EstimateCostResponse:
    optional = {
        name: getattr(value, name)
        for name in (
            "cost_per_unit",
            "total_cost",
            "tier_fee",
            "credits_per_operation",
            "total_credits",
            "estimated_cost",
            "input_cost",
            "output_cost",
            "tokens_estimated",
        )
        if getattr(value, name) is not None
    }
    return asset_pb2.EstimateCostResponse(
        provider=value.provider,
        operation=value.operation,
        quantity=value.quantity,
        pricing_model=PRICING_MODELS[value.model],
        currency="USD",
        estimate_time=ts(when),
        **optional,
    )


def comparison_pb(row: Comparison) -> asset_pb2.ProviderCostComparison:
    message = asset_pb2.ProviderCostComparison(
        provider=row.provider, pricing_model=PRICING_MODELS[row.model], total_cost=row.total_cost
    )
    if row.cost_per_unit is not None:
        message.cost_per_unit = row.cost_per_unit
    if row.cost_per_1k_tokens is not None:
        message.cost_per_1k_tokens = row.cost_per_1k_tokens
    return message


def provider_usage_pb(totals: ProviderTotals, *, detail: bool = True) -> asset_pb2.ProviderUsage:
    message = asset_pb2.ProviderUsage(
        provider=totals.provider, cost=float(totals.cost), requests=totals.requests
    )
    if detail:
        kind = provider_kind(totals)
        if kind == "images":
            message.images = totals.images
        elif kind == "models":
            message.models = totals.models
        else:
            message.tokens = totals.tokens
    return message


def current_pricing_pb(
    price: ProviderPrice, quality: str, when: datetime
) -> asset_pb2.GetCurrentPricingResponse:
    return asset_pb2.GetCurrentPricingResponse(
        pricing=pricing_pb(price, quality), effective_date=ts(when), currency="USD"
    )


def providers_pb(entries: Sequence[ProviderPrice]) -> asset_pb2.ListPricingProvidersResponse:
    rows = []
    for price in entries:
        row = asset_pb2.PricingProviderSummary(
            name=price.provider,
            pricing_model=PRICING_MODELS[price.model],
            status="active",
            last_updated=ts(price.last_updated),
            capabilities=_CAPABILITIES[price.model],
        )
        if price.model is PricingModel.TIER_BASED:
            row.tier_count = len(price.tiers)
        if price.model is PricingModel.CREDIT_BASED:
            row.operations.extend(op for op, _ in price.operations)
        rows.append(row)
    return asset_pb2.ListPricingProvidersResponse(
        providers=rows, supported_models=list(PRICING_MODELS.values())
    )


def dalle_tiers_pb(price: ProviderPrice) -> asset_pb2.GetDalleTiersResponse:
    return asset_pb2.GetDalleTiersResponse(
        provider="dalle",
        pricing_model=PRICING_MODELS[price.model],
        tiers=[tier_pb(t) for t in price.tiers],
        currency="USD",
        billing_cycle="monthly",
    )


def meshy_packages_pb(price: ProviderPrice) -> asset_pb2.GetMeshyPackagesResponse:
    return asset_pb2.GetMeshyPackagesResponse(
        provider="meshy",
        pricing_model=PRICING_MODELS[price.model],
        packages=[package_pb(p) for p in price.packages],
        operations=operations_pb(price),
        currency="USD",
    )


def comparisons_pb(
    rows: Sequence[Comparison], *, operation: str, quantity: int, quality: str, when: datetime
) -> asset_pb2.CompareProvidersResponse:
    """The comparison, cheapest first (``rows`` are sorted so)."""
    reply = asset_pb2.CompareProvidersResponse(
        operation=operation,
        quantity=quantity,
        quality=quality,
        providers=[comparison_pb(r) for r in rows],
        comparison_time=ts(when),
    )
    if rows:
        reply.cheapest_provider = rows[0].provider
    return reply
