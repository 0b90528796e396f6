"""The reference's recorded exchanges (``tests/contract/recorded``, copied byte for byte from the reference):
status, headers, body bytes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RECORDED_DIR", "Recorded", "load", "normalise"]

RECORDED_DIR = Path(__file__).resolve().parents[1] / "contract" / "recorded"


@dataclass(frozen=True)
class Recorded:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def load(name: str) -> Recorded:
    raw = (RECORDED_DIR / f"{name}.txt").read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return Recorded(status=status, headers=headers, body=body)


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalise(value: Any, *, floats: tuple[str, ...] = ()) -> Any:
    """Replace what legitimately differs between runs (timestamps, ids, named float measurements)."""
    if isinstance(value, dict):
        return {
            k: ("<float>" if k in floats and isinstance(v, float) else normalise(v, floats=floats))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalise(v, floats=floats) for v in value]
    if isinstance(value, str):
        return _UUID.sub("<uuid>", _TIMESTAMP.sub("<ts>", value))
    return value
