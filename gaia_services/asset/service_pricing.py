"""Pricing RPCs: the catalogue, estimates, comparisons, reloads and cost analytics."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from gaia.asset.v1 import asset_pb2

from gaia_services.asset import reports
from gaia_services.asset.convert import (
    PRICING_MODELS,
    comparison_pb,
    estimate_pb,
    operations_pb,
    package_pb,
    pricing_pb,
    tier_pb,
    ts,
)
from gaia_services.asset.estimator import compare, estimate
from gaia_services.asset.pricing import PricingBook, PricingModel
from gaia_services.asset.pricing_sync import PricingSync
from gaia_services.asset.usage import UsageStore
from gaia_services.runtime.calls import current_call
from gaia_services.runtime.errors import InvalidArgument, NotFound
from gaia_services.runtime.events import EventBus

__all__ = ["PricingRpcs", "caller_id"]

_MAX_PERIOD_DAYS = 3660

_CAPABILITIES = {
    PricingModel.TIER_BASED: ("image_generation", "tier_management"),
    PricingModel.CREDIT_BASED: ("3d_generation", "texture_generation"),
    PricingModel.PER_IMAGE: ("image_generation", "quality_tiers"),
    PricingModel.TOKEN_BASED: ("text_completion", "chat"),
}


def caller_id() -> str:
    call = current_call.get()
    assert call is not None and call.principal is not None, "an authenticated call"
    return call.principal.user_id


class PricingRpcs:
    def __init__(
        self, *, book: PricingBook, pool: asyncpg.Pool, usage: UsageStore, events: EventBus, origin: str
    ) -> None:
        self._book = book
        self._pool = pool
        self._usage = usage
        self._loaded = False
        self._lock = asyncio.Lock()
        self._sync = PricingSync(events=events, origin=origin, reload=self.reload)

    @property
    def sync(self) -> PricingSync:
        return self._sync

    @property
    def book(self) -> PricingBook:
        return self._book

    async def _overrides(self) -> dict[str, Any]:
        rows = await self._pool.fetch("SELECT provider, config FROM pricing_overrides ORDER BY provider")
        return {
            r["provider"]: json.loads(r["config"]) if isinstance(r["config"], str) else r["config"]
            for r in rows
        }

    async def reload(self) -> PricingBook:
        """Defaults, pricing file and database overrides, read again now."""
        async with self._lock:
            self._book.load(await self._overrides())
            self._loaded = True
        return self._book

    async def ready(self) -> PricingBook:
        if not self._loaded:
            async with self._lock:
                if not self._loaded:
                    self._book.load(await self._overrides())
                    self._loaded = True
        return self._book

    async def current(
        self, request: asset_pb2.GetCurrentPricingRequest
    ) -> asset_pb2.GetCurrentPricingResponse:
        book = await self.ready()
        price = book.get(request.provider)
        if price is None:
            raise NotFound(f"Pricing not found for provider: {request.provider}")
        return asset_pb2.GetCurrentPricingResponse(
            pricing=pricing_pb(price, request.quality or "standard"),
            effective_date=ts(datetime.now(UTC)),
            currency="USD",
        )

    async def update(self, request: asset_pb2.UpdatePricingRequest) -> asset_pb2.UpdatePricingResponse:
        started = datetime.now(UTC)
        book = await self.reload()  # a provider added by an override is known from now on
        if book.get(request.provider) is None:
            raise NotFound(f"Provider not found: {request.provider}")
        await self._sync.announce(request.provider)  # every other replica reloads too
        return asset_pb2.UpdatePricingResponse(
            provider=request.provider,
            status="completed",
            update_time=ts(started),
            estimated_completion=ts(datetime.now(UTC)),
        )

    async def providers(self) -> asset_pb2.ListPricingProvidersResponse:
        book = await self.ready()
        rows = []
        for price in book.entries:
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

    async def estimate(self, request: asset_pb2.EstimateCostRequest) -> asset_pb2.EstimateCostResponse:
        book = await self.ready()
        value = estimate(
            book.get(request.provider) if request.provider else None,
            operation=request.operation or "standard",
            quantity=request.quantity or 1,
            quality=request.quality or "standard",
            tokens=request.estimated_tokens or 1000,
        )
        return estimate_pb(value, datetime.now(UTC))

    async def dalle_tiers(self) -> asset_pb2.GetDalleTiersResponse:
        price = (await self.ready()).get("dalle")
        if price is None or price.model is not PricingModel.TIER_BASED:
            raise NotFound("DALL-E pricing not configured")
        return asset_pb2.GetDalleTiersResponse(
            provider="dalle",
            pricing_model=PRICING_MODELS[price.model],
            tiers=[tier_pb(t) for t in price.tiers],
            currency="USD",
            billing_cycle="monthly",
        )

    async def meshy_packages(self) -> asset_pb2.GetMeshyPackagesResponse:
        price = (await self.ready()).get("meshy")
        if price is None or price.model is not PricingModel.CREDIT_BASED:
            raise NotFound("Meshy pricing not configured")
        return asset_pb2.GetMeshyPackagesResponse(
            provider="meshy",
            pricing_model=PRICING_MODELS[price.model],
            packages=[package_pb(p) for p in price.packages],
            operations=operations_pb(price),
            currency="USD",
        )

    async def compare(self, request: asset_pb2.CompareProvidersRequest) -> asset_pb2.CompareProvidersResponse:
        book = await self.ready()
        quantity, quality = request.quantity or 1, request.quality or "standard"
        rows = compare(book.entries, operation=request.operation, quantity=quantity, quality=quality)
        reply = asset_pb2.CompareProvidersResponse(
            operation=request.operation,
            quantity=quantity,
            quality=quality,
            providers=[comparison_pb(r) for r in rows],
            comparison_time=ts(datetime.now(UTC)),
        )
        if rows:
            reply.cheapest_provider = rows[0].provider
        return reply

    async def analytics(
        self, request: asset_pb2.GetPricingAnalyticsRequest
    ) -> asset_pb2.GetPricingAnalyticsResponse:
        now = datetime.now(UTC)
        last = reports.parse_day(request.end_date) if request.end_date else now.date()
        first = reports.parse_day(request.start_date) if request.start_date else last - timedelta(days=30)
        if (last - first).days > _MAX_PERIOD_DAYS:  # one trend entry per day: bound the answer
            raise InvalidArgument(f"The period must be at most {_MAX_PERIOD_DAYS} days")
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        stop = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        user = caller_id()
        totals = reports.listed(await self._usage.by_provider(user, start, stop))
        days = await self._usage.by_day(user, start, stop) if first <= last else {}
        operations = await self._usage.by_operation(user, start, stop)
        grand = reports.grand_total(totals)
        breakdown = sorted(totals, key=lambda t: -t.cost)
        reply = asset_pb2.GetPricingAnalyticsResponse(
            period=asset_pb2.DateRange(start_date=first.isoformat(), end_date=last.isoformat()),
            total_cost=float(grand.cost),
            cost_breakdown=[
                asset_pb2.ProviderCost(provider=t.provider, cost=float(t.cost)) for t in breakdown
            ],
            usage_metrics=asset_pb2.UsageMetrics(
                total_images=grand.images,
                total_3d_models=grand.models,
                total_tokens=grand.tokens,
                total_credits=float(grand.credits),
            ),
            cost_trends=[
                asset_pb2.DailyCost(
                    date=day.isoformat(),
                    daily_cost=float(sum((t.cost for t in days.get(day, ())), Decimal(0))),
                )
                for day in (reports.day_range(first, last) if first <= last else [])
            ],
            top_cost_operations=[
                asset_pb2.OperationCost(operation=o.operation, cost=float(o.cost), count=o.count)
                for o in operations[:3]
            ],
        )
        if request.provider:
            match = reports.find(totals, request.provider)
            if match is not None:
                reply.provider_cost = float(match.cost)
        return reply
