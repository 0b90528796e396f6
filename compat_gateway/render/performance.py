"""Performance figures in the reference's shapes (``/api/v0.2/performance/*``): seconds, 3 decimals.

All five read routes render one ``GetPerformance`` reply; where nothing was measured the bodies are the
reference's empty variants byte for byte (integer zeros included).
"""

from __future__ import annotations

from typing import Any

from gaia.chat.v1 import chat_pb2
from gaia.common.v1 import common_pb2

from compat_gateway.inbound import Inbound
from compat_gateway.render.catalogue import health_name, now_iso
from compat_gateway.render.timestamps import naive_iso

__all__ = ["health", "live", "providers", "reset", "stages", "summary"]

_THRESHOLDS = {
    "healthy_response_time": "< 2.0s",
    "warning_response_time": "< 5.0s",
    "critical_response_time": ">= 5.0s",
    "healthy_error_rate": "< 1.0%",
    "warning_error_rate": "< 5.0%",
    "critical_error_rate": ">= 5.0%",
}
_ADVICE = [
    "Monitor response times during peak usage",
    "Set up automated alerts for error rates > 5%",
    "Consider implementing circuit breakers for unstable providers",
    "Use caching to reduce provider API calls",
]
_FAST_STAGE_S = 0.1


def _s(ms: float) -> float:
    return round(ms / 1000, 3)


def _verdict(state: int) -> str:
    return "critical" if state == common_pb2.HEALTH_STATE_UNHEALTHY else health_name(state)


def summary(reply: chat_pb2.GetPerformanceResponse, inbound: Inbound) -> dict[str, Any]:
    s = reply.summary
    since = naive_iso(reply.data_since)
    status = _verdict(reply.health.health_status)
    if s.total_requests == 0:
        zeros = dict.fromkeys(
            (
                "total_requests",
                "average_response_time",
                "min_response_time",
                "max_response_time",
                "requests_last_hour",
                "requests_last_24h",
            ),
            0,
        )
        return {"summary": zeros, "providers": {}, "health_status": status, "data_since": since}
    return {
        "summary": {
            "total_requests": s.total_requests,
            "average_response_time": _s(s.average_response_time_ms),
            "min_response_time": _s(s.min_response_time_ms),
            "max_response_time": _s(s.max_response_time_ms),
            "requests_last_hour": s.requests_last_hour,
            "requests_last_24h": s.requests_last_24h,
            "active_requests": s.active_requests,
        },
        "providers": {
            p.provider_id: {
                "total_requests": p.total_requests,
                "average_response_time": _s(p.average_response_time_ms),
                "total_tokens": p.total_tokens,
                "error_rate": round(p.error_rate_percent, 2),
                "last_error": naive_iso(p.last_error_at) if p.HasField("last_error_at") else None,
            }
            for p in reply.providers
            if p.total_requests
        },
        "health_status": status,
        "data_since": since,
    }


def providers(reply: chat_pb2.GetPerformanceResponse, inbound: Inbound) -> dict[str, Any]:
    body = {
        p.provider_id: {
            "status": health_name(p.status),
            "average_response_time": _s(p.average_response_time_ms),
            "min_response_time": _s(p.min_response_time_ms),
            "max_response_time": _s(p.max_response_time_ms),
            "total_requests": p.total_requests,
            "total_tokens": p.total_tokens,
            "tokens_per_second": round(p.tokens_per_second, 1),
            "error_rate": round(p.error_rate_percent, 2),
            "uptime_percentage": round(p.uptime_percentage, 1),
            "last_error": naive_iso(p.last_error_at) + "Z" if p.HasField("last_error_at") else None,
            "available_models": list(p.available_models),
            "health_score": round(p.health_score, 1),
        }
        for p in reply.providers
    }
    healthy = all(p["status"] == "healthy" for p in body.values())
    return {"providers": body, "overall_health": "healthy" if healthy else "warning", "timestamp": now_iso()}


def _advice(timings: dict[str, dict[str, Any]]) -> list[str]:
    llm = timings.get("llm_api_call", {})
    auth = timings.get("authentication", {})
    processing = timings.get("response_processing", {})
    return [
        "LLM API calls dominate request time - consider model optimization"
        if llm.get("percentage_of_total", 0) >= 50
        else "LLM API calls are not the main cost - review the other stages",
        "Authentication time is within acceptable range"
        if auth.get("average_duration", 0) < _FAST_STAGE_S
        else "Authentication is slow - check the auth service and its cache",
        "Response processing efficiency is good"
        if processing.get("average_duration", 0) < _FAST_STAGE_S
        else "Response processing is slow - review post-processing",
    ]


def stages(reply: chat_pb2.GetPerformanceResponse, inbound: Inbound) -> dict[str, Any]:
    timings = {
        st.stage: {
            "average_duration": _s(st.average_duration_ms),
            "min_duration": _s(st.min_duration_ms),
            "max_duration": _s(st.max_duration_ms),
            "samples": st.samples,
            "percentage_of_total": round(st.percentage_of_total, 1),
        }
        for st in reply.stages
    }
    slowest = sorted(timings.items(), key=lambda item: -item[1]["average_duration"])[:3]
    return {
        "stage_timings": timings,
        "analysis": {
            "total_average_request_time": round(sum(t["average_duration"] for t in timings.values()), 3),
            "slowest_stages": [
                {
                    "stage": name,
                    "average_duration": t["average_duration"],
                    "percentage": t["percentage_of_total"],
                }
                for name, t in slowest
            ],
            "bottleneck_threshold": 1.0,
            "recommendations": _advice(timings),
        },
        "limit_applied": inbound.query_model.limit,
        "timestamp": now_iso(),
    }


def live(reply: chat_pb2.GetPerformanceResponse, inbound: Inbound) -> dict[str, Any]:
    lv = reply.live
    requests = [
        {
            "request_id": r.request_id,
            "start_time": naive_iso(r.started_at),
            "current_duration": _s(r.elapsed_ms),
            "provider": r.provider or "unknown",
            "model": r.model or "unknown",
            "status": "active",
            "stage": r.stage,
        }
        for r in lv.requests
    ]
    return {
        "active_requests": {
            "count": lv.active_requests,
            "requests": requests[:10],
            "total_active_time": _s(lv.total_active_time_ms) if requests else 0,
        },
        "system_metrics": {
            "requests_per_minute": float(lv.requests_per_minute),
            "memory_usage_mb": round(lv.memory_usage_mb, 1),
            "cpu_usage_percent": round(lv.cpu_usage_percent, 1),
            "active_connections": lv.active_connections,
        },
        "timestamp": now_iso(),
    }


def health(reply: chat_pb2.GetPerformanceResponse, inbound: Inbound) -> dict[str, Any]:
    h = reply.health
    measured = h.requests_analyzed > 0
    return {
        "health_status": _verdict(h.health_status),
        "health_score": round(h.health_score),
        "metrics": {
            "average_response_time": _s(h.average_response_time_ms) if measured else 0,
            "slow_requests_count": h.slow_requests_count,
            "error_rate_percent": round(h.error_rate_percent, 2) if measured else 0,
            "active_requests": h.active_requests,
            "requests_analyzed": h.requests_analyzed,
        },
        "thresholds": _THRESHOLDS,
        "alerts": list(h.alerts),
        "recommendations": _ADVICE,
        "timestamp": now_iso(),
    }


def reset(reply: chat_pb2.ResetPerformanceResponse, inbound: Inbound) -> dict[str, Any]:
    start, end = reply.data_since.ToDatetime(), reply.reset_at.ToDatetime()
    return {
        "status": "success",
        "message": "Performance metrics have been reset",
        "previous_data_summary": {
            "total_requests": reply.total_requests,
            "total_providers": reply.total_providers,
            "active_requests": reply.active_requests,
            "data_collection_period": {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "duration_minutes": round((end - start).total_seconds() / 60, 1),
            },
        },
        "reset_timestamp": end.isoformat(),
    }
