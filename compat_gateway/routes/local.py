"""Routes the shim answers itself: health, the API root, v0.2 info, metrics, the calculator."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from compat_gateway.errors import ErrorStyle, LegacyError
from compat_gateway.inbound import Inbound
from compat_gateway.routes.table import Local, Route
from compat_gateway.schemas import local as schemas
from compat_gateway.shim import Shim
from gaia_services.runtime.probes import ProbeResult, probe_grpc_channel, probe_redis
from gaia_services.runtime.wire import POSTGRES_HEALTH

__all__ = ["ROUTES"]

_ROOT = {
    "message": "LLM Platform API is running",
    "versions": {
        "v0.2": "/api/v0.2 (recommended - unified streaming API)",
        "v1": "/api/v1 (original endpoints)",
        "legacy": "/ (will be deprecated)",
    },
    "note": "Use v0.2 for the latest OpenAI/Anthropic compatible streaming API.",
}

_V02_INFO = {
    "version": "0.2",
    "status": "stable",
    "description": "Unified LLM API with streaming support",
    "features": [
        "OpenAI/Anthropic compatible streaming",
        "Multi-provider support",
        "Intelligent model selection",
        "Unified chat endpoint",
    ],
    "endpoints": {
        "chat": "/api/v0.2/chat",
        "chat_stream": "/api/v0.2/chat/stream",
        "providers": "/api/v0.2/providers",
        "models": "/api/v0.2/models",
        "asset_pricing": "/api/v0.2/assets/pricing",
        "usage_tracking": "/api/v0.2/usage",
        "personas": "/api/v0.2/personas",
        "performance": "/api/v0.2/performance",
    },
}

_SERVICES = ("auth", "asset", "chat")


def _service_entry(result: ProbeResult) -> dict[str, Any]:
    if result.ok:
        return {"status": "healthy", "response_time": round(result.seconds, 6)}
    return {"status": "unhealthy", "error": result.error}


async def _database(shim: Shim, timeout: float) -> ProbeResult:
    """PostgreSQL as the services see it: their health check of it (``wire.POSTGRES_HEALTH``), asked of
    every service at once; healthy when one of them reaches it."""
    checks = await asyncio.gather(
        *(probe_grpc_channel(shim.channels[n], service=POSTGRES_HEALTH, timeout=timeout) for n in _SERVICES)
    )
    reached = next((check for check in checks if check.ok), None)
    if reached is not None:
        return reached
    why = ", ".join(f"{name}: {check.error}" for name, check in zip(_SERVICES, checks, strict=True))
    return ProbeResult(False, max(check.seconds for check in checks), error=f"PostgreSQL unreachable ({why})")


async def gateway_health(inbound: Inbound) -> dict[str, Any]:
    """The reference's ``/health``: each service's gRPC health, PostgreSQL (through the services' health
    checks of it), Redis, the identity store."""
    shim = inbound.shim
    timeout = shim.settings.health_probe_timeout_s
    *probes, db, cache = await asyncio.gather(
        *(probe_grpc_channel(shim.channels[name], timeout=timeout) for name in _SERVICES),
        _database(shim, timeout),
        probe_redis(shim.redis, timeout=timeout),
    )
    services = {name: _service_entry(result) for name, result in zip(_SERVICES, probes, strict=True)}
    database: dict[str, Any] = {
        "status": "healthy" if db.ok else "unhealthy",
        "database": "postgresql",
        "responsive": db.ok,
    }
    if not db.ok:
        database["error"] = db.error
    status = "healthy"
    if any(entry["status"] != "healthy" for entry in services.values()):
        status = "degraded"
    if not db.ok:
        status = "unhealthy"
    if not cache.ok:
        status = "degraded"  # the reference checks Redis last, so this can soften "unhealthy" (kept)
    identity_ok = probes[0].ok and db.ok
    return {
        "status": status,
        "timestamp": datetime.now().isoformat(),
        "version": "0.2.0",
        "services": services,
        "database": database,
        "redis": {"status": "healthy" if cache.ok else "unhealthy", "connected": cache.ok},
        "supabase": {
            "status": "healthy" if identity_ok else "unhealthy",
            "service": "supabase",
            "url": None,
            "responsive": identity_ok,
        },
    }


async def api_root(inbound: Inbound) -> dict[str, Any]:
    limit = inbound.shim.settings.root_rate_limit_per_minute
    decision = await inbound.shim.limiter.hit("root", inbound.client_key, limit=limit)
    if not decision.allowed:
        raise LegacyError(
            429,
            {"error": f"Rate limit exceeded: {limit} per 1 minute"},
            {"Retry-After": str(decision.retry_after_s)},
        )
    return _ROOT


async def _require_chat(inbound: Inbound) -> None:
    shim = inbound.shim
    result = await probe_grpc_channel(shim.channels["chat"], timeout=shim.settings.health_probe_timeout_s)
    if not result.ok:
        raise LegacyError(503, {"detail": "Service chat unavailable"})


async def v02_info(inbound: Inbound) -> dict[str, Any]:
    await _require_chat(inbound)
    return _V02_INFO


async def v02_health(inbound: Inbound) -> dict[str, Any]:
    await _require_chat(inbound)
    return {"status": "healthy", "version": "0.2"}


async def prometheus_metrics(inbound: Inbound) -> Response:
    """The shim's own counters and latency histograms in the Prometheus text format, then the default
    registry's (the process collectors)."""
    registry = inbound.request.app.state.metrics.registry
    return Response(generate_latest(registry) + generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


async def calculator_add(inbound: Inbound) -> dict[str, Any]:
    body = await inbound.json_object()
    a, b = body.get("a", 0), body.get("b", 0)
    if isinstance(a, str) and isinstance(b, str):
        return {"result": a + b}
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)):
        return {"result": a + b}
    raise LegacyError(
        422,
        {
            "detail": [
                {
                    "type": "value_error",
                    "loc": ["body"],
                    "msg": "a and b must both be numbers or both be strings",
                    "input": body,
                }
            ]
        },
    )


ROUTES: tuple[Route, ...] = (
    Local(
        method="GET",
        path="/health",
        name="health",
        auth=False,
        response=schemas.GatewayHealth,
        summary="Health of every part",
        answer=gateway_health,
    ),
    Local(
        method="GET",
        path="/",
        name="root",
        auth=False,
        response=schemas.ApiRoot,
        summary="API root (60 per minute)",
        answer=api_root,
    ),
    Local(
        method="GET",
        path="/api/v0.2/",
        name="v02_info",
        auth=False,
        response=schemas.V02Info,
        summary="v0.2 API information",
        answer=v02_info,
    ),
    Local(
        method="GET",
        path="/api/v0.2/health",
        name="v02_health",
        auth=False,
        response=schemas.V02Health,
        summary="v0.2 health",
        answer=v02_health,
    ),
    Local(
        method="GET",
        path="/metrics",
        name="metrics",
        auth=False,
        media_type="text/plain",
        summary="Prometheus metrics",
        answer=prometheus_metrics,
    ),
    Local(
        method="POST",
        path="/calculator/add",
        name="calculator_add",
        response=schemas.CalculatorResult,
        auth=False,
        errors=ErrorStyle.PLAIN,
        summary="Add two numbers (or concatenate two strings)",
        answer=calculator_add,
    ),
)
