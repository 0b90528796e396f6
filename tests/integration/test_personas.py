"""Personas over REST through the real mesh, compared with the reference's recorded bodies."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import aiohttp
import pytest

from tests.integration._callers import Callers, make_callers
from tests.support.infra import Infra
from tests.support.mesh import Mesh
from tests.support.recorded import load, normalise

DB_TS = re.compile(r'"(created|updated)_at":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z"')
ZERO = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="session")
async def callers(mesh: Mesh, infra: Infra) -> Callers:
    return await make_callers(infra)


def pairs(value: Any) -> Any:
    """Dicts as lists of pairs, so that comparisons see key order."""
    if isinstance(value, dict):
        return [(k, pairs(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [pairs(v) for v in value]
    return value


def same(ours: bytes, recorded: bytes, **names: str) -> None:
    """Equal after normalising ids and timestamps (and renaming the recorded personas), key order included."""
    for old, new in names.items():
        recorded = recorded.replace(f'"{old}"'.encode(), f'"{new}"'.encode())
        recorded = recorded.replace(f'set to {old}"'.encode(), f'set to {new}"'.encode())
    assert pairs(normalise(json.loads(ours))) == pairs(normalise(json.loads(recorded)))


async def call(
    http: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, bytes]:
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    async with http.request(method, path, **kwargs) as response:
        raw = await response.read()
        assert response.headers["content-type"] == "application/json"
        return response.status, raw


def not_found(persona_id: str) -> bytes:
    inner = json.dumps({"detail": f"Persona not found: {persona_id}"}, separators=(",", ":"))
    return json.dumps({"detail": f"Service error: {inner}"}, separators=(",", ":")).encode()


async def test_the_recorded_persona_lifecycle(  # noqa: PLR0915 (one recorded sequence)
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    key = callers.a.key_headers()
    name = f"Tester-{uuid.uuid4().hex[:6]}"

    status, body = await call(http, "GET", "/api/v0.2/personas/current", callers.b.jwt_headers())
    assert status == 200
    same(body, load("v02_personas_current_initial").body)
    assert len(DB_TS.findall(body.decode())) == 2

    status, body = await call(http, "POST", "/api/v0.2/personas/initialize-default", key)
    assert status == 200
    same(body, load("v02_personas_initialize_default").body)

    create = {
        "name": name,
        "description": "A test persona",
        "system_prompt": "You are a tester.",
        "personality_traits": {"curious": True},
        "capabilities": {"testing": True},
    }
    status, body = await call(http, "POST", "/api/v0.2/personas", key, create)
    assert status == 200
    same(body, load("v02_personas_create").body, Tester=name)
    assert len(DB_TS.findall(body.decode())) == 2  # the DB-read form, even on create
    created = json.loads(body)["persona"]
    assert created["created_by"] == callers.a.user_id
    pid = created["id"]

    status, body = await call(
        http,
        "POST",
        "/api/v0.2/personas",
        key,
        {"name": name, "description": "A test persona", "system_prompt": "x"},
    )
    assert (status, body) == (
        409,
        json.dumps(
            {
                "detail": "Service error: "
                + json.dumps({"detail": f"Persona name already exists: {name}"}, separators=(",", ":"))
            },
            separators=(",", ":"),
        ).encode(),
    )

    status, body = await call(http, "POST", "/api/v0.2/personas", key, {"name": "NoDesc"})
    assert status == 422
    recorded = load("v02_personas_create_missing_422").json()
    items = json.loads(recorded["detail"].removeprefix("Service error: "))["detail"]
    for item in items:
        item["input"].pop("_auth")  # the reference leaked the caller's key here; we never echo it
    assert json.loads(body) == {
        "detail": "Service error: " + json.dumps({"detail": items}, separators=(",", ":"))
    }

    status, body = await call(http, "GET", "/api/v0.2/personas", key)
    assert status == 200
    listed = json.loads(body)
    assert [p["name"] for p in listed["personas"]][:1] == [name]  # newest first
    mu = next(p for p in listed["personas"] if p["name"] == "Mu")
    recorded_list = load("v02_personas_list").json()
    assert pairs(normalise(mu)) == pairs(normalise(recorded_list["personas"][1]))
    assert listed["message"] == f"Found {listed['total']} personas" and listed["total"] == len(
        listed["personas"]
    )

    status, body = await call(http, "GET", f"/api/v0.2/personas/{pid}", key)
    assert status == 200
    same(body, load("v02_personas_get").body, Tester=name)

    change = {"description": "Updated description", "personality_traits": {"curious": False}}
    status, body = await call(http, "PUT", f"/api/v0.2/personas/{pid}", key, change)
    assert status == 200
    same(body, load("v02_personas_update").body, Tester=name)
    persona = json.loads(body)["persona"]
    assert persona["updated_at"] > persona["created_at"]

    status, body = await call(http, "POST", "/api/v0.2/personas/set", key, {"persona_id": pid})
    assert status == 200
    same(body, load("v02_personas_set").body, Tester=name)
    status, body = await call(http, "GET", "/api/v0.2/personas/current", callers.a.jwt_headers())
    assert status == 200
    same(body, load("v02_personas_current").body, Tester=name)

    for method, path, payload in (
        ("POST", "/api/v0.2/personas/set", {"persona_id": ZERO}),
        ("GET", f"/api/v0.2/personas/{ZERO}", None),
        ("PUT", f"/api/v0.2/personas/{ZERO}", {"description": "x"}),
        ("DELETE", f"/api/v0.2/personas/{ZERO}", None),
    ):
        assert await call(http, method, path, key, payload) == (404, not_found(ZERO))

    status, body = await call(http, "DELETE", f"/api/v0.2/personas/{pid}", key)
    assert status == 200
    same(body, load("v02_personas_delete").body)
    assert json.loads(body)["persona_id"] == pid
    assert await call(http, "GET", f"/api/v0.2/personas/{pid}", key) == (404, not_found(pid))
    status, body = await call(http, "DELETE", f"/api/v0.2/personas/{pid}", key)
    assert status == 200  # deleting again is 200, as recorded
    same(body, load("v02_personas_delete_again").body)

    status, body = await call(http, "GET", "/api/v0.2/personas/current", key)
    same(body, load("v02_personas_current_after_delete").body)
    status, body = await call(http, "POST", "/api/v0.2/personas/initialize-default", key)
    same(body, load("v02_personas_initialize_default_again").body)

    status, body = await call(http, "GET", "/api/v0.2/personas?active_only=false", key)
    assert status == 200
    everyone = json.loads(body)["personas"]
    mine = next(p for p in everyone if p["id"] == pid)
    assert mine["is_active"] is False
    assert pairs(normalise(mine)) == pairs(
        normalise({**load("v02_personas_list_inactive").json()["personas"][0], "name": name})
    )


async def test_a_non_uuid_id_is_404_and_poisons_nothing(
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    key = callers.a.key_headers()
    status, body = await call(http, "GET", "/api/v0.2/personas/not-a-uuid", key)
    assert (status, body) == (404, load("v02_personas_get_non_uuid").body)
    status, body = await call(http, "GET", "/api/v0.2/personas", key)
    assert status == 200 and json.loads(body)["total"] >= 1
    status, body = await call(http, "GET", "/api/v0.2/personas/current", key)
    assert status == 200 and json.loads(body)["persona"]["id"] != "default"
    name = f"Tester2-{uuid.uuid4().hex[:6]}"
    status, body = await call(
        http, "POST", "/api/v0.2/personas", key, {"name": name, "description": "d", "system_prompt": "s"}
    )
    assert status == 200 and json.loads(body)["persona"]["name"] == name


async def test_initialize_default_reactivates_an_inactive_mu(
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    key = callers.a.key_headers()
    mu = json.loads((await call(http, "POST", "/api/v0.2/personas/initialize-default", key))[1])["persona"]
    try:
        status, body = await call(http, "DELETE", f"/api/v0.2/personas/{mu['id']}", key)
        assert status == 200
        same(body, load("v02_personas_delete_mu").body)
        assert (await call(http, "GET", f"/api/v0.2/personas/{mu['id']}", key))[0] == 404
        status, body = await call(http, "POST", "/api/v0.2/personas/initialize-default", key)
        assert status == 200
        reply = json.loads(body)
        assert (reply["was_created"], reply["persona"]["id"], reply["persona"]["is_active"]) == (
            False,
            mu["id"],
            True,
        )
        same(body, load("v02_personas_initialize_default_after_created").body)
    finally:
        await call(http, "POST", "/api/v0.2/personas/initialize-default", key)
    status, body = await call(http, "GET", "/api/v0.2/personas/current", callers.b.key_headers())
    # The reference built that one in Python (insertion-ordered traits); we always answer the DB-read form.
    same(body, load("v02_personas_current_initial").body)


@pytest.mark.parametrize("kind", ["key", "jwt"])
async def test_preferences_are_per_user(http: aiohttp.ClientSession, callers: Callers, kind: str) -> None:
    a, b = callers.a.headers(kind), callers.b.headers(kind)
    name = f"Only-A-{kind}-{uuid.uuid4().hex[:6]}"
    _, body = await call(
        http, "POST", "/api/v0.2/personas", a, {"name": name, "description": "d", "system_prompt": "s"}
    )
    pid = json.loads(body)["persona"]["id"]
    before_b = json.loads((await call(http, "GET", "/api/v0.2/personas/current", b))[1])["persona"]["id"]
    assert (await call(http, "POST", "/api/v0.2/personas/set", a, {"persona_id": pid}))[0] == 200
    assert json.loads((await call(http, "GET", "/api/v0.2/personas/current", a))[1])["persona"]["id"] == pid
    assert (
        json.loads((await call(http, "GET", "/api/v0.2/personas/current", b))[1])["persona"]["id"] == before_b
    )
    assert before_b != pid
    # A's preference survives B choosing something else.
    mu = json.loads((await call(http, "POST", "/api/v0.2/personas/initialize-default", b))[1])["persona"][
        "id"
    ]
    assert (await call(http, "POST", "/api/v0.2/personas/set", b, {"persona_id": mu}))[0] == 200
    assert json.loads((await call(http, "GET", "/api/v0.2/personas/current", a))[1])["persona"]["id"] == pid
    await call(http, "POST", "/api/v0.2/personas/set", a, {"persona_id": mu})


async def test_v1_chat_personas_now_work(http: aiohttp.ClientSession, callers: Callers) -> None:
    headers = callers.b.jwt_headers()
    name = f"X-{uuid.uuid4().hex[:6]}"
    status, body = await call(
        http,
        "POST",
        "/api/v1/chat/personas",
        headers,
        {"name": name, "description": "d", "system_prompt": "s"},
    )
    assert status == 200
    reply = json.loads(body)
    assert (reply["success"], reply["message"], reply["persona"]["name"]) == (
        True,
        "Persona created successfully",
        name,
    )
    status, body = await call(http, "GET", "/api/v1/chat/personas", headers)
    assert status == 200
    listed = json.loads(body)
    assert list(listed) == ["success", "personas", "total", "message"]
    assert listed["message"] == "Personas retrieved successfully"
    assert listed["personas"][0]["name"] == name and listed["total"] == len(listed["personas"])


async def test_trait_objects_keep_the_jsonb_key_order(http: aiohttp.ClientSession, callers: Callers) -> None:
    traits = {"zeta_long_key": 1, "b": {"yy": [1, 2.5], "a": None}, "aa": "x", "ab": True}
    status, body = await call(
        http,
        "POST",
        "/api/v0.2/personas",
        callers.a.key_headers(),
        {
            "name": f"Order-{uuid.uuid4().hex[:6]}",
            "description": "d",
            "system_prompt": "s",
            "personality_traits": traits,
        },
    )
    assert status == 200
    assert b'"personality_traits":{"b":{"a":null,"yy":[1,2.5]},"aa":"x","ab":true,"zeta_long_key":1}' in body
