"""How the asset routes word a budget's refusal of a generation (the ledger itself is ``runtime.budgets``).

The two limits the reference had keep its exact messages (clients and tests match them); the others (a
user's day, an API key's budget) say which limit and when it resets.
"""

from __future__ import annotations

from gaia_services.runtime.budgets import BudgetExceeded

__all__ = ["SESSION_EXCEEDED", "USER_EXCEEDED", "refusal_message"]

SESSION_EXCEEDED = "Generation budget exceeded for this session"
USER_EXCEEDED = "Monthly generation budget exceeded for this user"
_LEGACY = {"session_daily": SESSION_EXCEEDED, "user_monthly": USER_EXCEEDED}


def refusal_message(error: BudgetExceeded) -> str:
    return _LEGACY.get(error.limit, error.message)
