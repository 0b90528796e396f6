"""The budget's Prometheus metrics, on the default registry (every service process's /metrics shows them)."""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["BUDGET_REFUSALS"]

#: Spends refused before they happened, by the limit that refused them (session_daily, api_key, user_daily,
#: user_monthly).
BUDGET_REFUSALS = Counter(
    "gaia_budget_refusals_total", "Spends refused by a budget, before any provider was called", ["limit"]
)
