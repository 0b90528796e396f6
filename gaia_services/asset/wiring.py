"""Builds the asset service's parts from the process's resources (its settings read once, by the caller).

Beyond ``Resources`` the parts own the providers' and the storage's HTTP sessions and the pricing
subscription: ``start`` in the serving loop, ``close`` at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from gaia_services.asset.catalogue import PricingCatalogue
from gaia_services.asset.library import AssetLibrary
from gaia_services.asset.pricing import PricingBook
from gaia_services.asset.s3 import S3Storage
from gaia_services.asset.settings import AssetSettings
from gaia_services.asset.sigv4 import SigningKey
from gaia_services.asset.storage import LocalStorage, Storage
from gaia_services.asset.usage import UsageStore
from gaia_services.asset.usage_reports import UsageReports
from gaia_services.runtime.budgets import Budgets, BudgetSettings
from gaia_services.runtime.resources import Resources

__all__ = ["AssetParts", "build_storage"]

_log = logging.getLogger("gaia.asset")


def build_storage(resources: Resources, settings: AssetSettings) -> Storage:
    if settings.storage == "s3":
        required = {
            "GAIA_ASSET_S3_ENDPOINT": settings.s3_endpoint,
            "GAIA_ASSET_S3_ACCESS_KEY": settings.s3_access_key,
            "GAIA_ASSET_S3_SECRET_KEY": settings.s3_secret_key,
        }
        if missing := [name for name, value in required.items() if not value]:
            raise RuntimeError(f"GAIA_ASSET_STORAGE=s3 needs {', '.join(missing)}")
        assert settings.s3_secret_key is not None
        return S3Storage(
            endpoint=settings.s3_endpoint,
            bucket=settings.s3_bucket or settings.bucket_name,
            key=SigningKey(
                access_key=settings.s3_access_key,
                secret_key=settings.s3_secret_key.get_secret_value(),
                region=settings.s3_region,
            ),
            path_style=settings.s3_path_style,
            timeout_s=settings.s3_timeout_s,
            connect_timeout_s=settings.s3_connect_timeout_s,
            retries=settings.s3_retries,
        )
    root = settings.storage_dir or resources.settings.data_dir / "assets"
    return LocalStorage(root=root, bucket=settings.bucket_name)


class AssetParts:
    def __init__(
        self, *, resources: Resources, settings: AssetSettings, budget_settings: BudgetSettings | None = None
    ) -> None:
        s = resources.settings
        pool = resources.pool()
        usage = UsageStore(pool=pool)
        self.settings = settings
        self.budgets = Budgets(
            client=resources.redis,
            prefix=s.redis_prefix,
            settings=budget_settings or BudgetSettings(),
            events=resources.events,
            service="asset",
        )
        self.catalogue = PricingCatalogue(
            book=PricingBook(pricing_file=settings.pricing_file),
            pool=pool,
            events=resources.events,
            origin=f"asset-{uuid.uuid4().hex[:12]}",
        )
        self.usage = UsageReports(
            usage=usage, catalogue=self.catalogue, settings=settings, budgets=self.budgets
        )
        self.library = AssetLibrary(
            pool=pool,
            storage=build_storage(resources, settings),
            budgets=self.budgets,
            usage=usage,
            events=resources.events,
            catalogue=self.catalogue,
            settings=settings,
            public_url=settings.public_base_url or f"http://{s.host}:{s.http_port}",
        )
        self._starting: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        """Subscribe to pricing reloads of the other replicas (in the background; needs a running loop)."""
        if self._starting is None:
            self._starting = asyncio.get_running_loop().create_task(self._start())
        return self._starting

    async def _start(self) -> None:
        try:
            await self.catalogue.sync.start()
        except Exception as exc:  # serving goes on; reloads then stay on this replica
            _log.warning("pricing subscription failed: %r", exc)

    async def close(self) -> None:
        """Stop listening and release outgoing connections. Idempotent."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        await self.catalogue.sync.close()
        await self.library.close()
