"""Pid files left in data folders: is the server they name still running on that folder?"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

__all__ = ["live_owner", "pid_alive", "wait_gone"]


def live_owner(pid_file: Path, *, executable: str, workdir: Path) -> int | None:
    """The pid in ``pid_file`` when that process is alive and is ``executable`` working in ``workdir``.

    A pid file naming a dead process, or a process that is something else (the pid was reused), is stale:
    it is removed and ``None`` returned. When ``/proc`` cannot tell, a live pid counts as the owner.
    """
    try:
        first_line = pid_file.read_text().split("\n", 1)[0].strip()
    except FileNotFoundError:
        return None
    pid = int(first_line) if first_line.isdigit() else 0
    if pid > 0 and pid_alive(pid) and _looks_like(pid, executable=executable, workdir=workdir):
        return pid
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()
    return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (zombies included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def wait_gone(pid: int, *, within: float) -> bool:
    """Poll until process ``pid`` is gone; ``True`` if it went within ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while pid_alive(pid) and not _is_zombie(pid):
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.1)
    return True


def _looks_like(pid: int, *, executable: str, workdir: Path) -> bool:
    proc = Path("/proc") / str(pid)
    try:
        exe = os.readlink(proc / "exe")
        cwd = os.readlink(proc / "cwd")
    except OSError:
        return True
    return Path(exe.removesuffix(" (deleted)")).name == executable and Path(cwd) == workdir.resolve()


def _is_zombie(pid: int) -> bool:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"
