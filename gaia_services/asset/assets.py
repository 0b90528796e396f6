"""Asset rows: each generated asset (``assets``) and its generation (``asset_generations``), per owner."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

__all__ = ["AssetRecord", "AssetStore"]


@dataclass(frozen=True, slots=True)
class AssetRecord:
    asset_id: str
    user_id: str
    category: str
    title: str
    description: str
    style_tags: tuple[str, ...]
    storage_type: str
    storage_key: str
    file_format: str
    file_size_mb: float
    quality_score: float
    license_type: str
    attribution_required: bool
    created_at: datetime  # naive UTC, as the table stores it
    cost: Decimal
    response_time_ms: int
    external_source: str
    source_name: str = "local"
    preview_image_url: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


_SELECT = """
    SELECT a.id::text AS asset_id, a.user_id::text AS user_id, a.category, a.title,
           COALESCE(a.description, '') AS description, COALESCE(a.style_tags, '{}') AS style_tags,
           a.storage_type, a.file_url, COALESCE(a.file_format, '') AS file_format,
           COALESCE(a.file_size_mb, 0) AS file_size_mb, COALESCE(a.quality_score, 0) AS quality_score,
           COALESCE(a.license_type, 'proprietary') AS license_type,
           COALESCE(a.attribution_required, false) AS attribution_required, a.preview_image_url,
           COALESCE(a.metadata, '{}') AS metadata, a.created_at,
           COALESCE(g.generation_cost, 0) AS cost, COALESCE(g.generation_time_ms, 0) AS response_time_ms,
           COALESCE(g.generation_service, s.source_name, 'external') AS external_source,
           COALESCE(s.source_name, '') AS source_name
      FROM assets a
      LEFT JOIN asset_generations g ON g.asset_id = a.id
      LEFT JOIN asset_sources s ON s.id = a.source_id
"""

_FILTER = """
     WHERE a.user_id = $1
       AND ($2 = '' OR a.category = $2)
       AND ($3 = '' OR $3 = ANY(a.style_tags))
       AND ($4 = '' OR to_tsvector('english', a.title) @@ plainto_tsquery('english', $4)
                    OR to_tsvector('english', a.description) @@ plainto_tsquery('english', $4))
"""


def _record(row: asyncpg.Record) -> AssetRecord:
    metadata = row["metadata"]
    return AssetRecord(
        asset_id=row["asset_id"],
        user_id=row["user_id"] or "",
        category=row["category"],
        title=row["title"],
        description=row["description"],
        style_tags=tuple(row["style_tags"]),
        storage_type=row["storage_type"],
        storage_key=row["file_url"],
        file_format=row["file_format"],
        file_size_mb=float(row["file_size_mb"]),
        quality_score=float(row["quality_score"]),
        license_type=row["license_type"],
        attribution_required=row["attribution_required"],
        created_at=row["created_at"],
        cost=row["cost"],
        response_time_ms=row["response_time_ms"],
        external_source=row["external_source"],
        source_name=row["source_name"],
        preview_image_url=row["preview_image_url"],
        metadata=json.loads(metadata) if isinstance(metadata, str) else dict(metadata),
    )


class AssetStore:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def insert(
        self,
        conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
        record: AssetRecord,
        *,
        prompt: str,
        session_id: str,
        generation_metadata: Mapping[str, Any],
    ) -> None:
        """Both rows of a generated asset; call inside the caller's transaction."""
        await conn.execute(
            """
            INSERT INTO assets (id, source_id, category, title, description, style_tags, file_url,
                                storage_type, file_size_mb, file_format, preview_image_url, quality_score,
                                license_type,
                                attribution_required, metadata, user_id, created_at, updated_at)
            VALUES ($1, (SELECT id FROM asset_sources WHERE source_name = $2), $3, $4, $5, $6, $7, $8, $9,
                    $10, $11, $12, $13, $14, $15::jsonb, $16, $17, $17)
            """,
            record.asset_id,
            record.source_name,
            record.category,
            record.title,
            record.description,
            list(record.style_tags),
            record.storage_key,
            record.storage_type,
            record.file_size_mb,
            record.file_format,
            record.preview_image_url,
            record.quality_score,
            record.license_type,
            record.attribution_required,
            json.dumps(dict(record.metadata)),
            record.user_id,
            record.created_at,
        )
        await conn.execute(
            """
            INSERT INTO asset_generations (asset_id, generation_prompt, generation_service, generation_cost,
                                           generation_time_ms, session_id, user_id, generation_metadata,
                                           created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
            """,
            record.asset_id,
            prompt,
            record.external_source,
            record.cost,
            record.response_time_ms,
            session_id,
            record.user_id,
            json.dumps(dict(generation_metadata)),
            record.created_at,
        )

    async def get(self, *, user_id: str, asset_id: str) -> AssetRecord | None:
        try:
            row = await self._pool.fetchrow(
                _SELECT + " WHERE a.id = $1::uuid AND a.user_id = $2::uuid", asset_id, user_id
            )
        except asyncpg.DataError:  # not a UUID: no such asset
            return None
        return _record(row) if row else None

    async def list(
        self,
        *,
        user_id: str,
        category: str = "",
        style: str = "",
        query: str = "",
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[AssetRecord], int]:
        args = (user_id, category, style, query)
        total = await self._pool.fetchval("SELECT COUNT(*) FROM assets a" + _FILTER, *args)
        rows = await self._pool.fetch(
            _SELECT + _FILTER + " ORDER BY a.created_at DESC, a.id LIMIT $5 OFFSET $6", *args, limit, offset
        )
        return [_record(r) for r in rows], int(total)
