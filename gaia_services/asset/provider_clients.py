"""The generators: OpenAI images (openai SDK), Stability, Meshy (task + polling), Mubert, and the local one.

Each external one is an HTTP client with a configurable base URL, timeout and retries."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp

from gaia_services.asset import local_generator
from gaia_services.asset.pricing import PricingBook
from gaia_services.asset.providers import (
    DEADLINE_EXCEEDED,
    GeneratedFile,
    GenerationSpec,
    Polling,
    Provider,
    ProviderError,
    fetch_bytes,
    http_json,
)
from gaia_services.asset.settings import AssetSettings

__all__ = [
    "LocalProvider",
    "MeshyProvider",
    "MubertProvider",
    "StabilityImages",
    "decode_image",
    "image_price",
    "providers_for",
]


def image_price(book: PricingBook, provider: str, quality: str) -> Decimal:
    price = book.get(provider)
    return Decimal(str(price.image_cost(quality))) if price else Decimal(0)


def decode_image(data: str | None, provider: str) -> bytes:
    try:
        return base64.b64decode(data or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderError(f"{provider} returned an unreadable image") from exc


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
            raise ProviderError("Stability returned no image")
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


class MeshyProvider:
    name = "meshy_ai"

    def __init__(self, *, settings: AssetSettings, book: PricingBook, session: aiohttp.ClientSession) -> None:
        assert settings.meshy_api_key is not None
        self._headers = {"Authorization": f"Bearer {settings.meshy_api_key.get_secret_value()}"}
        self._settings = settings
        self._book = book
        self._session = session

    def _credits(self) -> tuple[int, Decimal]:
        price = self._book.get("meshy")
        if price is None:
            return 0, Decimal(0)
        credits = price.credits_for("text_to_3d")
        return credits, Decimal(str(credits * price.cost_per_credit))

    def cost(self, spec: GenerationSpec) -> Decimal:
        return self._credits()[1]

    async def run(self, spec: GenerationSpec) -> AsyncIterator[Polling | GeneratedFile]:
        s = self._settings
        call: dict[str, Any] = {
            "provider": "Meshy",
            "headers": self._headers,
            "timeout_s": s.provider_timeout_s,
            "retries": s.provider_retries,
        }
        created = await http_json(
            self._session,
            "POST",
            f"{s.meshy_base_url}/v2/text-to-3d",
            body={
                "mode": "preview",
                "prompt": spec.prompt,
                "art_style": "realistic",
                "negative_prompt": "low quality, low resolution",
            },
            **call,
        )
        task_id = created.get("result") if isinstance(created, dict) else None
        if not task_id:
            raise ProviderError("Meshy did not accept the task")
        deadline = time.monotonic() + s.meshy_max_wait_s
        while True:
            task = await http_json(
                self._session, "GET", f"{s.meshy_base_url}/v2/text-to-3d/{task_id}", **call
            )
            status = task.get("status", "") if isinstance(task, dict) else ""
            if status == "SUCCEEDED":
                break
            if status in ("FAILED", "EXPIRED", "CANCELED"):
                error = (task.get("task_error") or {}).get("message") or status.lower()
                raise ProviderError(f"Meshy task failed: {error}")
            if time.monotonic() > deadline:
                raise ProviderError(
                    "Meshy task did not finish in time", code=DEADLINE_EXCEEDED, reason="timeout"
                )
            yield Polling(percent=int(task.get("progress") or 0), message=f"Meshy task {status.lower()}")
            await asyncio.sleep(s.meshy_poll_interval_s)
        url = (task.get("model_urls") or {}).get("glb")
        if not url:
            raise ProviderError("Meshy returned no model")
        data = await fetch_bytes(
            self._session,
            url,
            provider="Meshy",
            timeout_s=s.provider_timeout_s,
            max_bytes=int(s.max_file_mb * 1024 * 1024),
        )
        credits, cost = self._credits()
        yield GeneratedFile(
            data=data,
            file_format="glb",
            external_source=self.name,
            usage_provider="meshy",
            operation="text_to_3d",
            cost=cost,
            model="meshy-text-to-3d",
            models_3d=1,
            credits=float(credits),
            source_name="meshy_ai",
            details={"task_id": str(task_id), "preview_image_url": task.get("thumbnail_url") or ""},
        )


class MubertProvider:
    name = "mubert"

    def __init__(self, *, settings: AssetSettings, session: aiohttp.ClientSession) -> None:
        assert settings.mubert_api_key is not None
        self._key = settings.mubert_api_key.get_secret_value()
        self._settings = settings
        self._session = session

    def cost(self, spec: GenerationSpec) -> Decimal:
        return Decimal(str(self._settings.mubert_cost))

    async def run(self, spec: GenerationSpec) -> AsyncIterator[Polling | GeneratedFile]:
        s = self._settings
        genre, _, mood = spec.style.lower().partition("-")
        soundtrack = any(word in spec.description.lower() for word in ("soundtrack", "background"))
        duration = 60 if soundtrack else 30
        reply = await http_json(
            self._session,
            "POST",
            f"{s.mubert_base_url}/v2/TTMRecordTrack",
            provider="Mubert",
            body={
                "method": "TTMRecordTrack",
                "params": {
                    "pat": self._key,
                    "prompt": spec.description,
                    "duration": duration,
                    "format": "wav",
                    "intensity": mood or "medium",
                    "mode": "loop" if soundtrack else "track",
                },
            },
            timeout_s=s.provider_timeout_s,
            retries=s.provider_retries,
        )
        tasks = ((reply.get("data") or {}).get("tasks") or []) if isinstance(reply, dict) else []
        if (
            not isinstance(reply, dict)
            or reply.get("status") != 1
            or not tasks
            or not tasks[0].get("download_link")
        ):
            raise ProviderError("Mubert returned no track")
        data = await fetch_bytes(
            self._session,
            tasks[0]["download_link"],
            provider="Mubert",
            timeout_s=s.provider_timeout_s,
            max_bytes=int(s.max_file_mb * 1024 * 1024),
        )
        yield GeneratedFile(
            data=data,
            file_format="wav",
            external_source=self.name,
            usage_provider="mubert",
            operation="audio_generation",
            cost=self.cost(spec),
            model="mubert-ttm",
            source_name="mubert",
            details={"genre": genre or "ambient", "mood": mood or "calm", "duration_s": str(duration)},
        )


class LocalProvider:
    """Keyless dev mode: a real small file, made here, free."""

    name = "local"

    def cost(self, spec: GenerationSpec) -> Decimal:
        return Decimal(0)

    async def run(self, spec: GenerationSpec) -> AsyncIterator[Polling | GeneratedFile]:
        if spec.category in ("image", "texture"):
            data, fmt, op, extra = (
                local_generator.make_png(spec.prompt),
                "png",
                "image_generation",
                {"images": 1},
            )
        elif spec.category == "audio":
            data, fmt, op, extra = local_generator.make_wav(spec.prompt), "wav", "audio_generation", {}
        else:
            data, fmt, op, extra = (
                local_generator.make_gltf(spec.prompt),
                "gltf",
                "model_generation",
                {"models_3d": 1},
            )
        yield GeneratedFile(
            data=data,
            file_format=fmt,
            external_source="local",
            usage_provider="local",
            operation=op,
            cost=Decimal(0),
            model="gaia-local",
            source_name="local",
            details={"model": "gaia-local"},
            **extra,
        )


def providers_for(
    category: str, *, settings: AssetSettings, book: PricingBook, session: aiohttp.ClientSession
) -> list[Provider]:
    """The configured providers for a category, in preference order; the local generator when none is."""
    chain: list[Provider] = []
    openai_images = None
    if settings.openai_api_key:  # the SDK is imported only when configured (~45 MiB of memory)
        from gaia_services.asset.openai_images import OpenAIImages

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
