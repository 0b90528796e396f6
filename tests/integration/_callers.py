"""Two real callers for isolation tests: A (the seeded dev user) and B (created here), each by key and JWT."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import asyncpg
import jwt

from gaia_services.auth.accounts import Accounts
from gaia_services.settings import DEFAULT_DEV_JWT_SECRET
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY

__all__ = ["Caller", "Callers", "make_callers", "mint_jwt"]


def mint_jwt(user_id: str, email: str) -> str:
    now = int(time.time())
    claims = {"sub": user_id, "email": email, "aud": "authenticated", "iat": now, "exp": now + 3600}
    return jwt.encode(claims, DEFAULT_DEV_JWT_SECRET, algorithm="HS256")


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    api_key: str
    token: str

    def key_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    def jwt_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def headers(self, kind: str) -> dict[str, str]:
        return self.key_headers() if kind == "key" else self.jwt_headers()


@dataclass(frozen=True)
class Callers:
    a: Caller
    b: Caller


async def make_callers(infra: Infra) -> Callers:
    """A is the dev identity the mesh seeded; B is a fresh user with its own API key."""
    conn = await asyncpg.connect(infra.database_url)
    try:
        a_id = str(await conn.fetchval("SELECT id FROM users WHERE email = 'dev@gaia.local'"))
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=2)
    try:
        email_b = f"b-{uuid.uuid4().hex[:10]}@gaia.test"
        accounts = Accounts(pool=pool, env="dev")
        b_id = await accounts.create_user(email=email_b, password_hash=None, name="User B")
        issued = await accounts.create_key(user_id=b_id, name="b key")
    finally:
        await pool.close()
    a = Caller(
        user_id=a_id, email="dev@gaia.local", api_key=DEV_API_KEY, token=mint_jwt(a_id, "dev@gaia.local")
    )
    b = Caller(user_id=b_id, email=email_b, api_key=issued.raw, token=mint_jwt(b_id, email_b))
    return Callers(a=a, b=b)
