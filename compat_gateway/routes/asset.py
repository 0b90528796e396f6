"""Routes of the asset catalogue: ``/api/v1/assets*`` (generation, as one answer or as a stream of its
progress, listing, one asset, its download).

The pricing and usage routes of the same service live in ``routes.pricing`` and ``routes.usage``."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from gaia.asset.v1 import asset_pb2
from gaia.common.v1 import common_pb2
from pydantic import BaseModel, Field

from compat_gateway.errors import ErrorStyle, LegacyError
from compat_gateway.inbound import Inbound
from compat_gateway.render import asset as render_asset
from compat_gateway.routes.table import Collected, Local, Relayed, Route, Unary
from compat_gateway.rpcs import ASSET
from compat_gateway.schemas import asset as schemas
from gaia_services.runtime.probes import probe_grpc_channel

__all__ = ["ROUTES"]


class Category(StrEnum):
    ENVIRONMENT = "environment"
    CHARACTER = "character"
    PROP = "prop"
    AUDIO = "audio"
    TEXTURE = "texture"
    ANIMATION = "animation"
    IMAGE = "image"


class Quality(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    ULTRA = "ultra"


class Requirements(BaseModel):
    platform: str
    quality: Quality = Quality.MEDIUM
    polygon_count_max: int | None = None
    file_size_max_mb: int | None = None
    format: str | None = None


class Preferences(BaseModel):
    allow_database: bool = True
    allow_modifications: bool = True
    allow_generation: bool = True
    max_cost: float = 0.50
    max_wait_time_ms: int = 5000


class AssetRequest(BaseModel):
    """The reference's ``AssetRequest``."""

    category: Category
    style: str
    description: str
    requirements: Requirements | None = None
    preferences: Preferences | None = None
    session_id: str | None = None


_CATEGORY = {c.value: getattr(asset_pb2, f"ASSET_CATEGORY_{c.name}") for c in Category}
_QUALITY = {q.value: getattr(asset_pb2, f"ASSET_QUALITY_{q.name}") for q in Quality}


def _generate(inbound: Inbound) -> asset_pb2.GenerateAssetRequest:
    body: AssetRequest = inbound.body_model
    message = asset_pb2.GenerateAssetRequest(
        category=_CATEGORY[body.category.value],
        style=body.style,
        description=body.description,
        session_id=body.session_id or "",
    )
    if body.requirements is not None:
        r = body.requirements
        message.requirements.CopyFrom(
            asset_pb2.AssetRequirements(
                platform=r.platform,
                quality=_QUALITY[r.quality.value],
                polygon_count_max=r.polygon_count_max,
                file_size_max_mb=r.file_size_max_mb,
                format=r.format,
            )
        )
    if body.preferences is not None:
        p = body.preferences
        message.preferences.CopyFrom(
            asset_pb2.AssetPreferences(
                allow_database=p.allow_database,
                allow_modifications=p.allow_modifications,
                allow_generation=p.allow_generation,
                max_cost=p.max_cost,
                max_wait_time_ms=p.max_wait_time_ms,
            )
        )
    return message


class ListQuery(BaseModel):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0)
    category: Category | None = None
    style: str = ""
    query: str = Field("", alias="q")
    search: str = ""


def _list(inbound: Inbound) -> asset_pb2.ListAssetsRequest:
    q: ListQuery = inbound.query_model
    return asset_pb2.ListAssetsRequest(
        page=common_pb2.PageRequest(limit=q.limit, offset=q.offset),
        category=_CATEGORY[q.category.value] if q.category else asset_pb2.ASSET_CATEGORY_UNSPECIFIED,
        style=q.style,
        query=q.query or q.search or inbound.query.get("query", ""),
    )


def _asset_id(inbound: Inbound) -> Any:
    return inbound.path_params["asset_id"]


async def assets_test(inbound: Inbound) -> dict[str, Any]:
    shim = inbound.shim
    result = await probe_grpc_channel(shim.channels["asset"], timeout=shim.settings.health_probe_timeout_s)
    if not result.ok:
        raise LegacyError(503, {"detail": "Service asset unavailable"})
    return {
        "status": "ok",
        "service": "asset-service",
        "message": "Asset service is running",
        "timestamp": datetime.now(UTC).replace(tzinfo=None).isoformat(),
    }


_GENERATE = Collected(
    method="POST",
    path="/api/v1/assets/generate",
    name="assets_generate",
    body=AssetRequest,
    build=_generate,
    render=render_asset.generated,
    response=schemas.AssetResponse,
    summary="Generate an asset (waits for the end of the generation)",
    rpc=ASSET.GenerateAsset,
    deadline="long",  # GAIA_LONG_REQUEST_TIMEOUT_S: a generation may take minutes
)

ROUTES: tuple[Route, ...] = (
    # v1 assets (``test`` before ``{asset_id}``).
    Local(
        method="GET",
        path="/api/v1/assets/test",
        name="assets_test",
        auth=False,
        response=schemas.AssetsTest,
        summary="Asset service liveness",
        answer=assets_test,
    ),
    Unary(
        method="GET",
        path="/api/v1/assets",
        name="assets_list",
        build=_list,
        render=render_asset.listing,
        query=ListQuery,
        response=schemas.AssetList,
        summary="The caller's assets (paged, filtered, searched)",
        rpc=ASSET.ListAssets,
    ),
    _GENERATE,
    Relayed(
        method="POST",
        path="/api/v1/assets/generate/stream",
        name="assets_generate_stream",
        body=AssetRequest,
        errors=ErrorStyle.PLAIN,
        summary="Generate an asset, its progress relayed as server-sent events (a new route)",
        rpc=ASSET.GenerateAsset,
        build=_generate,
        sse=render_asset.generation_sse,  # primed: a refusal before acceptance is an HTTP error
    ),
    Unary(
        method="GET",
        path="/api/v1/assets/{asset_id}",
        name="assets_get",
        build=lambda i: asset_pb2.GetAssetRequest(asset_id=_asset_id(i)),
        render=render_asset.one,
        response=schemas.AssetResponse,
        summary="One of the caller's assets",
        rpc=ASSET.GetAsset,
    ),
    Collected(
        method="GET",
        path="/api/v1/assets/{asset_id}/download",
        name="assets_download",
        build=lambda i: asset_pb2.DownloadAssetRequest(asset_id=_asset_id(i)),
        render=render_asset.download,
        media_type="*/*",  # the stored file's own content type
        summary="The stored file of one of the caller's assets",
        rpc=ASSET.DownloadAsset,
    ),
)
