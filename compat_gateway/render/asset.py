"""Asset replies → the reference's ``AssetResponse`` and listing JSON, a generation's events → SSE, and
downloads → the file itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Response
from gaia.asset.v1 import asset_pb2
from google.protobuf.json_format import MessageToDict
from grpc import aio

from compat_gateway.errors import LegacyError, failure_status, wrap
from compat_gateway.inbound import Inbound
from compat_gateway.render.chat import stream_error_text
from compat_gateway.render.sse import SseFormat, Stream, event

__all__ = ["asset_response", "download", "generated", "generation_sse", "listing", "one"]

_STAGE_PREFIX = "GENERATION_STAGE_"
#: From this stage on the generation is accepted: a failure is an event of the stream, not an HTTP error.
_ACCEPTED = asset_pb2.GENERATION_STAGE_BUDGET_CHECKED
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
    for message in reversed(events):
        kind = message.WhichOneof("event")
        if kind == "done":
            return asset_response(message.done.asset)
        if kind == "failed":
            raise LegacyError(failure_status(message.failed), wrap(message.failed.message))
    raise LegacyError(500, {"detail": "Internal server error"})


def _generation_event(message: asset_pb2.GenerateAssetResponse) -> dict[str, Any]:
    head = {"generation_id": message.generation_id}
    kind = message.WhichOneof("event")
    if kind == "done":
        return {"type": "done", **head, "asset": asset_response(message.done.asset)}
    if kind == "failed":
        return {"type": "error", **head, "error": message.failed.message}
    p = message.progress
    return {
        "type": "progress",
        **head,
        "stage": asset_pb2.GenerationStage.Name(p.stage).removeprefix(_STAGE_PREFIX).lower(),
        "message": p.message,
        "percent": p.percent,
        "provider": p.provider,
    }


def _refusal(message: asset_pb2.GenerateAssetResponse) -> LegacyError | None:
    """A failure before the generation was accepted (its budget checked): an ordinary HTTP error."""
    if message.WhichOneof("event") != "failed":
        return None
    return LegacyError(failure_status(message.failed), {"detail": message.failed.message})


def _accepted(message: asset_pb2.GenerateAssetResponse) -> bool:
    return message.WhichOneof("event") != "progress" or message.progress.stage >= _ACCEPTED


def _broken(exc: aio.AioRpcError | None, stream: Stream) -> bytes:
    error = (
        "The generation ended without an asset" if exc is None else stream_error_text(exc, service="asset")
    )
    return event({"type": "error", "generation_id": stream.first.generation_id, "error": error})


def _as_event(message: asset_pb2.GenerateAssetResponse, stream: Stream) -> bytes:
    return event(_generation_event(message))


#: A generation's events as legacy SSE, relayed as they arrive, ending in one ``done`` or ``error``. Primed:
#: events before the generation is accepted are held back, so that a refusal then (the budget's 429, a bad
#: request) is an ordinary HTTP error (``{"detail": <message>}``), not a stream.
generation_sse = SseFormat(
    events={"progress": _as_event, "done": _as_event, "failed": _as_event},
    terminal=frozenset({"done", "failed"}),
    broken=_broken,
    accepted=_accepted,
    refused=_refusal,
)


def download(chunks: list[asset_pb2.DownloadAssetResponse], inbound: Inbound) -> Response:
    if not chunks:
        raise LegacyError(404, wrap("Not Found"))
    first = chunks[0]
    return Response(
        content=b"".join(c.data for c in chunks),
        media_type=first.content_type or None,
        headers={"Content-Disposition": f'attachment; filename="{first.file_name}"'},
    )
