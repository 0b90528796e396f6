"""The web UI against a fake shim (an httpx transport that answers like the shim): rendering, escaping of
hostile model output, CSRF refusal, anonymous redirects, and session expiry and silent refresh."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fasthtml.common import to_xml
from starlette.testclient import TestClient

from gaia_services.settings import Settings
from web import markdown
from web.app import build_app
from web.chat import message_article

# -- markdown: escape first, then a safe subset -------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[x](java&#x09;script:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "```\n</code></pre><script>alert(1)</script>\n```",
        "**<b onmouseover=alert(1)>bold</b>**",
        '`<svg onload="alert(1)">`',
        "# <iframe src=//evil>",
        '[ok](https://example.com/"onmouseover="alert(1))',
    ],
)
def test_hostile_model_output_never_becomes_markup(hostile: str) -> None:
    rendered = markdown.render(hostile)
    tags = set(re.findall(r"<\s*([a-zA-Z0-9]+)", rendered))
    assert tags <= {"p", "br", "strong", "em", "code", "pre", "h1", "a", "ul", "ol", "li", "blockquote"}
    assert "<script" not in rendered and "onerror=" not in rendered.replace("onerror=&quot;", "")
    assert 'href="javascript' not in rendered.lower() and 'href="data:' not in rendered
    for attrs in re.findall(r"<a ([^>]*)>", rendered):
        assert re.fullmatch(
            r'href="https?://[^"]*" rel="noopener noreferrer nofollow" target="_blank"', attrs
        ), attrs


def test_the_safe_subset_renders() -> None:
    text = (
        "# Title\nSome **bold**, *it* and `x<y`.\n\n- one\n- two\n\n1. a\n\n> quote\n\n"
        "```py\nif a < b:\n    pass\n```\n[docs](https://example.com/a?b=1&c=2)"
    )
    html = markdown.render(text)
    assert "<h1>Title</h1>" in html
    assert "<p>Some <strong>bold</strong>, <em>it</em> and <code>x&lt;y</code>.</p>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html and "<ol><li>a</li></ol>" in html
    assert "<blockquote>quote</blockquote>" in html
    assert '<pre><code class="language-py">if a &lt; b:\n    pass</code></pre>' in html
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow" '
        'target="_blank">docs</a>' in html
    )


def test_a_stored_reply_is_an_article_with_its_role_and_cut_mark() -> None:
    user = to_xml(message_article({"role": "user", "content": "<b>hi</b>"}))
    reply = to_xml(
        message_article({"role": "assistant", "content": "**yes** <script>x</script>", "cut": True})
    )
    assert 'data-role="user"' in user and "&lt;b&gt;hi&lt;/b&gt;" in user
    assert 'data-role="assistant"' in reply and 'data-cut="true"' in reply
    assert "<strong>yes</strong> &lt;script&gt;x&lt;/script&gt;" in reply and "Stopped" in reply


# -- the app against a fake shim ------------------------------------------------------------------------


@dataclass
class FakeShim:
    """Answers the shim routes the UI calls; records every request."""

    now: float = 1_000_000.0
    expires_in: int = 3600
    refresh_ok: bool = True
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def session(self) -> dict[str, Any]:
        n = len(self.calls)
        return {
            "user": {"email": "ana@example.com"},
            "session": {
                "access_token": f"access-{n}",
                "refresh_token": f"refresh-{n}",
                "expires_at": int(self.now) + self.expires_in,
            },
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        path = request.url.path
        self.calls.append((request.method, path, {"auth": request.headers.get("authorization", ""), **body}))
        answers: dict[tuple[str, str], Any] = {
            ("POST", "/api/v1/auth/login"): self.session,
            ("GET", "/api/v1/conversations"): lambda: {
                "conversations": [{"id": "c1", "title": "<i>Plans</i>"}]
            },
            ("GET", "/v1/models"): lambda: {"data": [{"id": "gpt-4o-mini", "owned_by": "openai"}]},
            ("GET", "/api/v0.2/personas"): lambda: {"personas": [{"id": "p1", "name": "Mu"}]},
            ("GET", "/api/v0.2/personas/current"): lambda: {"persona": {"id": "p1", "name": "Mu"}},
        }
        if (request.method, path) == ("POST", "/api/v1/auth/refresh"):
            if not self.refresh_ok:
                return httpx.Response(
                    401, json={"detail": 'Service error: {"detail":"Invalid refresh token"}'}
                )
            return httpx.Response(200, json=self.session())
        answer = answers.get((request.method, path))
        if answer is None:
            return httpx.Response(404, json={"detail": "Not Found"})
        return httpx.Response(200, json=answer())


@pytest.fixture
def shim() -> FakeShim:
    return FakeShim()


@pytest.fixture
def client(shim: FakeShim) -> Iterator[TestClient]:
    app = build_app(Settings(), now=lambda: shim.now, transport=httpx.MockTransport(shim.handle))
    with TestClient(app, base_url="http://web.test", follow_redirects=False) as value:
        yield value


def _csrf(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'value="([^"]+)" name="csrf_token"', client.get(path).text)
    assert match
    return match.group(1)


def _sign_in(client: TestClient) -> str:
    token = _csrf(client)
    response = client.post(
        "/login", data={"email": "ana@example.com", "password": "pw123456", "csrf_token": token}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/chat")
    return token


@pytest.mark.parametrize(
    "path", ["/", "/chat", "/chat/c1", "/personas", "/assets", "/usage", "/keys", "/account", "/no-such-page"]
)
def test_an_anonymous_visitor_is_sent_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_a_form_without_the_csrf_token_is_refused(client: TestClient, shim: FakeShim) -> None:
    _csrf(client)
    for data in (
        {"email": "a@b.c", "password": "x"},
        {"email": "a@b.c", "password": "x", "csrf_token": "forged"},
    ):
        response = client.post("/login", data=data)
        assert response.status_code == 403
        assert "This form has expired" in response.text
    assert shim.calls == []  # nothing reached the shim
    token = _sign_in(client)
    assert client.post("/logout").status_code == 403  # signed in: still refused without the token
    assert client.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"


def test_the_chat_page_renders_escaped_data_and_the_hooks(client: TestClient) -> None:
    _sign_in(client)
    page = client.get("/chat").text
    assert "&lt;i&gt;Plans&lt;/i&gt;" in page and "<i>Plans" not in page
    assert 'role="log"' in page and "<label>Message" in page
    for button in ("Send", "Stop", "New conversation", "Sign out"):
        assert f">{button}</button>" in page
    assert "https://" not in page.replace('content="width=device-width', "")  # nothing from elsewhere


def test_tokens_close_to_expiry_are_refreshed_silently(client: TestClient, shim: FakeShim) -> None:
    _sign_in(client)
    shim.now += 3600 - 30  # 30 s left: inside the refresh margin
    assert client.get("/chat").status_code == 200
    refreshes = [c for c in shim.calls if c[1] == "/api/v1/auth/refresh"]
    assert [c[2]["refresh_token"] for c in refreshes] == ["refresh-1"]  # the pair from sign-in (call 1)
    after = [c for c in shim.calls if c[1] == "/api/v1/conversations"]
    assert after[-1][2]["auth"].startswith("Bearer access-")
    assert after[-1][2]["auth"] != "Bearer access-1"  # the new access token is used at once


def test_a_session_the_shim_no_longer_accepts_lands_on_sign_in_with_a_notice(
    client: TestClient, shim: FakeShim
) -> None:
    _sign_in(client)
    shim.now += 7200
    shim.refresh_ok = False
    response = client.get("/personas")
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    page = client.get("/login").text
    assert "Your session has ended. Please sign in again." in page
    assert "Traceback" not in page
    assert client.get("/chat").headers["location"] == "/login"  # the session is gone
