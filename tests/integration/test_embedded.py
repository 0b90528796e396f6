"""Embedded real servers from PyPI wheels: round trips, data kept between runs, clean stops, no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import nats
import pytest
import redis.asyncio

from gaia_services.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    EmbeddedRedis,
    EmbeddedServer,
    EmbeddedServerError,
    ServerAlreadyRunningError,
    ServerStartError,
    free_port,
    start_missing,
    stop_all,
)
from gaia_services.embedded.ports import STANDARD_PORTS

pytestmark = pytest.mark.integration


@pytest.fixture
async def cleanup() -> AsyncIterator[list[EmbeddedServer]]:
    """Servers appended here are stopped after the test, whatever happened."""
    servers: list[EmbeddedServer] = []
    yield servers
    await stop_all(servers)


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _assert_gone(pid: int | None) -> None:
    """The server and every process of its group (Postgres backends included) have exited."""
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert _group_members(pid) == []


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    assert port not in STANDARD_PORTS
    return port


async def _timed_start(server: EmbeddedServer) -> str:
    began = time.monotonic()
    url = await server.start()
    print(f"{server.name} started in {time.monotonic() - began:.2f} s: {url}")
    return url


async def test_postgres_round_trip_and_data_kept_between_runs(
    tmp_path: Path, cleanup: list[EmbeddedServer]
) -> None:
    server = EmbeddedPostgres(data_dir=tmp_path / "pg")
    cleanup.append(server)
    url = await _timed_start(server)
    assert url == f"postgresql://postgres@127.0.0.1:{_port(url)}/gaia"
    assert (tmp_path / "pg" / "pgdata" / "PG_VERSION").exists()

    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("select 1") == 1
        assert await connection.fetchval("select current_database()") == "gaia"
        await connection.execute("create table kept (id int primary key, note text not null)")
        await connection.execute("insert into kept values (1, 'survives a restart')")
    finally:
        await connection.close()

    pid = server.pid
    await server.stop()
    _assert_gone(pid)
    assert server.pid is None
    await server.stop()  # idempotent

    again = EmbeddedPostgres(data_dir=tmp_path / "pg")
    cleanup.append(again)
    url = await _timed_start(again)
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("select note from kept where id = 1") == "survives a restart"
    finally:
        await connection.close()
    pid = again.pid
    await again.stop()
    _assert_gone(pid)


async def test_postgres_recovers_after_being_killed(tmp_path: Path, cleanup: list[EmbeddedServer]) -> None:
    server = EmbeddedPostgres(data_dir=tmp_path / "pg", database="crash test")
    cleanup.append(server)
    url = await server.start()
    assert url.endswith("/crash%20test")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("create table kept (id int)")
        await connection.execute("insert into kept values (42)")
    finally:
        await connection.close()

    pid = server.pid
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)  # a crash: stale postmaster.pid and shared memory stay behind
    for _ in range(200):
        if not _group_members(pid):
            break
        await asyncio.sleep(0.05)
    assert (tmp_path / "pg" / "pgdata" / "postmaster.pid").exists()
    await server.stop()

    again = EmbeddedPostgres(data_dir=tmp_path / "pg", database="crash test")
    cleanup.append(again)
    connection = await asyncpg.connect(await _timed_start(again))
    try:
        assert await connection.fetchval("select id from kept") == 42
    finally:
        await connection.close()


async def test_postgres_refuses_a_data_folder_in_use(tmp_path: Path, cleanup: list[EmbeddedServer]) -> None:
    first = EmbeddedPostgres(data_dir=tmp_path / "pg")
    second = EmbeddedPostgres(data_dir=tmp_path / "pg")
    cleanup.extend([first, second])
    await first.start()
    with pytest.raises(ServerAlreadyRunningError, match=rf"pid {first.pid}\b"):
        await second.start()
    assert second.pid is None
    with pytest.raises(EmbeddedServerError, match="not started"):
        _ = second.url


async def test_redis_round_trip_and_data_kept_between_runs(
    tmp_path: Path, cleanup: list[EmbeddedServer]
) -> None:
    server = EmbeddedRedis(data_dir=tmp_path / "redis")
    cleanup.append(server)
    url = await _timed_start(server)
    assert url == f"redis://127.0.0.1:{_port(url)}/0"
    client = redis.asyncio.Redis.from_url(url)
    try:
        assert await client.config_get("appendonly") == {"appendonly": "yes"}
        assert await client.set("gaia:kept", "yes")
        assert await client.get("gaia:kept") == b"yes"
    finally:
        await client.aclose()

    pid = server.pid
    await server.stop()
    _assert_gone(pid)
    await server.stop()

    url = await _timed_start(server)  # the same object starts again, on a new port
    client = redis.asyncio.Redis.from_url(url)
    try:
        assert await client.get("gaia:kept") == b"yes"
    finally:
        await client.aclose()
    pid = server.pid
    await server.stop()
    _assert_gone(pid)


async def test_nats_round_trip_with_jetstream_kept_between_runs(
    tmp_path: Path, cleanup: list[EmbeddedServer]
) -> None:
    server = EmbeddedNats(data_dir=tmp_path / "nats")
    cleanup.append(server)
    url = await _timed_start(server)
    assert url == f"nats://127.0.0.1:{_port(url)}"

    client = await nats.connect(url)
    try:
        subscription = await client.subscribe("gaia.ping")
        await client.publish("gaia.ping", b"pong")
        message = await subscription.next_msg(timeout=5)
        assert message.data == b"pong"

        jetstream = client.jetstream()
        await jetstream.add_stream(name="GAIA_TEST", subjects=["gaia.events.>"])
        ack = await jetstream.publish("gaia.events.one", b"stored")
        assert ack.stream == "GAIA_TEST"
        assert ack.seq == 1
    finally:
        await client.close()

    pid = server.pid
    await server.stop()
    _assert_gone(pid)
    await server.stop()

    again = EmbeddedNats(data_dir=tmp_path / "nats")
    cleanup.append(again)
    client = await nats.connect(await _timed_start(again))
    try:
        stored = await client.jetstream().get_msg("GAIA_TEST", 1)
        assert stored.data == b"stored"
    finally:
        await client.close()
    pid = again.pid
    await again.stop()
    _assert_gone(pid)


async def test_start_missing_starts_only_what_is_not_configured(
    tmp_path: Path, cleanup: list[EmbeddedServer]
) -> None:
    given = "postgresql://someone@db.example:5432/gaia"
    began = time.monotonic()
    urls, servers = await start_missing(data_dir=tmp_path, database_url=given, redis_url=None, nats_url="")
    print(f"redis and nats started together in {time.monotonic() - began:.2f} s")
    cleanup.extend(servers)
    assert urls.database_url == given
    assert sorted(server.name for server in servers) == ["nats", "redis"]
    assert urls.redis_url == next(s.url for s in servers if s.name == "redis")
    assert urls.nats_url == next(s.url for s in servers if s.name == "nats")
    assert (tmp_path / "redis" / "redis.log").exists()
    assert (tmp_path / "nats" / "jetstream").is_dir()
    assert not (tmp_path / "postgres").exists()

    pids = [server.pid for server in servers]
    await stop_all(servers)
    for pid in pids:
        _assert_gone(pid)


async def test_a_taken_port_is_reported(tmp_path: Path, cleanup: list[EmbeddedServer]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        server = EmbeddedRedis(data_dir=tmp_path / "redis", port=port)
        cleanup.append(server)
        with pytest.raises(ServerStartError, match=rf"port {port} on 127.0.0.1 is already in use"):
            await server.start()
    assert server.pid is None


async def test_a_failed_start_quotes_the_server_log(tmp_path: Path, cleanup: list[EmbeddedServer]) -> None:
    server = EmbeddedPostgres(data_dir=tmp_path / "pg")
    cleanup.append(server)
    await server.start()
    await server.stop()
    with (tmp_path / "pg" / "pgdata" / "postgresql.auto.conf").open("a") as conf:
        conf.write("this line is not valid\n")
    began = time.monotonic()
    with pytest.raises(ServerStartError, match=r"(?s)postgres exited with code \d+.*syntax error") as failure:
        await server.start()
    assert time.monotonic() - began < 10  # the exit is noticed at once, not after the start timeout
    assert "postgresql.auto.conf" in str(failure.value)
    assert server.pid is None


async def test_stop_before_start_is_harmless(tmp_path: Path) -> None:
    servers: list[EmbeddedServer] = [
        EmbeddedPostgres(data_dir=tmp_path / "pg"),
        EmbeddedRedis(data_dir=tmp_path / "redis"),
        EmbeddedNats(data_dir=tmp_path / "nats"),
    ]
    for server in servers:
        await server.stop()
        assert server.pid is None
        with pytest.raises(EmbeddedServerError):
            _ = server.url
