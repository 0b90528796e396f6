"""Server-sent event framing: one ``data:`` line and a blank line per event, nothing else.

The legacy streams are written with Python ``json.dumps`` defaults (``", "`` / ``": "`` separators,
non-ASCII escaped), as the reference did; the OpenAI-compatible door writes compact chunks as OpenAI does.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DONE", "compact_event", "event"]

#: The OpenAI-style end of a stream.
DONE = b"data: [DONE]\n\n"


def event(data: Any) -> bytes:
    """A legacy event: ``json.dumps`` with its defaults."""
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def compact_event(data: Any) -> bytes:
    """An OpenAI-style event: compact JSON, raw UTF-8."""
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
