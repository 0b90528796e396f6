"""The usage row of one LLM call: provider, model, tokens, cost, latency, caller, conversation, outcome.

Written with the turn's messages (``ChatHistory.store``), in the ``usage_records`` table that the usage
routes and the asset service report from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gaia_services.chat.llm_config import LLMSettings
from gaia_services.chat.providers import Prompt

__all__ = ["UsageEntry", "cost_of", "estimated_cost"]

#: Characters per token assumed when a prompt's tokens are estimated before the call (a cautious 3: English
#: averages about 4).
_CHARS_PER_TOKEN = 3


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


def estimated_cost(settings: LLMSettings, prompt: Prompt) -> float:
    """The most a call of ``prompt`` may cost, before it is made (what budgets reserve): its text at about
    three characters a token, and all of ``max_tokens`` of reply."""
    chars = len(prompt.system) + sum(len(turn.content) + 8 for turn in prompt.turns)
    tokens_in = chars // _CHARS_PER_TOKEN + 16
    return cost_of(settings, prompt.model, tokens_in, prompt.max_tokens or settings.default_max_tokens)
