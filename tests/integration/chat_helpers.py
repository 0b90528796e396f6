"""Helpers of the chat integration tests: callers (API key, JWTs of fresh users) and SSE parsing."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import jwt

from gaia_services.settings import DEFAULT_DEV_JWT_SECRET
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY

__all__ = ["Caller", "dev_caller", "new_user", "sse_events"]


@dataclass(frozen=True)
class Caller:
    user_id: str
    headers: dict[str, str]

    def json_headers(self, **extra: str) -> dict[str, str]:
        return {**self.headers, "Content-Type": "application/json", **extra}


def mint(user_id: str, email: str, *, ttl_s: int = 3600) -> str:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "aud": "authenticated",
        "role": "authenticated",
        "email": email,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, DEFAULT_DEV_JWT_SECRET, algorithm="HS256")


async def new_user(infra: Infra) -> Caller:
    """A fresh user in the mesh's database, calling with a JWT."""
    email = f"chat-{uuid.uuid4().hex[:10]}@example.test"
    conn = await asyncpg.connect(infra.database_url)
    try:
        user_id = str(
            await conn.fetchval("INSERT INTO users (email, name) VALUES ($1, 'T') RETURNING id", email)
        )
    finally:
        await conn.close()
    return Caller(user_id=user_id, headers={"Authorization": f"Bearer {mint(user_id, email)}"})


async def dev_caller(infra: Infra) -> Caller:
    conn = await asyncpg.connect(infra.database_url)
    try:
        user_id = str(await conn.fetchval("SELECT id FROM users WHERE email = 'dev@gaia.local'"))
    finally:
        await conn.close()
    return Caller(user_id=user_id, headers={"X-API-Key": DEV_API_KEY})


def sse_events(raw: bytes) -> list[Any]:
    """The ``data:`` payloads of an SSE body (JSON decoded, ``[DONE]`` kept as the string)."""
    assert raw.endswith(b"\n\n"), raw[-50:]
    events: list[Any] = []
    for block in raw.decode().split("\n\n")[:-1]:
        assert block.startswith("data: "), block
        data = block[len("data: ") :]
        events.append(data if data == "[DONE]" else json.loads(data))
    return events
