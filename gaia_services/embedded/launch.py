"""Start the embedded servers a configuration lacks, all at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gaia_services.embedded.nats import EmbeddedNats
from gaia_services.embedded.postgres import EmbeddedPostgres
from gaia_services.embedded.protocol import EmbeddedServer
from gaia_services.embedded.redis import EmbeddedRedis

__all__ = ["Urls", "start_missing", "stop_all"]


@dataclass(frozen=True, slots=True)
class Urls:
    """Where Postgres, Redis and NATS are, configured or embedded."""

    database_url: str
    redis_url: str
    nats_url: str


async def start_missing(
    *,
    data_dir: Path,
    database_url: str | None,
    redis_url: str | None,
    nats_url: str | None,
) -> tuple[Urls, list[EmbeddedServer]]:
    """Start an embedded server for each URL not given (``None`` or empty), concurrently.

    Data goes to ``data_dir/postgres``, ``data_dir/redis`` and ``data_dir/nats``. Returns the URLs to use and
    the servers started, which the caller stops (:func:`stop_all`). If one fails, the others are stopped and
    the first error is raised.
    """
    servers: list[EmbeddedServer] = []
    if not database_url:
        servers.append(EmbeddedPostgres(data_dir=data_dir / "postgres"))
    if not redis_url:
        servers.append(EmbeddedRedis(data_dir=data_dir / "redis"))
    if not nats_url:
        servers.append(EmbeddedNats(data_dir=data_dir / "nats"))
    try:
        results = await asyncio.gather(*(server.start() for server in servers), return_exceptions=True)
    except BaseException:
        await stop_all(servers)
        raise
    for result in results:
        if isinstance(result, BaseException):
            await stop_all(servers)
            raise result
    started = {server.name: server.url for server in servers}
    urls = Urls(
        database_url=database_url or started["postgres"],
        redis_url=redis_url or started["redis"],
        nats_url=nats_url or started["nats"],
    )
    return urls, servers


async def stop_all(servers: Sequence[EmbeddedServer]) -> None:
    """Stop every server concurrently; each stop is idempotent and never raises for a dead process."""
    await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)
