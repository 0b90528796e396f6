"""Who is calling: the authenticated principal, as plain data (domain code never sees protobuf)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["AuthType", "Credentials", "KeyBudget", "Principal"]


class AuthType(StrEnum):
    JWT = "jwt"
    API_KEY = "api_key"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a caller presented: a bearer JWT and/or an API key (either may be empty)."""

    jwt: str = ""
    api_key: str = ""

    @property
    def present(self) -> bool:
        return bool(self.jwt or self.api_key)

    def as_metadata(self) -> list[tuple[str, str]]:
        md: list[tuple[str, str]] = []
        if self.jwt:
            md.append(("authorization", f"Bearer {self.jwt}"))
        if self.api_key:
            md.append(("x-api-key", self.api_key))
        return md

    @classmethod
    def from_metadata(cls, metadata: object) -> Credentials:
        jwt = api_key = ""
        for key, value in metadata or ():  # type: ignore[attr-defined]
            k = key.lower()
            v = value.decode() if isinstance(value, bytes) else value
            if k == "authorization":
                scheme, _, token = v.partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    jwt = token.strip()
            elif k == "x-api-key":
                api_key = v.strip()
        return cls(jwt=jwt, api_key=api_key)

    @classmethod
    def from_openai_headers(cls, headers: Mapping[str, str]) -> Credentials:
        """OpenAI's convention (its SDKs send the API key as a Bearer token): a Bearer JWT (two dots)
        first, then a Bearer value that is not a JWT as an API key, then ``X-API-Key``.
        ``headers`` is looked up by lowercase name (Starlette's headers are case-insensitive)."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        key = headers.get("x-api-key", "").strip()
        if token and token.count(".") == 2:
            return cls(jwt=token, api_key=key)
        return cls(api_key=token or key)


@dataclass(frozen=True, slots=True)
class KeyBudget:
    """An API key's own spend limit: ``max_budget`` US dollars per ``duration`` (``"30d"``, ``"1h"``…;
    empty: over the key's whole life)."""

    max_budget: float
    duration: str = ""


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    auth_type: AuthType
    email: str = ""
    api_key_id: str = ""
    session_id: str = ""
    scopes: tuple[str, ...] = field(default_factory=tuple)
    #: The budget of the API key used, when known here (the auth service's own callers; other services read
    #: it from the definitions the auth service publishes, ``runtime.budgets``).
    key_budget: KeyBudget | None = None
