"""What the client commands write to the terminal: a reply as it streams, and a progress bar."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """A one-line bar redrawn in place on a terminal (``\\r``), or one line per step elsewhere."""

    def __init__(self, *, out: TextIO | None = None, width: int = 30) -> None:
        self._out = out or sys.stderr
        self._width = width
        self._tty = self._out.isatty()
        self._last = ""

    def update(self, percent: int, label: str) -> None:
        percent = max(0, min(100, percent))
        filled = round(self._width * percent / 100)
        line = f"[{'#' * filled}{'.' * (self._width - filled)}] {percent:3d}% {label}"
        if self._tty:
            self._out.write("\r" + line.ljust(len(self._last)))
        elif line != self._last:
            self._out.write(line + "\n")
        self._out.flush()
        self._last = line

    def finish(self) -> None:
        if self._tty and self._last:
            self._out.write("\n")
            self._out.flush()
