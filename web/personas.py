"""Personas: list, create, edit, delete, and choose the one the chat speaks as."""

from __future__ import annotations

import asyncio
from typing import Any

from fasthtml.common import (
    H2,
    A,
    Article,
    Button,
    Div,
    Input,
    Label,
    P,
    RedirectResponse,
    Section,
    Span,
    Textarea,
)

from web.layout import notice, page, post_form
from web.view import Page, View

__all__ = ["ROUTES"]

_BASE = "/api/v0.2/personas"


def _back() -> RedirectResponse:
    return RedirectResponse("/personas", status_code=303)


def _editor(view: View, persona: dict[str, Any] | None) -> Any:
    values = persona or {}
    action = f"/personas/{values['id']}" if persona else "/personas"
    return Section(
        H2(f"Edit {values.get('name', '')}" if persona else "New persona"),
        post_form(
            view,
            action,
            Label("Name", Input(name="name", value=values.get("name", ""), required=True, maxlength="100")),
            Label(
                "Description", Input(name="description", value=values.get("description", ""), required=True)
            ),
            Label(
                "System prompt",
                Textarea(values.get("system_prompt", ""), name="system_prompt", rows="6", required=True),
            ),
            Div(
                Button("Save persona" if persona else "Create persona", type="submit"),
                A("Cancel", href="/personas", cls="button quiet") if persona else "",
                cls="actions",
            ),
            cls="stack",
        ),
        cls="panel",
        id="persona-editor",
    )


def _card(view: View, persona: dict[str, Any], current: str) -> Any:
    pid = persona["id"]
    is_current = pid == current
    return Article(
        Div(
            Span(persona.get("name", ""), cls="name"),
            Span("current", cls="badge") if is_current else "",
            cls="head",
        ),
        P(persona.get("description", ""), cls="muted"),
        Div(
            ""
            if is_current
            else post_form(view, f"/personas/{pid}/use", Button("Use in chat", type="submit"), cls="inline"),
            A("Edit", href=f"/personas?edit={pid}", cls="button quiet"),
            post_form(
                view,
                f"/personas/{pid}/delete",
                Button(
                    "Delete", type="submit", cls="danger", data_confirm=f"Delete {persona.get('name', '')}?"
                ),
                cls="inline",
            ),
            cls="actions",
        ),
        cls="card-item" + (" current" if is_current else ""),
        data_persona=persona.get("name", ""),
    )


async def personas(view: View) -> Any:
    listing, current = await asyncio.gather(view.call("GET", _BASE), view.call("GET", f"{_BASE}/current"))
    current_id = str(current.get("persona", {}).get("id", ""))
    items = listing.get("personas", [])
    editing = next((p for p in items if p["id"] == view.param("edit")), None)
    return page(
        view,
        "Personas",
        Section(
            H2("Personas"),
            P("The persona's system prompt shapes every reply in chat."),
            Div(*(_card(view, p, current_id) for p in items), cls="grid")
            if items
            else notice("No personas yet."),
            cls="panel",
        ),
        _editor(view, editing),
        active="/personas",
    )


def _fields(form: dict[str, str]) -> dict[str, str]:
    return {k: form.get(k, "").strip() for k in ("name", "description", "system_prompt")}


async def create(view: View) -> Any:
    fields = _fields(await view.form())
    await view.act("POST", _BASE, body=fields, done=f"Persona {fields['name']} created.")
    return _back()


async def update(view: View) -> Any:
    fields = _fields(await view.form())
    await view.act("PUT", f"{_BASE}/{view.param('persona_id')}", body=fields, done="Persona saved.")
    return _back()


async def delete(view: View) -> Any:
    await view.act("DELETE", f"{_BASE}/{view.param('persona_id')}", done="Persona deleted.")
    return _back()


async def use(view: View) -> Any:
    body = {"persona_id": view.param("persona_id")}
    await view.act("POST", f"{_BASE}/set", body=body, done="Chat now speaks as this persona.")
    return _back()


ROUTES: tuple[Page, ...] = (
    Page("GET", "/personas", personas),
    Page("POST", "/personas", create),
    Page("POST", "/personas/{persona_id}", update),
    Page("POST", "/personas/{persona_id}/delete", delete),
    Page("POST", "/personas/{persona_id}/use", use),
)
