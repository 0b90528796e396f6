"""OpenAI, and any OpenAI-compatible server, through the official SDK (``AsyncOpenAI``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

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
    transport_text,
)
from gaia_services.runtime.errors import DomainError
from gaia_services.runtime.telemetry import trace_headers

__all__ = ["OpenAIProvider"]


def _error(exc: openai.APIError) -> DomainError:
    """The SDK's error as ours, worded from its fields (``wording``), never from ``str(exc)``."""
    if isinstance(exc, openai.APITimeoutError):
        return connection_error(TIMED_OUT)
    if isinstance(exc, openai.APIConnectionError):
        return connection_error(CONNECTION_ERROR)
    if isinstance(exc, openai.APIStatusError):
        return status_error(http_error_text(exc.response), exc.status_code)
    return api_error(UNREADABLE)


class OpenAIProvider:
    def __init__(
        self,
        *,
        name: str,
        api_key: str,
        base_url: str | None,
        connect_timeout_s: float,
        idle_timeout_s: float,
        include_usage: bool = True,
    ) -> None:
        self._name = name
        self._include_usage = include_usage
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,  # retries are ours: transient errors only, and only before the first token
            timeout=httpx2.Timeout(idle_timeout_s, connect=connect_timeout_s),
            # The SDK's aiohttp transport: its default (httpx2) costs several times the CPU per request
            # under concurrency (DESIGN.md, "Measured pitfalls"; bench/run.py shows the difference).
            http_client=openai.DefaultAioHttpClient(
                timeout=httpx2.Timeout(idle_timeout_s, connect=connect_timeout_s)
            ),
        )

    @property
    def name(self) -> str:
        return self._name

    async def aclose(self) -> None:
        await self._client.close()

    async def stream(self, prompt: Prompt) -> AsyncIterator[ProviderEvent]:
        messages: list[dict[str, str]] = []
        if prompt.system:
            messages.append({"role": "system", "content": prompt.system})
        messages.extend({"role": t.role, "content": t.content} for t in prompt.turns)
        kwargs: dict[str, Any] = {
            "model": prompt.model,
            "messages": messages,
            "stream": True,
            "max_tokens": prompt.max_tokens,
        }
        if self._include_usage:
            kwargs["stream_options"] = {"include_usage": True}
        if prompt.temperature is not None:
            kwargs["temperature"] = prompt.temperature
        if prompt.top_p is not None:
            kwargs["top_p"] = prompt.top_p
        if prompt.stop:
            kwargs["stop"] = list(prompt.stop)
        traced = trace_headers()  # the provider span's traceparent: one trace id to the provider request
        if traced:
            kwargs["extra_headers"] = traced
        prompt_tokens = completion_tokens = pieces = 0
        finish = "stop"
        # The SDK makes the request (auth, base URL, status errors); the SSE lines are parsed here with
        # json.loads, which costs a fraction of building the SDK's pydantic chunk objects (measured: the
        # per-chunk models were most of the chat service's CPU under load).
        try:
            async with self._client.chat.completions.with_streaming_response.create(**kwargs) as response:
                async for line in response.iter_lines():
                    chunk = _chunk(line)
                    if chunk is None:
                        continue
                    usage = chunk.get("usage")
                    if usage:
                        prompt_tokens = usage.get("prompt_tokens") or 0
                        completion_tokens = usage.get("completion_tokens") or 0
                    for choice in chunk.get("choices") or ():
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            pieces += 1
                            yield TextDelta(text)
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
        except openai.APIError as exc:
            raise _error(exc) from exc
        except httpx2.HTTPError as exc:
            raise connection_error(transport_text(exc)) from exc
        yield StreamEnd(
            finish_reason=finish, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens or pieces
        )


def _chunk(line: str) -> dict[str, Any] | None:
    """One ``data:`` line of the stream as a dict (None for other lines and ``[DONE]``); an error event
    raises, as the SDK's own stream would."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if not data or data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise api_error(UNREADABLE) from exc
    error = chunk.get("error") if isinstance(chunk, dict) else None
    if error:
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise api_error(str(message or "An error occurred during streaming"))
    return chunk if isinstance(chunk, dict) else None
