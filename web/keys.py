"""API keys: create one (the raw key is shown once, with a copy button), list them, revoke one."""

from __future__ import annotations

from typing import Any

from fasthtml.common import (
    H2,
    Button,
    Code,
    Div,
    Input,
    Label,
    Option,
    P,
    RedirectResponse,
    Section,
    Select,
    Table,
    Tbody,
    Td,
    Th,
    Thead,
    Tr,
)

from web.layout import notice, page, post_form
from web.shim_client import ShimError
from web.view import Page, View

__all__ = ["ROUTES"]

_BASE = "/api/v1/auth/keys"


_DURATIONS = (("", "for the key's life"), ("1d", "per day"), ("7d", "per week"), ("30d", "per 30 days"))


def _budget(key: dict[str, Any]) -> str:
    budget = key.get("budget")
    if not budget:
        return "none"
    text = f"${budget['max_budget']:g}"
    return f"{text} / {budget['budget_duration']}" if budget.get("budget_duration") else text


def _row(view: View, key: dict[str, Any]) -> Any:
    active = bool(key.get("is_active"))
    action = (
        post_form(
            view,
            f"/keys/{key['id']}/revoke",
            Button(
                "Revoke", type="submit", cls="danger", data_confirm=f"Revoke {key.get('name', 'this key')}?"
            ),
            cls="inline",
        )
        if active
        else "revoked"
    )
    return Tr(
        Td(key.get("name", "")),
        Td(Code(f"{key.get('key_prefix', '')}…")),
        Td(str(key.get("created_at") or "—")),
        Td(str(key.get("last_used_at") or "never")),
        Td(_budget(key)),
        Td(action),
        data_key_id=key["id"],
        cls="" if active else "muted",
    )


def _created(raw: str) -> Any:
    return Section(
        H2("Your new key"),
        notice("Copy it now: this is the only time it is shown."),
        Div(
            Input(value=raw, readonly=True, id="new-key", aria_label="New API key", cls="mono"),
            Button("Copy", type="button", data_copy="#new-key"),
            cls="row",
        ),
        P("Send it as the X-API-Key header (or as a Bearer token to /v1/*)."),
        cls="panel created",
    )


async def _page(view: View, created: Any = "") -> Any:
    listing = await view.call("GET", _BASE, params={"include_revoked": "true"})
    keys = listing.get("keys", [])
    return page(
        view,
        "API keys",
        created,
        Section(
            H2("Create a key"),
            post_form(
                view,
                "/keys",
                Label(
                    "Key name",
                    Input(name="name", required=True, maxlength="100", placeholder="e.g. Unity client"),
                ),
                Label(
                    "Budget (US$, optional)",
                    Input(name="max_budget", type="number", min="0", step="0.01", placeholder="no limit"),
                ),
                Label(
                    "Budget resets",
                    Select(
                        *(Option(text, value=value) for value, text in _DURATIONS), name="budget_duration"
                    ),
                ),
                Button("Create key", type="submit"),
                cls="inline-form",
            ),
            cls="panel",
        ),
        Section(
            H2("Your keys"),
            Table(
                Thead(Tr(Th("Name"), Th("Key"), Th("Created"), Th("Last used"), Th("Budget"), Th(""))),
                Tbody(*(_row(view, k) for k in keys)),
                cls="table",
            )
            if keys
            else P("No keys yet.", cls="muted"),
            cls="panel",
        ),
        active="/keys",
    )


async def keys(view: View) -> Any:
    return await _page(view)


async def create(view: View) -> Any:
    form = await view.form()
    body: dict[str, Any] = {"name": form.get("name", "").strip()}
    if form.get("max_budget", "").strip():
        try:
            body["max_budget"] = float(form["max_budget"])
        except ValueError:
            view.flash("The key was not created: the budget must be a number", "error")
            return RedirectResponse("/keys", status_code=303)
        body["budget_duration"] = form.get("budget_duration", "").strip() or None
    try:
        answer = await view.call("POST", _BASE, body=body)
    except ShimError as exc:
        if exc.credentials_refused:
            raise
        view.flash(f"The key was not created: {exc.detail}", "error")
        return RedirectResponse("/keys", status_code=303)
    # Rendered in the POST's answer, never stored: a reload cannot show the raw key again.
    return await _page(view, _created(answer["api_key"]))


async def revoke(view: View) -> Any:
    await view.act(
        "DELETE", f"{_BASE}/{view.param('key_id')}", done="Key revoked.", failed="Could not revoke: "
    )
    return RedirectResponse("/keys", status_code=303)


ROUTES: tuple[Page, ...] = (
    Page("GET", "/keys", keys),
    Page("POST", "/keys", create),
    Page("POST", "/keys/{key_id}/revoke", revoke),
)
