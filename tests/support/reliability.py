"""Figures of the reliability tests, for ``RELIABILITY.md``: each test appends one JSON line per scenario.

The file is ``$GAIA_RELIABILITY_RESULTS`` or ``.gaia/test-output/reliability.jsonl``; ``scripts/reliability``
empties it, runs the reliability tests and renders the markdown from it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Figures", "record", "results_path"]

_ROOT = Path(__file__).resolve().parents[2]


def results_path() -> Path:
    given = os.environ.get("GAIA_RELIABILITY_RESULTS")
    return Path(given) if given else _ROOT / ".gaia" / "test-output" / "reliability.jsonl"


def record(*, area: str, scenario: str, done: str, held: str, **figures: Any) -> None:
    """Append one scenario's line: what was done, what held, and its counts (requests, streams, faults,
    inputs, 5xx, lost, hangs, ...)."""
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {"area": area, "scenario": scenario, "done": done, "held": held, "at": time.time(), **figures}
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, sort_keys=True) + "\n")


@dataclass
class Figures:
    """Counters a test fills as it goes, then records."""

    requests: int = 0
    streams: int = 0
    faults: int = 0
    inputs: int = 0
    server_errors: int = 0
    lost: int = 0
    hangs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self, *, area: str, scenario: str, done: str, held: str) -> None:
        record(
            area=area,
            scenario=scenario,
            done=done,
            held=held,
            requests=self.requests,
            streams=self.streams,
            faults=self.faults,
            inputs=self.inputs,
            server_errors=self.server_errors,
            lost=self.lost,
            hangs=self.hangs,
            **self.extra,
        )
