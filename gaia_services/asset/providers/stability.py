"""Stability AI's text-to-image (REST, JSON with base64 artifacts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp

from gaia_services.asset.pricing import PricingBook
from gaia_services.asset.providers.base import (
    GeneratedFile,
    GenerationSpec,
    Polling,
    api_error,
    decode_image,
    http_json,
    image_price,
)
from gaia_services.asset.settings import AssetSettings

__all__ = ["StabilityImages"]


class StabilityImages:
    name = "stability_ai"

    def __init__(self, *, settings: AssetSettings, book: PricingBook, session: aiohttp.ClientSession) -> None:
        assert settings.stability_api_key is not None
        self._key = settings.stability_api_key.get_secret_value()
        self._settings = settings
        self._book = book
        self._session = session

    def cost(self, spec: GenerationSpec) -> Decimal:
        return image_price(self._book, "stability", "hd" if spec.hd else "standard")

    async def run(self, spec: GenerationSpec) -> AsyncIterator[Polling | GeneratedFile]:
        s = self._settings
        reply = await http_json(
            self._session,
            "POST",
            f"{s.stability_base_url}/v1/generation/{s.stability_engine}/text-to-image",
            provider="Stability",
            headers={"Authorization": f"Bearer {self._key}", "Accept": "application/json"},
            body={
                "text_prompts": [{"text": spec.prompt}],
                "cfg_scale": 7,
                "height": 1024,
                "width": 1024,
                "samples": 1,
                "steps": 30,
            },
            timeout_s=s.provider_timeout_s,
            retries=s.provider_retries,
        )
        artifacts = reply.get("artifacts") if isinstance(reply, dict) else None
        if not artifacts or artifacts[0].get("finishReason", "SUCCESS") != "SUCCESS":
            raise api_error("Stability returned no image")
        yield GeneratedFile(
            data=decode_image(artifacts[0].get("base64"), "Stability"),
            file_format="png",
            external_source=self.name,
            usage_provider="stability",
            operation="image_generation",
            cost=self.cost(spec),
            model=s.stability_engine,
            images=1,
            source_name="stability",
            details={"size": "1024x1024", "model": s.stability_engine},
        )
