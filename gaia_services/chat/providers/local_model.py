"""The built-in keyless model ``gaia-local``: deterministic, streamed token by token, for a first run."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from gaia_services.chat.providers.base import Prompt, ProviderEvent, StreamEnd, TextDelta

__all__ = ["LOCAL_MODEL", "LocalModel", "local_reply"]

LOCAL_MODEL = "gaia-local"
_WORD = re.compile(r"\s*\S+")


def local_reply(message: str) -> list[str]:
    """The built-in model's reply to ``message``, as the tokens it streams."""
    text = "echo: " + message
    tokens = _WORD.findall(text)
    rest = text[sum(len(t) for t in tokens) :]
    if rest:
        tokens[-1] += rest
    return tokens


class LocalModel:
    """Echoes the last user message word by word (like the reference's test double), so that a mesh
    without any provider key still chats end to end."""

    def __init__(self, *, token_delay_s: float = 0.0) -> None:
        self._delay = token_delay_s

    @property
    def name(self) -> str:
        return LOCAL_MODEL

    async def aclose(self) -> None:
        return None

    async def stream(self, prompt: Prompt) -> AsyncIterator[ProviderEvent]:
        last = next((t.content for t in reversed(prompt.turns) if t.role == "user"), "")
        tokens = local_reply(last)
        for token in tokens:
            await asyncio.sleep(self._delay)
            yield TextDelta(token)
        prompt_words = len(prompt.system.split()) + sum(len(t.content.split()) for t in prompt.turns)
        yield StreamEnd(finish_reason="stop", prompt_tokens=prompt_words, completion_tokens=len(tokens))
