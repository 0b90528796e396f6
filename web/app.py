"""FastHTML web UI (port 8080). It only calls the shim over HTTP; no CDN assets (``default_hdrs=False``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fasthtml.common import H1, P, Table, Td, Th, Title, Tr, fast_app
from starlette.requests import Request
from starlette.responses import JSONResponse

from gaia_services.runtime.logs import configure_logging
from gaia_services.settings import Settings

__all__ = ["build_app", "create_app"]


def _rows(health: dict[str, Any]) -> list[Any]:
    rows = [Tr(Th("part"), Th("status"), Th("detail"))]
    for name, entry in health.get("services", {}).items():
        rows.append(
            Tr(Td(name), Td(entry["status"]), Td(str(entry.get("response_time", entry.get("error")))))
        )
    for name in ("database", "redis"):
        entry = health.get(name, {})
        rows.append(Tr(Td(name), Td(entry.get("status", "?")), Td(entry.get("error", ""))))
    return rows


def build_app(settings: Settings) -> Any:
    shim_url = settings.shim_base_url

    async def lifespan(app: Any) -> AsyncIterator[None]:  # FastHTML wants a bare async generator
        async with httpx.AsyncClient(base_url=shim_url, timeout=5.0) as client:
            app.state.shim = client
            yield

    app, rt = fast_app(default_hdrs=False, pico=False, live=False, lifespan=lifespan)

    @rt("/health")
    async def health() -> JSONResponse:
        return JSONResponse(
            {"status": "healthy", "service": "web", "gateway_url": shim_url, "websocket_enabled": False}
        )

    @rt("/")
    async def index(request: Request) -> Any:
        client: httpx.AsyncClient = request.app.state.shim
        try:
            health = (await client.get("/health")).json()
        except (httpx.HTTPError, ValueError) as exc:
            health = {"status": f"shim unreachable: {exc}"}
        return (
            Title("Gaia Mesh"),
            H1("Gaia Mesh"),
            P(f"Mesh status: {health.get('status')}"),
            Table(*_rows(health)),
        )

    return app


def create_app() -> Any:
    settings = Settings()
    configure_logging(settings.log_level)
    return build_app(settings)
