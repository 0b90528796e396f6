"""The benchmark of DESIGN.md: the full path against a local fake provider, with the fake alone as the floor.

    python -m bench.run [--quick] [--soak-seconds 600] [--litellm-url http://127.0.0.1:4000]

Starts the fake upstream and a real mesh (``gaia up`` on free ports, embedded servers unless *_URL are set),
measures, prints a table and writes ``bench/results/latest.json``. LiteLLM is compared live only when a
proxy URL (pointed at the same fake) is given; otherwise the ratios use the LiteLLM figures measured on this
machine kind that DESIGN.md records, and the output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from bench.load import Result, run_load
from gaia_services.embedded import free_port
from gaia_services.processes import spawn, terminate

__all__ = ["main"]

DEV_KEY = "FJUeDkZRy0uPp7cYtavMsIfwi7weF9-RT7BeOlusqnE"
# DESIGN.md, "Measured here on this machine kind": LiteLLM 1.108.7 proxy with 2 workers (both cores).
LITELLM_DESIGN = {
    "req_per_s": 72.0,
    "streams_per_s": 21.0,
    "p99_added_ms_c64": 1900.0,
    "ttft_added_ms_c1": 31.0,
}
RESULTS = Path(__file__).resolve().parent / "results"


async def _wait_http(url: str, timeout: float, *, healthy: bool = False) -> None:
    """Until ``url`` answers (and, with ``healthy``, reports every part of the mesh healthy)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError, ValueError):
                async with session.get(url) as response:
                    if response.status < 500 and (
                        not healthy or (await response.json())["status"] == "healthy"
                    ):
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(url)
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def _process(argv: list[str], env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await spawn(argv, env=env, output=asyncio.subprocess.DEVNULL)
    try:
        yield process
    finally:
        await terminate(process, timeout=15)


class RssSampler:
    """Samples the resident memory of the mesh's processes while the benchmark runs."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak: dict[str, float] = dict.fromkeys(pids, 0.0)
        self.series: dict[str, list[float]] = {name: [] for name in pids}

    def sample(self) -> None:
        for name, pid in self.pids.items():
            with contextlib.suppress(psutil.Error):
                mib = psutil.Process(pid).memory_info().rss / 2**20
                self.peak[name] = max(self.peak[name], mib)
                self.series[name].append(round(mib, 1))

    def summary(self, before_soak: dict[str, float]) -> dict[str, dict[str, float | None]]:
        """Peak, first (the mesh just ready), at the soak's start (if any) and last RSS of each process."""
        return {
            name: {
                "peak": round(self.peak[name], 1),
                "first": s[0] if s else None,
                **({"soak_start": before_soak.get(name)} if before_soak else {}),
                "last": s[-1] if s else None,
            }
            for name, s in self.series.items()
        }

    async def run(self, stop: asyncio.Event, every: float) -> None:
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


def cpu_seconds(pids: dict[str, int], *, with_children: frozenset[str] = frozenset()) -> dict[str, float]:
    """User + system CPU time used so far by each process (and its threads; for the names in
    ``with_children``, also by its live child processes, e.g. PostgreSQL's backends)."""
    used = {}
    for name, pid in pids.items():
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            family = [process, *process.children(recursive=True)] if name in with_children else [process]
            used[name] = sum(t.user + t.system for t in (p.cpu_times() for p in family))
    return used


async def _soak(seconds: int, direct: str, mesh: str, sampler: RssSampler) -> dict[str, float]:
    """Streams at concurrency 16 for ``seconds``; the RSS of each process when it began."""
    if not seconds:
        return {}
    sampler.sample()
    began = {name: s[-1] for name, s in sampler.series.items() if s}
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        await _pair(direct, mesh, concurrency=16, total=400, stream=True)
    return began


def _chat_body(stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
    if stream:
        body["stream"] = True
    return body


async def _pair(
    direct: str,
    mesh: str,
    *,
    concurrency: int,
    total: int,
    stream: bool,
    metered: dict[str, int] | None = None,
) -> tuple[Result, Result]:
    """The same load direct to the fake and through the mesh; with ``metered``, the mesh run's result
    carries the CPU seconds each of those processes used during it."""
    headers = {"Authorization": f"Bearer {DEV_KEY}"}
    body = _chat_body(stream)
    floor = await run_load(
        method="POST", url=direct, body=body, concurrency=concurrency, total=total, stream=stream
    )
    servers = frozenset(("postgres", "redis", "nats"))
    before = cpu_seconds(metered, with_children=servers) if metered else {}
    full = await run_load(
        method="POST",
        url=mesh,
        body=body,
        headers=headers,
        concurrency=concurrency,
        total=total,
        stream=stream,
    )
    if metered:
        after = cpu_seconds(metered, with_children=servers)
        full = dataclasses.replace(
            full, cpu_s={name: after[name] - before[name] for name in after if name in before}
        )
    return floor, full


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    scale = 0.25 if args.quick else 1.0
    fake_port = free_port()
    ports = {name: free_port() for name in ("http", "web", "auth", "chat", "asset")}
    data_dir = Path(tempfile.mkdtemp(prefix="gaia-bench-"))
    env = {
        **os.environ,
        "GAIA_ENV": "dev",
        "GAIA_AUTH_RATE_LIMIT_PER_MINUTE": "0",  # the load generator is one principal: no limit here
        "GAIA_DATA_DIR": str(data_dir),
        "GAIA_LOG_LEVEL": "WARNING",
        "GAIA_HTTP_PORT": str(ports["http"]),
        "GAIA_WEB_PORT": str(ports["web"]),
        "GAIA_AUTH_ADDR": f"127.0.0.1:{ports['auth']}",
        "GAIA_CHAT_ADDR": f"127.0.0.1:{ports['chat']}",
        "GAIA_ASSET_ADDR": f"127.0.0.1:{ports['asset']}",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
        "OPENAI_API_KEY": "sk-bench",
    }
    shim = f"http://127.0.0.1:{ports['http']}"
    direct = f"http://127.0.0.1:{fake_port}/v1/chat/completions"
    mesh_url = f"{shim}/v1/chat/completions"
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "tokens_per_answer": args.tokens,
    }
    fake_argv = [
        sys.executable,
        "-m",
        "bench.fake_upstream",
        "--port",
        str(fake_port),
        "--tokens",
        str(args.tokens),
    ]
    async with (
        _process(fake_argv, env) as fake,
        _process([sys.executable, "-m", "gaia_services.cli", "up"], env),
    ):
        started = time.monotonic()
        await _wait_http(f"http://127.0.0.1:{fake_port}/v1/chat/completions", 30)
        await _wait_http(f"{shim}/health", 60, healthy=True)
        state = json.loads((data_dir / "run" / "mesh.json").read_text())
        results["mesh_ready_s"] = round(time.monotonic() - started, 2)
        pids = {name: int(info["pid"]) for name, info in state["children"].items()}
        sampler = RssSampler(pids)
        # Where the CPU goes: every mesh process, its embedded servers (none when *_URL point elsewhere),
        # the fake upstream and this load generator.
        infra = {
            name.removeprefix("Embedded").lower(): int(info["pid"])
            for name, info in state.get("infra", {}).items()
        }
        metered = {**pids, **infra, "fake upstream": fake.pid, "load generator": os.getpid()}
        stop = asyncio.Event()
        sampling = asyncio.create_task(sampler.run(stop, 0.5))
        # Warm up both paths (connections, caches, JIT-free but lazy imports).
        await _pair(direct, mesh_url, concurrency=4, total=40, stream=False)
        await _pair(direct, mesh_url, concurrency=4, total=20, stream=True)

        unary: dict[str, Any] = {}
        for c in (1, 16, 64):
            floor, full = await _pair(
                direct,
                mesh_url,
                concurrency=c,
                total=int(max(100, 40 * c) * scale),
                stream=False,
                metered=metered if c == 64 else None,
            )
            if full.cpu_s is not None:
                results["cpu_ms_per_request_c64"] = {
                    name: round(1000 * used / full.requests, 2) for name, used in full.cpu_s.items()
                }
            unary[str(c)] = {
                "direct": floor.summary(),
                "mesh": full.summary(),
                "added_p50_ms": round(
                    full.pct(full.latencies_ms, 0.5) - floor.pct(floor.latencies_ms, 0.5), 2
                ),
                "added_p99_ms": round(
                    full.pct(full.latencies_ms, 0.99) - floor.pct(floor.latencies_ms, 0.99), 2
                ),
            }
        results["chat_completions"] = unary
        streams: dict[str, Any] = {}
        for c in (1, 64):
            floor, full = await _pair(
                direct, mesh_url, concurrency=c, total=int(max(100, 10 * c) * scale), stream=True
            )
            streams[str(c)] = {
                "direct": floor.summary(),
                "mesh": full.summary(),
                "ttft_added_p50_ms": round(full.pct(full.ttft_ms, 0.5) - floor.pct(floor.ttft_ms, 0.5), 2),
            }
        results["streaming"] = streams
        persona = await run_load(
            method="GET",
            url=f"{shim}/api/v0.2/personas/current",
            headers={"X-API-Key": DEV_KEY},
            concurrency=64,
            total=int(2000 * scale),
        )
        results["rest_to_grpc_unary"] = {"route": "GET /api/v0.2/personas/current", **persona.summary()}
        before_soak = await _soak(args.soak_seconds, direct, mesh_url, sampler)
        if args.soak_seconds:
            results["soak_seconds"] = args.soak_seconds
        stop.set()
        await sampling
        sampler.sample()
        results["rss_mib"] = sampler.summary(before_soak)
        if args.litellm_url:
            lite = await _pair(
                direct,
                f"{args.litellm_url}/v1/chat/completions",
                concurrency=64,
                total=int(1000 * scale),
                stream=False,
            )
            results["litellm_live"] = {"c64": lite[1].summary()}
    results["targets"] = _targets(results, args.litellm_url is not None)
    return results


def _targets(results: dict[str, Any], live: bool) -> dict[str, Any]:
    ours64 = results["chat_completions"]["64"]["mesh"]
    streams64 = results["streaming"]["64"]["mesh"]
    lite = results.get("litellm_live", {}).get("c64") if live else None
    lite_rate = lite["rate_per_s"] if lite else LITELLM_DESIGN["req_per_s"]
    return {
        "litellm_source": "live" if live else "DESIGN.md figures for this machine kind (not re-run here)",
        "req_per_s_ratio_vs_litellm": round(ours64["rate_per_s"] / lite_rate, 1),
        "streams_per_s_ratio_vs_litellm": round(streams64["rate_per_s"] / LITELLM_DESIGN["streams_per_s"], 1),
        "p99_added_ms_c64": results["chat_completions"]["64"]["added_p99_ms"],
        "p99_added_fraction_of_litellm": round(
            results["chat_completions"]["64"]["added_p99_ms"] / LITELLM_DESIGN["p99_added_ms_c64"], 3
        ),
        "ttft_added_p50_ms_c1": results["streaming"]["1"]["ttft_added_p50_ms"],
        "max_rss_mib": max(v["peak"] for v in results["rss_mib"].values()),
        "mesh_ready_s": results["mesh_ready_s"],
    }


def _table(results: dict[str, Any]) -> str:
    rows = [
        "| workload | concurrency | direct to fake | through the mesh | added p50 / p99 |",
        "|---|---|---|---|---|",
    ]
    for c, r in results["chat_completions"].items():
        rows.append(
            f"| chat completion | {c} | {r['direct']['rate_per_s']} req/s | {r['mesh']['rate_per_s']} req/s "
            f"(errors {r['mesh']['errors']}) | +{r['added_p50_ms']} / +{r['added_p99_ms']} ms |"
        )
    for c, r in results["streaming"].items():
        rows.append(
            f"| stream of {results['tokens_per_answer']} tokens | {c} | "
            f"{r['direct']['rate_per_s']} streams/s, "
            f"{r['direct']['tokens_per_s']} tok/s | {r['mesh']['rate_per_s']} streams/s, "
            f"{r['mesh']['tokens_per_s']} tok/s | TTFT +{r['ttft_added_p50_ms']} ms (p50) |"
        )
    u = results["rest_to_grpc_unary"]
    rows.append(
        f"| {u['route']} | 64 | - | {u['rate_per_s']} req/s (errors {u['errors']}) | p50 {u['p50_ms']} ms |"
    )
    rss = ", ".join(f"{k} {v['peak']}" for k, v in results["rss_mib"].items())
    rows.append(f"\nPeak RSS (MiB): {rss}. Mesh ready in {results['mesh_ready_s']} s.")
    if "soak_seconds" in results:
        soak = ", ".join(f"{k} {v['soak_start']} -> {v['last']}" for k, v in results["rss_mib"].items())
        rows.append(f"RSS over the {results['soak_seconds']} s soak (MiB): {soak}.")
    cpu = ", ".join(f"{k} {v}" for k, v in results["cpu_ms_per_request_c64"].items())
    rows.append(f"CPU ms per chat completion at concurrency 64: {cpu}.")
    rows.append("Targets: " + json.dumps(results["targets"]))
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a quarter of the requests")
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--soak-seconds", type=int, default=0, help="extra streaming load, for RSS flatness")
    parser.add_argument("--litellm-url", help="a LiteLLM proxy already pointed at the same fake upstream")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    results = asyncio.run(benchmark(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(_table(results))
    print(f"\nresults: {args.out}")


if __name__ == "__main__":
    main()
