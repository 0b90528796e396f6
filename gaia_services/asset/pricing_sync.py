"""Pricing reloads reach every asset replica: the replica that reloads announces it on NATS
(``gaia.asset.pricing.updated``), and every other replica reloads its catalogue when it hears it.

Without a broker (NullEventBus) reloads stay local to the replica that was asked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from gaia_services.runtime.events import EventBus, NatsEventBus

__all__ = ["PRICING_UPDATED", "PricingSync"]

PRICING_UPDATED = "gaia.asset.pricing.updated"

_log = logging.getLogger("gaia.asset.pricing")


class PricingSync:
    def __init__(self, *, events: EventBus, origin: str, reload: Callable[[], Awaitable[object]]) -> None:
        self._events = events
        self._origin = origin
        self._reload = reload
        self._subscription: Any = None

    @property
    def origin(self) -> str:
        """This replica's id, carried by the events it publishes (so it does not reload twice)."""
        return self._origin

    async def announce(self, provider: str) -> None:
        await self._events.publish(
            PRICING_UPDATED,
            {
                "provider": provider,
                "origin": self._origin,
                "timestamp": datetime.now(UTC).replace(tzinfo=None).isoformat(),
            },
        )

    async def start(self) -> None:
        if not isinstance(self._events, NatsEventBus):
            _log.info("no event broker: pricing reloads stay on this replica")
            return
        client = self._events.client
        self._subscription = await client.subscribe(PRICING_UPDATED, cb=self._heard)
        await client.flush(timeout=2)

    async def _heard(self, message: Any) -> None:
        try:
            payload = json.loads(message.data)
        except (TypeError, ValueError):
            _log.warning("unreadable %s event ignored", PRICING_UPDATED)
            return
        if not isinstance(payload, dict) or payload.get("origin") == self._origin:
            return
        try:
            await self._reload()
        except Exception as exc:  # keep the old catalogue; the next event or update retries
            _log.warning("pricing reload after %s failed: %r", PRICING_UPDATED, exc)
            return
        _log.info("pricing reloaded (%s updated by %s)", payload.get("provider"), payload.get("origin"))

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            try:
                await subscription.unsubscribe()
            except Exception as exc:  # the connection may already be draining
                _log.debug("pricing subscription: %r", exc)
