"""The reference's auth bodies (reference §4.10): ``AuthResponse``, validate, logout, confirm, resend.

Users and sessions are shaped as the Supabase/GoTrue SDK serialised them; timestamps are UTC ISO with ``Z``.
"""

from __future__ import annotations

from typing import Any

from gaia.auth.v1 import auth_pb2
from gaia.common.v1 import common_pb2
from google.protobuf import json_format

from compat_gateway.inbound import Inbound

__all__ = [
    "auth_response",
    "confirmed",
    "logged_out",
    "session",
    "user",
    "validated",
    "verification_sent",
]

_AUTH_TYPES = {common_pb2.AUTH_TYPE_JWT: "jwt", common_pb2.AUTH_TYPE_API_KEY: "api_key"}


def _iso(message: Any, field: str) -> str | None:
    if not message.HasField(field):
        return None
    return str(getattr(message, field).ToDatetime().isoformat()) + "Z"


def _metadata(message: Any) -> dict[str, Any]:
    data = json_format.MessageToDict(message)
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in data.items()}


def user(message: auth_pb2.User) -> dict[str, Any]:
    return {
        "id": message.id,
        "email": message.email,
        "email_confirmed_at": _iso(message, "email_confirmed_at"),
        "user_metadata": _metadata(message.user_metadata),
        "app_metadata": _metadata(message.app_metadata),
        "aud": message.aud or "authenticated",
        "role": message.role or "authenticated",
        "created_at": _iso(message, "created_at"),
        "last_sign_in_at": _iso(message, "last_sign_in_at"),
        "phone": message.phone,
        "identities": [],
    }


def session(message: auth_pb2.Session) -> dict[str, Any]:
    return {
        "access_token": message.access_token,
        "refresh_token": message.refresh_token,
        "expires_in": message.expires_in,
        "expires_at": message.expires_at,
        "token_type": message.token_type or "bearer",
        "user": user(message.user),
        "provider_token": None,
        "provider_refresh_token": None,
    }


def auth_response(reply: Any, inbound: Inbound) -> dict[str, Any]:
    """Register, login, refresh: ``{"user", "session"}`` (``session`` null while confirmation is pending)."""
    return {
        "user": user(reply.user),
        "session": session(reply.session) if reply.HasField("session") else None,
    }


def validated(reply: auth_pb2.ValidateResponse, inbound: Inbound) -> dict[str, Any]:
    return {
        "valid": reply.valid,
        "auth_type": _AUTH_TYPES.get(reply.auth_type, "none"),
        "user_id": reply.user_id if reply.HasField("user_id") else None,
        "error": reply.error if reply.HasField("error") else None,
    }


def logged_out(reply: auth_pb2.LogoutResponse, inbound: Inbound) -> dict[str, Any]:
    return {"message": "Logged out successfully"}


def confirmed(reply: auth_pb2.ConfirmEmailResponse, inbound: Inbound) -> dict[str, Any]:
    return {"message": "Email confirmed successfully", "user": user(reply.user)}


def verification_sent(reply: auth_pb2.ResendVerificationResponse, inbound: Inbound) -> dict[str, Any]:
    return {"message": f"Verification email sent to {reply.email}", "result": None}
