"""One server child process: its own session, tied to our life, output appended to a log file, ready only
once a real client gets through, stopped with a signal and then SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from gaia_services.embedded.errors import ServerStartError
from gaia_services.embedded.logfiles import log_tail, rotate_if_large
from gaia_services.embedded.ports import free_port, port_is_free
from gaia_services.embedded.privileges import Account

__all__ = ["ServerProcess", "run_to_completion"]

_PR_SET_PDEATHSIG = 1
_PORT_ATTEMPTS = 3
_PROBE_INTERVAL_S = 0.1
_PROBE_TIMEOUT_S = 3.0


class ServerProcess:
    """Runs one server binary; owns its process, its log and its stop."""

    def __init__(
        self,
        *,
        name: str,
        log_path: Path,
        workdir: Path,
        stop_signal: signal.Signals = signal.SIGTERM,
        start_timeout: float = 30.0,
        stop_timeout: float = 8.0,
    ) -> None:
        self._name = name
        self._log_path = log_path
        self._workdir = workdir
        self._stop_signal = stop_signal
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._process: asyncio.subprocess.Process | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def start(
        self,
        *,
        argv_for: Callable[[int], Sequence[str]],
        probe: Callable[[int], Awaitable[None]],
        port: int | None,
        env: Mapping[str, str] | None = None,
        account: Account | None = None,
    ) -> int:
        """Spawn ``argv_for(port)`` (as ``account`` if given) and wait until ``probe(port)`` succeeds.

        Returns the port. Without a fixed ``port`` a free one is picked, and picked again if another process
        took it first.
        """
        if port is not None and not port_is_free(port):
            raise ServerStartError(f"{self._name} cannot start: port {port} on 127.0.0.1 is already in use")
        attempts = 1 if port is not None else _PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            chosen = port if port is not None else free_port()
            argv = list(argv_for(chosen))
            await self._spawn(argv, env=env, account=account)
            try:
                if await self._wait_ready(functools.partial(probe, chosen)):
                    return chosen
            except BaseException:
                await self.stop()
                raise
            tail = log_tail(self._log_path, since=self._log_offset)
            if attempt < attempts and "address already in use" in tail.lower():
                continue
            raise ServerStartError(
                f"{self._name} exited with code {self._returncode()} while starting on port {chosen}\n"
                f"command: {' '.join(argv)}\n--- tail of {self._log_path} ---\n{tail}"
            )
        raise AssertionError("unreachable")

    async def stop(self) -> None:
        """Send the stop signal, wait up to the stop timeout, then SIGKILL the process group. Idempotent."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(self._stop_signal)
        try:
            await asyncio.wait_for(process.wait(), self._stop_timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    async def _spawn(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None, account: Account | None
    ) -> None:
        rotate_if_large(self._log_path)
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_path.open("ab") as log:
            self._log_offset = log.tell()
            self._process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=None if env is None else dict(env),
                cwd=self._workdir,
                start_new_session=True,
                preexec_fn=_die_with_parent(self._stop_signal),
                user=None if account is None else account.uid,
                group=None if account is None else account.gid,
                extra_groups=None if account is None else [],
            )

    async def _wait_ready(self, probe: Callable[[], Awaitable[None]]) -> bool:
        """``True`` once ``probe`` succeeds, ``False`` as soon as the process exits; raises on timeout."""
        process = self._process
        assert process is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout
        exited = asyncio.ensure_future(process.wait())
        attempt: asyncio.Future[None] | None = None
        last_error: BaseException | None = None
        try:
            while not exited.done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    await self.stop()
                    raise ServerStartError(
                        f"{self._name} did not accept connections within {self._start_timeout:.0f} s "
                        f"(last attempt: {last_error!r})\n--- tail of {self._log_path} ---\n"
                        f"{log_tail(self._log_path, since=self._log_offset)}"
                    )
                attempt = asyncio.ensure_future(asyncio.wait_for(probe(), min(_PROBE_TIMEOUT_S, remaining)))
                await asyncio.wait({attempt, exited}, return_when=asyncio.FIRST_COMPLETED)
                if not attempt.done():
                    break  # exited while the probe was still trying
                last_error = attempt.exception()
                if last_error is None:
                    return process.returncode is None  # a foreign server may have answered as ours died
                await asyncio.wait({exited}, timeout=_PROBE_INTERVAL_S)
            return False
        finally:
            for pending in (attempt, exited):
                if pending is not None and not pending.done():
                    pending.cancel()

    def _returncode(self) -> int | None:
        process = self._process
        return None if process is None else process.returncode


async def run_to_completion(
    argv: Sequence[str],
    *,
    name: str,
    log_path: Path,
    workdir: Path,
    account: Account | None,
    time_limit: float,
) -> None:
    """Run a one-shot tool (``initdb``) to completion, its output appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        offset = log.tell()
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
            preexec_fn=_die_with_parent(signal.SIGTERM),
            user=None if account is None else account.uid,
            group=None if account is None else account.gid,
            extra_groups=None if account is None else [],
        )
    try:
        returncode = await asyncio.wait_for(process.wait(), time_limit)
    except BaseException as error:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        if isinstance(error, TimeoutError):
            raise ServerStartError(
                f"{name} did not finish within {time_limit:.0f} s\ncommand: {' '.join(argv)}\n"
                f"--- tail of {log_path} ---\n{log_tail(log_path, since=offset)}"
            ) from None
        raise
    if returncode != 0:
        raise ServerStartError(
            f"{name} failed with code {returncode}\ncommand: {' '.join(argv)}\n"
            f"--- tail of {log_path} ---\n{log_tail(log_path, since=offset)}"
        )


def _die_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send ``sig`` to the child when we die, so no server is orphaned.

    It runs after the child dropped privileges (a credential change would clear the setting). The libc
    handle is looked up here, in the parent, so the child only makes the call.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # we died before the request took effect
            os.kill(os.getpid(), sig)

    return hook
