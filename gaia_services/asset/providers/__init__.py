"""The asset generators behind one interface (``base.Provider``): OpenAI images, Stability, Meshy, Mubert,
and the local one of keyless dev mode; ``providers_for`` picks the configured ones for a category.

Each external one is an HTTP client with a configurable base URL, timeout and retries.
"""

from __future__ import annotations

import aiohttp

from gaia_services.asset.pricing import PricingBook
from gaia_services.asset.providers.base import (
    GeneratedFile,
    GenerationSpec,
    Polling,
    Provider,
    enhance,
)
from gaia_services.asset.providers.local import LocalProvider
from gaia_services.asset.providers.meshy import MeshyProvider
from gaia_services.asset.providers.mubert import MubertProvider
from gaia_services.asset.providers.stability import StabilityImages
from gaia_services.asset.settings import AssetSettings

__all__ = ["GeneratedFile", "GenerationSpec", "Polling", "Provider", "enhance", "providers_for"]


def providers_for(
    category: str, *, settings: AssetSettings, book: PricingBook, session: aiohttp.ClientSession
) -> list[Provider]:
    """The configured providers for a category, in preference order; the local generator when none is."""
    chain: list[Provider] = []
    openai_images = None
    if settings.openai_api_key:  # the SDK is imported only when configured (~45 MiB of memory)
        from gaia_services.asset.providers.openai_images import OpenAIImages

        openai_images = OpenAIImages(settings=settings, book=book)
    stability = (
        StabilityImages(settings=settings, book=book, session=session) if settings.stability_api_key else None
    )
    if category == "image":
        chain = [p for p in (openai_images, stability) if p is not None]
    elif category == "texture":
        chain = [p for p in (stability, openai_images) if p is not None]
    elif category in ("environment", "character", "prop") and settings.meshy_api_key:
        chain = [MeshyProvider(settings=settings, book=book, session=session)]
    elif category == "audio" and settings.mubert_api_key:
        chain = [MubertProvider(settings=settings, session=session)]
    return chain or [LocalProvider()]
