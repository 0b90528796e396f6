"""FastHTML web UI (port 8080): sign-in, conversations and streaming chat, all through the shim's HTTP API.

No CDN assets (``default_hdrs=False``; htmx and the small streaming script are served from ``static/``).
The session cookie holds the JWT from login (or, in dev mode only, the seeded dev API key).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fasthtml.common import RedirectResponse, fast_app
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse

from gaia_services.runtime.logs import configure_logging
from gaia_services.settings import Environment, Settings
from web.pages import chat_page, health_table, login_page
from web.shim_client import Credentials, ShimClient, ShimError

__all__ = ["build_app", "create_app"]

_STATIC = Path(__file__).parent / "static"


def _credentials(request: Request) -> Credentials | None:
    session = request.session
    if session.get("access_token") or session.get("api_key"):
        return Credentials(access_token=session.get("access_token", ""), api_key=session.get("api_key", ""))
    return None


def _shim(request: Request) -> ShimClient:
    client: ShimClient = request.app.state.shim
    return client


def _dev(request: Request) -> bool:
    return bool(request.app.state.settings.env is Environment.DEV)


async def health(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "status": "healthy",
            "service": "web",
            "gateway_url": request.app.state.shim_url,
            "websocket_enabled": False,
        }
    )


async def login_form(request: Request) -> Any:
    return login_page(dev=_dev(request), notice=request.query_params.get("notice", ""))


async def login(request: Request) -> Any:
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    dev = _dev(request)
    try:
        if form.get("action") == "register":
            answer = await _shim(request).register(email, password)
            if not answer.get("session"):
                return login_page(dev=dev, notice=f"Check {email} for a confirmation link, then sign in.")
        else:
            answer = await _shim(request).login(email, password)
    except ShimError as exc:
        return login_page(dev=dev, notice=exc.detail)
    request.session.clear()
    request.session.update({"access_token": answer["session"]["access_token"], "email": email})
    return RedirectResponse("/", status_code=303)


async def login_dev(request: Request) -> Any:
    if not _dev(request):
        return RedirectResponse("/login", status_code=303)
    key = request.app.state.settings.web_dev_api_key.get_secret_value()
    request.session.clear()
    request.session.update({"api_key": key, "email": "dev@gaia.local"})
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Any:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def _page(request: Request, active: str | None) -> Any:
    creds = _credentials(request)
    if creds is None:
        return RedirectResponse("/login", status_code=303)
    client = _shim(request)
    try:
        conversations = await client.conversations(creds)
        messages = await client.messages(creds, active) if active else []
        persona = (await client.current_persona(creds)).get("name", "Gaia")
    except httpx.HTTPError as exc:
        return login_page(
            dev=_dev(request), notice=f"The API at {request.app.state.shim_url} is unreachable: {exc}"
        )
    except ShimError as exc:
        if exc.status in (401, 403):
            request.session.clear()
            return RedirectResponse("/login?notice=Please+sign+in+again", status_code=303)
        if exc.status == 404:
            return RedirectResponse("/", status_code=303)
        raise
    return chat_page(conversations=conversations, active=active, messages=messages, persona=persona)


async def index(request: Request) -> Any:
    return await _page(request, None)


async def conversation(request: Request) -> Any:
    return await _page(request, request.path_params["conversation_id"])


async def new_conversation(request: Request) -> Any:
    creds = _credentials(request)
    if creds is None:
        return RedirectResponse("/login", status_code=303)
    created = await _shim(request).new_conversation(creds)
    return RedirectResponse(f"/c/{created['id']}", status_code=303)


async def send(request: Request) -> Any:
    """One chat turn, relayed from the shim's SSE as it arrives (a closed page cancels it upstream)."""
    creds = _credentials(request)
    if creds is None:
        return JSONResponse({"detail": "Not signed in"}, status_code=401)
    message = str((await request.form()).get("message", ""))
    stream = _shim(request).stream_chat(creds, request.path_params["conversation_id"], message)
    try:
        first = await anext(stream)
    except ShimError as exc:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    async def relay() -> AsyncIterator[bytes]:
        yield first
        async for chunk in stream:
            yield chunk

    return StreamingResponse(relay(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def status(request: Request) -> Any:
    try:
        health_body = await _shim(request).health()
    except (httpx.HTTPError, ShimError) as exc:
        health_body = {"status": f"shim unreachable: {exc}"}
    return health_table(health_body)


#: The UI's route table.
ROUTES: tuple[tuple[str, str, Callable[[Request], Awaitable[Any]]], ...] = (
    ("/health", "GET", health),
    ("/login", "GET", login_form),
    ("/login", "POST", login),
    ("/login/dev", "POST", login_dev),
    ("/logout", "GET", logout),
    ("/", "GET", index),
    ("/c/new", "POST", new_conversation),
    ("/c/{conversation_id}", "GET", conversation),
    ("/c/{conversation_id}/send", "POST", send),
    ("/status", "GET", status),
)


def build_app(settings: Settings) -> Any:
    async def lifespan(app: Any) -> AsyncIterator[None]:  # FastHTML wants a bare async generator
        async with httpx.AsyncClient(base_url=settings.shim_base_url, timeout=10.0) as http:
            app.state.shim = ShimClient(http=http)
            yield

    app, _ = fast_app(
        default_hdrs=False,
        pico=False,
        live=False,
        lifespan=lifespan,
        secret_key=settings.web_session_secret.get_secret_value(),
        session_cookie="gaia_session",
        static_path=str(_STATIC.parent),  # FastHTML serves /static/<file> from web/static
    )
    app.state.settings = settings
    app.state.shim_url = settings.shim_base_url
    for path, method, handler in ROUTES:
        app.route(path, methods=[method])(handler)
    return app


def create_app() -> Any:
    settings = Settings()
    configure_logging(settings.log_level)
    return build_app(settings)
