"""What every generator shares: its request, the file it returns, its errors, and HTTP with retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import aiohttp

__all__ = [
    "GeneratedFile",
    "GenerationSpec",
    "Polling",
    "Provider",
    "ProviderError",
    "enhance",
    "fetch_bytes",
    "http_json",
]

# gRPC status code numbers (google.rpc.Code) carried by a stream's Failure.
UNAVAILABLE, DEADLINE_EXCEEDED = 14, 4

_STYLE_SUFFIXES = {
    "realistic": "photorealistic, highly detailed, professional photography",
    "cartoon": "cartoon style, vibrant colors, clean lines",
    "sci_fi": "science fiction, futuristic, high-tech",
    "fantasy": "fantasy art, magical, ethereal",
    "medieval": "medieval style, historical, rustic",
    "artistic": "artistic, creative, stylized",
}


def enhance(description: str, style: str) -> str:
    suffix = _STYLE_SUFFIXES.get(style, f"{style} style" if style else "")
    return f"{description}, {suffix}" if suffix else description


@dataclass(frozen=True, slots=True)
class GenerationSpec:
    category: str
    style: str
    description: str
    quality: str  # legacy requirement quality: low, medium, high, ultra
    prompt: str  # the enhanced prompt sent to the provider

    @property
    def hd(self) -> bool:
        return self.quality in ("high", "ultra")


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    data: bytes
    file_format: str
    external_source: str  # AssetResponse storage_info.external_source, e.g. "openai_dalle3", "local"
    usage_provider: str  # the usage_records provider, e.g. "dalle", "meshy", "local"
    operation: str  # the usage_records operation, e.g. "image_generation", "text_to_3d"
    cost: Decimal
    model: str = ""
    images: int = 0
    models_3d: int = 0
    credits: float = 0.0
    source_name: str = "local"  # asset_sources.source_name
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Polling:
    """A long-running provider is still working (``percent`` of the provider's own progress)."""

    percent: int
    message: str = ""


class ProviderError(Exception):
    """A provider failed; the message is safe to show. ``code`` is the gRPC status number to report."""

    def __init__(self, message: str, *, code: int = UNAVAILABLE, reason: str = "api_error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason


class Provider(Protocol):
    name: str

    def cost(self, spec: GenerationSpec) -> Decimal:
        """The price of one generation, known before the call (for budgets)."""
        ...

    def run(self, spec: GenerationSpec) -> AsyncIterator[Polling | GeneratedFile]:
        """Zero or more ``Polling`` events, then exactly one ``GeneratedFile``; raises ``ProviderError``."""
        ...


async def http_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    timeout_s: float,
    retries: int,
) -> Any:
    """One JSON call, retried on connection errors, timeouts and 5xx/429 with a short backoff."""
    last: ProviderError | None = None
    for attempt in range(retries + 1):
        if attempt:
            await asyncio.sleep(min(2.0, 0.2 * 2 ** (attempt - 1)))
        try:
            async with session.request(
                method, url, headers=headers, json=body, timeout=aiohttp.ClientTimeout(total=timeout_s)
            ) as response:
                if response.status >= 500 or response.status == 429:
                    last = ProviderError(f"{provider} answered HTTP {response.status}")
                    continue
                if response.status >= 400:
                    raise ProviderError(f"{provider} refused the request (HTTP {response.status})")
                return await response.json(content_type=None)
        except TimeoutError:
            last = ProviderError(
                f"{provider} timed out after {timeout_s:g}s", code=DEADLINE_EXCEEDED, reason="timeout"
            )
        except aiohttp.ClientError as exc:
            last = ProviderError(f"{provider} unreachable: {type(exc).__name__}", reason="connection_error")
    assert last is not None
    raise last


async def fetch_bytes(
    session: aiohttp.ClientSession,
    url: str,
    *,
    provider: str,
    timeout_s: float,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            if response.status >= 400:
                raise ProviderError(f"{provider} file download failed (HTTP {response.status})")
            data = await response.content.read(max_bytes + 1)
    except TimeoutError as exc:
        raise ProviderError(
            f"{provider} download timed out", code=DEADLINE_EXCEEDED, reason="timeout"
        ) from exc
    except aiohttp.ClientError as exc:
        raise ProviderError(
            f"{provider} download failed: {type(exc).__name__}", reason="connection_error"
        ) from exc
    if len(data) > max_bytes:
        raise ProviderError(f"{provider} file is larger than the configured maximum")
    return data
