"""FastHTML web UI (port 8080): the whole product in a browser, through the shim's HTTP API only.

One route table (``ROUTES``, rows from each area's module) and one wrapper that every row goes through:
CSRF on every state-changing request, anonymous visitors sent to ``/login`` (303), tokens refreshed before
they expire, refused credentials ending the session with a notice, and an unreachable shim shown as a
readable page. Nothing else on the page comes from elsewhere: htmx, the script and the styles are served
from ``static/`` (``default_hdrs=False``: no CDN).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from fasthtml.common import FastHTML, FtResponse, Link, Meta, RedirectResponse, Script
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles

from gaia_services.runtime.logs import configure_logging
from gaia_services.settings import Environment, Settings
from web import accounts, assets, chat, csrf, keys, personas, usage
from web.layout import error_page
from web.session import ENDED_NOTICE, SessionEnded, credentials, signed_in
from web.shim_client import ShimClient, ShimError, ShimUnreachable
from web.view import Page, View

__all__ = ["ROUTES", "build_app", "create_app"]

_STATIC = Path(__file__).parent / "static"
_log = logging.getLogger("gaia.web")


async def health(view: View) -> Response:
    return JSONResponse(
        {
            "status": "healthy",
            "service": "web",
            "gateway_url": view.request.app.state.shim_url,
            "websocket_enabled": False,
        }
    )


async def index(view: View) -> Response:
    return RedirectResponse("/chat" if view.signed_in else "/login", status_code=303)


ROUTES: tuple[Page, ...] = (
    Page("GET", "/health", health, public=True),
    Page("GET", "/", index, public=True),
    *accounts.ROUTES,
    *chat.ROUTES,
    *personas.ROUTES,
    *assets.ROUTES,
    *usage.ROUTES,
    *keys.ROUTES,
)


def _is_stream(request: Request) -> bool:
    return request.headers.get("accept", "").startswith("text/event-stream")


def _to_login(request: Request, notice: str) -> Response:
    request.session.clear()
    request.session["flash"] = {"text": notice, "kind": "error"}
    if _is_stream(request):
        return JSONResponse({"detail": notice, "login": "/login"}, status_code=401)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", status_code=303)


async def _csrf_ok(request: Request) -> bool:
    sent = request.headers.get(csrf.HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get(csrf.FIELD, ""))
    return csrf.valid(request.session, sent)


def _endpoint(row: Page, now: Callable[[], float]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Any:
        app = request.app
        view = View(request=request, shim=app.state.shim, creds=None, dev=app.state.dev)
        if row.method != "GET" and not await _csrf_ok(request):
            _log.warning("csrf refused", extra={"path": request.url.path})
            return _refused(view)
        try:
            view.creds = await credentials(request.session, view.shim, now)
            if view.creds is None and not row.public:
                return RedirectResponse("/login", status_code=303)
            return await row.handler(view)
        except SessionEnded as exc:
            return _to_login(request, exc.notice)
        except ShimError as exc:
            if exc.credentials_refused and signed_in(request.session):
                return _to_login(request, ENDED_NOTICE)
            return _failed(view, exc.status, "Something went wrong", exc.detail)
        except ShimUnreachable:
            shim = app.state.shim_url
            return _failed(
                view,
                503,
                "Gaia is not answering",
                f"The Gaia API at {shim} is unreachable. Try again in a moment.",
            )

    endpoint.__name__ = f"{row.method.lower()}_{row.handler.__name__}"
    return endpoint


def _failed(view: View, status: int, title: str, detail: str) -> Any:
    if _is_stream(view.request):
        return JSONResponse({"detail": detail}, status_code=status)
    return FtResponse(error_page(view, title, detail), status_code=status)


def _refused(view: View) -> Any:
    return _failed(
        view,
        403,
        "This form has expired",
        "The page was open too long or came from elsewhere. Reload it and try again.",
    )


def build_app(
    settings: Settings,
    *,
    now: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Any:
    """The app; ``now`` is the clock the token refresh reads and ``transport`` the way to the shim (both
    replaceable in tests)."""

    async def lifespan(app: Any) -> AsyncIterator[None]:  # FastHTML wants a bare async generator
        async with httpx.AsyncClient(
            base_url=settings.shim_base_url, timeout=15.0, transport=transport
        ) as http:
            app.state.shim = ShimClient(http=http)
            yield

    app = FastHTML(
        default_hdrs=False,
        canonical=False,
        lifespan=lifespan,
        secret_key=settings.web_session_secret.get_secret_value(),
        session_cookie="gaia_session",
        max_age=14 * 24 * 3600,
        hdrs=(
            Meta(name="viewport", content="width=device-width, initial-scale=1"),
            Meta(name="color-scheme", content="light dark"),
            Link(rel="stylesheet", href="/static/style.css"),
            Link(rel="icon", href="/static/favicon.svg", type="image/svg+xml"),
            Script(src="/static/htmx.min.js", defer=True),
            Script(src="/static/app.js", defer=True),
        ),
        htmlkw={"lang": "en"},
        exception_handlers={404: _not_found, 500: _server_error},
    )
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    app.state.settings = settings
    app.state.shim_url = settings.shim_base_url
    app.state.dev = settings.env is Environment.DEV
    app.state.dev_api_key = settings.web_dev_api_key.get_secret_value()
    for row in ROUTES:
        app.route(row.path, methods=[row.method])(_endpoint(row, now))
    return app


def _bare_view(request: Request) -> View:
    return View(request=request, shim=request.app.state.shim, creds=None, dev=request.app.state.dev)


def _not_found(request: Request, exc: Exception) -> Any:
    """Anonymous visitors go to sign in (a 303, never a 404 page); signed-in people get a readable 404."""
    if not signed_in(request.session):
        return RedirectResponse("/login", status_code=303)
    return error_page(_bare_view(request), "Not found", "There is nothing at this address.")


def _server_error(request: Request, exc: Exception) -> Any:
    _log.exception("web request failed", exc_info=exc)
    return error_page(
        _bare_view(request), "Something went wrong", "An unexpected error happened. It has been logged."
    )


def create_app() -> Any:
    settings = Settings()
    configure_logging(settings.log_level, fmt=settings.log_format, service="web")
    return build_app(settings)
