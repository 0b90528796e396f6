"""Usage and billing replies → the reference's JSON (``/api/v0.2/usage/*``)."""

from __future__ import annotations

from typing import Any

from gaia.asset.v1 import asset_pb2

from compat_gateway.inbound import Inbound
from compat_gateway.render.timestamps import naive_iso

__all__ = ["billing", "current", "history", "limits", "logged", "monthly"]


def _provider(p: asset_pb2.ProviderUsage) -> dict[str, Any]:
    row: dict[str, Any] = {"cost": p.cost, "requests": p.requests}
    for name in ("images", "models", "tokens"):
        if p.HasField(name):
            row[name] = getattr(p, name)
    return row


def _month(period: asset_pb2.BillingPeriod) -> dict[str, str]:
    return {"start": period.start.ToDatetime().date().isoformat(), "end": naive_iso(period.end)}


def _wants_budgets(inbound: Inbound) -> bool:
    return bool(getattr(inbound.query_model, "budgets", False))


def _budgets(limits: Any) -> dict[str, Any]:
    """The caller's spend limits by name: size, spent, remaining (US dollars) and when each resets."""
    return {
        b.limit: {
            "limit": b.limit_usd,
            "spent": b.spent_usd,
            "remaining": b.remaining_usd,
            "resets_at": naive_iso(b.resets_at) if b.HasField("resets_at") else None,
        }
        for b in limits
    }


def current(reply: asset_pb2.GetCurrentUsageResponse, inbound: Inbound) -> dict[str, Any]:
    providers = {p.provider: _provider(p) for p in reply.providers}
    body: dict[str, Any] = {
        "total_cost": reply.total_cost,
        "total_requests": reply.total_requests,
        "total_tokens": reply.total_tokens,
        "total_images": reply.total_images,
        "total_3d_models": reply.total_3d_models,
        "providers": providers,
        "billing_period": _month(reply.billing_period),
        "as_of": naive_iso(reply.as_of),
    }
    provider = inbound.query.get("provider")
    if provider:
        body["filtered_provider"] = provider
        body["provider_usage"] = providers.get(provider)
    if _wants_budgets(inbound):
        body["budgets"] = _budgets(reply.budgets)
    return body


def history(reply: asset_pb2.GetUsageHistoryResponse, inbound: Inbound) -> dict[str, Any]:
    days: list[dict[str, Any]] = [
        {
            "date": d.date,
            "total_cost": d.total_cost,
            "total_requests": d.total_requests,
            "total_tokens": d.total_tokens,
            "total_images": d.total_images,
            "breakdown": {b.provider: {"cost": b.cost, "requests": b.requests} for b in d.breakdown},
        }
        for d in reply.usage_history
    ]
    s = reply.summary
    body: dict[str, Any] = {
        "period": {
            "start_date": reply.period.start_date,
            "end_date": reply.period.end_date,
            "days": reply.days,
        },
        "usage_history": days,
        "summary": {
            "total_cost": s.total_cost,
            "total_requests": s.total_requests,
            "average_daily_cost": s.average_daily_cost,
            "peak_cost_day": s.peak_cost_day,
        },
    }
    provider = inbound.query.get("provider")
    if provider:
        body["filtered_provider"] = provider
        body["provider_history"] = [
            {"date": d["date"], "provider": provider, **d["breakdown"][provider]}
            for d in days
            if provider in d["breakdown"]
        ]
    return body


def logged(reply: asset_pb2.LogUsageResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "message": "Usage logged successfully",
        "log_id": reply.log_id,
        "cost_logged": reply.cost_logged,
        "timestamp": naive_iso(reply.timestamp),
    }


def _limit(limit: asset_pb2.ProviderLimit) -> dict[str, Any]:
    match limit.WhichOneof("limit"):
        case "tier":
            t = limit.tier
            return {
                "current_tier": t.current_tier,
                "monthly_limit": t.monthly_limit,
                "used_this_month": t.used_this_month,
                "remaining": t.remaining,
                "rate_limit": t.rate_limit,
                "monthly_fee": t.monthly_fee,
                "overage_cost": t.overage_cost,
            }
        case "credit":
            c = limit.credit
            return {
                "current_package": c.current_package,
                "credit_limit": c.credit_limit,
                "credits_used": c.credits_used,
                "credits_remaining": c.credits_remaining,
                "auto_renewal": c.auto_renewal,
                "package_cost": c.package_cost,
            }
        case "daily_images":
            d = limit.daily_images
            return {
                "daily_limit": d.daily_limit,
                "used_today": d.used_today,
                "remaining_today": d.remaining_today,
                "cost_per_image": d.cost_per_image,
            }
        case "tokens":
            k = limit.tokens
            return {
                "token_limit": k.token_limit,
                "tokens_used": k.tokens_used,
                "tokens_remaining": k.tokens_remaining,
                "cost_per_1k_tokens": k.cost_per_1k_tokens,
            }
    return {}


def _warnings(limits: dict[str, Any]) -> list[dict[str, Any]]:
    """The reference's warning objects: a provider above 80% of a monthly limit."""
    out = []
    for provider, row in limits.items():
        if row and row.get("monthly_limit"):
            share = row["used_this_month"] / row["monthly_limit"] * 100
            if share > 80:
                out.append(
                    {
                        "provider": provider,
                        "type": "high_usage",
                        "message": f"{provider} usage at {share:.1f}% of monthly limit",
                        "usage_percentage": share,
                    }
                )
    return out


def limits(reply: asset_pb2.GetUsageLimitsResponse, inbound: Inbound) -> dict[str, Any]:
    rows = {limit.provider: _limit(limit) for limit in reply.limits}
    provider = inbound.query.get("provider")
    chosen = {provider: rows.get(provider)} if provider else rows
    body = {"billing_period": _month(reply.billing_period), "limits": chosen, "warnings": _warnings(chosen)}
    if _wants_budgets(inbound):
        body["budgets"] = _budgets(reply.budgets)
    return body


def billing(reply: asset_pb2.GetCurrentBillingResponse, inbound: Inbound) -> dict[str, Any]:
    p, c, m = reply.billing_period, reply.current_charges, reply.payment_method
    return {
        "billing_period": {
            "start_date": p.start.ToDatetime().date().isoformat(),
            "end_date": p.end.ToDatetime().date().isoformat(),
            "days_remaining": p.days_remaining,
        },
        "current_charges": {
            "subscription_fees": c.subscription_fees,
            "usage_charges": c.usage_charges,
            "overage_charges": c.overage_charges,
            "total": c.total,
        },
        "payment_method": {"type": m.kind, "last_four": m.last_four, "status": m.status},
        "next_billing_date": reply.next_billing_date,
        "auto_payment": reply.auto_payment,
        "estimated_next_bill": reply.estimated_next_bill,
        "billing_alerts": [
            {"type": a.kind, "message": a.message, "severity": a.severity} for a in reply.billing_alerts
        ],
    }


def monthly(reply: asset_pb2.GetMonthlyReportResponse, inbound: Inbound) -> dict[str, Any]:
    s, c = reply.summary, reply.cost_categories
    return {
        "report_period": reply.report_period,
        "generated_at": naive_iso(reply.generated_at),
        "summary": {
            "total_cost": s.total_cost,
            "total_requests": s.total_requests,
            "total_tokens": s.total_tokens,
            "total_images": s.total_images,
            "total_3d_models": s.total_3d_models,
            "unique_operations": s.unique_operations,
        },
        "provider_breakdown": {p.provider: _provider(p) for p in reply.provider_breakdown},
        "cost_categories": {
            "subscription_fees": c.subscription_fees,
            "per_use_charges": c.per_use_charges,
            "overage_charges": c.overage_charges,
        },
        "top_operations": [
            {"operation": o.operation, "cost": o.cost, "count": o.count} for o in reply.top_operations
        ],
        "cost_optimization_suggestions": [
            {"suggestion": x.suggestion, "potential_savings": x.potential_savings, "reasoning": x.reasoning}
            for x in reply.cost_optimization_suggestions
        ],
    }
