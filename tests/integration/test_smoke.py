"""``gaia smoke`` against the running mesh: every check passes; with the chat service frozen it fails,
naming chat (and the other checks chat answers), while the rest still pass."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time

import aiohttp

from tests.support.mesh import DEV_API_KEY, Mesh

CHECKS = ("health", "auth", "chat", "stream", "personas", "models", "asset", "pricing", "usage")


def _smoke(mesh: Mesh, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GAIA_API_KEY"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gaia_services.cli",
            "smoke",
            "--url",
            mesh.http,
            "--api-key",
            DEV_API_KEY,
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _healed(mesh: Mesh) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession(base_url=mesh.http) as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(
                    "/api/v1/chat/status",
                    headers={"X-API-Key": DEV_API_KEY},
                    timeout=aiohttp.ClientTimeout(total=2),
                ) as response:
                    if response.status == 200:
                        return
            assert time.monotonic() < deadline, "chat did not come back"
            await asyncio.sleep(0.1)


def _verdicts(stdout: str) -> dict[str, str]:
    rows = [line.split() for line in stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    return {row[1]: row[0] for row in rows}


async def test_smoke_passes_against_the_mesh(mesh: Mesh) -> None:
    run = await asyncio.to_thread(_smoke, mesh)
    assert run.returncode == 0, run.stdout + run.stderr
    assert _verdicts(run.stdout) == dict.fromkeys(CHECKS, "PASS")
    assert "ms" in run.stdout.splitlines()[0] and " 200 " in run.stdout.splitlines()[0]
    assert run.stdout.splitlines()[-1].startswith("smoke: all 9 checks passed")


async def test_smoke_fails_naming_chat_when_the_chat_service_is_down(mesh: Mesh) -> None:
    pid = mesh.child_pid("chat")
    os.kill(pid, signal.SIGSTOP)
    try:
        run = await asyncio.to_thread(_smoke, mesh, "--timeout", "1", "--skip", "asset")
    finally:
        os.kill(pid, signal.SIGCONT)
        await _healed(mesh)  # the tests after this one share the mesh
    assert run.returncode == 1, run.stdout
    verdicts = _verdicts(run.stdout)
    assert verdicts["chat"] == "FAIL" and verdicts["auth"] == verdicts["pricing"] == "PASS", run.stdout
    assert "asset" not in verdicts
    last = run.stdout.splitlines()[-1]
    assert last.startswith("smoke: FAILED") and "chat" in last.split(":", 2)[-1]
