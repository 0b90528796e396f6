"""Server log files: appended across runs, rotated when large, their tail quoted in errors."""

from __future__ import annotations

from pathlib import Path

__all__ = ["log_tail", "rotate_if_large"]

_ROTATE_BYTES = 10 * 1024 * 1024
_TAIL_BYTES = 64 * 1024


def rotate_if_large(path: Path, *, limit: int = _ROTATE_BYTES) -> None:
    """Move ``path`` to ``path.1`` (replacing it) once it exceeds ``limit`` bytes."""
    try:
        if path.stat().st_size > limit:
            path.replace(path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


def log_tail(path: Path, *, since: int = 0, lines: int = 40) -> str:
    """The last ``lines`` lines written to ``path`` at or after byte offset ``since``."""
    try:
        with path.open("rb") as log:
            size = log.seek(0, 2)
            start = since if since <= size else 0  # a smaller file was rotated or truncated meanwhile
            log.seek(max(start, size - _TAIL_BYTES))
            text = log.read().decode(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"
