"""Running a server as an unprivileged account when we are root (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gaia_services.embedded.errors import EmbeddedServerError

__all__ = ["Account", "chown_tree", "grant_traverse", "service_account"]


@dataclass(frozen=True, slots=True)
class Account:
    """A system account a child process runs as."""

    name: str
    uid: int
    gid: int


def service_account(name: str) -> Account | None:
    """The system account ``name`` (created if missing) when running as root; ``None`` otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = _create_account(name)
    return Account(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)


def grant_traverse(path: Path) -> None:
    """Let other accounts traverse every folder above ``path`` (adds ``o+x`` only where missing)."""
    for folder in path.resolve().parents:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def chown_tree(path: Path, account: Account) -> None:
    """Give ``path`` and everything below it to ``account`` (skipped when its top already belongs to it)."""
    top = path.stat()
    if top.st_uid == account.uid and top.st_gid == account.gid:
        return
    os.chown(path, account.uid, account.gid, follow_symlinks=False)
    for root, folders, files in os.walk(path):
        for entry in (*folders, *files):
            os.chown(Path(root) / entry, account.uid, account.gid, follow_symlinks=False)


def _create_account(name: str) -> pwd.struct_passwd:
    useradd = shutil.which("useradd")
    if useradd is None:
        raise EmbeddedServerError(
            f"running as root and no account {name!r}; useradd is not available to create it"
        )
    shell = "/usr/sbin/nologin" if Path("/usr/sbin/nologin").exists() else "/bin/false"
    result = subprocess.run(
        [useradd, "--system", "--user-group", "--no-create-home", "--shell", shell, name],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return pwd.getpwnam(name)  # also covers a concurrent creator winning the race
    except KeyError:
        raise EmbeddedServerError(
            f"could not create system account {name!r}: {result.stderr.strip() or result.returncode}"
        ) from None
