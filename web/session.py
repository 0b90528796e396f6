"""The signed cookie session: who is signed in, their tokens, and the silent refresh before expiry.

The cookie (Starlette's signed session) holds the access and refresh tokens from the shim's AuthResponse and
the access token's expiry; ``credentials`` refreshes the pair through the shim when fewer than
``REFRESH_MARGIN_S`` seconds are left, so a person who keeps using the app is never signed out by the clock.
A refresh the shim refuses (revoked, spent, expired) ends the session with a notice.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from web.shim_client import Credentials, ShimClient, ShimError

__all__ = ["REFRESH_MARGIN_S", "SessionEnded", "credentials", "sign_in", "sign_in_with_key", "signed_in"]

REFRESH_MARGIN_S = 60
ENDED_NOTICE = "Your session has ended. Please sign in again."

Session = MutableMapping[str, Any]


class SessionEnded(Exception):
    """The session's tokens are no longer accepted; the person must sign in again."""

    def __init__(self, notice: str = ENDED_NOTICE) -> None:
        super().__init__(notice)
        self.notice = notice


def _keep(session: Session, tokens: dict[str, Any]) -> None:
    session["access_token"] = tokens["access_token"]
    session["refresh_token"] = tokens["refresh_token"]
    session["expires_at"] = int(tokens["expires_at"])


def _restart(session: Session) -> None:
    """Forget the previous sign-in but keep the CSRF token, so the page's open forms stay valid."""
    csrf = session.get("csrf")
    session.clear()
    if csrf:
        session["csrf"] = csrf


def sign_in(session: Session, auth_response: dict[str, Any]) -> None:
    """Start a session from an AuthResponse with a ``session``."""
    _restart(session)
    _keep(session, auth_response["session"])
    session["email"] = auth_response["user"]["email"]


def sign_in_with_key(session: Session, api_key: str, email: str) -> None:
    _restart(session)
    session.update({"api_key": api_key, "email": email})


def signed_in(session: Session) -> bool:
    return bool(session.get("access_token") or session.get("api_key"))


async def credentials(session: Session, shim: ShimClient, now: Callable[[], float]) -> Credentials | None:
    """The credentials to call the shim with (refreshed when close to expiry); None when anonymous."""
    if session.get("api_key"):
        return Credentials(api_key=session["api_key"])
    if not session.get("access_token"):
        return None
    if int(session.get("expires_at", 0)) - now() < REFRESH_MARGIN_S:
        try:
            answer = await shim.call(
                "POST", "/api/v1/auth/refresh", body={"refresh_token": session.get("refresh_token", "")}
            )
        except ShimError as exc:
            session.clear()
            raise SessionEnded() from exc
        _keep(session, answer["session"])
    return Credentials(access_token=session["access_token"])
