"""PostgreSQL from the binaries inside the ``pgserver`` wheel, run directly (not through pgserver)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from pathlib import Path
from urllib.parse import quote

import asyncpg

from gaia_services.embedded.base import HOST, EmbeddedBase
from gaia_services.embedded.binaries import postgres_bin_dir
from gaia_services.embedded.errors import EmbeddedServerError, ServerAlreadyRunningError
from gaia_services.embedded.pidfiles import live_owner, wait_gone
from gaia_services.embedded.privileges import Account, chown_tree, grant_traverse, service_account
from gaia_services.embedded.server_process import run_to_completion

__all__ = ["EmbeddedPostgres"]

_SUPERUSER = "postgres"
_SOCKET_PATH_MAX = 107  # sun_path is 108 bytes with the terminating NUL
_PREVIOUS_EXIT_GRACE_S = 5.0


class EmbeddedPostgres(EmbeddedBase):
    """A PostgreSQL server on ``127.0.0.1``, its cluster kept in ``data_dir/pgdata`` between runs.

    As root the server runs as the system account ``os_user`` (created if missing): PostgreSQL refuses root.
    Stopping uses SIGINT, PostgreSQL's *fast* shutdown: clients are disconnected and a checkpoint is written.
    """

    name = "postgres"
    stop_signal = signal.SIGINT

    def __init__(
        self,
        *,
        data_dir: Path,
        port: int | None = None,
        database: str = "gaia",
        os_user: str = "gaia-pg",
        start_timeout: float = 30.0,
        stop_timeout: float = 8.0,
        initdb_timeout: float = 120.0,
    ) -> None:
        super().__init__(data_dir=data_dir, port=port, start_timeout=start_timeout, stop_timeout=stop_timeout)
        self._database = database
        self._os_user = os_user
        self._initdb_timeout = initdb_timeout

    @property
    def pgdata(self) -> Path:
        return self._data_dir / "pgdata"

    async def _launch(self) -> str:
        bin_dir = postgres_bin_dir()
        account = await asyncio.to_thread(self._prepare_folders, bin_dir)
        await self._refuse_if_running()
        if not (self.pgdata / "PG_VERSION").exists():
            await self._initdb(bin_dir, account)
        socket_dir = self._data_dir / "run"
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}

        def argv_for(port: int) -> list[str]:
            socket_ok = len(os.fsencode(socket_dir / f".s.PGSQL.{port}")) <= _SOCKET_PATH_MAX
            return [
                str(bin_dir / "postgres"),
                "-D", str(self.pgdata),
                "-p", str(port),
                "-h", HOST,
                "-k", str(socket_dir) if socket_ok else "",
                "-c", "shared_buffers=32MB",
                "-c", "max_connections=100",
            ]  # fmt: skip

        port = await self._process.start(
            argv_for=argv_for, probe=_probe, port=self._port, env=env, account=account
        )
        try:
            await _ensure_database(port, self._database)
        except BaseException:
            await self._process.stop()
            raise
        return f"postgresql://{_SUPERUSER}@{HOST}:{port}/{quote(self._database, safe='')}"

    def _prepare_folders(self, bin_dir: Path) -> Account | None:
        """Create the folders; as root, hand them to the service account and let it reach them."""
        self._data_dir.mkdir(parents=True, exist_ok=True)
        socket_dir = self._data_dir / "run"
        socket_dir.mkdir(exist_ok=True)
        if self.pgdata.is_dir() and not (self.pgdata / "PG_VERSION").exists():
            if any(self.pgdata.iterdir()):
                raise EmbeddedServerError(f"{self.pgdata} exists but is not a PostgreSQL data folder")
            self.pgdata.rmdir()
        account = service_account(self._os_user)
        if account is not None:
            grant_traverse(self._data_dir)
            grant_traverse(bin_dir)
            for folder in (self._data_dir, socket_dir):
                os.chown(folder, account.uid, account.gid)
            if self.pgdata.exists():
                chown_tree(self.pgdata, account)
        return account

    async def _refuse_if_running(self) -> None:
        pid_file = self.pgdata / "postmaster.pid"
        pid = live_owner(pid_file, executable="postgres", workdir=self.pgdata)
        if pid is None or await wait_gone(pid, within=_PREVIOUS_EXIT_GRACE_S):
            return
        lines = pid_file.read_text().splitlines() if pid_file.exists() else []
        port = lines[3].strip() if len(lines) > 3 else "?"
        raise ServerAlreadyRunningError(
            f"a PostgreSQL server (pid {pid}, port {port}) is already running on {self.pgdata}; "
            "stop it, or use another data folder"
        )

    async def _initdb(self, bin_dir: Path, account: Account | None) -> None:
        """Create the cluster in a staging folder and move it into place only once initdb succeeded."""
        staging = self._data_dir / "pgdata.initdb"
        if staging.exists():
            await asyncio.to_thread(shutil.rmtree, staging)
        await run_to_completion(
            [
                str(bin_dir / "initdb"),
                f"--pgdata={staging}",
                f"--username={_SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
            name="initdb",
            log_path=self._data_dir / "initdb.log",
            workdir=self._data_dir,
            account=account,
            time_limit=self._initdb_timeout,
        )
        staging.rename(self.pgdata)


async def _probe(port: int) -> None:
    connection = await asyncpg.connect(host=HOST, port=port, user=_SUPERUSER, database="postgres", timeout=2)
    try:
        await connection.execute("select 1")
    finally:
        await connection.close()


async def _ensure_database(port: int, database: str) -> None:
    connection = await asyncpg.connect(host=HOST, port=port, user=_SUPERUSER, database="postgres", timeout=5)
    try:
        exists = await connection.fetchval("select 1 from pg_database where datname = $1", database)
        if not exists:
            quoted = '"' + database.replace('"', '""') + '"'
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # created concurrently
                await connection.execute(f"create database {quoted}")
    finally:
        await connection.close()
