"""Response models of the asset routes (the reference's ``AssetResponse`` and listing)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AssetData", "AssetList", "AssetResponse", "AssetsTest", "StorageInfo"]


class AssetData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    download_url: str
    preview_image_url: str | None
    file_format: str
    file_size_mb: float
    quality_score: float
    license_type: str
    attribution_required: bool


class StorageInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    storage_type: str = Field(description="local, s3, supabase or external")
    bucket_name: str
    file_path: str
    external_source: str


class AssetResponse(BaseModel):
    """One asset: where it came from, what it cost, its file and where it is stored."""

    model_config = ConfigDict(extra="forbid")

    asset_id: str
    source: str = Field(description="database, hybrid or generated")
    cost: float
    response_time_ms: float
    asset_data: AssetData
    storage_info: StorageInfo
    metadata: dict[str, Any]
    cost_breakdown: dict[str, Any] | None


class AssetList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assets: list[AssetResponse]
    total: int
    message: str
    timestamp: str


class AssetsTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    service: str
    message: str
    timestamp: str
