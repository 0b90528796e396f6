"""Response models of the auth routes (Supabase/GoTrue shapes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuthResponse",
    "AuthSession",
    "AuthUser",
    "Confirmed",
    "LoggedOut",
    "Validated",
    "VerificationSent",
]


class AuthUser(BaseModel):
    """A user as the GoTrue SDK serialised it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    email: str
    email_confirmed_at: str | None = Field(description="UTC ISO timestamp with Z, or null")
    user_metadata: dict[str, Any]
    app_metadata: dict[str, Any]
    aud: str
    role: str
    created_at: str | None
    last_sign_in_at: str | None
    phone: str
    identities: list[Any]


class AuthSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    access_token: str
    refresh_token: str
    expires_in: int
    expires_at: int
    token_type: str
    user: AuthUser
    provider_token: str | None
    provider_refresh_token: str | None


class AuthResponse(BaseModel):
    """Register, login, refresh."""

    model_config = ConfigDict(extra="forbid")

    user: AuthUser
    session: AuthSession | None = Field(description="Null while the email confirmation is pending")


class Validated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid: bool
    auth_type: str = Field(description="jwt, api_key or none")
    user_id: str | None
    error: str | None


class LoggedOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str


class Confirmed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str
    user: AuthUser


class VerificationSent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str
    result: Any = Field(default=None, description="Always null")
