"""Assets and generation events (plain data) ↔ protobuf."""

from __future__ import annotations

from collections.abc import Callable

from gaia.asset.v1 import asset_pb2
from gaia.common.v1 import common_pb2
from google.protobuf.struct_pb2 import Struct

from gaia_services.asset.assets import AssetRecord
from gaia_services.asset.convert import ts
from gaia_services.asset.generation import Done, Event, Failed, GenerationRequest, Progress

__all__ = ["asset_pb", "category_of", "generation_event_pb", "generation_request"]

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
_IMAGE_FORMATS = ("png", "jpg", "jpeg", "webp")


def category_of(category: asset_pb2.AssetCategory) -> str | None:
    """The domain name of a category; None when unspecified (or unknown)."""
    return _CATEGORIES.get(category)


def generation_request(request: asset_pb2.GenerateAssetRequest, *, category: str) -> GenerationRequest:
    quality = "medium"
    if request.HasField("requirements"):
        quality = _QUALITIES.get(request.requirements.quality, "medium")
    return GenerationRequest(
        category=category,
        style=request.style,
        description=request.description,
        quality=quality,
        session_id=request.session_id,
    )


def asset_pb(record: AssetRecord, *, download_url: str, bucket: str) -> asset_pb2.Asset:
    data = asset_pb2.AssetData(
        download_url=download_url,
        file_format=record.file_format,
        file_size_mb=record.file_size_mb,
        quality_score=record.quality_score,
        license_type=_LICENSES.get(record.license_type, asset_pb2.LICENSE_TYPE_UNSPECIFIED),
        attribution_required=record.attribution_required,
    )
    preview = record.preview_image_url or (download_url if record.file_format in _IMAGE_FORMATS else None)
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
            bucket_name=bucket,
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


def generation_event_pb(
    event: Event, *, generation_id: str, to_asset: Callable[[AssetRecord], asset_pb2.Asset]
) -> asset_pb2.GenerateAssetResponse:
    """One event of a generation stream (a ``Done`` one's asset converted by ``to_asset``)."""
    match event:
        case Progress():
            return asset_pb2.GenerateAssetResponse(
                generation_id=generation_id,
                progress=asset_pb2.GenerationProgress(
                    stage=_STAGES[event.stage],
                    message=event.message,
                    percent=event.percent,
                    provider=event.provider,
                ),
            )
        case Done():
            return asset_pb2.GenerateAssetResponse(
                generation_id=generation_id, done=asset_pb2.GenerationDone(asset=to_asset(event.asset))
            )
        case Failed():
            return asset_pb2.GenerateAssetResponse(
                generation_id=generation_id,
                failed=common_pb2.Failure(code=event.code, reason=event.reason, message=event.message),
            )
    raise TypeError(event)
