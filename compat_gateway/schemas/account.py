"""Response models of the signed-in account's routes (profile, password, API keys)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from compat_gateway.schemas.auth import AuthUser

__all__ = [
    "ApiKey",
    "ApiKeyCreated",
    "ApiKeyList",
    "ApiKeyRevoked",
    "KeyBudget",
    "PasswordChanged",
    "Profile",
]


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: AuthUser


class PasswordChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changed: bool
    sessions_revoked: int = Field(description="How many other sessions were ended")


class KeyBudget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_budget: float = Field(description="US dollars the key may spend per budget_duration")
    budget_duration: str | None = Field(description="When the spend resets (e.g. 30d); null: never")


class ApiKey(BaseModel):
    """An API key's record; never the raw key."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    key_prefix: str = Field(description="The raw key's first characters, to recognise it")
    scopes: list[str]
    is_active: bool = Field(description="False once revoked")
    created_at: str | None = Field(description="Naive UTC ISO timestamp")
    last_used_at: str | None = Field(description="Naive UTC ISO timestamp, or null if never used")
    expires_at: str | None = Field(description="Naive UTC ISO timestamp, or null for never")
    budget: KeyBudget | None = Field(
        default=None, description="The key's spend limit; absent when it has none"
    )


class ApiKeyList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[ApiKey]
    total: int


class ApiKeyCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: ApiKey
    api_key: str = Field(description="The raw key, shown this once")


class ApiKeyRevoked(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: ApiKey
