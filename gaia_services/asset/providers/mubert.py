"""Mubert's text-to-music: a recorded track, then its download."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp

from gaia_services.asset.providers.base import (
    GeneratedFile,
    GenerationSpec,
    Polling,
    api_error,
    fetch_bytes,
    http_json,
)
from gaia_services.asset.settings import AssetSettings

__all__ = ["MubertProvider"]


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
            raise api_error("Mubert returned no track")
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
