"""The local fakes' common server: an aiohttp app on 127.0.0.1 at a free port, started and stopped cleanly.

A fake subclasses ``HttpFake`` and builds its routes in ``app()``; ``start()`` serves it on a port the kernel
picks (``port``, ``base``), ``stop()`` closes the listener and waits up to ``shutdown_timeout`` seconds for
requests still being answered.
"""

from __future__ import annotations

from aiohttp import web

__all__ = ["HttpFake"]


class HttpFake:
    shutdown_timeout: float = 60.0  # aiohttp's default

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    def app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> str:
        """Serve ``app()`` on 127.0.0.1 at a free port; returns the base URL."""
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        runner = web.AppRunner(self.app(), shutdown_timeout=self.shutdown_timeout)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self.base

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"
