"""Domain events on NATS: plain JSON objects on ``gaia.*`` subjects.

A missing broker degrades (events are dropped and logged), never fails the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import nats
from nats.aio.client import Client as Nats

from gaia_services.runtime.telemetry import current_telemetry

__all__ = ["EventBus", "NatsEventBus", "NullEventBus", "connect_events"]

_log = logging.getLogger("gaia.events")


class EventBus(Protocol):
    async def publish(self, subject: str, payload: Mapping[str, Any]) -> None: ...

    async def close(self) -> None: ...


class NullEventBus:
    """Used when NATS cannot be reached: events are logged and dropped."""

    async def publish(self, subject: str, payload: Mapping[str, Any]) -> None:
        _log.debug("event dropped (no broker): %s", subject)
        _count_drop()

    async def close(self) -> None:
        return None


class NatsEventBus:
    def __init__(self, *, client: Nats) -> None:
        self._client = client

    @property
    def client(self) -> Nats:
        return self._client

    async def publish(self, subject: str, payload: Mapping[str, Any]) -> None:
        try:
            await self._client.publish(
                subject, json.dumps(payload, separators=(",", ":"), default=str).encode()
            )
        except Exception as exc:  # a broker failure must never fail the request that raised the event
            _log.warning("event %s not published: %s", subject, exc)
            _count_drop()

    async def close(self) -> None:
        try:
            await self._client.drain()
        except Exception as exc:
            _log.debug("nats drain: %s", exc)


def _count_drop() -> None:
    telemetry = current_telemetry.get()  # the serving process's (gaia_events_dropped_total)
    if telemetry is not None:
        telemetry.metrics.events_dropped.inc()


async def connect_events(url: str | None, *, name: str) -> EventBus:
    if not url:
        return NullEventBus()
    try:
        client = await asyncio.wait_for(
            nats.connect(url, name=name, connect_timeout=2, max_reconnect_attempts=-1, reconnect_time_wait=1),
            timeout=5,
        )
    except Exception as exc:
        _log.warning("NATS at %s unreachable (%s); events disabled", url, exc)
        return NullEventBus()
    return NatsEventBus(client=client)
