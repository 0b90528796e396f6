"""Child processes of the supervisor (and of the benchmark): spawned with their own session, tied to the
parent's life, their output prefixed with their name, stopped with SIGTERM then SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Mapping, Sequence

__all__ = ["die_with_parent", "pump_lines", "spawn", "terminate"]

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn``: the kernel sends SIGTERM to the child when the parent dies, so nothing is orphaned."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


async def spawn(
    argv: Sequence[str], *, env: Mapping[str, str], output: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    """Start ``argv`` in its own session, tied to our life; its stdout and stderr go to ``output``
    (a pipe to read, e.g. with ``pump_lines``, or ``asyncio.subprocess.DEVNULL``)."""
    return await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=output,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


async def pump_lines(stream: asyncio.StreamReader | None, prefix: str) -> None:
    """Copy a child's output to ours, one prefixed line at a time."""
    if stream is None:
        return
    while line := await stream.readline():
        sys.stdout.write(f"{prefix} | {line.decode(errors='replace').rstrip()}\n")
        sys.stdout.flush()


async def terminate(process: asyncio.subprocess.Process, *, timeout: float) -> None:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL the whole process group."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
