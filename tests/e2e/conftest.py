"""Browser tests: the real web UI on a real mesh, driven in Debian's headless Chromium by Playwright.

Playwright (a dev dependency) is only the driver: its own browser download cannot work here, so the browser
is ``/usr/bin/chromium`` (Debian's ``chromium`` package; ``.ci/run`` installs it). Without it the tests skip
on a developer machine and fail under CI (``CI`` set), so CI can never pass by skipping them.

Fixtures and helpers:
  ``mesh``       one real mesh for the session (its own embedded servers, fake LLM and asset providers), with
                 registration confirmed by mail: ``confirmation_link(mesh, email)`` reads the mailed link
  ``browser``    one headless Chromium for the session
  ``context``    a new browser context per test (1280x800, ``base_url`` = the mesh's web UI) whose network
                 guard aborts and reports every request for a host other than 127.0.0.1/localhost
  ``page``       a page in that context; ``network`` is the guard (every request, every blocked one)
  ``screenshot(page, name)`` full-page PNGs at 1280x800 and 390x844 under .gaia/test-output/screenshots/
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Route,
    WebSocketRoute,
    async_playwright,
)

from tests.support.fake_assets import FakeAssetProviders
from tests.support.fake_llm import FakeLLM
from tests.support.fixtures import fake_assets, fake_llm, infra  # noqa: F401 (shared fixtures)
from tests.support.infra import Infra
from tests.support.mesh import Mesh, run_mesh

__all__ = ["CHROMIUM", "SCREENSHOTS", "NetworkGuard", "confirmation_link", "screenshot"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces under the network guard: Chromium resolves no name but localhost, so even a request
    # that routes never see (a redirect's follow-up) cannot leave the machine; the guard still reports it.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1280, "height": 800}
SCREEN_SIZES = ((1280, 800), (390, 844))  # desktop, phone
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".gaia" / "test-output" / "screenshots"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
# Schemes that never leave the browser (no host to check).
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome", "chrome-error", "devtools"})
# Playwright's own waits: a missing element fails in seconds, not at the suite's 180 s test timeout.
ACTION_TIMEOUT_MS = 15_000
E2E_ENV = {"GAIA_AUTH_REQUIRE_CONFIRMATION": "true"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


# ----- the mesh -----
@pytest.fixture(scope="session")
async def mesh(
    infra: Infra,  # noqa: F811 (the shared fixtures imported above, requested by name)
    fake_llm: FakeLLM,  # noqa: F811
    fake_assets: FakeAssetProviders,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Mesh]:
    """One real mesh for the browser tests: providers on the local fakes, registration confirmed by mail."""
    env = {**fake_llm.env(), **fake_assets.env(), **E2E_ENV}
    async with run_mesh(infra, tmp_path_factory.mktemp("e2e-mesh"), extra_env=env) as value:
        yield value


_LINK = re.compile(r"/api/v1/auth/confirm\?token=([^&\s]+)&email=([^\s]+)")


def _mails_to(mesh: Mesh, email: str, since_ns: int) -> list[tuple[int, EmailMessage]]:
    """``(written_at_ns, message)`` for each mail to ``email``, oldest first (files are ``<ns>-<to>.eml``)."""
    found = []
    for path in (mesh.data_dir / "mail").glob("*.eml"):
        stamp = path.name.split("-", 1)[0]
        if not stamp.isdigit() or int(stamp) < since_ns:
            continue
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        if str(message["To"]).strip().lower() == email.strip().lower():
            found.append((int(stamp), message))
    return sorted(found, key=lambda pair: pair[0])


async def confirmation_link(
    mesh: Mesh, email: str, *, since: float = 0.0, timeout: float = 10.0
) -> tuple[str, str]:
    """Wait for the newest confirmation mail to ``email`` (written at or after ``since``, a ``time.time()``)
    and return the ``(token, email)`` of its link, URL-decoded: open
    ``f"{mesh.http}/api/v1/auth/confirm?token={quote(token)}&email={quote(email)}"`` or POST them."""
    deadline = time.monotonic() + timeout
    since_ns = int(since * 1e9)
    while not (mails := _mails_to(mesh, email, since_ns)):
        if time.monotonic() > deadline:
            raise AssertionError(f"no confirmation mail to {email} under {mesh.data_dir / 'mail'}")
        await asyncio.sleep(0.1)
    _, newest = mails[-1]
    body = newest.get_body(preferencelist=("plain",))
    assert body is not None, newest
    text = body.get_content()
    match = _LINK.search(text)
    assert match, text
    return unquote(match.group(1)), unquote(match.group(2))


# ----- the browser -----
def _require_chromium() -> None:
    if os.access(CHROMIUM, os.X_OK):
        return
    reason = (
        f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install -y chromium); "
        "Playwright's own browser download is not used"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run them, not skip them", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    _require_chromium()
    async with async_playwright() as playwright:
        value = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield value
        finally:
            await value.close()


def _local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


@dataclass
class NetworkGuard:
    """Every request the context's pages made, and those it aborted for leaving the machine."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    async def attach(self, context: BrowserContext) -> None:
        context.on("request", self._seen)
        await context.route("**/*", self._route)
        await context.route_web_socket(re.compile(r".*"), self._route_web_socket)

    def _seen(self, request: Request) -> None:
        self.requests.append(f"{request.method} {request.url}")

    async def _route(self, route: Route) -> None:
        if _local(route.request.url):
            await route.fallback()
        else:
            self.blocked.append(f"{route.request.method} {route.request.url}")
            await route.abort("blockedbyclient")

    async def _route_web_socket(self, ws: WebSocketRoute) -> None:
        self.requests.append(f"WEBSOCKET {ws.url}")
        if _local(ws.url):
            ws.connect_to_server()
        else:
            self.blocked.append(f"WEBSOCKET {ws.url}")
            await ws.close(code=1008, reason="e2e network guard: not this machine")

    def leaks(self) -> list[str]:
        """Requests for another host: the blocked ones, and any that got past the route (e.g. a redirect's
        follow-up, which routes never see)."""
        leaving = [entry for entry in self.requests if not _local(entry.split(" ", 1)[1])]
        return list(dict.fromkeys([*self.blocked, *leaving]))

    def check(self) -> None:
        if leaks := self.leaks():
            pytest.fail(
                "the page tried to leave the machine (only 127.0.0.1/localhost are allowed):\n  "
                + "\n  ".join(leaks),
                pytrace=False,
            )


@pytest.fixture
def network() -> NetworkGuard:
    return NetworkGuard()


@pytest.fixture
async def context(browser: Browser, mesh: Mesh, network: NetworkGuard) -> AsyncIterator[BrowserContext]:
    """A fresh context per test on the mesh's web UI; at teardown, fails if any request left the machine."""
    value = await browser.new_context(
        viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]},
        base_url=mesh.web,
        service_workers="block",  # a service worker's fetches would bypass the route below
    )
    value.set_default_timeout(ACTION_TIMEOUT_MS)
    await network.attach(value)
    try:
        yield value
    finally:
        await value.close()
    network.check()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def screenshot(page: Page, name: str) -> list[Path]:
    """Full-page PNGs of ``page`` at 1280x800 and 390x844 (the viewport is restored afterwards):
    ``.gaia/test-output/screenshots/<name>-<W>x<H>.png``. Returns the paths."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise ValueError(f"screenshot name {name!r}: letters, digits, '.', '_' and '-' only")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    paths = []
    try:
        for width, height in SCREEN_SIZES:
            await page.set_viewport_size({"width": width, "height": height})
            path = SCREENSHOTS / f"{name}-{width}x{height}.png"
            await page.screenshot(path=path, full_page=True)
            paths.append(path)
    finally:
        if before is not None:
            await page.set_viewport_size(before)
    return paths
