"""Anthropic through the official SDK (``AsyncAnthropic``), streamed event by event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2

from gaia_services.chat.providers.base import (
    Prompt,
    ProviderEvent,
    StreamEnd,
    TextDelta,
    api_error,
    connection_error,
    status_error,
)
from gaia_services.chat.providers.wording import (
    CONNECTION_ERROR,
    TIMED_OUT,
    UNREADABLE,
    http_error_text,
    stream_error_text,
    transport_text,
)
from gaia_services.runtime.errors import DomainError
from gaia_services.runtime.telemetry import trace_headers

__all__ = ["AnthropicProvider"]

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


def _error(exc: anthropic.APIError) -> DomainError:
    """The SDK's error as ours, worded from its fields (``wording``), never from ``str(exc)``."""
    if isinstance(exc, anthropic.APITimeoutError):
        return connection_error(TIMED_OUT)
    if isinstance(exc, anthropic.APIConnectionError):
        return connection_error(CONNECTION_ERROR)
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == 200:  # an error event inside the stream
            body = exc.body if isinstance(exc.body, dict) else {}
            kind = (body.get("error") or {}).get("type", "") if isinstance(body.get("error"), dict) else ""
            transient = kind in ("overloaded_error", "api_error", "rate_limit_error")
            return api_error(stream_error_text(exc.body), transient=transient)
        message = http_error_text(exc.response)
        if status == 529:
            return api_error(message, transient=True)
        return status_error(message, status)
    return api_error(UNREADABLE)


class AnthropicProvider:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        connect_timeout_s: float,
        idle_timeout_s: float,
        name: str = "claude",
    ) -> None:
        self._name = name
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,  # retries are ours: transient errors only, and only before the first token
            timeout=httpx2.Timeout(idle_timeout_s, connect=connect_timeout_s),
            http_client=anthropic.DefaultAioHttpClient(  # as OpenAIProvider: the cheaper transport
                timeout=httpx2.Timeout(idle_timeout_s, connect=connect_timeout_s)
            ),
        )

    @property
    def name(self) -> str:
        return self._name

    async def aclose(self) -> None:
        await self._client.close()

    async def stream(self, prompt: Prompt) -> AsyncIterator[ProviderEvent]:
        kwargs: dict[str, Any] = {
            "model": prompt.model,
            "max_tokens": prompt.max_tokens,
            "messages": [
                {"role": t.role, "content": t.content}
                for t in prompt.turns
                if t.role in ("user", "assistant") and t.content
            ],
            "stream": True,
        }
        system = "\n\n".join(
            p for p in (prompt.system, *(t.content for t in prompt.turns if t.role == "system")) if p
        )
        if system:
            kwargs["system"] = system
        # anthropic 2.x no longer takes sampling parameters (temperature, top_p): they are not sent.
        if prompt.stop:
            kwargs["stop_sequences"] = list(prompt.stop)
        traced = trace_headers()  # the provider span's traceparent: one trace id to the provider request
        if traced:
            kwargs["extra_headers"] = traced
        try:
            stream = await self._client.messages.create(**kwargs)
        except anthropic.APIError as exc:
            raise _error(exc) from exc
        except httpx2.HTTPError as exc:
            raise connection_error(transport_text(exc)) from exc
        prompt_tokens = completion_tokens = 0
        finish = "stop"
        try:
            async for event in stream:
                kind = event.type
                if kind == "content_block_delta":
                    text = getattr(event.delta, "text", "")
                    if text:
                        yield TextDelta(text)
                elif kind == "message_start":
                    prompt_tokens = event.message.usage.input_tokens or 0
                    completion_tokens = event.message.usage.output_tokens or 0
                elif kind == "message_delta":
                    completion_tokens = event.usage.output_tokens or completion_tokens
                    finish = _STOP_REASONS.get(event.delta.stop_reason or "end_turn", "stop")
        except anthropic.APIError as exc:
            raise _error(exc) from exc
        except httpx2.HTTPError as exc:  # not wrapped by the SDK while the stream is read (idle timeout)
            raise connection_error(transport_text(exc)) from exc
        finally:
            await stream.close()
        yield StreamEnd(
            finish_reason=finish, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
