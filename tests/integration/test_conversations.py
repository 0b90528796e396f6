"""Conversations over REST through the real mesh: December shapes, ordering, soft delete, isolation."""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.integration._callers import Callers, make_callers
from tests.support.infra import Infra
from tests.support.mesh import Mesh

NAIVE_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")
KINDS = ("key", "jwt")


@pytest.fixture(scope="session")
async def callers(mesh: Mesh, infra: Infra) -> Callers:
    return await make_callers(infra)


async def _json(response: aiohttp.ClientResponse) -> Any:
    assert response.headers["content-type"] == "application/json"
    return await response.json()


async def _create(http: aiohttp.ClientSession, headers: dict[str, str], body: Any = None) -> dict[str, Any]:
    async with http.post(
        "/api/v1/conversations", json={} if body is None else body, headers=headers
    ) as response:
        assert response.status == 201, await response.text()
        return await _json(response)


@pytest.mark.parametrize("kind", KINDS)
async def test_create_get_list_and_delete_in_the_december_shapes(
    http: aiohttp.ClientSession, callers: Callers, kind: str
) -> None:
    headers = callers.a.headers(kind)
    first = await _create(http, headers)
    assert list(first) == ["id", "title", "preview", "created_at", "updated_at"]
    assert first["title"] == "New Conversation"
    assert first["preview"] is None
    assert NAIVE_TS.match(first["created_at"]) and NAIVE_TS.match(first["updated_at"])
    second = await _create(http, headers, {"title": f"Second {kind}"})
    assert second["title"] == f"Second {kind}"

    async with http.get(f"/api/v1/conversations/{first['id']}", headers=headers) as response:
        assert response.status == 200
        assert await _json(response) == first

    async with http.get("/api/v1/conversations", headers=headers) as response:
        assert response.status == 200
        listed = (await _json(response))["conversations"]
    ids = [c["id"] for c in listed]
    assert ids.index(second["id"]) < ids.index(first["id"])  # most recently updated first
    assert all(list(c) == ["id", "title", "preview", "created_at", "updated_at"] for c in listed)

    async with http.delete(f"/api/v1/conversations/{first['id']}", headers=headers) as response:
        assert response.status == 204
        assert await response.read() == b""
    for method, path in (
        ("GET", f"/api/v1/conversations/{first['id']}"),
        ("GET", f"/api/v1/conversations/{first['id']}/messages"),
        ("DELETE", f"/api/v1/conversations/{first['id']}"),
    ):
        async with http.request(method, path, headers=headers) as response:
            assert response.status == 404
            assert await response.read() == b'{"detail":"Not found"}'
    async with http.get("/api/v1/conversations", headers=headers) as response:
        assert first["id"] not in [c["id"] for c in (await _json(response))["conversations"]]


async def test_messages_are_listed_oldest_first_with_nulls_for_user_turns(
    http: aiohttp.ClientSession, callers: Callers, infra: Infra
) -> None:
    headers = callers.a.key_headers()
    created = await _create(http, headers, {"title": "with messages"})
    conn = await asyncpg.connect(infra.database_url)
    try:
        cid = uuid.UUID(created["id"])
        await conn.execute(
            """INSERT INTO chat_messages (user_id, conversation_id, role, content)
               VALUES ($1, $2, 'user', 'héllo')""",
            uuid.UUID(callers.a.user_id),
            cid,
        )
        await conn.execute(
            """INSERT INTO chat_messages (user_id, conversation_id, role, content, model, provider,
                                          tokens_used)
               VALUES ($1, $2, 'assistant', 'echo: héllo', 'claude-3-haiku-20240307', 'claude', 12)""",
            uuid.UUID(callers.a.user_id),
            cid,
        )
    finally:
        await conn.close()
    async with http.get(f"/api/v1/conversations/{created['id']}/messages", headers=headers) as response:
        assert response.status == 200
        raw = await response.read()
        messages = (await _json(response))["messages"]
    assert "héllo".encode() in raw  # raw UTF-8, as FastAPI writes it
    assert [list(m) for m in messages] == [
        ["id", "role", "content", "model", "provider", "tokens_used", "created_at"]
    ] * 2
    user, assistant = messages
    assert (user["role"], user["content"], user["model"], user["provider"], user["tokens_used"]) == (
        "user",
        "héllo",
        None,
        None,
        None,
    )
    assert (assistant["role"], assistant["model"], assistant["provider"], assistant["tokens_used"]) == (
        "assistant",
        "claude-3-haiku-20240307",
        "claude",
        12,
    )
    assert NAIVE_TS.match(user["created_at"])
    async with http.get(f"/api/v1/conversations/{created['id']}", headers=headers) as response:
        assert (await _json(response))["preview"] == "echo: héllo"


@pytest.mark.parametrize("kind", KINDS)
async def test_user_b_gets_404_for_each_of_user_as_conversations(
    http: aiohttp.ClientSession, callers: Callers, kind: str
) -> None:
    mine = await _create(http, callers.a.headers(kind), {"title": "A's secret"})
    other = callers.b.headers(kind)
    for method, path in (
        ("GET", f"/api/v1/conversations/{mine['id']}"),
        ("GET", f"/api/v1/conversations/{mine['id']}/messages"),
        ("DELETE", f"/api/v1/conversations/{mine['id']}"),
    ):
        async with http.request(method, path, headers=other) as response:
            assert response.status == 404, (method, path)
            assert await response.read() == b'{"detail":"Not found"}'
    for path in ("/api/v1/conversations", "/api/v0.3/conversations"):
        async with http.get(path, headers=other) as response:
            listed = (await _json(response))["conversations"]
        assert mine["id"] not in [c.get("id", c.get("conversation_id")) for c in listed]
    async with http.get(f"/api/v1/conversations/{mine['id']}", headers=callers.a.headers(kind)) as response:
        assert response.status == 200  # B's failed delete left it alone


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/conversations/not-a-uuid",
        "/api/v1/conversations/not-a-uuid/messages",
        f"/api/v1/conversations/{uuid.UUID(int=0)}",
    ],
)
async def test_unknown_or_malformed_ids_are_404(
    http: aiohttp.ClientSession, callers: Callers, path: str
) -> None:
    async with http.get(path, headers=callers.a.key_headers()) as response:
        assert response.status == 404
        assert await response.read() == b'{"detail":"Not found"}'


@pytest.mark.parametrize("kind", KINDS)
async def test_v03_conversations_create_and_list(
    http: aiohttp.ClientSession, callers: Callers, kind: str
) -> None:
    headers = callers.b.headers(kind)
    async with http.post("/api/v0.3/conversations", json={"title": "v0.3 chat"}, headers=headers) as response:
        assert response.status == 201
        created = await _json(response)
    assert list(created) == ["conversation_id", "title"]
    assert created["title"] == "v0.3 chat"
    async with http.get("/api/v0.3/conversations", headers=headers) as response:
        listed = (await _json(response))["conversations"]
    assert listed[0]["conversation_id"] == created["conversation_id"]
    assert list(listed[0]) == ["conversation_id", "title", "created_at"]
    assert NAIVE_TS.match(listed[0]["created_at"])


async def test_bad_bodies_are_422_and_no_credentials_401(
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    headers = {**callers.a.key_headers(), "Content-Type": "application/json"}
    async with http.post("/api/v1/conversations", data=b"[1]", headers=headers) as response:
        assert response.status == 422
        assert (await response.json())["detail"][0]["type"] == "model_attributes_type"
    async with http.post("/api/v1/conversations", data=b'{"title": 5}', headers=headers) as response:
        assert response.status == 422
    async with http.post("/api/v1/conversations", headers=callers.a.key_headers()) as response:
        assert response.status == 201  # no body at all is fine
    async with http.get("/api/v1/conversations") as response:
        assert response.status == 401
        assert await response.read() == b'{"detail":"Not authenticated. Provide a valid JWT or API Key."}'
