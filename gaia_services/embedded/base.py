"""What every embedded server shares: its folder, optional fixed port, supervised process, URL and log."""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from gaia_services.embedded.errors import EmbeddedServerError, ServerAlreadyRunningError
from gaia_services.embedded.pidfiles import live_owner, wait_gone
from gaia_services.embedded.server_process import ServerProcess

__all__ = ["HOST", "EmbeddedBase"]

HOST = "127.0.0.1"
_PREVIOUS_EXIT_GRACE_S = 5.0


class EmbeddedBase(ABC):
    """A server run as a child process on ``HOST``; subclasses say how to launch and probe it."""

    name: ClassVar[str]
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM

    def __init__(
        self,
        *,
        data_dir: Path,
        port: int | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 8.0,
    ) -> None:
        self._data_dir = data_dir.absolute()
        self._port = port
        self._url: str | None = None
        self._process = ServerProcess(
            name=self.name,
            log_path=self.log_path,
            workdir=self._data_dir,
            stop_signal=self.stop_signal,
            start_timeout=start_timeout,
            stop_timeout=stop_timeout,
        )

    @property
    def url(self) -> str:
        if self._url is None:
            raise EmbeddedServerError(f"embedded {self.name} is not started")
        return self._url

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def log_path(self) -> Path:
        return self._data_dir / f"{self.name}.log"

    async def start(self) -> str:
        """Start (or keep) the server and return its URL once a real client got through."""
        if self._url is not None and self.pid is not None:
            return self._url
        self._url = None
        self._url = await self._launch()
        return self._url

    async def stop(self) -> None:
        await self._process.stop()

    @abstractmethod
    async def _launch(self) -> str:
        """Start the process (through ``self._process``) and return the URL."""

    async def _refuse_previous(self, pid_file: Path, *, executable: str, workdir: Path, label: str) -> None:
        """A previous server still using this folder gets a few seconds to exit, then is reported."""
        pid = live_owner(pid_file, executable=executable, workdir=workdir)
        if pid is not None and not await wait_gone(pid, within=_PREVIOUS_EXIT_GRACE_S):
            raise ServerAlreadyRunningError(f"a {label} server (pid {pid}) is already running on {workdir}")
