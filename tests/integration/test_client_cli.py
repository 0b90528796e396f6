"""``gaia chat`` under a pseudo-terminal: the reply appears token by token as it streams, and Ctrl-C stops
the stream and the provider request; ``gaia personas``, ``conversations`` and ``assets generate`` too."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
import time

from tests.support.fake_llm import FakeLLM
from tests.support.mesh import DEV_API_KEY, Mesh


def _env(mesh: Mesh) -> dict[str, str]:
    return {
        **os.environ,
        "GAIA_CHAT_ADDR": mesh.addrs["chat"],
        "GAIA_AUTH_ADDR": mesh.addrs["auth"],
        "GAIA_ASSET_ADDR": mesh.addrs["asset"],
        "GAIA_API_KEY": DEV_API_KEY,
    }


class _Terminal:
    """``gaia <args>`` on the slave side of a pty (its controlling terminal); output read from the master."""

    def __init__(self, mesh: Mesh, *args: str) -> None:
        argv = [sys.executable, "-m", "gaia_services.cli", *args]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: exec at once
            os.execve(sys.executable, argv, _env(mesh))
        self.chunks: list[tuple[float, bytes]] = []

    def read(self, until: bytes, timeout: float = 20.0) -> bytes:
        deadline = time.monotonic() + timeout
        while until not in self.output:
            assert time.monotonic() < deadline, f"no {until!r} in {self.output!r}"
            if not self._read_some(deadline - time.monotonic()):
                break
        return self.output

    def _read_some(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        if data:
            self.chunks.append((time.monotonic(), data))
        return bool(data)

    @property
    def output(self) -> bytes:
        return b"".join(data for _, data in self.chunks)

    def wait(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            assert time.monotonic() < deadline, f"gaia did not exit: {self.output!r}"
            self._read_some(0.05)


async def _in_thread(fn, *args):  # type: ignore[no-untyped-def]
    return await asyncio.to_thread(fn, *args)


async def test_gaia_chat_streams_to_the_terminal_as_the_reply_arrives(mesh: Mesh) -> None:
    terminal = _Terminal(mesh, "chat", "slow150: alpha beta gamma delta")
    await _in_thread(terminal.read, b"delta")
    assert await _in_thread(terminal.wait) == 0
    assert terminal.output.replace(b"\r\n", b"\n").endswith(b"echo: slow150: alpha beta gamma delta\n")
    arrivals = [at for at, data in terminal.chunks if data.strip()]
    assert len(arrivals) >= 3, terminal.chunks  # several writes, not one at the end
    assert arrivals[-1] - arrivals[0] > 0.3  # spread over the stream (150 ms per token)


async def test_ctrl_c_stops_the_stream_and_the_provider_request(mesh: Mesh, fake_llm: FakeLLM) -> None:
    text = "slow200: one two three four five six seven eight nine ten"
    terminal = _Terminal(mesh, "chat", text)
    await _in_thread(terminal.read, b"echo:")
    os.write(terminal.fd, b"\x03")  # Ctrl-C: the terminal sends SIGINT to gaia
    pressed = time.monotonic()
    assert await _in_thread(terminal.wait) == 130
    assert b"ten" not in terminal.output and b"interrupted" in terminal.output
    deadline = time.monotonic() + 5
    while not fake_llm.find(text) or fake_llm.find(text)[-1].client_gone_at is None:
        assert time.monotonic() < deadline, "the provider request was not closed"
        await asyncio.sleep(0.02)
    gone = fake_llm.find(text)[-1].client_gone_at
    assert gone is not None and gone - pressed < 2.0


async def test_gaia_personas_conversations_and_an_asset_with_progress(mesh: Mesh) -> None:
    def gaia(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gaia_services.cli", *args],
            env=_env(mesh),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    personas = await _in_thread(gaia, "personas")
    assert personas.returncode == 0 and "* " in personas.stdout, personas.stderr
    conversations = await _in_thread(gaia, "conversations")
    assert conversations.returncode == 0, conversations.stderr
    asset = await _in_thread(gaia, "assets", "generate", "--type", "audio", "--style", "ambient-calm", "rain")
    assert asset.returncode == 0, asset.stderr
    assert "100% done" in asset.stderr and "%" in asset.stderr.splitlines()[0]
    assert len(asset.stdout.split()[0]) == 36  # the asset id
    refused = await _in_thread(gaia, "personas", "--api-key", "not-a-key")
    assert refused.returncode == 1 and "PERMISSION_DENIED" in refused.stderr
