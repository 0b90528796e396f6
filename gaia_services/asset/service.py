"""The asset service's gRPC adapter: protobuf in, calls on the domain objects, protobuf out.

One servicer for the one proto service; its domain objects are the parts (``wiring.AssetParts``): the
pricing catalogue, the usage reports and the asset library. Conversion lives in ``convert*.py``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from gaia.asset.v1 import asset_pb2, asset_pb2_grpc
from grpc import aio

from gaia_services.asset.assets import AssetRecord
from gaia_services.asset.convert import (
    comparisons_pb,
    current_pricing_pb,
    dalle_tiers_pb,
    estimate_pb,
    meshy_packages_pb,
    providers_pb,
    ts,
)
from gaia_services.asset.convert_assets import asset_pb, category_of, generation_event_pb, generation_request
from gaia_services.asset.convert_usage import (
    analytics_pb,
    billing_pb,
    budget_limits_pb,
    current_usage_pb,
    history_pb,
    limits_pb,
    logged_pb,
    monthly_pb,
    usage_record,
)
from gaia_services.asset.settings import AssetSettings
from gaia_services.asset.storage import content_type_for
from gaia_services.asset.wiring import AssetParts
from gaia_services.runtime.calls import caller
from gaia_services.runtime.errors import InvalidArgument
from gaia_services.runtime.remote_auth import RemoteAuthenticator
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.server import Closer, ServiceSpec

__all__ = ["AssetServicer", "spec"]

_SERVICE = asset_pb2.DESCRIPTOR.services_by_name["AssetService"].full_name
_CHUNK = 64 * 1024


class AssetServicer(asset_pb2_grpc.AssetServiceServicer):
    """Every method serves an authenticated caller (the service has no public methods)."""

    def __init__(self, *, parts: AssetParts) -> None:
        self._catalogue = parts.catalogue
        self._usage = parts.usage
        self._library = parts.library
        self._settings = parts.settings

    def _asset_pb(self, record: AssetRecord) -> asset_pb2.Asset:
        return asset_pb(
            record, download_url=self._library.download_url(record.asset_id), bucket=self._library.bucket
        )

    # ----- assets -----
    async def GenerateAsset(
        self, request: asset_pb2.GenerateAssetRequest, context: aio.ServicerContext
    ) -> AsyncIterator[asset_pb2.GenerateAssetResponse]:
        category = category_of(request.category)
        if category is None:
            raise InvalidArgument("category is required")
        generation_id = str(uuid.uuid4())
        events = self._library.generate(
            generation_request(request, category=category),
            caller=caller(),
            generation_id=generation_id,
        )
        async for event in events:
            yield generation_event_pb(event, generation_id=generation_id, to_asset=self._asset_pb)

    async def ListAssets(
        self, request: asset_pb2.ListAssetsRequest, context: aio.ServicerContext
    ) -> asset_pb2.ListAssetsResponse:
        records, total = await self._library.list(
            user_id=caller().user_id,
            category=category_of(request.category) or "",
            style=request.style,
            query=request.query,
            limit=request.page.limit,
            offset=request.page.offset,
        )
        return asset_pb2.ListAssetsResponse(assets=[self._asset_pb(r) for r in records], total=total)

    async def GetAsset(
        self, request: asset_pb2.GetAssetRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetAssetResponse:
        record = await self._library.owned(user_id=caller().user_id, asset_id=request.asset_id)
        return asset_pb2.GetAssetResponse(asset=self._asset_pb(record))

    async def DownloadAsset(
        self, request: asset_pb2.DownloadAssetRequest, context: aio.ServicerContext
    ) -> AsyncIterator[asset_pb2.DownloadAssetResponse]:
        """The file in chunks; the first message also carries its type, name and size."""
        record = await self._library.owned(user_id=caller().user_id, asset_id=request.asset_id)
        async with self._library.open(record) as blob:
            first: asset_pb2.DownloadAssetResponse | None = asset_pb2.DownloadAssetResponse(
                content_type=content_type_for(record.file_format),
                file_name=f"{record.asset_id}.{record.file_format}",
                total_size_bytes=blob.size,
            )
            async with contextlib.aclosing(blob.chunks(_CHUNK)) as chunks:
                async for piece in chunks:
                    if first is not None:
                        first.data = piece
                        yield first
                        first = None
                    else:
                        yield asset_pb2.DownloadAssetResponse(data=piece)
            if first is not None:  # an empty file: the header message alone
                yield first

    # ----- pricing -----
    async def GetCurrentPricing(
        self, request: asset_pb2.GetCurrentPricingRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetCurrentPricingResponse:
        price = await self._catalogue.price(request.provider)
        return current_pricing_pb(price, request.quality or "standard", datetime.now(UTC))

    async def GetPricingAnalytics(
        self, request: asset_pb2.GetPricingAnalyticsRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetPricingAnalyticsResponse:
        analytics = await self._usage.analytics(
            caller().user_id,
            start_date=request.start_date,
            end_date=request.end_date,
            provider=request.provider,
        )
        return analytics_pb(analytics)

    async def UpdatePricing(
        self, request: asset_pb2.UpdatePricingRequest, context: aio.ServicerContext
    ) -> asset_pb2.UpdatePricingResponse:
        started = datetime.now(UTC)
        await self._catalogue.update(request.provider)
        return asset_pb2.UpdatePricingResponse(
            provider=request.provider,
            status="completed",
            update_time=ts(started),
            estimated_completion=ts(datetime.now(UTC)),
        )

    async def ListPricingProviders(
        self, request: asset_pb2.ListPricingProvidersRequest, context: aio.ServicerContext
    ) -> asset_pb2.ListPricingProvidersResponse:
        return providers_pb(await self._catalogue.entries())

    async def EstimateCost(
        self, request: asset_pb2.EstimateCostRequest, context: aio.ServicerContext
    ) -> asset_pb2.EstimateCostResponse:
        value = await self._catalogue.estimate(
            request.provider,
            operation=request.operation or "standard",
            quantity=request.quantity or 1,
            quality=request.quality or "standard",
            tokens=request.estimated_tokens or 1000,
        )
        return estimate_pb(value, datetime.now(UTC))

    async def GetDalleTiers(
        self, request: asset_pb2.GetDalleTiersRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetDalleTiersResponse:
        return dalle_tiers_pb(await self._catalogue.dalle())

    async def GetMeshyPackages(
        self, request: asset_pb2.GetMeshyPackagesRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetMeshyPackagesResponse:
        return meshy_packages_pb(await self._catalogue.meshy())

    async def CompareProviders(
        self, request: asset_pb2.CompareProvidersRequest, context: aio.ServicerContext
    ) -> asset_pb2.CompareProvidersResponse:
        quantity, quality = request.quantity or 1, request.quality or "standard"
        rows = await self._catalogue.compare(operation=request.operation, quantity=quantity, quality=quality)
        return comparisons_pb(
            rows, operation=request.operation, quantity=quantity, quality=quality, when=datetime.now(UTC)
        )

    # ----- usage -----
    async def RecordUsage(
        self, request: asset_pb2.RecordUsageRequest, context: aio.ServicerContext
    ) -> asset_pb2.RecordUsageResponse:
        """Usage of the caller, or (for admins and services) of ``request.user_id``."""
        principal = caller()
        record = usage_record(request, user_id=request.user_id or principal.user_id)
        return asset_pb2.RecordUsageResponse(usage_id=await self._usage.record(record, caller=principal))

    async def GetCurrentUsage(
        self, request: asset_pb2.GetCurrentUsageRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetCurrentUsageResponse:
        principal = caller()
        reply = current_usage_pb(await self._usage.current(principal.user_id, provider=request.provider))
        reply.budgets.extend(
            budget_limits_pb(await self._usage.budgets(principal, session_id=request.session_id))
        )
        return reply

    async def GetUsageHistory(
        self, request: asset_pb2.GetUsageHistoryRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetUsageHistoryResponse:
        history = await self._usage.history(caller().user_id, days=request.days, provider=request.provider)
        return history_pb(history)

    async def LogUsage(
        self, request: asset_pb2.LogUsageRequest, context: aio.ServicerContext
    ) -> asset_pb2.LogUsageResponse:
        logged = await self._usage.log(
            caller().user_id,
            provider=request.provider,
            operation=request.operation,
            cost=request.cost if request.HasField("cost") else None,
            model=request.model,
            tokens=request.tokens if request.HasField("tokens") else None,
            images=request.images,
            credits=request.credits,
            quality=request.quality,
            request_id=request.request_id,
        )
        return logged_pb(logged)

    async def GetUsageLimits(
        self, request: asset_pb2.GetUsageLimitsRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetUsageLimitsResponse:
        principal = caller()
        reply = limits_pb(await self._usage.limits(principal.user_id, provider=request.provider))
        reply.budgets.extend(
            budget_limits_pb(await self._usage.budgets(principal, session_id=request.session_id))
        )
        return reply

    async def GetCurrentBilling(
        self, request: asset_pb2.GetCurrentBillingRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetCurrentBillingResponse:
        return billing_pb(await self._usage.billing(caller().user_id), self._settings)

    async def GetMonthlyReport(
        self, request: asset_pb2.GetMonthlyReportRequest, context: aio.ServicerContext
    ) -> asset_pb2.GetMonthlyReportResponse:
        return monthly_pb(await self._usage.monthly(caller().user_id, month=request.month))


def _parts(resources: Resources) -> AssetParts:
    return AssetParts(resources=resources, settings=AssetSettings())  # settings read once, here


def _register(server: aio.Server, parts: AssetParts) -> Closer:
    parts.start()
    asset_pb2_grpc.add_AssetServiceServicer_to_server(AssetServicer(parts=parts), server)
    return parts.close  # after the drain: the pricing subscription, provider and S3 sessions


def spec() -> ServiceSpec[AssetParts]:
    return ServiceSpec(
        name="asset",
        service_names=(_SERVICE,),
        parts=_parts,
        register=_register,
        authenticator=lambda resources, parts: RemoteAuthenticator(channel=resources.channel("auth")),
        peers=("auth",),
    )
