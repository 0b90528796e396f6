"""The caller's generated assets: generating one (a stream of events), finding them, opening their files."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
import asyncpg

from gaia_services.asset.assets import AssetRecord, AssetStore
from gaia_services.asset.catalogue import PricingCatalogue
from gaia_services.asset.generation import Event, GenerationRequest, Generator
from gaia_services.asset.providers import Provider, providers_for
from gaia_services.asset.settings import AssetSettings
from gaia_services.asset.storage import Blob, Storage
from gaia_services.asset.usage import UsageStore
from gaia_services.runtime.budgets import Budgets
from gaia_services.runtime.errors import NotFound
from gaia_services.runtime.events import EventBus
from gaia_services.runtime.principal import Principal

__all__ = ["AssetLibrary"]


class AssetLibrary:
    """Owns the providers' HTTP session (opened on first use, in the serving loop) and the storage."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        storage: Storage,
        budgets: Budgets,
        usage: UsageStore,
        events: EventBus,
        catalogue: PricingCatalogue,
        settings: AssetSettings,
        public_url: str,
    ) -> None:
        self._settings = settings
        self._catalogue = catalogue
        self._public = public_url.rstrip("/")
        self._store = AssetStore(pool=pool)
        self._storage = storage
        self._session: aiohttp.ClientSession | None = None
        self._generator = Generator(
            pool=pool,
            store=self._store,
            storage=storage,
            budgets=budgets,
            usage=usage,
            events=events,
            providers=self._providers,
        )

    def _providers(self, category: str) -> list[Provider]:
        if self._session is None:  # opened on first use, in the serving loop; closed by ``close``
            self._session = aiohttp.ClientSession()
        return providers_for(
            category, settings=self._settings, book=self._catalogue.book, session=self._session
        )

    async def close(self) -> None:
        """Release outgoing connections: the providers' HTTP session and the storage's."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        await self._storage.close()

    @property
    def bucket(self) -> str:
        return self._storage.bucket

    def download_url(self, asset_id: str) -> str:
        return f"{self._public}/api/v1/assets/{asset_id}/download"

    async def generate(
        self, request: GenerationRequest, *, caller: Principal, generation_id: str
    ) -> AsyncIterator[Event]:
        await self._catalogue.ready()
        async for event in self._generator.generate(request, caller=caller, generation_id=generation_id):
            yield event

    async def list(
        self, *, user_id: str, category: str, style: str, query: str, limit: int, offset: int
    ) -> tuple[list[AssetRecord], int]:
        """A page of the caller's assets, newest first (20 when ``limit`` is 0; at most 100), and the total
        count."""
        return await self._store.list(
            user_id=user_id,
            category=category,
            style=style,
            query=query,
            limit=min(limit if limit > 0 else 20, 100),
            offset=max(0, offset),
        )

    async def owned(self, *, user_id: str, asset_id: str) -> AssetRecord:
        record = await self._store.get(user_id=user_id, asset_id=asset_id)
        if record is None:
            raise NotFound("Not Found")
        return record

    def open(self, record: AssetRecord) -> contextlib.AbstractAsyncContextManager[Blob]:
        return self._storage.open(record.storage_key)
