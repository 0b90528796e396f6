"""The one interface every LLM provider implements, as plain data: a prompt in, text deltas out.

A provider failure is one of the runtime's ``DomainError`` kinds, with a ``reason`` (``"rate_limit"``,
``"auth_error"``, ``"model_not_found"``, ``"connection_error"``, ``"api_error"``) and whether it is
``transient`` (a connection, rate limit or 5xx, which may be retried).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from gaia_services.runtime.errors import (
    DomainError,
    Exhausted,
    Internal,
    NotFound,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "ChatProvider",
    "Prompt",
    "ProviderEvent",
    "StreamEnd",
    "TextDelta",
    "Turn",
    "api_error",
    "connection_error",
    "status_error",
]


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of the prompt: role ``system``, ``user`` or ``assistant``."""

    role: str
    content: str


@dataclass(frozen=True, slots=True)
class Prompt:
    model: str
    system: str
    turns: tuple[Turn, ...]
    max_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class StreamEnd:
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0


ProviderEvent = TextDelta | StreamEnd


class ChatProvider(Protocol):
    """Streams one completion; the iterator ends with exactly one ``StreamEnd`` or raises a DomainError.

    Closing the iterator early (``aclose``) must abort the provider's HTTP request.
    """

    @property
    def name(self) -> str: ...

    def stream(self, prompt: Prompt) -> AsyncIterator[ProviderEvent]: ...

    async def aclose(self) -> None:
        """Release the provider's connections (at shutdown)."""


def status_error(message: str, status: int) -> DomainError:
    """The error for an HTTP status answered by a provider, classified by the usual rules."""
    if status == 429:
        return Exhausted(message, reason="rate_limit", transient=True)
    if status in (401, 403):
        return Unauthenticated(message, reason="auth_error")
    if status == 404:
        return NotFound(message, reason="model_not_found")
    if status >= 500 or status == 408:
        return api_error(message, transient=True)
    return api_error(message)


def api_error(message: str, *, transient: bool = False) -> DomainError:
    """A provider's own failure (an error event, an unreadable answer); a transient one may be retried."""
    if transient:
        return Unavailable(message, reason="api_error", transient=True)
    return Internal(message, reason="api_error")


def connection_error(message: str) -> DomainError:
    return Unavailable(message, reason="connection_error", transient=True)
