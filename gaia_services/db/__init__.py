"""Postgres schema: numbered SQL migrations, the migrator, and the dev-mode seed."""

from __future__ import annotations

from gaia_services.db.migrate import (
    Migration,
    MigrationChecksumError,
    MigrationError,
    MigrationFailedError,
    MigrationMissingError,
    load_migrations,
    migrate,
    migrate_url,
)
from gaia_services.db.seed import DEV_API_KEY, DEV_API_KEY_HASH, DEV_EMAIL, seed_dev_identity

__all__ = [
    "DEV_API_KEY",
    "DEV_API_KEY_HASH",
    "DEV_EMAIL",
    "Migration",
    "MigrationChecksumError",
    "MigrationError",
    "MigrationFailedError",
    "MigrationMissingError",
    "load_migrations",
    "migrate",
    "migrate_url",
    "seed_dev_identity",
]
