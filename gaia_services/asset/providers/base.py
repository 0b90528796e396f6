"""What every generator shares: its request, the file it returns, its errors, and HTTP with retries.

A generator fails with the runtime's own error kinds: ``Unavailable`` (reason ``"api_error"`` or
``"connection_error"``) or ``DeadlineExceeded`` (reason ``"timeout"``); the generation stream reports
``failure_code`` of the error as its ``Failure.code``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import aiohttp

from gaia_services.asset.pricing import PricingBook
from gaia_services.runtime.errors import DeadlineExceeded, DomainError, Unavailable

__all__ = [
    "GeneratedFile",
    "GenerationSpec",
    "Polling",
    "Provider",
    "api_error",
    "decode_image",
    "enhance",
    "fetch_bytes",
    "http_json",
    "image_price",
    "timed_out",
    "unreachable",
]

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


class Provider(Protocol):
    name: str

    def cost(self, spec: GenerationSpec) -> Decimal:
        """The price of one generation, known before the call (for budgets)."""
        ...

    def run(self, spec: GenerationSpec) -> AsyncIterator[Polling | GeneratedFile]:
        """Zero or more ``Polling`` events, then exactly one ``GeneratedFile``; raises a ``DomainError``
        (``api_error``, ``unreachable``, ``timed_out``)."""
        ...


def api_error(message: str, *, transient: bool = False) -> Unavailable:
    """The provider answered, but not with the asset (an HTTP error, an unreadable or empty answer)."""
    return Unavailable(message, reason="api_error", transient=transient)


def unreachable(message: str) -> Unavailable:
    return Unavailable(message, reason="connection_error", transient=True)


def timed_out(message: str) -> DeadlineExceeded:
    return DeadlineExceeded(message, reason="timeout", transient=True)


def image_price(book: PricingBook, provider: str, quality: str) -> Decimal:
    price = book.get(provider)
    return Decimal(str(price.image_cost(quality))) if price else Decimal(0)


def decode_image(data: str | None, provider: str) -> bytes:
    try:
        return base64.b64decode(data or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise api_error(f"{provider} returned an unreadable image") from exc


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
    last: DomainError | None = None
    for attempt in range(retries + 1):
        if attempt:
            await asyncio.sleep(min(2.0, 0.2 * 2 ** (attempt - 1)))
        try:
            async with session.request(
                method, url, headers=headers, json=body, timeout=aiohttp.ClientTimeout(total=timeout_s)
            ) as response:
                if response.status >= 500 or response.status == 429:
                    last = api_error(f"{provider} answered HTTP {response.status}", transient=True)
                    continue
                if response.status >= 400:
                    raise api_error(f"{provider} refused the request (HTTP {response.status})")
                return await response.json(content_type=None)
        except TimeoutError:
            last = timed_out(f"{provider} timed out after {timeout_s:g}s")
        except aiohttp.ClientError as exc:
            last = unreachable(f"{provider} unreachable: {type(exc).__name__}")
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
                raise api_error(f"{provider} file download failed (HTTP {response.status})")
            data = await response.content.read(max_bytes + 1)
    except TimeoutError as exc:
        raise timed_out(f"{provider} download timed out") from exc
    except aiohttp.ClientError as exc:
        raise unreachable(f"{provider} download failed: {type(exc).__name__}") from exc
    if len(data) > max_bytes:
        raise api_error(f"{provider} file is larger than the configured maximum")
    return data
