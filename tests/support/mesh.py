"""A real mesh for tests: ``gaia up`` in a subprocess on free ports, against the session's infrastructure."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from gaia_services.embedded import free_ports
from tests.support.infra import Infra

__all__ = ["DEV_API_KEY", "Mesh", "run_mesh"]

DEV_API_KEY = "FJUeDkZRy0uPp7cYtavMsIfwi7weF9-RT7BeOlusqnE"


@dataclass
class Mesh:
    process: asyncio.subprocess.Process
    data_dir: Path
    http: str
    web: str
    addrs: Mapping[str, str]
    env: Mapping[str, str]
    log: list[str] = field(default_factory=list)

    def state(self) -> dict[str, object]:
        return json.loads((self.data_dir / "run" / "mesh.json").read_text())

    def child_pid(self, name: str) -> int:
        children = self.state()["children"]
        assert isinstance(children, dict)
        return int(children[name]["pid"])

    def all_pids(self) -> list[int]:
        state = self.state()
        pids = [int(state["supervisor_pid"])]  # type: ignore[arg-type]
        for group in ("children", "infra"):
            entries = state[group]
            assert isinstance(entries, dict)
            pids.extend(int(e["pid"]) for e in entries.values() if e["pid"])
        return pids


async def _pump(mesh: Mesh, stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        mesh.log.append(text)
        if os.environ.get("GAIA_TEST_ECHO"):
            print(text, file=sys.stderr)


async def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not ready")
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def run_mesh(
    infra: Infra, data_dir: Path, *, extra_env: Mapping[str, str] | None = None, ready_timeout: float = 60.0
) -> AsyncIterator[Mesh]:
    names = ("http", "web", "auth", "chat", "asset")
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    env = {
        **os.environ,
        **infra.env(),
        "GAIA_ENV": "dev",
        "GAIA_DATA_DIR": str(data_dir),
        "GAIA_HTTP_PORT": str(ports["http"]),
        "GAIA_WEB_PORT": str(ports["web"]),
        "GAIA_AUTH_ADDR": f"127.0.0.1:{ports['auth']}",
        "GAIA_CHAT_ADDR": f"127.0.0.1:{ports['chat']}",
        "GAIA_ASSET_ADDR": f"127.0.0.1:{ports['asset']}",
        "PYTHONUNBUFFERED": "1",
        # Light argon2 parameters, for tests only.
        "GAIA_AUTH_LIGHT_HASHING": "true",
        # Generous default limit: suites and the fuzzer share the dev key (limits have their own tests).
        "GAIA_AUTH_RATE_LIMIT_PER_MINUTE": "100000",
        **(extra_env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gaia_services.cli",
        "up",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    mesh = Mesh(
        process=process,
        data_dir=data_dir,
        http=f"http://127.0.0.1:{ports['http']}",
        web=f"http://127.0.0.1:{ports['web']}",
        addrs={name: f"127.0.0.1:{ports[name]}" for name in ("auth", "chat", "asset")},
        env=env,
    )
    assert process.stdout is not None
    pump = asyncio.create_task(_pump(mesh, process.stdout))
    try:
        waiter = asyncio.create_task(_wait_http(f"{mesh.http}/health", ready_timeout))
        exited = asyncio.create_task(process.wait())
        done, _ = await asyncio.wait({waiter, exited}, return_when=asyncio.FIRST_COMPLETED)
        if exited in done:
            waiter.cancel()
            raise RuntimeError("gaia up exited early:\n" + "\n".join(mesh.log[-40:]))
        exited.cancel()
        await waiter
        await _wait_http(f"{mesh.web}/health", ready_timeout)
        while not (data_dir / "run" / "mesh.json").exists() or "Gaia Mesh is up" not in "\n".join(mesh.log):
            await asyncio.sleep(0.1)
        yield mesh
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        await asyncio.wait_for(pump, 5)
