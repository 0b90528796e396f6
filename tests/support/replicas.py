"""Several replicas of the mesh's parts on one machine: each part a real ``gaia serve <part>`` process on
its own free port, all against the same Postgres, Redis and NATS, as a cluster runs them.

Only settings choose the addresses (``GAIA_HTTP_PORT``, ``GAIA_<SERVICE>_ADDR``): a shim is given a gRPC
target naming several chat replicas (``ipv4:127.0.0.1:p1,127.0.0.1:p2``), whose first live one it uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from gaia_services.db import migrate_url
from gaia_services.db.seed import seed_dev_identity
from gaia_services.embedded import free_ports
from gaia_services.processes import spawn, terminate
from gaia_services.runtime.probes import ProbeResult, probe_grpc, probe_http
from tests.support.infra import Infra

__all__ = ["Part", "Replicas", "run_replicas"]


@dataclass
class Part:
    name: str
    kind: str  # auth, chat, asset or shim
    address: str  # host:port of a service, or the shim's base URL
    env: Mapping[str, str]
    process: asyncio.subprocess.Process | None = None
    log: list[str] = field(default_factory=list)
    pump: asyncio.Task[None] | None = None

    async def probe(self) -> ProbeResult:
        if self.kind == "shim":
            return await probe_http(f"{self.address}/api/v0.2/health", timeout=1.0)
        return await probe_grpc(self.address, timeout=1.0)


@dataclass
class Replicas:
    parts: dict[str, Part]

    def url(self, name: str) -> str:
        return self.parts[name].address

    def kill(self, name: str) -> None:
        """SIGKILL: the replica dies as a crashed pod does, nothing drained."""
        process = self.parts[name].process
        assert process is not None and process.returncode is None
        os.killpg(process.pid, signal.SIGKILL)

    def logs(self) -> str:
        return "\n".join(f"{p.name} | {line}" for p in self.parts.values() for line in p.log[-30:])


async def _pump(part: Part) -> None:
    assert part.process is not None and part.process.stdout is not None
    while line := await part.process.stdout.readline():
        part.log.append(line.decode(errors="replace").rstrip())
        if os.environ.get("GAIA_TEST_ECHO"):
            print(f"{part.name} | {part.log[-1]}", file=sys.stderr)


async def _prepare(database_url: str) -> None:
    """What ``gaia up`` does before starting anything (in a cluster: the migration Job)."""
    await migrate_url(database_url)
    conn = await asyncpg.connect(database_url)
    try:
        await seed_dev_identity(conn)
    finally:
        await conn.close()


def _layout(chats: int, shims: int) -> tuple[dict[str, Part], dict[str, str]]:
    names = ("auth", "asset", *(f"chat{i}" for i in range(chats)), *(f"shim{i}" for i in range(shims)))
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    shared = {
        "GAIA_AUTH_ADDR": f"127.0.0.1:{ports['auth']}",
        "GAIA_ASSET_ADDR": f"127.0.0.1:{ports['asset']}",
    }
    chat_addrs = [f"127.0.0.1:{ports[f'chat{i}']}" for i in range(chats)]
    parts = {
        "auth": Part("auth", "auth", shared["GAIA_AUTH_ADDR"], {}),
        "asset": Part("asset", "asset", shared["GAIA_ASSET_ADDR"], {}),
    }
    for i, addr in enumerate(chat_addrs):
        parts[f"chat{i}"] = Part(f"chat{i}", "chat", addr, {"GAIA_CHAT_ADDR": addr})
    for i in range(shims):
        port = ports[f"shim{i}"]
        # Shim i prefers chat i (pick_first takes the first live address), fails over to the others.
        order = chat_addrs[i % chats :] + chat_addrs[: i % chats]
        parts[f"shim{i}"] = Part(
            f"shim{i}",
            "shim",
            f"http://127.0.0.1:{port}",
            {"GAIA_HTTP_PORT": str(port), "GAIA_CHAT_ADDR": "ipv4:" + ",".join(order)},
        )
    return parts, shared


@contextlib.asynccontextmanager
async def run_replicas(
    infra: Infra,
    data_dir: Path,
    *,
    chats: int = 2,
    shims: int = 2,
    extra_env: Mapping[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> AsyncIterator[Replicas]:
    """One auth, one asset, ``chats`` chat and ``shims`` shim processes; shim ``i`` prefers chat ``i``.

    The parts get a Redis prefix of their own (under the session's), so their limits start from zero."""
    await _prepare(infra.database_url)
    parts, shared = _layout(chats, shims)
    base = {
        **os.environ,
        **infra.env(),
        "GAIA_REDIS_PREFIX": f"{infra.redis_prefix}replicas-{uuid.uuid4().hex[:6]}:",
        "GAIA_ENV": "dev",
        "GAIA_HOST": "127.0.0.1",
        "GAIA_DATA_DIR": str(data_dir),
        "GAIA_AUTH_LIGHT_HASHING": "true",
        "GAIA_SHUTDOWN_GRACE_S": "2",
        "PYTHONUNBUFFERED": "1",
        **shared,
        **(extra_env or {}),
    }
    replicas = Replicas(parts)
    try:
        for part in parts.values():
            argv = (sys.executable, "-m", "gaia_services.cli", "serve", part.kind)
            part.process = await spawn(argv, env={**base, **part.env})
            part.pump = asyncio.create_task(_pump(part))
        deadline = time.monotonic() + ready_timeout
        for part in parts.values():
            while not (result := await part.probe()).ok:
                assert part.process is not None
                if part.process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{part.name} not ready ({result.error}):\n{replicas.logs()}")
                await asyncio.sleep(0.2)
        yield replicas
    finally:
        await asyncio.gather(
            *(terminate(p.process, timeout=5.0) for p in parts.values() if p.process is not None)
        )
        for part in parts.values():
            if part.pump is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(part.pump, 2.0)
