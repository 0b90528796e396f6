"""Accounts: sign in, register, confirm by the mailed link, resend it, sign out, profile and password."""

from __future__ import annotations

import contextlib
from typing import Any

from fasthtml.common import H2, A, Button, Dd, Div, Dl, Dt, Input, Label, P, RedirectResponse, Section

from web.layout import auth_page, notice, page, post_form
from web.session import sign_in, sign_in_with_key
from web.shim_client import ShimError
from web.view import Page, View

__all__ = ["ROUTES"]

_DEV_EMAIL = "dev@gaia.local"


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _credentials_fields(email: str = "", *, new_password: bool = False) -> tuple[Any, ...]:
    return (
        Label("Email", Input(name="email", type="email", value=email, required=True, autocomplete="email")),
        Label(
            "Password",
            Input(
                name="password",
                type="password",
                required=True,
                minlength="6" if new_password else None,
                autocomplete="new-password" if new_password else "current-password",
            ),
        ),
    )


def _resend_form(view: View, email: str) -> Any:
    return post_form(
        view,
        "/register",
        Input(type="hidden", name="action", value="resend"),
        Input(type="hidden", name="email", value=email),
        Button("Resend confirmation email", type="submit", cls="quiet"),
        cls="inline",
    )


def _login_page(view: View, *, email: str = "", message: Any = "") -> tuple[Any, ...]:
    dev = (
        post_form(
            view,
            "/login",
            Input(type="hidden", name="action", value="dev"),
            Button("Continue as the dev user", type="submit", cls="quiet"),
            cls="dev",
        )
        if view.dev
        else ""
    )
    return auth_page(
        view,
        "Sign in",
        post_form(view, "/login", *_credentials_fields(email), Button("Sign in", type="submit"), cls="stack"),
        P("New here? ", A("Create an account", href="/register")),
        dev,
        message=message,
    )


async def login_form(view: View) -> Any:
    token, email = view.param("token"), view.param("email")
    if token and email:  # the mailed confirmation link lands here
        try:
            await view.shim.call("POST", "/api/v1/auth/confirm", body={"token": token, "email": email})
        except ShimError as exc:
            return _login_page(
                view, email=email, message=notice(f"Confirmation failed: {exc.detail}", "error")
            )
        return _login_page(view, email=email, message=notice("Your email is confirmed. Sign in to start."))
    if view.signed_in:
        return _see_other("/chat")
    return _login_page(view)


async def login(view: View) -> Any:
    form = await view.form()
    if form.get("action") == "dev":
        if not view.dev:
            return _see_other("/login")
        sign_in_with_key(view.session, view.request.app.state.dev_api_key, _DEV_EMAIL)
        return _see_other("/chat")
    email = form.get("email", "").strip()
    try:
        answer = await view.shim.call(
            "POST", "/api/v1/auth/login", body={"email": email, "password": form.get("password", "")}
        )
    except ShimError as exc:
        message: Any = notice(exc.detail, "error")
        if "confirm" in exc.detail.lower():
            message = Div(message, _resend_form(view, email))
        return _login_page(view, email=email, message=message)
    sign_in(view.session, answer)
    return _see_other("/chat")


def _register_page(view: View, *, email: str = "", message: Any = "") -> tuple[Any, ...]:
    return auth_page(
        view,
        "Create account",
        post_form(
            view,
            "/register",
            *_credentials_fields(email, new_password=True),
            Button("Create account", type="submit"),
            cls="stack",
        ),
        P("Already registered? ", A("Sign in", href="/login")),
        message=message,
    )


async def register_form(view: View) -> Any:
    return _see_other("/chat") if view.signed_in else _register_page(view)


def _check_inbox(view: View, email: str, text: str) -> tuple[Any, ...]:
    return auth_page(
        view,
        "Check your inbox",
        P(text),
        P("Open the link in that email, then sign in."),
        _resend_form(view, email),
        P(A("Back to sign in", href="/login")),
    )


async def register(view: View) -> Any:
    form = await view.form()
    email = form.get("email", "").strip()
    if form.get("action") == "resend":
        try:
            await view.shim.call("POST", "/api/v1/auth/resend-verification", body={"email": email})
        except ShimError as exc:
            return _register_page(view, email=email, message=notice(exc.detail, "error"))
        return _check_inbox(view, email, f"We sent a new confirmation link to {email}.")
    try:
        answer = await view.shim.call(
            "POST", "/api/v1/auth/register", body={"email": email, "password": form.get("password", "")}
        )
    except ShimError as exc:
        return _register_page(view, email=email, message=notice(exc.detail, "error"))
    if answer.get("session"):  # confirmation is off (dev): signed in at once
        sign_in(view.session, answer)
        return _see_other("/chat")
    return _check_inbox(view, email, f"We sent a confirmation link to {email}.")


async def logout(view: View) -> Any:
    if view.creds is not None and view.creds.access_token:
        # Revoke the session's refresh tokens too; signing out locally must work even if this fails.
        with contextlib.suppress(ShimError):
            await view.call(
                "POST", "/api/v1/auth/logout", body={"refresh_token": view.session.get("refresh_token")}
            )
    view.session.clear()
    view.flash("You are signed out.")
    return _see_other("/login")


def _profile_rows(user: dict[str, Any]) -> Any:
    metadata = user.get("user_metadata") or {}
    rows = (
        ("Email", user.get("email", "")),
        ("Name", metadata.get("name") or "—"),
        ("Confirmed", user.get("email_confirmed_at") or "not yet"),
        ("Member since", user.get("created_at") or "—"),
    )
    return Dl(*(part for key, value in rows for part in (Dt(key), Dd(str(value)))), cls="facts")


async def account(view: View) -> Any:
    user = (await view.call("GET", "/api/v1/auth/profile"))["user"]
    name = (user.get("user_metadata") or {}).get("name") or ""
    return page(
        view,
        "Account",
        Section(H2("Profile"), _profile_rows(user), cls="panel"),
        Section(
            H2("Display name"),
            post_form(
                view,
                "/account/profile",
                Label("Name", Input(name="name", value=name, maxlength="100", autocomplete="name")),
                Button("Save name", type="submit"),
                cls="stack",
            ),
            cls="panel",
        ),
        Section(
            H2("Password"),
            post_form(
                view,
                "/account/password",
                Label(
                    "Current password",
                    Input(
                        name="current_password",
                        type="password",
                        required=True,
                        autocomplete="current-password",
                    ),
                ),
                Label(
                    "New password",
                    Input(
                        name="new_password",
                        type="password",
                        required=True,
                        minlength="6",
                        autocomplete="new-password",
                    ),
                ),
                Label(
                    Input(name="revoke_other_sessions", type="checkbox", value="1"),
                    " Sign out my other sessions",
                    cls="check",
                ),
                Button("Change password", type="submit"),
                cls="stack",
            ),
            cls="panel",
        ),
        active="/account",
    )


async def update_profile(view: View) -> Any:
    form = await view.form()
    await view.act(
        "PATCH",
        "/api/v1/auth/profile",
        body={"name": form.get("name", "").strip()},
        done="Your name is saved.",
    )
    return _see_other("/account")


async def change_password(view: View) -> Any:
    form = await view.form()
    body = {
        "current_password": form.get("current_password", ""),
        "new_password": form.get("new_password", ""),
        "revoke_other_sessions": form.get("revoke_other_sessions") == "1",
    }
    answer = await view.act(
        "POST",
        "/api/v1/auth/change-password",
        body=body,
        done="Your password is changed.",
        failed="The password was not changed: ",
    )
    if answer and (revoked := int(answer.get("sessions_revoked", 0))):
        view.flash(f"Your password is changed. {revoked} other session(s) signed out.")
    return _see_other("/account")


ROUTES: tuple[Page, ...] = (
    Page("GET", "/login", login_form, public=True),
    Page("POST", "/login", login, public=True),
    Page("GET", "/register", register_form, public=True),
    Page("POST", "/register", register, public=True),
    Page("POST", "/logout", logout, public=True),
    Page("GET", "/account", account),
    Page("POST", "/account/profile", update_profile),
    Page("POST", "/account/password", change_password),
)
