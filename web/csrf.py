"""CSRF protection: one random token per session, required on every state-changing request.

Forms carry it as the hidden field ``csrf_token``; the streaming script and htmx send it as the
``X-CSRF-Token`` header. The session cookie is also ``SameSite=Lax``; the token is what makes a forged
cross-site form fail even where that attribute is not honoured.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

__all__ = ["FIELD", "HEADER", "token", "valid"]

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token(session: MutableMapping[str, Any]) -> str:
    """The session's token, created on first use."""
    value = session.get("csrf")
    if not value:
        value = session["csrf"] = secrets.token_urlsafe(32)
    return str(value)


def valid(session: MutableMapping[str, Any], sent: str) -> bool:
    expected = session.get("csrf")
    return bool(expected) and bool(sent) and hmac.compare_digest(str(expected), sent)
