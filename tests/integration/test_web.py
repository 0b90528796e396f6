"""The web UI as a person uses it, over HTTP: sign in, start a chat, stream a reply, see the history."""

from __future__ import annotations

import aiohttp

from tests.support.mesh import Mesh


async def test_dev_sign_in_new_chat_streamed_reply_and_history(mesh: Mesh) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=mesh.web, cookie_jar=jar) as web:
        async with web.get("/", allow_redirects=False) as response:
            assert (response.status, response.headers["location"]) == (303, "/login")
        async with web.post("/login/dev", allow_redirects=False) as response:
            assert response.status == 303
        async with web.post("/c/new", allow_redirects=False) as response:
            assert response.status == 303
            location = response.headers["location"]
        conversation_id = location.removeprefix("/c/")
        async with web.post(f"{location}/send", data={"message": "hello from the web"}) as response:
            assert response.status == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = [line async for line in response.content if line.startswith(b"data: ")]
        opening = b'data: {"type": "metadata", "conversation_id": "' + conversation_id.encode()
        assert events[0].startswith(opening)
        assert b'"type": "content"' in b"".join(events)
        assert events[-1] == b'data: {"type": "done"}\n'
        async with web.get(location) as response:
            page = await response.text()
        assert '<div class="msg user">hello from the web</div>' in page
        assert '<div class="msg assistant">' in page
        async with web.get("/static/htmx.min.js") as response:
            assert response.status == 200


async def test_a_bad_password_shows_the_reason(mesh: Mesh) -> None:
    async with aiohttp.ClientSession(base_url=mesh.web) as web:
        form = {"email": "nobody@example.com", "password": "wrong-password", "action": "login"}
        async with web.post("/login", data=form) as response:
            page = await response.text()
        assert response.status == 200
        assert "Invalid login credentials" in page
