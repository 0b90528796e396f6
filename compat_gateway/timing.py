"""Per-request timing: how long the shim waited on services, so the time it added itself can be reported."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["RequestTiming", "current_timing", "waiting_on_service"]


@dataclass
class RequestTiming:
    started: float
    service_s: float = 0.0

    def overhead_ms(self) -> float:
        return max(0.0, (time.perf_counter() - self.started - self.service_s) * 1000)


current_timing: ContextVar[RequestTiming | None] = ContextVar("gaia_shim_timing", default=None)


@contextmanager
def waiting_on_service() -> Iterator[None]:
    """Count the enclosed wait as the services' time, not the shim's."""
    timing = current_timing.get()
    started = time.perf_counter()
    try:
        yield
    finally:
        if timing is not None:
            timing.service_s += time.perf_counter() - started
