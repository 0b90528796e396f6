"""A closed-loop load generator on aiohttp (httpx is ~10x slower here under concurrency, DESIGN.md).

``total`` requests, ``concurrency`` at a time, one keep-alive connection per worker. For a stream, the time
to first token is the time to the first SSE event carrying non-empty ``delta.content`` (not the role-only
opening chunk, which a relay could send before the provider answered), and the tokens relayed are the events
carrying content.
"""

from __future__ import annotations

import asyncio
import math
import re
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

__all__ = ["Result", "pct", "run_load"]

# An SSE event whose delta carries text: `"content":" w1"` (any JSON spacing), never `"content":""`.
_CONTENT = re.compile(rb'"content":\s*"[^"]')


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class Result:
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    ttft_ms: list[float]
    tokens: int
    first_error: str = ""
    cpu_s: dict[str, float] | None = None  # CPU seconds per metered process during the run (bench.run)

    @property
    def rate(self) -> float:
        """Successful requests per second (errors are counted apart, never as throughput)."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def pct(self, values: list[float], q: float) -> float:
        return pct(values, q)

    def summary(self) -> dict[str, Any]:
        def r(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 2)  # NaN -> None (JSON)

        return {
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rate_per_s": round(self.rate, 1),
            "p50_ms": r(pct(self.latencies_ms, 0.5)),
            "p95_ms": r(pct(self.latencies_ms, 0.95)),
            "p99_ms": r(pct(self.latencies_ms, 0.99)),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None,
            "ttft_p50_ms": r(pct(self.ttft_ms, 0.5)) if self.ttft_ms else None,
            "ttft_p95_ms": r(pct(self.ttft_ms, 0.95)) if self.ttft_ms else None,
            "tokens": self.tokens,
            "tokens_per_s": round(self.tokens_per_s, 1),
            "first_error": self.first_error or None,
        }


async def _one(
    session: aiohttp.ClientSession,
    *,
    method: str,
    url: str,
    body: Any,
    headers: Mapping[str, str],
    stream: bool,
) -> tuple[float, float | None, int]:
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    async with session.request(method, url, json=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {(await response.read())[:200]!r}")
        if stream:
            async for line in response.content:
                if line.startswith(b"data: {") and _CONTENT.search(line):
                    if first is None:
                        first = time.perf_counter()
                    tokens += 1
        else:
            await response.read()
    done = time.perf_counter()
    if stream and not tokens:
        raise RuntimeError("stream ended without a token")
    return (done - started) * 1000, None if first is None else (first - started) * 1000, tokens


async def run_load(
    *,
    method: str,
    url: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    concurrency: int,
    total: int,
    stream: bool = False,
) -> Result:
    """``total`` requests, ``concurrency`` at a time; latencies, time to first token, tokens relayed."""
    latencies: list[float] = []
    ttfts: list[float] = []
    errors = 0
    first_error = ""
    tokens = 0
    remaining = total
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            nonlocal remaining, errors, tokens, first_error
            while remaining > 0:
                remaining -= 1
                try:
                    latency, ttft, count = await _one(
                        session, method=method, url=url, body=body, headers=headers or {}, stream=stream
                    )
                except (aiohttp.ClientError, RuntimeError, TimeoutError) as exc:
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"
                    continue
                latencies.append(latency)
                tokens += count
                if ttft is not None:
                    ttfts.append(ttft)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return Result(concurrency, total, errors, seconds, latencies, ttfts, tokens, first_error)
