"""The usage reports (plain data) → protobuf, and a recorded usage's request → its record."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from gaia.asset.v1 import asset_pb2
from gaia.common.v1 import common_pb2

from gaia_services.asset import reports
from gaia_services.asset.convert import provider_usage_pb, ts
from gaia_services.asset.settings import AssetSettings
from gaia_services.asset.usage import OperationTotals, UsageRecord
from gaia_services.asset.usage_reports import (
    Analytics,
    Billing,
    CurrentUsage,
    LoggedUsage,
    MonthlyReport,
    UsageHistory,
    UsageLimits,
)
from gaia_services.runtime.budgets import BudgetStatus

__all__ = [
    "analytics_pb",
    "billing_pb",
    "current_usage_pb",
    "history_pb",
    "limits_pb",
    "logged_pb",
    "monthly_pb",
    "usage_record",
]


def usage_record(request: asset_pb2.RecordUsageRequest, *, user_id: str) -> UsageRecord:
    metadata = {
        k: v
        for k, v in (
            ("session_id", request.session_id),
            ("quality", request.quality),
            ("error_code", request.error_code),
        )
        if v
    }
    return UsageRecord(
        user_id=user_id,
        provider=request.provider,
        operation=request.operation,
        model=request.model,
        tokens_in=request.input_tokens,
        tokens_out=request.output_tokens,
        images=request.images,
        models_3d=request.models_3d,
        credits=request.credits,
        cost=Decimal(str(request.cost)),
        latency_ms=request.latency_ms or None,
        conversation_id=request.conversation_id or None,
        request_id=request.request_id or None,
        status="error" if request.error_code else "ok",
        metadata=metadata,
        occurred_at=request.occurred_at.ToDatetime(tzinfo=UTC) if request.HasField("occurred_at") else None,
    )


def _period_pb(period: reports.Period) -> asset_pb2.BillingPeriod:
    return asset_pb2.BillingPeriod(
        start=ts(period.start), end=ts(period.end), days_remaining=period.days_remaining
    )


def _operations_pb(operations: list[OperationTotals]) -> list[asset_pb2.OperationCost]:
    return [
        asset_pb2.OperationCost(operation=o.operation, cost=float(o.cost), count=o.count) for o in operations
    ]


def _limit_pb(provider: str, limit: reports.Limit) -> asset_pb2.ProviderLimit:
    match limit:
        case reports.TierUse():
            return asset_pb2.ProviderLimit(
                provider=provider,
                tier=asset_pb2.TierLimit(
                    current_tier=limit.current_tier,
                    monthly_limit=limit.monthly_limit,
                    used_this_month=limit.used_this_month,
                    remaining=limit.remaining,
                    rate_limit=limit.rate_limit,
                    monthly_fee=limit.monthly_fee,
                    overage_cost=limit.overage_cost,
                ),
            )
        case reports.CreditUse():
            return asset_pb2.ProviderLimit(
                provider=provider,
                credit=asset_pb2.CreditLimit(
                    current_package=limit.current_package,
                    credit_limit=limit.credit_limit,
                    credits_used=limit.credits_used,
                    credits_remaining=limit.credits_remaining,
                    auto_renewal=limit.auto_renewal,
                    package_cost=limit.package_cost,
                ),
            )
        case reports.DailyImages():
            return asset_pb2.ProviderLimit(
                provider=provider,
                daily_images=asset_pb2.DailyImageLimit(
                    daily_limit=limit.daily_limit,
                    used_today=limit.used_today,
                    remaining_today=limit.remaining_today,
                    cost_per_image=limit.cost_per_image,
                ),
            )
        case reports.TokenUse():
            return asset_pb2.ProviderLimit(
                provider=provider,
                tokens=asset_pb2.TokenLimit(
                    token_limit=limit.token_limit,
                    tokens_used=limit.tokens_used,
                    tokens_remaining=limit.tokens_remaining,
                    cost_per_1k_tokens=limit.cost_per_1k_tokens,
                ),
            )
    raise TypeError(limit)


def logged_pb(logged: LoggedUsage) -> asset_pb2.LogUsageResponse:
    return asset_pb2.LogUsageResponse(
        log_id=logged.usage_id, cost_logged=logged.cost, timestamp=ts(logged.at)
    )


def budget_limits_pb(statuses: list[BudgetStatus]) -> list[common_pb2.BudgetLimit]:
    out = []
    for status in statuses:
        limit = common_pb2.BudgetLimit(
            limit=status.limit,
            limit_usd=status.limit_usd,
            spent_usd=status.spent_usd,
            remaining_usd=status.remaining_usd,
        )
        if status.resets_at is not None:
            limit.resets_at.CopyFrom(ts(status.resets_at))
        out.append(limit)
    return out


def current_usage_pb(current: CurrentUsage) -> asset_pb2.GetCurrentUsageResponse:
    grand = current.grand
    return asset_pb2.GetCurrentUsageResponse(
        total_cost=float(grand.cost),
        total_requests=grand.requests,
        total_tokens=grand.tokens,
        total_images=grand.images,
        total_3d_models=grand.models,
        providers=[provider_usage_pb(t) for t in current.totals],
        billing_period=_period_pb(current.period),
        as_of=ts(current.as_of),
    )


def history_pb(history: UsageHistory) -> asset_pb2.GetUsageHistoryResponse:
    return asset_pb2.GetUsageHistoryResponse(
        period=asset_pb2.DateRange(start_date=history.first.isoformat(), end_date=history.last.isoformat()),
        days=history.days,
        usage_history=[
            asset_pb2.DailyUsage(
                date=entry.day.isoformat(),
                total_cost=float(entry.grand.cost),
                total_requests=entry.grand.requests,
                total_tokens=entry.grand.tokens,
                total_images=entry.grand.images,
                breakdown=[provider_usage_pb(t, detail=False) for t in entry.breakdown],
            )
            for entry in history.entries
        ],
        summary=asset_pb2.UsageHistorySummary(
            total_cost=float(history.total_cost),
            total_requests=history.total_requests,
            average_daily_cost=history.average_daily_cost,
            peak_cost_day=history.peak_day,
        ),
    )


def limits_pb(limits: UsageLimits) -> asset_pb2.GetUsageLimitsResponse:
    return asset_pb2.GetUsageLimitsResponse(
        billing_period=_period_pb(limits.period),
        limits=[_limit_pb(p, limit) for p, limit in limits.limits],
        warnings=[a.message for a in limits.alerts],
    )


def billing_pb(billing: Billing, settings: AssetSettings) -> asset_pb2.GetCurrentBillingResponse:
    """The bill; the payment method is the deployment's configured one."""
    bill = billing.charges
    return asset_pb2.GetCurrentBillingResponse(
        billing_period=_period_pb(billing.period),
        current_charges=asset_pb2.BillingCharges(
            subscription_fees=bill.subscription_fees,
            usage_charges=bill.usage_charges,
            overage_charges=bill.overage_charges,
            total=bill.total,
        ),
        payment_method=asset_pb2.PaymentMethod(
            kind=settings.payment_method_kind,
            last_four=settings.payment_method_last_four,
            status=settings.payment_method_status,
        ),
        next_billing_date=billing.period.next_billing.isoformat(),
        auto_payment=settings.auto_payment,
        estimated_next_bill=billing.estimated_next_bill,
        billing_alerts=[
            asset_pb2.BillingAlert(kind=a.kind, message=a.message, severity=a.severity)
            for a in billing.alerts
        ],
    )


def monthly_pb(report: MonthlyReport) -> asset_pb2.GetMonthlyReportResponse:
    grand, bill = report.grand, report.charges
    return asset_pb2.GetMonthlyReportResponse(
        report_period=f"{report.year:04d}-{report.month:02d}",
        generated_at=ts(report.generated_at),
        summary=asset_pb2.MonthlySummary(
            total_cost=float(grand.cost),
            total_requests=grand.requests,
            total_tokens=grand.tokens,
            total_images=grand.images,
            total_3d_models=grand.models,
            unique_operations=len(report.operations),
        ),
        provider_breakdown=[provider_usage_pb(t) for t in report.totals],
        cost_categories=asset_pb2.CostCategories(
            subscription_fees=bill.subscription_fees,
            per_use_charges=bill.usage_charges,
            overage_charges=bill.overage_charges,
        ),
        top_operations=_operations_pb(report.operations[:3]),
        cost_optimization_suggestions=[
            asset_pb2.CostSuggestion(
                suggestion=s.suggestion, potential_savings=s.potential_savings, reasoning=s.reasoning
            )
            for s in report.suggestions
        ],
    )


def analytics_pb(analytics: Analytics) -> asset_pb2.GetPricingAnalyticsResponse:
    grand = analytics.grand
    reply = asset_pb2.GetPricingAnalyticsResponse(
        period=asset_pb2.DateRange(
            start_date=analytics.first.isoformat(), end_date=analytics.last.isoformat()
        ),
        total_cost=float(grand.cost),
        cost_breakdown=[
            asset_pb2.ProviderCost(provider=t.provider, cost=float(t.cost)) for t in analytics.breakdown
        ],
        usage_metrics=asset_pb2.UsageMetrics(
            total_images=grand.images,
            total_3d_models=grand.models,
            total_tokens=grand.tokens,
            total_credits=float(grand.credits),
        ),
        cost_trends=[
            asset_pb2.DailyCost(date=day.isoformat(), daily_cost=float(cost))
            for day, cost in analytics.trends
        ],
        top_cost_operations=_operations_pb(analytics.top_operations),
    )
    if analytics.provider_cost is not None:
        reply.provider_cost = float(analytics.provider_cost)
    return reply
