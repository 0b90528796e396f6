"""Usage after a known sequence of real chats and a real generation equals the sums of what was done."""

from __future__ import annotations

import aiohttp
import asyncpg
import jwt

from tests.integration.test_usage import call, fresh_user
from tests.support.infra import Infra


async def test_chats_and_a_generation_add_up_in_the_usage_routes(
    http: aiohttp.ClientSession, infra: Infra
) -> None:
    user = await fresh_user(infra)
    tokens = 0
    for model in ("claude-3-haiku-20240307", "claude-3-haiku-20240307", "gpt-4o-mini"):
        status, reply = await call(
            http, "POST", "/api/v0.2/chat", user, {"message": "count me", "model": model}
        )
        assert status == 200, reply
        tokens += reply["usage"]["total_tokens"]
    generation = {"category": "image", "style": "realistic", "description": "a blue sphere"}
    status, asset = await call(http, "POST", "/api/v1/assets/generate", user, generation)
    assert status == 200, asset

    token = user["Authorization"].removeprefix("Bearer ")
    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    conn = await asyncpg.connect(infra.database_url)
    try:
        rows = await conn.fetch("SELECT provider, cost FROM usage_records WHERE user_id = $1::uuid", user_id)
    finally:
        await conn.close()
    assert sorted(r["provider"] for r in rows).count("claude") == 2
    assert len(rows) == 4
    chat_cost = sum(float(r["cost"]) for r in rows if r["provider"] in ("claude", "openai"))
    assert chat_cost > 0

    status, current = await call(http, "GET", "/api/v0.2/usage/current", user)
    assert status == 200
    assert current["total_requests"] == 4
    assert current["total_tokens"] == tokens
    assert current["total_images"] == 1
    assert round(current["total_cost"], 6) == round(chat_cost + asset["cost"], 6)
    assert current["providers"]["claude"]["requests"] == 2
    assert current["providers"]["openai_gpt"]["requests"] == 1
    status, history = await call(http, "GET", "/api/v0.2/usage/history?days=1", user)
    assert history["summary"]["total_requests"] == 4
    assert round(history["summary"]["total_cost"], 6) == round(chat_cost + asset["cost"], 6)
