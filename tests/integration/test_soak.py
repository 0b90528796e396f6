# ruff: noqa: E501, PLR0915 (scenario tables and one-pass scenario tests)
"""Load and soak (issue 13 §4), loopback only: 64 concurrent v0.3 streams through the shim for a while, the
fake provider streaming at a realistic rate (20 ms a token). Zero errors, flat memory per process, and every
completed exchange in Postgres exactly once (its user turn and its reply).

Bounded in CI (``GAIA_SOAK_S``, default 15 s); the long form is a manual command:
``GAIA_SOAK_S=600 scripts/test tests/integration/test_soak.py`` (or ``scripts/reliability --long``)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests.integration.chat_helpers import sse_events
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh
from tests.support.reliability import Figures

SOAK_S = float(os.environ.get("GAIA_SOAK_S", "15"))
CONCURRENCY = int(os.environ.get("GAIA_SOAK_CONCURRENCY", "64"))
HEADERS = {"X-API-Key": DEV_API_KEY}


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _processes(mesh: Mesh) -> dict[str, int]:
    children = mesh.state()["children"]
    assert isinstance(children, dict)
    return {name: int(entry["pid"]) for name, entry in children.items() if entry.get("pid")}


@pytest.mark.timeout(SOAK_S + 150)
async def test_64_streams_soak(mesh: Mesh, infra: Infra) -> None:
    run = uuid.uuid4().hex[:8]
    figures = Figures()
    errors: list[str] = []
    completed: list[str] = []
    stop_at = time.monotonic() + SOAK_S
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY + 4)

    async with aiohttp.ClientSession(base_url=mesh.http, timeout=timeout, connector=connector) as http:

        async def one(worker: int, n: int) -> None:
            text = f"slow20: soak {run} {worker} {n} one two three four five six seven"
            body = {"message": text, "model": "gpt-4o-mini", "stream": True}
            try:
                async with http.post("/api/v0.3/chat", headers=HEADERS, json=body) as response:
                    raw = await response.read()
                    if response.status != 200:
                        errors.append(f"{response.status} {raw[:100]!r}")
                        return
                events = sse_events(raw)
                if not events or (events[-1] != {"type": "done"} and "done" not in str(events[-1])):
                    errors.append(f"ended with {events[-1:]!r}")
                    return
                completed.append(text)
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors.append(type(exc).__name__)
                figures.hangs += isinstance(exc, TimeoutError)

        async def worker(index: int) -> None:
            n = 0
            while time.monotonic() < stop_at:
                await one(index, n)
                n += 1

        # warm up, then sample memory at the start and the end of the soak
        await asyncio.gather(*(one(-1, i) for i in range(CONCURRENCY)))
        pids = _processes(mesh)
        first = {name: _rss_mib(pid) for name, pid in pids.items()}
        samples: dict[str, list[float]] = {name: [] for name in pids}

        async def sampler() -> None:
            while time.monotonic() < stop_at:
                for name, pid in pids.items():
                    samples[name].append(_rss_mib(pid))
                await asyncio.sleep(1)

        await asyncio.gather(sampler(), *(worker(i) for i in range(CONCURRENCY)))
    last = {name: _rss_mib(pid) for name, pid in pids.items()}
    conn = await asyncpg.connect(infra.database_url)
    try:
        rows = await conn.fetch(
            "SELECT content, count(*) AS n FROM chat_messages WHERE role = 'user' AND content LIKE $1 GROUP BY content",
            f"slow20: soak {run} %",
        )
        replies = await conn.fetchval(
            """SELECT count(*) FROM chat_messages a JOIN chat_messages u ON u.conversation_id = a.conversation_id
               WHERE a.role = 'assistant' AND u.role = 'user' AND u.content LIKE $1""",
            f"slow20: soak {run} %",
        )
    finally:
        await conn.close()
    stored = {r["content"]: r["n"] for r in rows}
    done = set(completed)
    figures.streams = figures.requests = len(completed) + len(errors)
    figures.server_errors = sum(1 for e in errors if e[:1] == "5")
    figures.lost = sum(1 for text in done if stored.get(text, 0) != 1)
    duplicated = sum(1 for n in stored.values() if n > 1)
    growth = {name: round(last[name] - first[name], 1) for name in pids}
    peak = {name: round(max(samples[name] or [last[name]]), 1) for name in pids}
    figures.extra = {
        "seconds": SOAK_S,
        "concurrency": CONCURRENCY,
        "completed": len(completed),
        "errors": len(errors),
        "duplicated": duplicated,
        "replies_stored": replies,
        "rss_growth_mib": growth,
        "rss_peak_mib": peak,
    }
    flat = all(growth[name] <= max(30.0, first[name] * 0.25) for name in pids)
    figures.record(
        area="soak",
        scenario=f"{CONCURRENCY} concurrent streams for {SOAK_S:.0f} s",
        done=f"{len(completed)} v0.3 streams through the shim, fake provider at 20 ms a token",
        held=f"{len(errors)} errors, {figures.lost} completed exchanges not stored exactly once, "
        f"{duplicated} duplicated; RSS growth per process (MiB) {growth}, peak {peak}"
        + ("" if flat else " — NOT FLAT"),
    )
    assert errors == [], errors[:10]
    assert figures.lost == 0 and duplicated == 0
    assert replies == len(done)
    assert flat, growth
