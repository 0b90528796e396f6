"""Usage RPCs: recording usage, and the current, history, limits, billing and monthly reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gaia.asset.v1 import asset_pb2

from gaia_services.asset import reports
from gaia_services.asset.convert import provider_usage_pb, ts
from gaia_services.asset.service_pricing import PricingRpcs, caller_id
from gaia_services.asset.settings import AssetSettings
from gaia_services.asset.usage import UsageRecord, UsageStore
from gaia_services.runtime.calls import current_call
from gaia_services.runtime.errors import Forbidden, InvalidArgument, NotFound

__all__ = ["UsageRpcs"]

_MAX_HISTORY_DAYS = 3660


def _period_pb(period: reports.Period) -> asset_pb2.BillingPeriod:
    return asset_pb2.BillingPeriod(
        start=ts(period.start), end=ts(period.end), days_remaining=period.days_remaining
    )


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


class UsageRpcs:
    def __init__(self, *, usage: UsageStore, pricing: PricingRpcs, settings: AssetSettings) -> None:
        self._usage = usage
        self._pricing = pricing
        self._settings = settings

    async def record(self, request: asset_pb2.RecordUsageRequest) -> asset_pb2.RecordUsageResponse:
        call = current_call.get()
        principal = call.principal if call else None
        user_id = request.user_id or (principal.user_id if principal else "")
        if (
            principal is not None
            and user_id != principal.user_id
            and "admin" not in principal.scopes
            and "service" not in principal.scopes
        ):
            raise Forbidden("Usage may only be recorded for the caller's own user")
        if not request.provider or not request.operation:
            raise InvalidArgument("provider and operation are required")
        metadata = {
            k: v
            for k, v in (
                ("session_id", request.session_id),
                ("quality", request.quality),
                ("error_code", request.error_code),
            )
            if v
        }
        usage_id = await self._usage.record(
            UsageRecord(
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
                occurred_at=request.occurred_at.ToDatetime(tzinfo=UTC)
                if request.HasField("occurred_at")
                else None,
            )
        )
        return asset_pb2.RecordUsageResponse(usage_id=usage_id)

    async def log(self, request: asset_pb2.LogUsageRequest) -> asset_pb2.LogUsageResponse:
        for name, present in (
            ("provider", bool(request.provider)),
            ("operation", bool(request.operation)),
            ("cost", request.HasField("cost")),
        ):
            if not present:
                raise InvalidArgument(f"Missing required field: {name}")
        if request.cost < 0:
            raise InvalidArgument("cost must not be negative")
        now = datetime.now(UTC)
        tokens = request.tokens if request.HasField("tokens") else 0
        metadata = {"source": "usage_log", "quality": request.quality or "standard"}
        usage_id = await self._usage.record(
            UsageRecord(
                user_id=caller_id(),
                provider=request.provider,
                operation=request.operation,
                model=request.model,
                tokens_in=max(0, tokens),
                images=max(0, request.images),
                credits=max(0.0, request.credits),
                cost=Decimal(str(request.cost)),
                request_id=request.request_id or None,
                metadata=metadata,
                occurred_at=now,
            )
        )
        return asset_pb2.LogUsageResponse(log_id=usage_id, cost_logged=request.cost, timestamp=ts(now))

    async def current(self, request: asset_pb2.GetCurrentUsageRequest) -> asset_pb2.GetCurrentUsageResponse:
        now = datetime.now(UTC)
        period = reports.month_period(now)
        totals = reports.listed(await self._usage.by_provider(caller_id(), period.start, period.stop))
        if request.provider and reports.find(totals, request.provider) is None:
            raise NotFound(f"No usage data for provider: {request.provider}")
        grand = reports.grand_total(totals)
        return asset_pb2.GetCurrentUsageResponse(
            total_cost=float(grand.cost),
            total_requests=grand.requests,
            total_tokens=grand.tokens,
            total_images=grand.images,
            total_3d_models=grand.models,
            providers=[provider_usage_pb(t) for t in totals],
            billing_period=_period_pb(period),
            as_of=ts(now),
        )

    async def history(self, request: asset_pb2.GetUsageHistoryRequest) -> asset_pb2.GetUsageHistoryResponse:
        if request.days < 0:
            raise InvalidArgument("days must be a positive number")
        if request.days > _MAX_HISTORY_DAYS:  # one entry per day: bound the answer (and the date arithmetic)
            raise InvalidArgument(f"days must be at most {_MAX_HISTORY_DAYS}")
        days = request.days or 30
        today = datetime.now(UTC).date()
        first = today - timedelta(days=days - 1)
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        stop = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
        by_day = await self._usage.by_day(caller_id(), start, stop)
        entries = []
        peak, peak_cost = "", Decimal(0)
        total_cost, total_requests = Decimal(0), 0
        for day in reports.day_range(first, today):
            rows = [
                t
                for t in reports.listed(by_day.get(day, ()))
                if not request.provider or t.provider == request.provider
            ]
            grand = reports.grand_total(rows)
            if grand.cost > peak_cost:
                peak, peak_cost = day.isoformat(), grand.cost
            total_cost += grand.cost
            total_requests += grand.requests
            entries.append(
                asset_pb2.DailyUsage(
                    date=day.isoformat(),
                    total_cost=float(grand.cost),
                    total_requests=grand.requests,
                    total_tokens=grand.tokens,
                    total_images=grand.images,
                    breakdown=[
                        provider_usage_pb(t, detail=False) for t in reports.listed(by_day.get(day, ()))
                    ],
                )
            )
        return asset_pb2.GetUsageHistoryResponse(
            period=asset_pb2.DateRange(start_date=first.isoformat(), end_date=today.isoformat()),
            days=days,
            usage_history=entries,
            summary=asset_pb2.UsageHistorySummary(
                total_cost=float(total_cost),
                total_requests=total_requests,
                average_daily_cost=round(float(total_cost) / days, 6),
                peak_cost_day=peak,
            ),
        )

    async def _limits(self, now: datetime) -> tuple[reports.Period, list[tuple[str, reports.Limit]], list]:
        period = reports.month_period(now)
        user = caller_id()
        month = await self._usage.by_provider(user, period.start, period.stop)
        day_start = datetime(now.year, now.month, now.day, tzinfo=UTC)
        today = await self._usage.by_provider(user, day_start, day_start + timedelta(days=1))
        book = await self._pricing.ready()
        return period, reports.limits(book, self._settings, month, today), month

    async def limits(self, request: asset_pb2.GetUsageLimitsRequest) -> asset_pb2.GetUsageLimitsResponse:
        period, rows, _ = await self._limits(datetime.now(UTC))
        chosen = [(p, limit) for p, limit in rows if not request.provider or p == request.provider]
        return asset_pb2.GetUsageLimitsResponse(
            billing_period=_period_pb(period),
            limits=[_limit_pb(p, limit) for p, limit in chosen],
            warnings=[a.message for a in reports.alerts(chosen)],
        )

    async def billing(self) -> asset_pb2.GetCurrentBillingResponse:
        now = datetime.now(UTC)
        period, rows, month = await self._limits(now)
        book = await self._pricing.ready()
        bill = reports.charges(rows, book, month)
        s = self._settings
        return asset_pb2.GetCurrentBillingResponse(
            billing_period=_period_pb(period),
            current_charges=asset_pb2.BillingCharges(
                subscription_fees=bill.subscription_fees,
                usage_charges=bill.usage_charges,
                overage_charges=bill.overage_charges,
                total=bill.total,
            ),
            payment_method=asset_pb2.PaymentMethod(
                kind=s.payment_method_kind,
                last_four=s.payment_method_last_four,
                status=s.payment_method_status,
            ),
            next_billing_date=period.next_billing.isoformat(),
            auto_payment=s.auto_payment,
            estimated_next_bill=reports.projected(bill, period, now),
            billing_alerts=[
                asset_pb2.BillingAlert(kind=a.kind, message=a.message, severity=a.severity)
                for a in reports.alerts(rows)
            ],
        )

    async def monthly(self, request: asset_pb2.GetMonthlyReportRequest) -> asset_pb2.GetMonthlyReportResponse:
        now = datetime.now(UTC)
        year, month_number = reports.parse_month(request.month) if request.month else (now.year, now.month)
        period = reports.month_period(now, year, month_number)
        user = caller_id()
        month = await self._usage.by_provider(user, period.start, period.stop)
        operations = await self._usage.by_operation(user, period.start, period.stop)
        book = await self._pricing.ready()
        rows = reports.limits(book, self._settings, month, [])
        bill = reports.charges(rows, book, month)
        totals = reports.listed(month)
        grand = reports.grand_total(totals)
        return asset_pb2.GetMonthlyReportResponse(
            report_period=f"{year:04d}-{month_number:02d}",
            generated_at=ts(now),
            summary=asset_pb2.MonthlySummary(
                total_cost=float(grand.cost),
                total_requests=grand.requests,
                total_tokens=grand.tokens,
                total_images=grand.images,
                total_3d_models=grand.models,
                unique_operations=len(operations),
            ),
            provider_breakdown=[provider_usage_pb(t) for t in totals],
            cost_categories=asset_pb2.CostCategories(
                subscription_fees=bill.subscription_fees,
                per_use_charges=bill.usage_charges,
                overage_charges=bill.overage_charges,
            ),
            top_operations=[
                asset_pb2.OperationCost(operation=o.operation, cost=float(o.cost), count=o.count)
                for o in operations[:3]
            ],
            cost_optimization_suggestions=[
                asset_pb2.CostSuggestion(
                    suggestion=s.suggestion, potential_savings=s.potential_savings, reasoning=s.reasoning
                )
                for s in reports.suggestions(book, month)
            ],
        )
