"""The UI's pages and fragments, as FastHTML components."""

from __future__ import annotations

from typing import Any

from fasthtml.common import (
    H1,
    H2,
    A,
    Button,
    Div,
    Form,
    Input,
    Label,
    Link,
    Main,
    Meta,
    Nav,
    P,
    Script,
    Table,
    Td,
    Textarea,
    Th,
    Title,
    Tr,
)

__all__ = ["chat_page", "health_table", "login_page"]


def _head(title: str) -> tuple[Any, ...]:
    return (
        Meta(charset="utf-8"),
        Title(title),
        Link(rel="stylesheet", href="/static/style.css"),
        Script(src="/static/htmx.min.js"),
        Script(src="/static/chat.js", defer=True),
    )


def login_page(*, notice: str = "", dev: bool = False) -> tuple[Any, ...]:
    dev_login = (
        Form(Button("Continue as the dev user", type="submit"), method="post", action="/login/dev")
        if dev
        else ""
    )
    return (
        *_head("Gaia Mesh · sign in"),
        Div(
            H1("Gaia Mesh"),
            P(notice, cls="notice", id="notice") if notice else "",
            Form(
                Label("Email", Input(name="email", type="email", required=True)),
                Label("Password", Input(name="password", type="password", required=True)),
                Button("Sign in", type="submit", name="action", value="login"),
                Button("Register", type="submit", name="action", value="register"),
                method="post",
                action="/login",
            ),
            dev_login,
            cls="card",
        ),
    )


def _sidebar(conversations: list[dict[str, Any]], active: str | None) -> Any:
    links = [
        A(
            c.get("title") or "New Conversation",
            href=f"/c/{c['id']}",
            cls="active" if c["id"] == active else "",
        )
        for c in conversations
    ]
    return Nav(
        H2("Conversations"),
        Form(Button("New chat", type="submit"), method="post", action="/c/new"),
        *links,
        P(A("Mesh health", href="/status")),
        P(A("Sign out", href="/logout")),
    )


def chat_page(
    *, conversations: list[dict[str, Any]], active: str | None, messages: list[dict[str, Any]], persona: str
) -> tuple[Any, ...]:
    bubbles = [Div(m["content"], cls=f"msg {m['role']}") for m in messages]
    composer = (
        Form(
            Textarea(name="message", placeholder=f"Say something to {persona}…", required=True),
            Button("Send", type="submit"),
            method="post",
            action=f"/c/{active}/send",
            cls="send",
            data_stream="1",
        )
        if active
        else P("Start a new chat from the sidebar.")
    )
    return (
        *_head("Gaia Mesh · chat"),
        _sidebar(conversations, active),
        Main(H1(f"Chat with {persona}"), Div(*bubbles, id="messages"), composer),
    )


def health_table(health: dict[str, Any]) -> tuple[Any, ...]:
    rows = [Tr(Th("part"), Th("status"), Th("detail"))]
    for name, entry in health.get("services", {}).items():
        rows.append(
            Tr(Td(name), Td(entry["status"]), Td(str(entry.get("response_time", entry.get("error")))))
        )
    for name in ("database", "redis"):
        entry = health.get(name, {})
        rows.append(Tr(Td(name), Td(entry.get("status", "?")), Td(entry.get("error", ""))))
    return (
        *_head("Gaia Mesh · health"),
        Main(H1("Mesh health"), P(f"Overall: {health.get('status')}"), Table(*rows), P(A("Back", href="/"))),
    )
