"""LLM providers behind one interface: Anthropic, OpenAI, OpenAI-compatible servers, the built-in model."""

from __future__ import annotations

from gaia_services.chat.providers.base import (
    ChatProvider,
    Prompt,
    ProviderEvent,
    StreamEnd,
    TextDelta,
    Turn,
)

__all__ = ["ChatProvider", "Prompt", "ProviderEvent", "StreamEnd", "TextDelta", "Turn"]
