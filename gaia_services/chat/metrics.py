"""The chat service's in-process measurements: requests in flight, per-stage timings, time to first token.

The streaming side feeds it; the performance RPCs read it. One instance per process (owned by the servicer),
bounded in memory. Samples carry their wall-clock time so that a reset recorded in Postgres by any replica
hides older samples everywhere.

Use from a chat handler::

    flight = metrics.begin(request_id, provider="claude", model=model, user_id=user_id)
    try:
        with metrics.stage(flight, "provider_selection"):
            ...
        with metrics.stage(flight, "llm_api_call"):
            ...  # call metrics.first_token(flight) when the first token arrives
    finally:
        metrics.finish(flight)  # outcomes, tokens and latency go to usage_records as before
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psutil

__all__ = ["STAGES", "InFlight", "Metrics", "ProcessFigures", "StageFigures"]

#: The stages the legacy performance routes report, in their order.
STAGES = (
    "authentication",
    "request_validation",
    "provider_selection",
    "llm_api_call",
    "response_processing",
    "streaming_setup",
)
_MAX_SAMPLES = 1000


@dataclass
class InFlight:
    """One chat request being served (mutable: its current stage changes)."""

    request_id: str
    provider: str
    model: str
    user_id: str
    started: float  # time.monotonic()
    started_at: datetime
    stage: str = "request_validation"
    first_token_s: float | None = None


@dataclass(frozen=True, slots=True)
class StageFigures:
    stage: str
    samples: int = 0
    average_s: float = 0.0
    min_s: float = 0.0
    max_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ProcessFigures:
    memory_mb: float
    cpu_percent: float


@dataclass
class Metrics:
    max_samples: int = _MAX_SAMPLES
    _active: dict[str, InFlight] = field(default_factory=dict)
    _stages: dict[str, deque[tuple[datetime, float]]] = field(default_factory=dict)
    _ttft: deque[tuple[datetime, float]] = field(default_factory=lambda: deque(maxlen=_MAX_SAMPLES))
    _process: psutil.Process = field(default_factory=psutil.Process)

    # Recording (called by the chat handlers) -----------------------------------------------------------

    def begin(self, request_id: str, *, provider: str = "", model: str = "", user_id: str = "") -> InFlight:
        flight = InFlight(
            request_id=request_id,
            provider=provider,
            model=model,
            user_id=user_id,
            started=time.monotonic(),
            started_at=datetime.now(UTC),
        )
        self._active[request_id] = flight
        return flight

    @contextlib.contextmanager
    def stage(self, flight: InFlight, name: str) -> Iterator[None]:
        """Time one stage of ``flight`` (and show it as the request's current stage meanwhile)."""
        flight.stage = name
        started = time.monotonic()
        try:
            yield
        finally:
            self.record_stage(name, time.monotonic() - started)

    def record_stage(self, name: str, seconds: float) -> None:
        samples = self._stages.setdefault(name, deque(maxlen=self.max_samples))
        samples.append((datetime.now(UTC), max(0.0, seconds)))

    def first_token(self, flight: InFlight) -> None:
        if flight.first_token_s is None:
            flight.first_token_s = time.monotonic() - flight.started
            self._ttft.append((datetime.now(UTC), flight.first_token_s))

    def finish(self, flight: InFlight) -> float:
        """The request is over (however it ended); returns its duration in seconds."""
        self._active.pop(flight.request_id, None)
        return time.monotonic() - flight.started

    # Reading (the performance RPCs) ---------------------------------------------------------------------

    def active(self) -> list[tuple[InFlight, float]]:
        """Requests in flight with their elapsed seconds, longest running first."""
        now = time.monotonic()
        return sorted(((f, now - f.started) for f in self._active.values()), key=lambda item: -item[1])

    def stages(self, *, since: datetime, limit: int) -> list[StageFigures]:
        """Figures per stage over its latest ``limit`` samples taken since ``since``; known stages first."""
        names = list(STAGES) + sorted(set(self._stages) - set(STAGES))
        figures = []
        for name in names:
            values = [s for at, s in self._stages.get(name, ()) if at >= since][-limit:] if limit > 0 else []
            if values:
                figures.append(
                    StageFigures(name, len(values), sum(values) / len(values), min(values), max(values))
                )
            else:
                figures.append(StageFigures(name))
        return figures

    def time_to_first_token(self, *, since: datetime) -> list[float]:
        return [s for at, s in self._ttft if at >= since]

    def process(self) -> ProcessFigures:
        with self._process.oneshot():
            memory = self._process.memory_info().rss / (1024 * 1024)
            cpu = self._process.cpu_percent(None)
        return ProcessFigures(memory_mb=memory, cpu_percent=cpu)
