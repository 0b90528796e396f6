"""The shape every embedded server shares."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

__all__ = ["EmbeddedServer"]


class EmbeddedServer(Protocol):
    """A real server run as a child process, with its data kept in a folder between runs."""

    @property
    def name(self) -> str:
        """Short name for logs: ``postgres``, ``redis`` or ``nats``."""
        ...

    @property
    def url(self) -> str:
        """The client URL; raises :class:`EmbeddedServerError` before :meth:`start`."""
        ...

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs, else ``None``."""
        ...

    @property
    def log_path(self) -> Path:
        """Where the server's own log is appended."""
        ...

    async def start(self) -> str:
        """Start the server, wait until it really accepts connections, return its URL."""
        ...

    async def stop(self) -> None:
        """Stop the server (signal, wait, then SIGKILL). Safe to call twice or before start."""
        ...
