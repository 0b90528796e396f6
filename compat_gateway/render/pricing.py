"""Pricing and cost-estimator replies → the reference's JSON (``/api/v0.2/assets/pricing/*``)."""

from __future__ import annotations

from typing import Any

from gaia.asset.v1 import asset_pb2

from compat_gateway.inbound import Inbound
from compat_gateway.render.timestamps import naive_iso

__all__ = [
    "MODEL_NAMES",
    "analytics",
    "comparison",
    "current",
    "dalle_tiers",
    "estimate",
    "meshy_packages",
    "providers",
    "updated",
]

MODEL_NAMES = {
    asset_pb2.PRICING_MODEL_TIER_BASED: "tier_based",
    asset_pb2.PRICING_MODEL_CREDIT_BASED: "credit_based",
    asset_pb2.PRICING_MODEL_PER_IMAGE: "per_image",
    asset_pb2.PRICING_MODEL_TOKEN_BASED: "token_based",
}

_ESTIMATE_FIELDS = {
    asset_pb2.PRICING_MODEL_TIER_BASED: ("cost_per_unit", "total_cost", "tier_fee"),
    asset_pb2.PRICING_MODEL_CREDIT_BASED: ("credits_per_operation", "total_credits", "estimated_cost"),
    asset_pb2.PRICING_MODEL_PER_IMAGE: ("cost_per_unit", "total_cost"),
    asset_pb2.PRICING_MODEL_TOKEN_BASED: ("input_cost", "output_cost", "total_cost", "tokens_estimated"),
}


def _tier(t: asset_pb2.DalleTier) -> dict[str, Any]:
    return {
        "name": t.name,
        "monthly_fee": t.monthly_fee,
        "images_per_minute": t.images_per_minute,
        "monthly_limit": t.monthly_limit,
        "standard_cost": t.standard_cost,
        "hd_cost": t.hd_cost,
    }


def _packages(packages: Any) -> list[dict[str, Any]]:
    return [{"name": p.name, "credits": p.credits, "cost": p.cost} for p in packages]


def _operations(operations: Any) -> dict[str, int]:
    return {o.operation: o.credits for o in operations}


def _config(p: asset_pb2.ProviderPricing) -> dict[str, Any]:
    config: dict[str, Any] = {"model": MODEL_NAMES.get(p.pricing_model, "")}
    match p.WhichOneof("details"):
        case "tier_pricing":
            config["tiers"] = [_tier(t) for t in p.tier_pricing.tiers]
        case "credit_pricing":
            config["packages"] = _packages(p.credit_pricing.packages)
            config["operations"] = _operations(p.credit_pricing.operations)
        case "per_image_pricing":
            d = p.per_image_pricing
            config.update(standard_cost=d.standard_cost, hd_cost=d.hd_cost, ultra_cost=d.ultra_cost)
        case "token_pricing":
            d2 = p.token_pricing
            config.update(input_cost_per_1k=d2.input_cost_per_1k, output_cost_per_1k=d2.output_cost_per_1k)
    return config


def current(reply: asset_pb2.GetCurrentPricingResponse, inbound: Inbound) -> dict[str, Any]:
    p = reply.pricing
    pricing = {
        **_config(p),
        "provider": p.provider,
        "quality": p.quality,
        "last_updated": naive_iso(p.last_updated),
    }
    return {"pricing": pricing, "effective_date": naive_iso(reply.effective_date), "currency": reply.currency}


def updated(reply: asset_pb2.UpdatePricingResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "message": f"Pricing update triggered for {reply.provider}",
        "provider": reply.provider,
        "update_time": naive_iso(reply.update_time),
        "status": reply.status,
        "estimated_completion": naive_iso(reply.estimated_completion),
    }


def providers(reply: asset_pb2.ListPricingProvidersResponse, inbound: Inbound) -> dict[str, Any]:
    rows = []
    for p in reply.providers:
        row: dict[str, Any] = {
            "name": p.name,
            "pricing_model": MODEL_NAMES.get(p.pricing_model, ""),
            "status": p.status,
            "last_updated": naive_iso(p.last_updated),
            "capabilities": list(p.capabilities),
        }
        if p.HasField("tier_count"):
            row["tier_count"] = p.tier_count
        if p.pricing_model == asset_pb2.PRICING_MODEL_CREDIT_BASED:
            row["operations"] = list(p.operations)
        rows.append(row)
    return {
        "providers": rows,
        "total_providers": len(rows),
        "supported_models": [MODEL_NAMES.get(m, "") for m in reply.supported_models],
    }


def estimate(reply: asset_pb2.EstimateCostResponse, inbound: Inbound) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": reply.provider,
        "operation": reply.operation,
        "quantity": reply.quantity,
    }
    for name in _ESTIMATE_FIELDS.get(reply.pricing_model, ()):
        if reply.HasField(name):
            body[name] = getattr(reply, name)
    body["currency"] = reply.currency
    body["estimate_time"] = naive_iso(reply.estimate_time)
    return body


def dalle_tiers(reply: asset_pb2.GetDalleTiersResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "provider": reply.provider,
        "pricing_model": MODEL_NAMES.get(reply.pricing_model, ""),
        "tiers": [_tier(t) for t in reply.tiers],
        "currency": reply.currency,
        "billing_cycle": reply.billing_cycle,
    }


def meshy_packages(reply: asset_pb2.GetMeshyPackagesResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "provider": reply.provider,
        "pricing_model": MODEL_NAMES.get(reply.pricing_model, ""),
        "packages": _packages(reply.packages),
        "operations": _operations(reply.operations),
        "currency": reply.currency,
    }


def comparison(reply: asset_pb2.CompareProvidersResponse, inbound: Inbound) -> dict[str, Any]:
    rows = []
    for p in reply.providers:
        row: dict[str, Any] = {"provider": p.provider}
        if p.HasField("cost_per_unit"):
            row["cost_per_unit"] = p.cost_per_unit
        if p.HasField("cost_per_1k_tokens"):
            row["cost_per_1k_tokens"] = p.cost_per_1k_tokens
        row["total_cost"] = p.total_cost
        row["model"] = MODEL_NAMES.get(p.pricing_model, "")
        rows.append(row)
    return {
        "operation": reply.operation,
        "quantity": reply.quantity,
        "quality": reply.quality,
        "providers": rows,
        "cheapest_provider": reply.cheapest_provider if reply.HasField("cheapest_provider") else None,
        "comparison_time": naive_iso(reply.comparison_time),
    }


def _count(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def analytics(reply: asset_pb2.GetPricingAnalyticsResponse, inbound: Inbound) -> dict[str, Any]:
    m = reply.usage_metrics
    body: dict[str, Any] = {
        "period": {"start_date": reply.period.start_date, "end_date": reply.period.end_date},
        "total_cost": reply.total_cost,
        "cost_breakdown": {c.provider: c.cost for c in reply.cost_breakdown},
        "usage_metrics": {
            "total_images": m.total_images,
            "total_3d_models": m.total_3d_models,
            "total_tokens": m.total_tokens,
            "total_credits": _count(m.total_credits),
        },
        "cost_trends": [{"date": d.date, "daily_cost": d.daily_cost} for d in reply.cost_trends],
        "top_cost_operations": [
            {"operation": o.operation, "cost": o.cost, "count": o.count} for o in reply.top_cost_operations
        ],
    }
    provider = inbound.query.get("provider")
    if provider:
        body["filtered_provider"] = provider
        if reply.HasField("provider_cost"):
            body["provider_cost"] = reply.provider_cost
    return body
