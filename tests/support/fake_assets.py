"""Local fake asset providers (OpenAI images, Stability, Meshy, Mubert) (to be completed by the asset work).

It runs as an aiohttp server on a loopback port; ``env()`` points the asset service's clients at it.
"""

from __future__ import annotations

from aiohttp import web

__all__ = ["FakeAssetProviders"]


class FakeAssetProviders:
    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    def app(self) -> web.Application:
        return web.Application()

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {}
