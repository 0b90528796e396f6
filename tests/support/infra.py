"""Infrastructure for a test session: embedded servers, or the standalone ones named by *_URL.

On standalone servers the session creates its own database and Redis key prefix and removes only those.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis.asyncio as redis

from gaia_services.embedded import start_missing, stop_all

__all__ = ["Infra", "open_infra"]


@dataclass(frozen=True)
class Infra:
    database_url: str
    redis_url: str
    nats_url: str
    redis_prefix: str
    standalone: bool

    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "NATS_URL": self.nats_url,
            "GAIA_REDIS_PREFIX": self.redis_prefix,
        }


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@contextlib.asynccontextmanager
async def open_infra(data_dir: Path) -> AsyncIterator[Infra]:
    tag = uuid.uuid4().hex[:10]
    admin_url = os.environ.get("DATABASE_URL") or None
    urls, servers = await start_missing(
        data_dir=data_dir,
        database_url=admin_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        nats_url=os.environ.get("NATS_URL") or None,
    )
    database = f"gaia_test_{tag}"
    admin = await asyncpg.connect(urls.database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    prefix = f"gaia-test-{tag}:"
    try:
        yield Infra(
            database_url=_with_database(urls.database_url, database),
            redis_url=urls.redis_url,
            nats_url=urls.nats_url,
            redis_prefix=prefix,
            standalone=admin_url is not None,
        )
    finally:
        admin = await asyncpg.connect(urls.database_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
        client = redis.from_url(urls.redis_url)
        try:
            async for key in client.scan_iter(match=f"{prefix}*"):
                await client.delete(key)
        finally:
            await client.aclose()
        await stop_all(servers)
