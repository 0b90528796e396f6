"""Asset RPCs: generation with streamed progress, the caller's catalogue, and downloads of stored files."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import aiohttp
from gaia.asset.v1 import asset_pb2
from gaia.common.v1 import common_pb2
from google.protobuf.struct_pb2 import Struct

from gaia_services.asset.assets import AssetRecord, AssetStore
from gaia_services.asset.budgets import Budgets
from gaia_services.asset.convert import ts
from gaia_services.asset.generation import Done, Failed, GenerationRequest, Generator, Progress
from gaia_services.asset.provider_clients import providers_for
from gaia_services.asset.providers import Provider
from gaia_services.asset.s3 import S3Storage
from gaia_services.asset.service_pricing import PricingRpcs, caller_id
from gaia_services.asset.settings import AssetSettings
from gaia_services.asset.sigv4 import SigningKey
from gaia_services.asset.storage import LocalStorage, Storage, content_type_for
from gaia_services.asset.usage import UsageStore
from gaia_services.runtime.errors import InvalidArgument, NotFound
from gaia_services.runtime.resources import Resources

__all__ = ["AssetRpcs"]

_CATEGORIES = {
    asset_pb2.ASSET_CATEGORY_ENVIRONMENT: "environment",
    asset_pb2.ASSET_CATEGORY_CHARACTER: "character",
    asset_pb2.ASSET_CATEGORY_PROP: "prop",
    asset_pb2.ASSET_CATEGORY_AUDIO: "audio",
    asset_pb2.ASSET_CATEGORY_TEXTURE: "texture",
    asset_pb2.ASSET_CATEGORY_ANIMATION: "animation",
    asset_pb2.ASSET_CATEGORY_IMAGE: "image",
}
_CATEGORY_ENUM = {v: k for k, v in _CATEGORIES.items()}
_QUALITIES = {
    asset_pb2.ASSET_QUALITY_LOW: "low",
    asset_pb2.ASSET_QUALITY_MEDIUM: "medium",
    asset_pb2.ASSET_QUALITY_HIGH: "high",
    asset_pb2.ASSET_QUALITY_ULTRA: "ultra",
}
_STAGES = {
    "queued": asset_pb2.GENERATION_STAGE_QUEUED,
    "budget_checked": asset_pb2.GENERATION_STAGE_BUDGET_CHECKED,
    "provider_called": asset_pb2.GENERATION_STAGE_PROVIDER_CALLED,
    "polling": asset_pb2.GENERATION_STAGE_POLLING,
    "stored": asset_pb2.GENERATION_STAGE_STORED,
}
_STORAGE = {
    "local": asset_pb2.STORAGE_TYPE_LOCAL,
    "s3": asset_pb2.STORAGE_TYPE_S3,
    "supabase": asset_pb2.STORAGE_TYPE_SUPABASE,
    "external": asset_pb2.STORAGE_TYPE_EXTERNAL,
}
_LICENSES = {
    "creative_commons": asset_pb2.LICENSE_TYPE_CREATIVE_COMMONS,
    "public_domain": asset_pb2.LICENSE_TYPE_PUBLIC_DOMAIN,
    "custom": asset_pb2.LICENSE_TYPE_CUSTOM,
    "commercial": asset_pb2.LICENSE_TYPE_COMMERCIAL,
    "proprietary": asset_pb2.LICENSE_TYPE_PROPRIETARY,
}
_CHUNK = 64 * 1024
_IMAGE_FORMATS = ("png", "jpg", "jpeg", "webp")


def _storage(resources: Resources, settings: AssetSettings) -> Storage:
    if settings.storage == "s3":
        required = {
            "GAIA_ASSET_S3_ENDPOINT": settings.s3_endpoint,
            "GAIA_ASSET_S3_ACCESS_KEY": settings.s3_access_key,
            "GAIA_ASSET_S3_SECRET_KEY": settings.s3_secret_key,
        }
        if missing := [name for name, value in required.items() if not value]:
            raise RuntimeError(f"GAIA_ASSET_STORAGE=s3 needs {', '.join(missing)}")
        assert settings.s3_secret_key is not None
        return S3Storage(
            endpoint=settings.s3_endpoint,
            bucket=settings.s3_bucket or settings.bucket_name,
            key=SigningKey(
                access_key=settings.s3_access_key,
                secret_key=settings.s3_secret_key.get_secret_value(),
                region=settings.s3_region,
            ),
            path_style=settings.s3_path_style,
            timeout_s=settings.s3_timeout_s,
            connect_timeout_s=settings.s3_connect_timeout_s,
            retries=settings.s3_retries,
        )
    root = settings.storage_dir or resources.settings.data_dir / "assets"
    return LocalStorage(root=root, bucket=settings.bucket_name)


class AssetRpcs:
    def __init__(
        self, *, resources: Resources, settings: AssetSettings, usage: UsageStore, pricing: PricingRpcs
    ) -> None:
        s = resources.settings
        self._settings = settings
        self._pricing = pricing
        self._public = (settings.public_base_url or f"http://{s.host}:{s.http_port}").rstrip("/")
        self._store = AssetStore(pool=resources.pool())
        self._storage = _storage(resources, settings)
        self._session: aiohttp.ClientSession | None = None
        self._generator = Generator(
            pool=resources.pool(),
            store=self._store,
            storage=self._storage,
            budgets=Budgets(
                client=resources.redis,
                prefix=s.redis_prefix,
                session_daily=settings.session_daily_budget,
                user_monthly=settings.user_monthly_budget,
            ),
            usage=usage,
            events=resources.events,
            providers=self._providers,
        )

    def _providers(self, category: str) -> list[Provider]:
        if self._session is None:  # opened on first use, in the serving loop; closed by ``close``
            self._session = aiohttp.ClientSession()
        return providers_for(
            category, settings=self._settings, book=self._pricing.book, session=self._session
        )

    async def close(self) -> None:
        """Release outgoing connections: the providers' HTTP session and the storage's."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        await self._storage.close()

    def download_url(self, asset_id: str) -> str:
        return f"{self._public}/api/v1/assets/{asset_id}/download"

    def _asset_pb(self, record: AssetRecord) -> asset_pb2.Asset:
        url = self.download_url(record.asset_id)
        data = asset_pb2.AssetData(
            download_url=url,
            file_format=record.file_format,
            file_size_mb=record.file_size_mb,
            quality_score=record.quality_score,
            license_type=_LICENSES.get(record.license_type, asset_pb2.LICENSE_TYPE_UNSPECIFIED),
            attribution_required=record.attribution_required,
        )
        preview = record.preview_image_url or (url if record.file_format in _IMAGE_FORMATS else None)
        if preview:
            data.preview_image_url = preview
        metadata = Struct()
        metadata.update(dict(record.metadata))
        return asset_pb2.Asset(
            asset_id=record.asset_id,
            source=asset_pb2.ASSET_SOURCE_GENERATED,
            cost=float(record.cost),
            response_time_ms=record.response_time_ms,
            asset_data=data,
            storage_info=asset_pb2.StorageInfo(
                storage_type=_STORAGE.get(record.storage_type, asset_pb2.STORAGE_TYPE_UNSPECIFIED),
                bucket_name=self._storage.bucket,
                file_path=record.storage_key,
                external_source=record.external_source,
            ),
            metadata=metadata,
            title=record.title,
            category=_CATEGORY_ENUM.get(record.category, asset_pb2.ASSET_CATEGORY_UNSPECIFIED),
            style_tags=list(record.style_tags),
            created_at=ts(record.created_at),
            description=record.description,
        )

    async def generate(
        self, request: asset_pb2.GenerateAssetRequest
    ) -> AsyncIterator[asset_pb2.GenerateAssetResponse]:
        category = _CATEGORIES.get(request.category)
        if category is None:
            raise InvalidArgument("category is required")
        await self._pricing.ready()
        quality = "medium"
        if request.HasField("requirements"):
            quality = _QUALITIES.get(request.requirements.quality, "medium")
        domain = GenerationRequest(
            category=category,
            style=request.style,
            description=request.description,
            quality=quality,
            session_id=request.session_id,
        )
        generation_id = str(uuid.uuid4())
        async for event in self._generator.generate(domain, user_id=caller_id(), generation_id=generation_id):
            match event:
                case Progress():
                    yield asset_pb2.GenerateAssetResponse(
                        generation_id=generation_id,
                        progress=asset_pb2.GenerationProgress(
                            stage=_STAGES[event.stage],
                            message=event.message,
                            percent=event.percent,
                            provider=event.provider,
                        ),
                    )
                case Done():
                    yield asset_pb2.GenerateAssetResponse(
                        generation_id=generation_id,
                        done=asset_pb2.GenerationDone(asset=self._asset_pb(event.asset)),
                    )
                case Failed():
                    yield asset_pb2.GenerateAssetResponse(
                        generation_id=generation_id,
                        failed=common_pb2.Failure(
                            code=event.code, reason=event.reason, message=event.message
                        ),
                    )

    async def list(self, request: asset_pb2.ListAssetsRequest) -> asset_pb2.ListAssetsResponse:
        limit = request.page.limit if request.page.limit > 0 else 20
        rows, total = await self._store.list(
            user_id=caller_id(),
            category=_CATEGORIES.get(request.category, ""),
            style=request.style,
            query=request.query,
            limit=min(limit, 100),
            offset=max(0, request.page.offset),
        )
        return asset_pb2.ListAssetsResponse(assets=[self._asset_pb(r) for r in rows], total=total)

    async def _owned(self, asset_id: str) -> AssetRecord:
        record = await self._store.get(user_id=caller_id(), asset_id=asset_id)
        if record is None:
            raise NotFound("Not Found")
        return record

    async def get(self, request: asset_pb2.GetAssetRequest) -> asset_pb2.GetAssetResponse:
        return asset_pb2.GetAssetResponse(asset=self._asset_pb(await self._owned(request.asset_id)))

    async def download(
        self, request: asset_pb2.DownloadAssetRequest
    ) -> AsyncIterator[asset_pb2.DownloadAssetResponse]:
        record = await self._owned(request.asset_id)
        async with self._storage.open(record.storage_key) as blob:
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
