"""Timestamp forms of the legacy API: naive UTC ISO (most routes) and the persona DB-read form."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

__all__ = ["naive_iso", "naive_iso_or_none", "persona_iso"]


def naive_iso(stamp: Timestamp) -> str:
    """``2025-07-17T16:52:26.123456``: naive UTC, as ``datetime.utcnow().isoformat()`` wrote it."""
    return stamp.ToDatetime().isoformat()


def naive_iso_or_none(stamp: Timestamp, present: bool) -> str | None:
    return naive_iso(stamp) if present else None


def persona_iso(stamp: Timestamp) -> str:
    """``2025-07-17T16:52:26.190450Z``: UTC with ``Z``; the fraction is left out when it is zero."""
    return stamp.ToDatetime().isoformat() + "Z"
