"""What can go wrong when starting an embedded server."""

from __future__ import annotations

__all__ = ["EmbeddedServerError", "ServerAlreadyRunningError", "ServerStartError"]


class EmbeddedServerError(RuntimeError):
    """Base class: an embedded server could not be found, prepared, started or used."""


class ServerStartError(EmbeddedServerError):
    """The server exited, or did not accept connections in time. The message carries the log tail."""


class ServerAlreadyRunningError(EmbeddedServerError):
    """Another live server already uses the data folder (its pid file names a running process)."""
