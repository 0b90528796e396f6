"""Judgements over measured calls: a provider's health, the service's performance health and its alerts.

Thresholds are the reference's: healthy below 2 s average and 1 % errors, warning below 5 s and 5 %, else
critical; a request slower than 5 s is slow.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaia_services.chat.provider_stats import CallFigures

__all__ = ["Assessment", "assess", "health_of", "provider_score"]

HEALTHY_S, WARNING_S = 2.0, 5.0
HEALTHY_ERRORS_PCT, WARNING_ERRORS_PCT = 1.0, 5.0
MAX_CONCURRENT = 50


@dataclass(frozen=True, slots=True)
class Assessment:
    status: str  # healthy | warning | critical
    score: float
    average_s: float
    slow: int
    error_rate_percent: float
    active: int
    analyzed: int
    alerts: tuple[str, ...]


def assess(recent: CallFigures, *, active: int) -> Assessment:
    """The service's health from its recent calls and the requests in flight."""
    average_s = recent.avg_latency_ms / 1000
    errors_pct = recent.error_rate * 100
    if average_s < HEALTHY_S and errors_pct < HEALTHY_ERRORS_PCT:
        status, score = "healthy", 95.0
    elif average_s < WARNING_S and errors_pct < WARNING_ERRORS_PCT:
        status, score = "warning", 75.0
    else:
        status, score = "critical", 40.0
    alerts = []
    if average_s > WARNING_S:
        alerts.append(f"High average response time: {average_s:.2f}s")
    elif average_s > HEALTHY_S:
        alerts.append(f"Elevated response time: {average_s:.2f}s")
    if errors_pct > WARNING_ERRORS_PCT:
        alerts.append(f"High error rate: {errors_pct:.1f}%")
    elif errors_pct > HEALTHY_ERRORS_PCT:
        alerts.append(f"Elevated error rate: {errors_pct:.1f}%")
    if active > MAX_CONCURRENT:
        alerts.append(f"High concurrent requests: {active}")
    return Assessment(
        status=status,
        score=score,
        average_s=average_s,
        slow=recent.slow,
        error_rate_percent=errors_pct,
        active=active,
        analyzed=recent.requests,
        alerts=tuple(alerts),
    )


def health_of(figures: CallFigures, *, configured: bool) -> str:
    """A provider's health from its recent calls: no credentials is unhealthy; no calls is no bad news."""
    if not configured:
        return "unhealthy"
    if not figures.requests:
        return "healthy"
    errors_pct = figures.error_rate * 100
    average_s = figures.avg_latency_ms / 1000
    if errors_pct >= 50:
        return "unhealthy"
    if errors_pct >= WARNING_ERRORS_PCT or average_s >= WARNING_S:
        return "degraded"
    if errors_pct >= HEALTHY_ERRORS_PCT or average_s >= HEALTHY_S:
        return "warning"
    return "healthy"


def provider_score(figures: CallFigures) -> float:
    """0 to 100: 100 minus the error percentage, minus up to 20 points for slowness beyond 2 s."""
    if not figures.requests:
        return 100.0
    slowness = min(20.0, max(0.0, figures.avg_latency_ms / 1000 - HEALTHY_S) * 10)
    return round(max(0.0, 100.0 - figures.error_rate * 100 - slowness), 1)
