"""OpenAI images through the official SDK (imported only when an OpenAI key is configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Literal

import openai

from gaia_services.asset.pricing import PricingBook
from gaia_services.asset.providers.base import (
    GeneratedFile,
    GenerationSpec,
    Polling,
    api_error,
    decode_image,
    image_price,
    timed_out,
    unreachable,
)
from gaia_services.asset.settings import AssetSettings

__all__ = ["OpenAIImages"]


class OpenAIImages:
    name = "openai_dalle3"

    def __init__(self, *, settings: AssetSettings, book: PricingBook) -> None:
        assert settings.openai_api_key is not None
        self._client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=settings.provider_timeout_s,
            max_retries=settings.provider_retries,
        )
        self._model = settings.openai_image_model
        self._book = book

    def cost(self, spec: GenerationSpec) -> Decimal:
        return image_price(self._book, "dalle", "hd" if spec.hd else "standard")

    async def run(self, spec: GenerationSpec) -> AsyncIterator[Polling | GeneratedFile]:
        """One generation; the client (made for it by ``providers_for``) is closed afterwards."""
        async with self._client:
            async for item in self._generate(spec):
                yield item

    async def _generate(self, spec: GenerationSpec) -> AsyncIterator[GeneratedFile]:
        quality: Literal["hd", "standard"] = "hd" if spec.hd else "standard"
        try:
            reply = await self._client.images.generate(
                model=self._model,
                prompt=spec.prompt,
                n=1,
                size="1024x1024",
                quality=quality,
                response_format="b64_json",
            )
        except openai.APITimeoutError as exc:
            raise timed_out("OpenAI images timed out") from exc
        except openai.APIStatusError as exc:
            raise api_error(f"OpenAI images answered HTTP {exc.status_code}") from exc
        except openai.APIError as exc:
            raise unreachable("OpenAI images unreachable") from exc
        if not reply.data:
            raise api_error("OpenAI images returned no image")
        image = reply.data[0]
        yield GeneratedFile(
            data=decode_image(image.b64_json, "OpenAI images"),
            file_format="png",
            external_source=self.name,
            usage_provider="dalle",
            operation="image_generation",
            cost=self.cost(spec),
            model=self._model,
            images=1,
            source_name="openai",
            details={
                "size": "1024x1024",
                "quality": quality,
                "model": self._model,
                "revised_prompt": image.revised_prompt or "",
            },
        )
