"""The one interface every LLM provider implements, as plain data: a prompt in, text deltas out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "ChatProvider",
    "Prompt",
    "ProviderError",
    "ProviderEvent",
    "StreamEnd",
    "TextDelta",
    "Turn",
    "connection_error",
    "status_error",
]

# gRPC status code numbers (google.rpc.Code) carried by a provider failure.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
INTERNAL = 13
UNAVAILABLE = 14
UNAUTHENTICATED = 16


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


class ProviderError(Exception):
    """A provider call failed. ``transient`` errors (connection, rate limit, 5xx) may be retried."""

    def __init__(
        self, message: str, *, reason: str = "api_error", transient: bool = False, code: int = INTERNAL
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.transient = transient
        self.code = code


class ChatProvider(Protocol):
    """Streams one completion; the iterator ends with exactly one ``StreamEnd`` or raises ProviderError.

    Closing the iterator early (``aclose``) must abort the provider's HTTP request.
    """

    @property
    def name(self) -> str: ...

    def stream(self, prompt: Prompt) -> AsyncIterator[ProviderEvent]: ...

    async def aclose(self) -> None:
        """Release the provider's connections (at shutdown)."""


def status_error(message: str, status: int) -> ProviderError:
    """The error for an HTTP status answered by a provider, classified by the usual rules."""
    if status == 429:
        return ProviderError(message, reason="rate_limit", transient=True, code=RESOURCE_EXHAUSTED)
    if status in (401, 403):
        return ProviderError(message, reason="auth_error", code=UNAUTHENTICATED)
    if status == 404:
        return ProviderError(message, reason="model_not_found", code=NOT_FOUND)
    if status >= 500 or status == 408:
        return ProviderError(message, reason="api_error", transient=True, code=UNAVAILABLE)
    return ProviderError(message, reason="api_error", code=INTERNAL)


def connection_error(message: str) -> ProviderError:
    return ProviderError(message, reason="connection_error", transient=True, code=UNAVAILABLE)
