"""Embedded real servers from PyPI wheels (PostgreSQL, Redis, NATS) for one-machine runs and tests.

Each runs as a child process on a free loopback port, keeps its data in a folder between runs, dies with its
parent, and is reported ready only once a real client got through.
"""

from __future__ import annotations

from gaia_services.embedded.binaries import nats_server_executable, postgres_bin_dir, redis_server_executable
from gaia_services.embedded.errors import EmbeddedServerError, ServerAlreadyRunningError, ServerStartError
from gaia_services.embedded.launch import Urls, start_missing, stop_all
from gaia_services.embedded.nats import EmbeddedNats
from gaia_services.embedded.ports import free_port, free_ports
from gaia_services.embedded.postgres import EmbeddedPostgres
from gaia_services.embedded.protocol import EmbeddedServer
from gaia_services.embedded.redis import EmbeddedRedis

__all__ = [
    "EmbeddedNats",
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "EmbeddedServer",
    "EmbeddedServerError",
    "ServerAlreadyRunningError",
    "ServerStartError",
    "Urls",
    "free_port",
    "free_ports",
    "nats_server_executable",
    "postgres_bin_dir",
    "redis_server_executable",
    "start_missing",
    "stop_all",
]
