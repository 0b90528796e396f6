"""The asset service's gRPC adapter: each RPC delegates to its area's adapter (pricing, usage, assets)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from gaia.asset.v1 import asset_pb2, asset_pb2_grpc
from grpc import aio

from gaia_services.asset.pricing import PricingBook
from gaia_services.asset.service_assets import AssetRpcs
from gaia_services.asset.service_pricing import PricingRpcs
from gaia_services.asset.service_usage import UsageRpcs
from gaia_services.asset.settings import AssetSettings
from gaia_services.asset.usage import UsageStore
from gaia_services.runtime.remote_auth import RemoteAuthenticator
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.server import Closer, ServiceSpec

__all__ = ["AssetServicer", "spec"]

_log = logging.getLogger("gaia.asset")
_SERVICE = asset_pb2.DESCRIPTOR.services_by_name["AssetService"].full_name


class AssetServicer(asset_pb2_grpc.AssetServiceServicer):
    """Owns what the asset service opens beyond ``Resources``: the providers' and the storage's HTTP
    sessions and the pricing subscription. ``start`` in the serving loop, ``close`` at shutdown."""

    def __init__(self, *, resources: Resources, settings: AssetSettings) -> None:
        self._resources = resources
        usage = UsageStore(pool=resources.pool())
        self._pricing = PricingRpcs(
            book=PricingBook(pricing_file=settings.pricing_file),
            pool=resources.pool(),
            usage=usage,
            events=resources.events,
            origin=f"asset-{uuid.uuid4().hex[:12]}",
        )
        self._usage = UsageRpcs(usage=usage, pricing=self._pricing, settings=settings)
        self._assets = AssetRpcs(resources=resources, settings=settings, usage=usage, pricing=self._pricing)
        self._starting: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        """Subscribe to pricing reloads of the other replicas (in the background; needs a running loop)."""
        if self._starting is None:
            self._starting = asyncio.get_running_loop().create_task(self._start())
        return self._starting

    async def _start(self) -> None:
        try:
            await self._pricing.sync.start()
        except Exception as exc:  # serving goes on; reloads then stay on this replica
            _log.warning("pricing subscription failed: %r", exc)

    async def close(self) -> None:
        """Stop listening and release outgoing connections. Idempotent."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        await self._pricing.sync.close()
        await self._assets.close()

    # Assets.
    async def GenerateAsset(self, request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        async for event in self._assets.generate(request):
            yield event

    async def ListAssets(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._assets.list(request)

    async def GetAsset(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._assets.get(request)

    async def DownloadAsset(self, request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        async for chunk in self._assets.download(request):
            yield chunk

    # Pricing.
    async def GetCurrentPricing(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._pricing.current(request)

    async def GetPricingAnalytics(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._pricing.analytics(request)

    async def UpdatePricing(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._pricing.update(request)

    async def ListPricingProviders(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._pricing.providers()

    async def EstimateCost(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._pricing.estimate(request)

    async def GetDalleTiers(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._pricing.dalle_tiers()

    async def GetMeshyPackages(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._pricing.meshy_packages()

    async def CompareProviders(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._pricing.compare(request)

    # Usage.
    async def RecordUsage(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._usage.record(request)

    async def GetCurrentUsage(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._usage.current(request)

    async def GetUsageHistory(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._usage.history(request)

    async def LogUsage(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._usage.log(request)

    async def GetUsageLimits(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._usage.limits(request)

    async def GetCurrentBilling(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._usage.billing()

    async def GetMonthlyReport(self, request: Any, context: aio.ServicerContext) -> Any:
        return await self._usage.monthly(request)


def _register(server: aio.Server, resources: Resources) -> Closer:
    settings = AssetSettings()  # read once, where the service is wired
    servicer = AssetServicer(resources=resources, settings=settings)
    servicer.start()
    asset_pb2_grpc.add_AssetServiceServicer_to_server(servicer, server)
    return servicer.close  # after the drain: the pricing subscription, provider and S3 sessions


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="asset",
        service_names=(_SERVICE,),
        register=_register,
        authenticator=lambda resources: RemoteAuthenticator(channel=resources.channel("auth")),
        peers=("auth",),
    )
