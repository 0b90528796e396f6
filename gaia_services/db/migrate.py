"""Apply the numbered SQL migrations shipped in ``gaia_services/db/migrations``.

Each file ``NNNN_<name>.sql`` runs once, in number order, in its own transaction together with the
row that records it in ``schema_migrations`` (name and sha256 of the file bytes). A session-level
advisory lock serialises migrators, so several services may start at once against one database.
An applied file whose bytes changed, or an applied file that is gone, stops the run with a
:class:`MigrationError` before anything new is applied.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Final

import asyncpg

__all__ = [
    "Migration",
    "MigrationChecksumError",
    "MigrationError",
    "MigrationFailedError",
    "MigrationMissingError",
    "load_migrations",
    "migrate",
    "migrate_url",
]

# Fixed key of the advisory lock every migrator takes (the bytes of "gaiamigr").
_LOCK_KEY: Final = 0x6761_6961_6D69_6772
_PACKAGE: Final = "gaia_services.db"
_FILE_NAME: Final = re.compile(r"^(?P<number>\d{4})_(?P<slug>[a-z0-9_]+)\.sql$")

_CREATE_TRACKING_TABLE: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    migration_name TEXT PRIMARY KEY,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ DEFAULT now()
)
"""


class MigrationError(Exception):
    """The schema could not be brought up to date."""


class MigrationChecksumError(MigrationError):
    """An applied migration's file no longer has the bytes it had when it was applied."""

    def __init__(self, *, name: str, recorded: str, actual: str) -> None:
        self.name = name
        self.recorded = recorded
        self.actual = actual
        super().__init__(
            f"migration {name}.sql was changed after it was applied: "
            f"recorded checksum {recorded}, file checksum {actual}. "
            "Applied migrations are immutable; put the change in a new numbered file."
        )


class MigrationMissingError(MigrationError):
    """The database records migrations that this code base does not ship."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        listed = ", ".join(f"{name}.sql" for name in self.names)
        super().__init__(
            f"the database has applied migrations that are missing from disk: {listed}. "
            "Is this an older build than the one that migrated the database?"
        )


class MigrationFailedError(MigrationError):
    """A migration's SQL failed; its transaction was rolled back."""

    def __init__(self, *, name: str, detail: str) -> None:
        self.name = name
        super().__init__(f"migration {name}.sql failed and was rolled back: {detail}")


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: ``name`` is the file name without ``.sql``."""

    number: int
    name: str
    sql: str
    checksum: str

    @classmethod
    def from_file(cls, file_name: str, data: bytes) -> Migration:
        match = _FILE_NAME.match(file_name)
        if match is None:
            raise MigrationError(f"migration file name {file_name!r} is not NNNN_lowercase_name.sql")
        try:
            sql = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MigrationError(f"migration {file_name} is not valid UTF-8: {exc}") from exc
        return cls(
            number=int(match["number"]),
            name=file_name.removesuffix(".sql"),
            sql=sql,
            checksum=hashlib.sha256(data).hexdigest(),
        )


def load_migrations(directory: Traversable | None = None) -> list[Migration]:
    """Read every ``*.sql`` file of ``directory`` (default: the packaged migrations), by number."""
    folder = directory if directory is not None else resources.files(_PACKAGE).joinpath("migrations")
    found = [
        Migration.from_file(entry.name, entry.read_bytes())
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".sql")
    ]
    found.sort(key=lambda migration: migration.number)
    for earlier, later in itertools.pairwise(found):
        if earlier.number == later.number:
            raise MigrationError(
                f"two migrations share number {later.number:04d}: {earlier.name}, {later.name}"
            )
    return found


async def migrate(conn: asyncpg.Connection, *, migrations: Sequence[Migration] | None = None) -> list[str]:
    """Apply the pending migrations on ``conn``; return the names applied now, in order."""
    if conn.is_in_transaction():
        raise MigrationError("migrate() needs a connection that is not inside a transaction")
    available = load_migrations() if migrations is None else sorted(migrations, key=lambda m: m.number)
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_TRACKING_TABLE)
        rows = await conn.fetch("SELECT migration_name, checksum FROM schema_migrations")
        applied: dict[str, str] = {row["migration_name"]: row["checksum"] for row in rows}
        _verify(available, applied)
        newly_applied: list[str] = []
        for migration in available:
            if migration.name not in applied:
                await _apply(conn, migration)
                newly_applied.append(migration.name)
        return newly_applied
    finally:
        # A broken connection has already lost its session lock; nothing left to release then.
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def migrate_url(dsn: str) -> list[str]:
    """Connect to ``dsn``, apply the pending migrations, close; return the names applied now."""
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def _verify(available: Iterable[Migration], applied: dict[str, str]) -> None:
    by_name = {migration.name: migration for migration in available}
    missing = sorted(name for name in applied if name not in by_name)
    if missing:
        raise MigrationMissingError(missing)
    for name, recorded in sorted(applied.items()):
        actual = by_name[name].checksum
        if recorded != actual:
            raise MigrationChecksumError(name=name, recorded=recorded, actual=actual)


async def _apply(conn: asyncpg.Connection, migration: Migration) -> None:
    async with conn.transaction():
        try:
            await conn.execute(migration.sql)
        except asyncpg.PostgresError as exc:
            raise MigrationFailedError(name=migration.name, detail=_describe(exc, migration.sql)) from exc
        await conn.execute(
            "INSERT INTO schema_migrations (migration_name, checksum) VALUES ($1, $2)",
            migration.name,
            migration.checksum,
        )


def _describe(exc: asyncpg.PostgresError, sql: str) -> str:
    """The server's message with its SQLSTATE and, when known, the line of the file it points at."""
    detail = f"{exc.__class__.__name__} [{exc.sqlstate}]: {exc}"
    position = getattr(exc, "position", None)
    if position and str(position).isdigit():
        offset = int(position) - 1
        detail += f" (line {sql.count(chr(10), 0, offset) + 1})"
    return detail
