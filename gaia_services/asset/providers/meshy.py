"""Meshy's text-to-3D: a task is created, polled until it finishes, and its GLB model downloaded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp

from gaia_services.asset.pricing import PricingBook
from gaia_services.asset.providers.base import (
    GeneratedFile,
    GenerationSpec,
    Polling,
    api_error,
    fetch_bytes,
    http_json,
    timed_out,
)
from gaia_services.asset.settings import AssetSettings

__all__ = ["MeshyProvider"]


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
            raise api_error("Meshy did not accept the task")
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
                raise api_error(f"Meshy task failed: {error}")
            if time.monotonic() > deadline:
                raise timed_out("Meshy task did not finish in time")
            yield Polling(percent=int(task.get("progress") or 0), message=f"Meshy task {status.lower()}")
            await asyncio.sleep(s.meshy_poll_interval_s)
        url = (task.get("model_urls") or {}).get("glb")
        if not url:
            raise api_error("Meshy returned no model")
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
