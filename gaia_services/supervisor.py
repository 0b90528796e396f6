"""``gaia up``: the whole mesh on one machine.

Starts embedded Postgres, Redis and NATS for whichever URL is not set, migrates, seeds the dev identity in
dev mode, then runs auth, chat, asset, the shim and the web UI as supervised child processes: each is
awaited until ready, its log lines are prefixed with its name, it is restarted with backoff if it dies,
and on SIGINT/SIGTERM everything is stopped (front doors first, infrastructure last) within 10 seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gaia_services.db import migrate_url
from gaia_services.db.seed import DEV_API_KEY, seed_dev_identity
from gaia_services.embedded import start_missing, stop_all
from gaia_services.processes import pump_lines, spawn, terminate
from gaia_services.runtime.probes import ProbeResult, probe_grpc, probe_http
from gaia_services.settings import Environment, Settings

__all__ = ["MeshState", "run_mesh", "state_path"]

_log = logging.getLogger("gaia.up")

_READY_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 6.0
_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
_HEALTHY_RESET_S = 30.0


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: tuple[str, ...]
    probe: Callable[[], Awaitable[ProbeResult]]
    url: str


@dataclass
class MeshState:
    """What ``gaia status`` reads: the supervisor's pid, each child's pid and address, the infra URLs."""

    supervisor_pid: int
    started_at: float
    children: dict[str, dict[str, object]] = field(default_factory=dict)
    infra: dict[str, dict[str, object]] = field(default_factory=dict)


def state_path(settings: Settings) -> Path:
    return settings.data_dir / "run" / "mesh.json"


def _write_state(settings: Settings, state: MeshState) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2))
    tmp.replace(path)


class _Supervised:
    """One child: started, awaited until ready, restarted with backoff after an unexpected exit."""

    def __init__(self, *, spec: ChildSpec, env: dict[str, str], on_change: Callable[[], None]) -> None:
        self.spec = spec
        self._env = env
        self._on_change = on_change
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def start(self) -> None:
        self.process = await spawn(self.spec.argv, env=self._env)
        self._pump = asyncio.create_task(pump_lines(self.process.stdout, f"{self.spec.name:>5}"))
        self._on_change()

    def watch(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        failures = 0
        while not self._stopping:
            assert self.process is not None
            started = time.monotonic()
            code = await self.process.wait()
            await self._pump
            if self._stopping:
                return
            failures = 0 if time.monotonic() - started > _HEALTHY_RESET_S else failures + 1
            delay = _BACKOFF_S[min(failures, len(_BACKOFF_S) - 1)]
            _log.warning("%s exited with %s; restarting in %.1fs", self.spec.name, code, delay)
            await asyncio.sleep(delay)
            if self._stopping:
                return
            self.restarts += 1
            await self.start()

    async def wait_ready(self, deadline: float) -> None:
        while True:
            result = await self.spec.probe()
            if result.ok:
                return
            if self.process is not None and self.process.returncode is not None and self._task is None:
                raise RuntimeError(
                    f"{self.spec.name} exited with {self.process.returncode} before it was ready"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.spec.name} not ready after {_READY_TIMEOUT_S:.0f}s: {result.error}"
                )
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.process is not None:
            await terminate(self.process, timeout=_STOP_TIMEOUT_S)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pump, 1.0)


def _children(settings: Settings) -> list[ChildSpec]:
    python = sys.executable
    serve = (python, "-m", "gaia_services.cli", "serve")
    timeout = 1.0

    def grpc(addr: str) -> Callable[[], Awaitable[ProbeResult]]:
        return lambda: probe_grpc(addr, timeout=timeout)

    def http(url: str) -> Callable[[], Awaitable[ProbeResult]]:
        return lambda: probe_http(url, timeout=timeout)

    shim = f"http://{settings.host}:{settings.http_port}"
    web = f"http://{settings.host}:{settings.web_port}"
    return [
        ChildSpec("auth", (*serve, "auth"), grpc(settings.auth_addr), settings.auth_addr),
        ChildSpec("chat", (*serve, "chat"), grpc(settings.chat_addr), settings.chat_addr),
        ChildSpec("asset", (*serve, "asset"), grpc(settings.asset_addr), settings.asset_addr),
        ChildSpec("shim", (*serve, "shim"), http(f"{shim}/api/v0.2/health"), shim),
        ChildSpec("web", (*serve, "web"), http(f"{web}/health"), web),
    ]


async def run_mesh(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    started = time.monotonic()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    data_dir = settings.data_dir.resolve()
    urls, servers = await start_missing(
        data_dir=data_dir,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        nats_url=settings.nats_url,
    )
    state = MeshState(supervisor_pid=os.getpid(), started_at=time.time())
    for server in servers:
        state.infra[type(server).__name__] = {"pid": server.pid, "url": server.url}
    supervised: list[_Supervised] = []
    try:
        applied = await migrate_url(urls.database_url)
        if applied:
            _log.info("migrations applied: %s", ", ".join(applied))
        if settings.env is Environment.DEV:
            import asyncpg

            conn = await asyncpg.connect(urls.database_url)
            try:
                await seed_dev_identity(conn)
            finally:
                await conn.close()

        env = {
            **os.environ,
            "DATABASE_URL": urls.database_url,
            "REDIS_URL": urls.redis_url,
            "NATS_URL": urls.nats_url,
            "GAIA_ENV": settings.env.value,
            "GAIA_DATA_DIR": str(data_dir),
            "GAIA_AUTH_ADDR": settings.auth_addr,
            "GAIA_CHAT_ADDR": settings.chat_addr,
            "GAIA_ASSET_ADDR": settings.asset_addr,
            "GAIA_HTTP_PORT": str(settings.http_port),
            "GAIA_WEB_PORT": str(settings.web_port),
            "GAIA_HOST": settings.host,
            "PYTHONUNBUFFERED": "1",
        }

        def record() -> None:
            state.children = {
                s.spec.name: {"pid": s.pid, "address": s.spec.url, "restarts": s.restarts} for s in supervised
            }
            _write_state(settings, state)

        for spec in _children(settings):
            supervised.append(_Supervised(spec=spec, env=env, on_change=record))
        for child in supervised:
            await child.start()
        deadline = time.monotonic() + _READY_TIMEOUT_S
        ready: asyncio.Future[object] = asyncio.ensure_future(
            asyncio.gather(*(child.wait_ready(deadline) for child in supervised))
        )
        stopper: asyncio.Future[object] = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait((ready, stopper), return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            ready.cancel()
            return 130
        stopper.cancel()
        await ready
        for child in supervised:
            child.watch()
        _print_banner(settings, time.monotonic() - started)
        await stop.wait()
        return 0
    finally:
        _log.info("stopping the mesh")
        for tier in (("shim", "web"), ("chat", "asset"), ("auth",)):
            await asyncio.gather(*(c.stop() for c in supervised if c.spec.name in tier))
        await stop_all(servers)
        with contextlib.suppress(FileNotFoundError):
            state_path(settings).unlink()
        _log.info("mesh stopped")


def _print_banner(settings: Settings, took: float) -> None:
    lines = [
        "",
        f"Gaia Mesh is up ({took:.1f}s, env={settings.env.value})",
        f"  REST shim   http://{settings.host}:{settings.http_port}   (try /health, /docs)",
        f"  web UI      http://{settings.host}:{settings.web_port}",
        f"  gRPC        auth {settings.auth_addr}  chat {settings.chat_addr}  asset {settings.asset_addr}",
        f"  data        {settings.data_dir.resolve()}",
    ]
    if settings.env is Environment.DEV:
        lines.append(f"  dev API key {DEV_API_KEY}   (user dev@gaia.local)")
    lines.append("Ctrl-C stops everything.")
    print("\n".join(lines), flush=True)
