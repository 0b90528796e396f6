"""The signed-in account's bodies: profile, password change, API keys (timestamps naive UTC ISO or null)."""

from __future__ import annotations

from typing import Any

from gaia.auth.v1 import auth_pb2

from compat_gateway.inbound import Inbound
from compat_gateway.render.auth import user
from compat_gateway.render.timestamps import naive_iso_or_none

__all__ = ["key_created", "key_list", "key_revoked", "password_changed", "profile"]


def _key(key: auth_pb2.ApiKey) -> dict[str, Any]:
    """A key's record; ``budget`` only for a key that has one (keys without keep their original shape)."""
    body: dict[str, Any] = {
        "id": key.id,
        "name": key.name,
        "key_prefix": key.key_prefix,
        "scopes": list(key.scopes),
        "is_active": key.is_active,
        **{
            field: naive_iso_or_none(getattr(key, field), key.HasField(field))
            for field in ("created_at", "last_used_at", "expires_at")
        },
    }
    if key.HasField("budget"):
        body["budget"] = {
            "max_budget": key.budget.max_budget,
            "budget_duration": key.budget.budget_duration or None,
        }
    return body


def profile(reply: Any, inbound: Inbound) -> dict[str, Any]:
    """GetProfile, UpdateProfile: ``{"user"}``, the user of ``AuthResponse``."""
    return {"user": user(reply.user)}


def password_changed(reply: auth_pb2.ChangePasswordResponse, inbound: Inbound) -> dict[str, Any]:
    return {"changed": reply.changed, "sessions_revoked": reply.sessions_revoked}


def key_list(reply: auth_pb2.ListApiKeysResponse, inbound: Inbound) -> dict[str, Any]:
    return {"keys": [_key(key) for key in reply.api_keys], "total": reply.total}


def key_created(reply: auth_pb2.CreateApiKeyResponse, inbound: Inbound) -> dict[str, Any]:
    return {"key": _key(reply.api_key), "api_key": reply.raw_key}


def key_revoked(reply: auth_pb2.RevokeApiKeyResponse, inbound: Inbound) -> dict[str, Any]:
    return {"key": _key(reply.api_key)}
