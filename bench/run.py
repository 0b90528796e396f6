"""The benchmark of DESIGN.md: the mesh and a LiteLLM proxy, in one run, against one local fake provider.

    scripts/bench            # the full run (installs LiteLLM into .gaia/bench/litellm-venv first)
    scripts/bench --quick    # CI: the fake and the mesh only, a few seconds of load; proves the harness
    python -m bench.run ...  # the same, without the install step (options: --help)

One process (this one, the load generator) starts the fake upstream, the mesh (``gaia up`` on free ports,
embedded Postgres/Redis/NATS) and, unless ``--no-litellm``, the LiteLLM proxy pointed at the same fake; then
drives the same workloads at each target (the fake directly, the shim, LiteLLM): a non-streaming chat
completion, a 20-token stream and an authenticated unary read (``GET /v1/models`` with the target's key), at
concurrency 1, 16 and 64, fixed request counts, ``--reps`` interleaved repetitions (every cell of repetition
1, then of repetition 2, ...; within a cell the fake first, then the mesh and LiteLLM in alternating order).
Then a long streaming run per relay (``--soak-seconds``) for RSS before/after.

As root (and always in the full run) it first re-executes itself in a fresh loopback-only network
namespace (``ip netns add``; ``ip -n … link set lo up``) so nothing it runs can reach the network, and checks
that it cannot.

Writes ``bench/results/<date>.json`` and ``bench/RESULTS.md`` (the quick mode: ``.gaia/bench/quick/``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from bench import litellm_proxy, report
from bench.load import run_load
from bench.meter import Meter
from gaia_services.embedded import free_port
from gaia_services.processes import spawn, terminate

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
QUICK_DIR = ROOT / ".gaia" / "bench" / "quick"
DEV_KEY = "FJUeDkZRy0uPp7cYtavMsIfwi7weF9-RT7BeOlusqnE"
MODEL = "gpt-4o-mini"
NETNS_ENV = "GAIA_BENCH_NETNS"
CONCURRENCY = (1, 16, 64)
WORKLOADS = ("chat", "stream", "read")
# Requests per (workload, concurrency) cell, the same for every target.
COUNTS = {
    "chat": {1: 200, 16: 800, 64: 1600},
    "stream": {1: 100, 16: 400, 64: 800},
    "read": {1: 200, 16: 800, 64: 1600},
}
QUICK_COUNTS = {
    "chat": {1: 20, 16: 64, 64: 128},
    "stream": {1: 10, 16: 32, 64: 64},
    "read": {1: 20, 16: 64, 64: 128},
}


# ---------------------------------------------------------------------------------------------- namespace


def _in_netns() -> str | None:
    return os.environ.get(NETNS_ENV)


def _reexec_in_netns() -> int:
    """Run this command again inside a new loopback-only network namespace; delete it afterwards."""
    name = f"gaia-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        argv = ["ip", "netns", "exec", name, sys.executable, "-m", "bench.run", *sys.argv[1:]]
        return subprocess.call(argv, env={**os.environ, NETNS_ENV: name})
    finally:
        # Anything still in the namespace was started by this run: stop it by pid, then drop the namespace.
        left = subprocess.run(
            ["ip", "netns", "pids", name], check=False, capture_output=True, text=True
        ).stdout.split()
        for pid in left:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), 9)
        subprocess.run(["ip", "netns", "del", name], check=False)


def _offline_check() -> dict[str, Any]:
    """Which interfaces this process sees, and whether an outside address is reachable (it must not be)."""
    interfaces = sorted(psutil.net_if_addrs())
    reachable = False
    with contextlib.suppress(OSError), socket.create_connection(("1.1.1.1", 443), timeout=1):
        reachable = True
    if reachable:
        print("WARNING: the network is reachable (not in a loopback-only namespace)", flush=True)
    return {"netns": _in_netns(), "interfaces": interfaces, "outside_reachable": reachable}


# ---------------------------------------------------------------------------------------------- processes


async def _wait_http(url: str, timeout: float, *, healthy: bool = False) -> None:
    """Until ``url`` answers (and, with ``healthy``, reports every part of the mesh healthy)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError, ValueError, KeyError):
                async with session.get(url) as response:
                    if response.status < 500 and (
                        not healthy or (await response.json())["status"] == "healthy"
                    ):
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not ready after {timeout:.0f} s")
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def _process(
    argv: list[str], env: dict[str, str], *, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child with its output in ``log``, stopped (SIGTERM, then SIGKILL of its group) on the way out."""
    with log.open("wb") as out:
        process = await spawn(argv, env=env, output=out.fileno())
    try:
        yield process
    finally:
        await terminate(process, timeout=15)


async def _wait_litellm(url: str, log: Path, workers: int, process: asyncio.subprocess.Process) -> None:
    """Until the proxy answers and every worker has logged its start-up (the log says it once per worker)."""
    deadline = time.monotonic() + 240
    await _wait_http(f"{url}/health/liveliness", 240)
    while (await asyncio.to_thread(log.read_bytes)).count(b"Application startup complete") < workers:
        if process.returncode is not None or time.monotonic() > deadline:
            raise RuntimeError(f"LiteLLM did not start {workers} workers; see {log}")
        await asyncio.sleep(0.2)


# ---------------------------------------------------------------------------------------------- workloads


class Target:
    def __init__(self, name: str, base: str, key: str | None) -> None:
        self.name = name
        self.base = base
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    async def drive(self, workload: str, concurrency: int, total: int):  # type: ignore[no-untyped-def]
        if workload == "read":
            return await run_load(
                method="GET",
                url=f"{self.base}/v1/models",
                headers=self.headers,
                concurrency=concurrency,
                total=total,
            )
        stream = workload == "stream"
        body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
        if stream:
            body["stream"] = True
        return await run_load(
            method="POST",
            url=f"{self.base}/v1/chat/completions",
            body=body,
            headers=self.headers,
            concurrency=concurrency,
            total=total,
            stream=stream,
        )


async def _cell(
    meter: Meter, target: Target, *, workload: str, c: int, total: int, rep: int
) -> dict[str, Any]:
    before = meter.cpu()
    result = await target.drive(workload, c, total)
    after = meter.cpu()
    cpu = {name: round(1000 * (after[name] - before[name]) / total, 3) for name in after if name in before}
    summary = result.summary()
    print(
        f"  rep {rep} {workload:6} c{c:<3} {target.name:8} {summary['rate_per_s']:>8} /s  "
        f"p50 {summary['p50_ms']} ms  errors {summary['errors']}",
        flush=True,
    )
    return {
        "target": target.name,
        "workload": workload,
        "concurrency": c,
        "rep": rep,
        **summary,
        "cpu_ms_per_request": cpu,
    }


async def _soak(meter: Meter, target: Target, seconds: float) -> dict[str, Any]:
    """Streams at concurrency 16 through ``target`` for ``seconds``; RSS of its processes before and after."""
    group = target.name
    meter.mark(f"{group}_soak_start")
    started = time.monotonic()
    done = errors = 0
    while time.monotonic() - started < seconds:
        result = await target.drive("stream", 16, 160)
        done += result.requests
        errors += result.errors
    meter.mark(f"{group}_soak_end")
    elapsed = time.monotonic() - started
    return {
        "seconds": round(elapsed, 1),
        "streams": done,
        "errors": errors,
        "rate_per_s": round(done / elapsed, 1),
    }


# ---------------------------------------------------------------------------------------------- the run


def _versions(litellm_bin: Path | None) -> dict[str, str | None]:
    def version(name: str) -> str | None:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(name)
        return None

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True, cwd=ROOT
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], check=False, capture_output=True, text=True, cwd=ROOT
    )
    return {
        "gaia-mesh": version("gaia-mesh"),
        "commit": (commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")) or None,
        "python": platform.python_version(),
        "aiohttp": version("aiohttp"),
        "grpcio": version("grpcio"),
        "openai": version("openai"),
        "litellm": litellm_proxy.installed_version(litellm_bin) if litellm_bin else None,
    }


def _machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    distro = ""
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip('"')
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "os": distro,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _mesh_env(
    base_env: dict[str, str], run_dir: Path, ports: dict[str, int], fake_port: int
) -> dict[str, str]:
    """``gaia up`` on free ports, embedded servers (no *_URL), the OpenAI provider pointed at the fake."""
    return {
        **base_env,
        "GAIA_ENV": "dev",
        "GAIA_AUTH_RATE_LIMIT_PER_MINUTE": "0",  # the load generator is one principal: no limit here
        "GAIA_DATA_DIR": str(run_dir / "mesh"),
        "GAIA_LOG_LEVEL": "WARNING",
        "GAIA_HTTP_PORT": str(ports["http"]),
        "GAIA_WEB_PORT": str(ports["web"]),
        "GAIA_AUTH_ADDR": f"127.0.0.1:{ports['auth']}",
        "GAIA_CHAT_ADDR": f"127.0.0.1:{ports['chat']}",
        "GAIA_ASSET_ADDR": f"127.0.0.1:{ports['asset']}",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
        "OPENAI_API_KEY": "sk-bench",
    }


def _register(meter: Meter, fake_pid: int, supervisor_pid: int, state: dict[str, Any]) -> None:
    """The fake, this load generator, and every process of the mesh (``state``: its ``mesh.json``)."""
    meter.add("fake upstream", fake_pid, "common")
    meter.add("load generator", os.getpid(), "common")
    meter.add("supervisor", supervisor_pid, "mesh")
    for name, info in state["children"].items():
        meter.add(name, int(info["pid"]), "mesh")
    for name, info in state.get("infra", {}).items():
        short = name.removeprefix("Embedded").lower()
        meter.add(short, int(info["pid"]), "mesh", family=short == "postgres")


async def _measure(
    meter: Meter, targets: list[Target], args: argparse.Namespace, counts: dict[str, dict[int, int]]
) -> dict[str, Any]:
    """Warm-up, the interleaved repetitions, the long runs; the raw cells and the long runs' figures."""
    print(f"warm-up ({', '.join(t.name for t in targets)})", flush=True)
    for target in targets:  # connections, lazy imports, every LiteLLM worker
        for workload in WORKLOADS:
            await target.drive(workload, 16, 32 if args.quick else 96)
    meter.mark("warm")
    runs: list[dict[str, Any]] = []
    for rep in range(1, args.reps + 1):
        relays = targets[1:] if rep % 2 else targets[:0:-1]
        for workload in WORKLOADS:
            for c in CONCURRENCY:
                for target in (targets[0], *relays):
                    runs.append(
                        await _cell(meter, target, workload=workload, c=c, total=counts[workload][c], rep=rep)
                    )
    soaks = {}
    if args.soak_seconds:
        for target in targets[1:]:
            print(f"soak: {target.name}, streams at concurrency 16 for {args.soak_seconds} s", flush=True)
            soaks[target.name] = await _soak(meter, target, args.soak_seconds)
    return {"runs": runs, "soak": {"seconds": args.soak_seconds, "concurrency": 16, **soaks}}


def _header(
    args: argparse.Namespace, counts: dict[str, dict[int, int]], litellm_bin: Path | None
) -> dict[str, Any]:
    """What was run, where, with which versions."""
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "scripts/bench " + " ".join(sys.argv[1:]),
        "quick": args.quick,
        "machine": _machine(),
        "versions": _versions(litellm_bin),
        "offline": _offline_check(),
        "tokens_per_answer": args.tokens,
        "reps": args.reps,
        "counts": counts,
        "read_route": "GET /v1/models (Authorization: Bearer <key>): the mesh's REST -> gRPC ListModels with "
        "its auth; LiteLLM's model list with its master key; the fake's floor checks no key",
        "litellm_settings": None
        if litellm_bin is None
        else {"workers": args.litellm_workers, "timeout_worker_healthcheck": 60, "logging": "defaults"},
    }


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    wall = time.monotonic()
    counts = QUICK_COUNTS if args.quick else COUNTS
    counts = {w: {c: max(1, int(n * args.scale)) for c, n in cs.items()} for w, cs in counts.items()}
    litellm_bin: Path | None = None if args.no_litellm else args.litellm
    run_dir = Path(tempfile.mkdtemp(prefix="gaia-bench-"))
    fake_port = free_port()
    ports = {name: free_port() for name in ("http", "web", "auth", "chat", "asset", "litellm")}
    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "NATS_URL")}
    fake_base, shim, lite = (f"http://127.0.0.1:{p}" for p in (fake_port, ports["http"], ports["litellm"]))
    results = _header(args, counts, litellm_bin)
    fake_argv = [
        sys.executable,
        "-m",
        "bench.fake_upstream",
        "--port",
        str(fake_port),
        "--tokens",
        str(args.tokens),
    ]
    meter = Meter()
    targets = [Target("direct", fake_base, None), Target("mesh", shim, DEV_KEY)]
    async with contextlib.AsyncExitStack() as stack:
        fake = await stack.enter_async_context(_process(fake_argv, base_env, log=run_dir / "fake.log"))
        mesh = await stack.enter_async_context(
            _process(
                [sys.executable, "-m", "gaia_services.cli", "up"],
                _mesh_env(base_env, run_dir, ports, fake_port),
                log=run_dir / "mesh.log",
            )
        )
        started = time.monotonic()
        await _wait_http(f"{fake_base}/v1/models", 30)
        await _wait_http(f"{shim}/health", 90, healthy=True)
        results["mesh_ready_s"] = round(time.monotonic() - started, 2)
        lite_proc, lite_log, lite_started = None, run_dir / "litellm.log", time.monotonic()
        if litellm_bin is not None:  # started once the mesh is ready, so that each starts alone
            config = litellm_proxy.write_config(
                run_dir / "litellm.yaml", fake_base_url=f"{fake_base}/v1", model=MODEL
            )
            argv = litellm_proxy.argv(
                litellm_bin, config, port=ports["litellm"], workers=args.litellm_workers
            )
            lite_proc = await stack.enter_async_context(
                _process(argv, litellm_proxy.env(dict(os.environ)), log=lite_log)
            )
        state = json.loads((run_dir / "mesh" / "run" / "mesh.json").read_text())
        _register(meter, fake.pid, mesh.pid, state)
        if lite_proc is not None:
            await _wait_litellm(lite, lite_log, args.litellm_workers, lite_proc)
            results["litellm_ready_s"] = round(time.monotonic() - lite_started, 2)
            meter.add("litellm main", lite_proc.pid, "litellm", family=True)
            meter.discover_children("litellm main", prefix="litellm worker", skip=("resource_tracker",))
            targets.append(Target("litellm", lite, litellm_proxy.MASTER_KEY))
        meter.mark("ready")
        stop = asyncio.Event()
        sampling = asyncio.create_task(meter.run(stop, 0.5))
        try:
            results.update(await _measure(meter, targets, args, counts))
        finally:
            stop.set()
            await sampling
        meter.sample()
        results["processes"] = meter.groups()
        results["rss_mib"] = meter.rss_summary()
    results["duration_s"] = round(time.monotonic() - wall, 1)
    results["summary"] = report.summarize(results)
    shutil.rmtree(run_dir, ignore_errors=True) if not args.keep else print(f"run directory kept: {run_dir}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="CI: fake + mesh only, 1 repetition, few requests"
    )
    parser.add_argument("--reps", type=int, help="interleaved repetitions (default 3; quick 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every request count")
    parser.add_argument("--tokens", type=int, default=20, help="tokens per answer of the fake")
    parser.add_argument(
        "--soak-seconds", type=float, help="long streaming run per relay (default 180; quick 3)"
    )
    parser.add_argument(
        "--no-litellm", action="store_true", help="the fake and the mesh only (quick implies it)"
    )
    parser.add_argument(
        "--litellm", type=Path, default=litellm_proxy.DEFAULT_BIN, help="the proxy's executable"
    )
    parser.add_argument("--litellm-workers", type=int, default=2)
    parser.add_argument(
        "--netns",
        choices=("auto", "yes", "no"),
        default="auto",
        help="run inside a loopback-only network namespace (auto: as root; the full run needs it)",
    )
    parser.add_argument("--json", type=Path, help="results JSON (default bench/results/<date>.json)")
    parser.add_argument("--md", type=Path, help="the report (default bench/RESULTS.md)")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs, LiteLLM config)")
    args = parser.parse_args()
    if args.quick:
        args.no_litellm = True
    args.reps = args.reps or (1 if args.quick else 3)
    args.soak_seconds = args.soak_seconds if args.soak_seconds is not None else (3 if args.quick else 180)

    if not args.no_litellm and not args.litellm.exists():
        raise SystemExit(
            f"{args.litellm} not found: run scripts/bench (it installs LiteLLM), or pass --no-litellm"
        )
    if not _in_netns() and args.netns != "no":
        can = os.geteuid() == 0 and shutil.which("ip") is not None
        if not can and (args.netns == "yes" or not args.no_litellm):
            raise SystemExit("a network namespace needs root and iproute2 (or pass --netns no)")
        if can:
            sys.exit(_reexec_in_netns())

    results = asyncio.run(benchmark(args))
    stamp = dt.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    out_dir = QUICK_DIR if args.quick else RESULTS
    json_path = args.json or out_dir / f"{stamp}.json"
    md_path = args.md or (QUICK_DIR / "RESULTS.md" if args.quick else ROOT / "bench" / "RESULTS.md")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(report.render(results, json_name=os.path.relpath(json_path, md_path.parent)))
    print(report.console(results))
    print(f"\nresults: {json_path}\nreport:  {md_path}\ntook {results['duration_s']} s")
    errors = sum(r["errors"] for r in results["runs"])
    if args.quick and errors:
        sys.exit(f"{errors} failed requests (quick mode fails on any)")


if __name__ == "__main__":
    main()
