"""Access tokens: HS256 JWTs with ``aud: authenticated``, ``sub``, ``email``, ``exp`` and ``session_id``."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

__all__ = ["ISSUER", "AccessClaims", "TokenError", "TokenSigner"]

_AUDIENCE = "authenticated"
ISSUER = "gaia"


class TokenError(Exception):
    """The token is malformed, expired, for another audience, or not signed by us."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    email: str
    session_id: str
    expires_at: int
    ours: bool = False  # issued by this service (``iss: gaia``), so its session must exist here


class TokenSigner:
    def __init__(self, *, secret: str, ttl_s: int) -> None:
        self._secret = secret
        self._ttl_s = ttl_s

    @property
    def ttl_s(self) -> int:
        return self._ttl_s

    def issue(self, *, user_id: str, email: str, session_id: str, now: int | None = None) -> tuple[str, int]:
        issued = int(time.time()) if now is None else now
        expires = issued + self._ttl_s
        claims = {
            "sub": user_id,
            "email": email,
            "aud": _AUDIENCE,
            "role": "authenticated",
            "iat": issued,
            "exp": expires,
            "session_id": session_id,
            "iss": ISSUER,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256"), expires

    def verify(self, token: str, *, allow_expired: bool = False) -> AccessClaims:
        """The claims of a token we (or a Supabase project sharing the secret) signed; ``allow_expired``
        only for revoking its session at logout."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=_AUDIENCE,
                options={"require": ["exp", "sub", "aud"], "verify_exp": not allow_expired},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        return AccessClaims(
            user_id=str(claims["sub"]),
            email=str(claims.get("email", "")),
            session_id=str(claims.get("session_id", "")),
            expires_at=int(claims["exp"]),
            ours=claims.get("iss") == ISSUER,
        )
