"""The web UI as a person uses it, over HTTP through the real mesh: sign in, stream, see the history."""

from __future__ import annotations

import hashlib
import re

import aiohttp

from tests.support.mesh import Mesh

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # htmx 2.0.11


async def _csrf(web: aiohttp.ClientSession, path: str = "/login") -> str:
    async with web.get(path) as response:
        match = re.search(r'value="([^"]+)" name="csrf_token"', await response.text())
    assert match
    return match.group(1)


async def test_dev_sign_in_streamed_reply_and_history(mesh: Mesh) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=mesh.web, cookie_jar=jar) as web:
        async with web.get("/", allow_redirects=False) as response:
            assert (response.status, response.headers["location"]) == (303, "/login")
        token = await _csrf(web)
        form = {"action": "dev", "csrf_token": token}
        async with web.post("/login", data=form, allow_redirects=False) as response:
            assert (response.status, response.headers["location"]) == (303, "/chat")
        form = {"message": "hello <b>web</b>", "conversation_id": "", "model": "", "csrf_token": token}
        headers = {"Accept": "text/event-stream"}
        async with web.post("/chat/send", data=form, headers=headers) as response:
            assert response.status == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = [line async for line in response.content if line.startswith(b"data: ")]
        assert events[0].startswith(b'data: {"type": "metadata", "conversation_id": "')
        conversation_id = re.search(rb'"conversation_id": "([^"]+)"', events[0]).group(1).decode()  # type: ignore[union-attr]
        assert b'{"type": "content", "content": "echo:"}' in b"".join(events)
        reply = b'data: {"type": "reply", "html": "<p>echo: hello &lt;b&gt;web&lt;/b&gt;</p>"}\n'
        assert events[-2:] == [reply, b'data: {"type": "done"}\n']
        async with web.get(f"/chat/{conversation_id}") as response:
            page = await response.text()
        assert '<article data-role="user" class="msg user">' in page
        assert "hello &lt;b&gt;web&lt;/b&gt;" in page and "<b>web" not in page
        assert page.count('data-role="assistant"') == 1
        async with web.get("/static/htmx.min.js") as response:
            assert hashlib.sha256(await response.read()).hexdigest() == HTMX_SHA256


async def test_a_bad_password_shows_the_reason(mesh: Mesh) -> None:
    async with aiohttp.ClientSession(base_url=mesh.web, cookie_jar=aiohttp.CookieJar(unsafe=True)) as web:
        form = {"email": "nobody@example.com", "password": "wrong-password", "csrf_token": await _csrf(web)}
        async with web.post("/login", data=form) as response:
            page = await response.text()
        assert response.status == 200
        assert "Invalid login credentials" in page
