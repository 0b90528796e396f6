"""The page shell every screen shares (header, navigation, notices) and the small form helpers."""

from __future__ import annotations

from typing import Any

from fasthtml.common import (
    H1,
    A,
    Button,
    Div,
    Footer,
    Form,
    Header,
    Hidden,
    Main,
    Nav,
    P,
    Span,
    Title,
)

from web import csrf
from web.view import View

__all__ = ["NAV", "auth_page", "csrf_field", "error_page", "notice", "page", "post_form"]

#: The signed-in navigation: (path, label).
NAV: tuple[tuple[str, str], ...] = (
    ("/chat", "Chat"),
    ("/personas", "Personas"),
    ("/assets", "Assets"),
    ("/usage", "Usage"),
    ("/keys", "API keys"),
    ("/account", "Account"),
)


def csrf_field(view: View) -> Any:
    return Hidden(name=csrf.FIELD, value=view.csrf)


def post_form(view: View, action: str, *children: Any, **attrs: Any) -> Any:
    """A POST form carrying the CSRF token."""
    return Form(csrf_field(view), *children, method="post", action=action, **attrs)


def notice(text: str, kind: str = "info") -> Any:
    role = "alert" if kind == "error" else "status"
    return P(text, cls=f"notice {kind}", role=role, id="notice")


def _flash(view: View) -> Any:
    flash = view.take_flash()
    return notice(flash["text"], flash.get("kind", "info")) if flash else ""


def _header(view: View, active: str) -> Any:
    links = [
        A(
            label,
            href=path,
            cls="active" if path == active else "",
            aria_current="page" if path == active else None,
        )
        for path, label in NAV
    ]
    return Header(
        A(Span("◆", aria_hidden="true"), " Gaia", href="/chat", cls="brand"),
        Nav(*links, aria_label="Main"),
        post_form(view, "/logout", Button("Sign out", type="submit", cls="quiet"), cls="signout"),
        cls="top",
    )


def page(view: View, title: str, *content: Any, active: str = "", wide: bool = False) -> tuple[Any, ...]:
    """A signed-in page: ``content`` under the shared header, with any pending notice on top."""
    return (
        Title(f"{title} · Gaia"),
        _header(view, active),
        Main(_flash(view), *content, cls="wide" if wide else "", id="main"),
    )


def auth_page(view: View, title: str, *content: Any, message: Any = "") -> tuple[Any, ...]:
    """The signed-out pages: one centred card."""
    return (
        Title(f"{title} · Gaia"),
        Main(
            Div(
                H1(Span("◆", aria_hidden="true"), " Gaia Mesh"),
                _flash(view),
                message,
                *content,
                cls="card",
            ),
            cls="auth",
        ),
        Footer(P("Gaia Mesh · an open backend for LLM-powered games and XR"), cls="foot"),
    )


def error_page(view: View, title: str, detail: str) -> tuple[Any, ...]:
    body = (H1(title), notice(detail, "error"), P(A("Back to chat", href="/chat")))
    return page(view, title, *body) if view.signed_in else auth_page(view, title, *body[1:])
