"""The pricing catalogue this replica serves: defaults, the pricing file and the database overrides, loaded
on first use and reloaded on demand (and whenever another replica announces a reload)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg

from gaia_services.asset import estimator
from gaia_services.asset.estimator import Comparison, Estimate
from gaia_services.asset.pricing import PricingBook, PricingModel, ProviderPrice
from gaia_services.asset.pricing_sync import PricingSync
from gaia_services.runtime.errors import NotFound
from gaia_services.runtime.events import EventBus

__all__ = ["PricingCatalogue"]


class PricingCatalogue:
    def __init__(self, *, book: PricingBook, pool: asyncpg.Pool, events: EventBus, origin: str) -> None:
        self._book = book
        self._pool = pool
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

    async def update(self, provider: str) -> None:
        """Reload now (a provider added by an override is known from then on) and have every other replica
        reload too; NotFound for a provider the reloaded catalogue does not know."""
        book = await self.reload()
        if book.get(provider) is None:
            raise NotFound(f"Provider not found: {provider}")
        await self._sync.announce(provider)

    async def price(self, provider: str) -> ProviderPrice:
        price = (await self.ready()).get(provider)
        if price is None:
            raise NotFound(f"Pricing not found for provider: {provider}")
        return price

    async def entries(self) -> tuple[ProviderPrice, ...]:
        return (await self.ready()).entries

    async def dalle(self) -> ProviderPrice:
        """DALL-E's tiers."""
        price = (await self.ready()).get("dalle")
        if price is None or price.model is not PricingModel.TIER_BASED:
            raise NotFound("DALL-E pricing not configured")
        return price

    async def meshy(self) -> ProviderPrice:
        """Meshy's credit packages."""
        price = (await self.ready()).get("meshy")
        if price is None or price.model is not PricingModel.CREDIT_BASED:
            raise NotFound("Meshy pricing not configured")
        return price

    async def estimate(
        self, provider: str, *, operation: str, quantity: int, quality: str, tokens: int
    ) -> Estimate:
        book = await self.ready()
        return estimator.estimate(
            book.get(provider) if provider else None,
            operation=operation,
            quantity=quantity,
            quality=quality,
            tokens=tokens,
        )

    async def compare(self, *, operation: str, quantity: int, quality: str) -> list[Comparison]:
        book = await self.ready()
        return estimator.compare(book.entries, operation=operation, quantity=quantity, quality=quality)
