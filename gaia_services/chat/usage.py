"""The usage row of one LLM call: provider, model, tokens, cost, latency, caller, conversation, outcome.

Written with the turn's messages (``ChatHistory.store``), in the ``usage_records`` table that the usage
routes and the asset service report from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gaia_services.chat.llm_config import LLMSettings

__all__ = ["UsageEntry", "cost_of"]


@dataclass(frozen=True, slots=True)
class UsageEntry:
    provider: str
    model: str
    operation: str  # "chat" or "chat_stream"
    tokens_in: int
    tokens_out: int
    cost: float  # USD, from the pricing table (``cost_of``)
    latency_ms: int
    status: str  # ok, error, cut
    metadata: dict[str, Any] = field(default_factory=dict)


def cost_of(settings: LLMSettings, model: str, tokens_in: int, tokens_out: int) -> float:
    price = settings.price(model)
    return round(max(0, tokens_in) * price.input + max(0, tokens_out) * price.output, 6)
