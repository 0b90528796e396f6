"""Asset replies → the reference's ``AssetResponse`` and listing JSON, and downloads → the file itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
from fastapi import Response
from gaia.asset.v1 import asset_pb2
from google.protobuf.json_format import MessageToDict

from compat_gateway.errors import HTTP_STATUS, LegacyError, wrap
from compat_gateway.inbound import Inbound

__all__ = ["asset_response", "download", "generated", "listing", "one"]

_CODES = {code.value[0]: code for code in grpc.StatusCode}
_SOURCES = {
    asset_pb2.ASSET_SOURCE_DATABASE: "database",
    asset_pb2.ASSET_SOURCE_MODIFIED: "hybrid",
    asset_pb2.ASSET_SOURCE_GENERATED: "generated",
}
_STORAGE = {
    asset_pb2.STORAGE_TYPE_LOCAL: "local",
    asset_pb2.STORAGE_TYPE_S3: "s3",
    asset_pb2.STORAGE_TYPE_SUPABASE: "supabase",
    asset_pb2.STORAGE_TYPE_EXTERNAL: "external",
}
_LICENSES = {
    asset_pb2.LICENSE_TYPE_CREATIVE_COMMONS: "creative_commons",
    asset_pb2.LICENSE_TYPE_PUBLIC_DOMAIN: "public_domain",
    asset_pb2.LICENSE_TYPE_CUSTOM: "custom",
    asset_pb2.LICENSE_TYPE_COMMERCIAL: "commercial",
    asset_pb2.LICENSE_TYPE_PROPRIETARY: "proprietary",
}


def asset_response(a: asset_pb2.Asset) -> dict[str, Any]:
    d, s = a.asset_data, a.storage_info
    return {
        "asset_id": a.asset_id,
        "source": _SOURCES.get(a.source, "generated"),
        "cost": a.cost,
        "response_time_ms": a.response_time_ms,
        "asset_data": {
            "download_url": d.download_url,
            "preview_image_url": d.preview_image_url if d.HasField("preview_image_url") else None,
            "file_format": d.file_format,
            "file_size_mb": d.file_size_mb,
            "quality_score": d.quality_score,
            "license_type": _LICENSES.get(d.license_type, "proprietary"),
            "attribution_required": d.attribution_required,
        },
        "storage_info": {
            "storage_type": _STORAGE.get(s.storage_type, "external"),
            "bucket_name": s.bucket_name,
            "file_path": s.file_path,
            "external_source": s.external_source,
        },
        "metadata": MessageToDict(a.metadata),
        "cost_breakdown": None,
    }


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat()


def listing(reply: asset_pb2.ListAssetsResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "assets": [asset_response(a) for a in reply.assets],
        "total": reply.total,
        "message": f"Found {reply.total} assets",
        "timestamp": _now(),
    }


def one(reply: asset_pb2.GetAssetResponse, inbound: Inbound) -> dict[str, Any]:
    return asset_response(reply.asset)


def generated(events: list[asset_pb2.GenerateAssetResponse], inbound: Inbound) -> dict[str, Any]:
    """The stream's terminal event: the stored asset, or the failure with its status (wrapped)."""
    for event in reversed(events):
        kind = event.WhichOneof("event")
        if kind == "done":
            return asset_response(event.done.asset)
        if kind == "failed":
            code = _CODES.get(event.failed.code)
            status = HTTP_STATUS.get(code, 500) if code is not None else 500
            raise LegacyError(status, wrap(event.failed.message))
    raise LegacyError(500, {"detail": "Internal server error"})


def download(chunks: list[asset_pb2.DownloadAssetResponse], inbound: Inbound) -> Response:
    if not chunks:
        raise LegacyError(404, wrap("Not Found"))
    first = chunks[0]
    return Response(
        content=b"".join(c.data for c in chunks),
        media_type=first.content_type or None,
        headers={"Content-Disposition": f'attachment; filename="{first.file_name}"'},
    )
