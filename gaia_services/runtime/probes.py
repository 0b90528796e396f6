"""Real health probes: the standard gRPC health check, Redis ``PING``, HTTP GET."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import redis.asyncio as redis
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

__all__ = ["ProbeResult", "probe_grpc", "probe_grpc_channel", "probe_http", "probe_redis"]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    seconds: float
    error: str = ""
    detail: str = ""


async def probe_grpc_channel(channel: aio.Channel, *, service: str = "", timeout: float = 2.0) -> ProbeResult:
    started = time.perf_counter()
    try:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
    except aio.AioRpcError as exc:
        return ProbeResult(False, time.perf_counter() - started, error=exc.details() or exc.code().name)
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    ok = reply.status == health_pb2.HealthCheckResponse.SERVING
    return ProbeResult(ok, time.perf_counter() - started, error="" if ok else status, detail=status)


async def probe_grpc(address: str, *, service: str = "", timeout: float = 2.0) -> ProbeResult:
    async with aio.insecure_channel(address) as channel:
        return await probe_grpc_channel(channel, service=service, timeout=timeout)


async def probe_redis(client: redis.Redis, *, timeout: float = 2.0) -> ProbeResult:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(client.ping(), timeout)
    except (OSError, TimeoutError, redis.RedisError) as exc:
        return ProbeResult(False, time.perf_counter() - started, error=str(exc) or type(exc).__name__)
    return ProbeResult(True, time.perf_counter() - started)


async def probe_http(url: str, *, timeout: float = 2.0) -> ProbeResult:
    started = time.perf_counter()
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url) as response,
        ):
            ok = response.status < 500
            return ProbeResult(
                ok, time.perf_counter() - started, error="" if ok else f"HTTP {response.status}"
            )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return ProbeResult(False, time.perf_counter() - started, error=str(exc) or type(exc).__name__)
