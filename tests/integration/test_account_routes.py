"""The web UI's new routes through the real mesh: renaming a conversation, the profile, the password, API
keys, and asset generation relayed as SSE. New routes answer errors as plain ``{"detail": ...}``."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

import aiohttp
import nats
import pytest

from compat_gateway.render.sse import event
from tests.integration._callers import Callers, make_callers
from tests.integration.chat_helpers import sse_events
from tests.support.infra import Infra
from tests.support.mesh import Mesh
from tests.support.recorded import normalise

NAIVE_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")
RAW_KEY = re.compile(r"^gaia_dev_[A-Za-z0-9]{32}$")
NOT_AUTHENTICATED = {"detail": "Not authenticated. Provide a valid JWT or API Key."}
BAD_KEY = {"detail": "Could not validate credentials"}
STREAM = "/api/v1/assets/generate/stream"
PROP = {"category": "prop", "style": "sci_fi", "description": "a chair"}


@pytest.fixture(scope="session")
async def callers(mesh: Mesh, infra: Infra) -> Callers:
    return await make_callers(infra)


async def call(
    http: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    async with http.request(
        method, path, headers={**headers, "Content-Type": "application/json"}, data=data
    ) as response:
        raw = await response.read()
        if raw:
            assert response.headers["content-type"] == "application/json", raw
        return response.status, json.loads(raw) if raw else None


def item(kind: str, field: str, msg: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "loc": ["body", field], "msg": msg, "input": value}


async def signed_up(http: aiohttp.ClientSession, password: str = "first-pass") -> tuple[dict[str, Any], str]:
    """A new account (dev mode confirms at once): its ``AuthResponse`` and the email."""
    email = f"acct-{uuid.uuid4().hex[:10]}@gaia.test"
    status, body = await call(
        http, "POST", "/api/v1/auth/register", {}, {"email": email, "password": password, "name": "Ann"}
    )
    assert status == 200 and body["session"] is not None, body
    return body, email


async def login(http: aiohttp.ClientSession, email: str, password: str) -> tuple[int, Any]:
    return await call(http, "POST", "/api/v1/auth/login", {}, {"email": email, "password": password})


def bearer(auth: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth['session']['access_token']}"}


# -- PATCH /api/v1/conversations/{id} ----------------------------------------------------------------------


async def test_a_conversation_is_renamed_to_its_stripped_title(
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    a, b = callers.a.jwt_headers(), callers.b.key_headers()
    status, created = await call(http, "POST", "/api/v1/conversations", a, {"title": "Old"})
    assert status == 201
    path = f"/api/v1/conversations/{created['id']}"
    status, renamed = await call(http, "PATCH", path, a, {"title": "  Trip plans \n"})
    assert status == 200
    assert renamed == {**created, "title": "Trip plans", "updated_at": renamed["updated_at"]}
    assert NAIVE_TS.match(renamed["updated_at"]) and renamed["updated_at"] >= created["updated_at"]
    assert await call(http, "GET", path, a) == (200, renamed)
    longest = "x" * 200
    assert (await call(http, "PATCH", path, callers.a.key_headers(), {"title": longest}))[1][
        "title"
    ] == longest

    too_short = "String should have at least 1 character"
    for body, problem in (
        ({"title": "   "}, item("string_too_short", "title", too_short, "   ")),
        ({"title": ""}, item("string_too_short", "title", too_short, "")),
        (
            {"title": "y" * 201},
            item("string_too_long", "title", "String should have at most 200 characters", "y" * 201),
        ),
        ({"title": 7}, item("string_type", "title", "Input should be a valid string", 7)),
        ({}, item("missing", "title", "Field required", {})),
    ):
        assert await call(http, "PATCH", path, a, body) == (422, {"detail": [problem]})
    assert await call(http, "PATCH", path, a) == (
        422,
        {"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]},
    )

    for other in (b, callers.b.jwt_headers()):  # B cannot rename A's conversation, nor learn it exists
        assert await call(http, "PATCH", path, other, {"title": "mine now"}) == (404, {"detail": "Not found"})
    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        assert await call(http, "PATCH", f"/api/v1/conversations/{missing}", a, {"title": "t"}) == (
            404,
            {"detail": "Not found"},
        )
    assert await call(http, "PATCH", path, {}, {"title": "t"}) == (401, NOT_AUTHENTICATED)
    assert (await call(http, "GET", path, a))[1]["title"] == longest
    assert (await call(http, "DELETE", path, a))[0] == 204
    assert await call(http, "PATCH", path, a, {"title": "t"}) == (404, {"detail": "Not found"})


# -- /api/v1/auth/profile, /change-password ------------------------------------------------------------------


async def test_the_profile_is_the_login_user_and_its_name_can_change(http: aiohttp.ClientSession) -> None:
    auth, email = await signed_up(http)
    status, logged_in = await login(http, email, "first-pass")
    assert status == 200
    mine = bearer(logged_in)
    assert await call(http, "GET", "/api/v1/auth/profile", mine) == (200, {"user": logged_in["user"]})
    assert list(logged_in["user"]) == list(auth["user"])

    status, updated = await call(http, "PATCH", "/api/v1/auth/profile", mine, {"name": "Zed"})
    assert status == 200
    assert updated == {"user": {**logged_in["user"], "user_metadata": {"name": "Zed"}}}
    assert await call(http, "GET", "/api/v1/auth/profile", mine) == (200, updated)
    assert (await call(http, "PATCH", "/api/v1/auth/profile", mine, {"name": ""}))[1]["user"][
        "user_metadata"
    ] == {}

    assert await call(http, "PATCH", "/api/v1/auth/profile", mine, {"name": "n" * 256}) == (
        400,
        {"detail": "Name must be at most 255 characters long"},
    )
    assert await call(http, "PATCH", "/api/v1/auth/profile", mine, {"name": None}) == (
        422,
        {"detail": [item("string_type", "name", "Input should be a valid string", None)]},
    )
    for method in ("GET", "PATCH"):
        assert await call(http, method, "/api/v1/auth/profile", {}, {"name": "x"}) == (401, NOT_AUTHENTICATED)


async def test_an_api_key_caller_sees_its_own_profile(http: aiohttp.ClientSession, callers: Callers) -> None:
    for caller in (callers.a, callers.b):
        for headers in (caller.key_headers(), caller.jwt_headers()):
            status, body = await call(http, "GET", "/api/v1/auth/profile", headers)
            assert status == 200 and (body["user"]["id"], body["user"]["email"]) == (
                caller.user_id,
                caller.email,
            )


async def test_the_password_changes_after_the_current_one_is_checked(http: aiohttp.ClientSession) -> None:
    auth, email = await signed_up(http, "first-pass")
    _, other_session = await login(http, email, "first-pass")
    mine, theirs = bearer(auth), bearer(other_session)
    path = "/api/v1/auth/change-password"

    assert await call(
        http, "POST", path, mine, {"current_password": "wrong-pass", "new_password": "second-pass"}
    ) == (
        403,
        {"detail": "Current password is incorrect"},
    )
    assert await call(
        http, "POST", path, mine, {"current_password": "first-pass", "new_password": "short"}
    ) == (
        400,
        {"detail": "Password must be at least 6 characters long"},
    )
    status, refused = await call(http, "POST", path, mine, {"current_password": "first-pass"})
    assert (status, refused) == (422, {"detail": [item("missing", "new_password", "Field required", {})]})
    status, refused = await call(
        http, "POST", path, mine, {"current_password": 12345678, "new_password": "x" * 8}
    )
    assert (status, refused) == (
        422,
        {"detail": [item("string_type", "current_password", "Input should be a valid string", None)]},
    )
    assert (await login(http, email, "first-pass"))[0] == 200  # nothing changed so far

    assert await call(
        http,
        "POST",
        path,
        mine,
        {"current_password": "first-pass", "new_password": "second-pass", "revoke_other_sessions": True},
    ) == (200, {"changed": True, "sessions_revoked": 2})  # the session opened by the check-login too
    assert (await call(http, "GET", "/api/v1/auth/profile", mine))[0] == 200
    assert await call(http, "GET", "/api/v1/auth/profile", theirs) == (401, NOT_AUTHENTICATED)
    assert (await login(http, email, "first-pass"))[0] == 400
    assert (await login(http, email, "second-pass"))[0] == 200
    assert await call(
        http, "POST", path, mine, {"current_password": "second-pass", "new_password": "third-pass"}
    ) == (
        200,
        {"changed": True, "sessions_revoked": 0},
    )
    assert (await login(http, email, "third-pass"))[0] == 200
    assert await call(http, "POST", path, {}, {"current_password": "a", "new_password": "b"}) == (
        401,
        NOT_AUTHENTICATED,
    )


# -- /api/v1/auth/keys -------------------------------------------------------------------------------------


def _key_shape(key: dict[str, Any], *, name: str, active: bool = True, expires: str | None = None) -> None:
    """Everything of a KEY but its id, prefix, and creation / last-use times, which are checked by form."""
    assert list(key) == [
        "id",
        "name",
        "key_prefix",
        "scopes",
        "is_active",
        "created_at",
        "last_used_at",
        "expires_at",
    ]
    assert {**normalise(key), "expires_at": key["expires_at"]} == {
        "id": "<uuid>",
        "name": name,
        "key_prefix": key["key_prefix"],
        "scopes": [],
        "is_active": active,
        "created_at": "<ts>",
        "last_used_at": "<ts>" if key["last_used_at"] else None,
        "expires_at": expires,
    }
    assert NAIVE_TS.match(key["created_at"]) and (
        key["last_used_at"] is None or NAIVE_TS.match(key["last_used_at"])
    )


async def test_api_keys_are_created_listed_used_and_revoked(
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    auth, _ = await signed_up(http)
    mine, user_id = bearer(auth), auth["user"]["id"]
    assert await call(http, "GET", "/api/v1/auth/keys", mine) == (200, {"keys": [], "total": 0})

    status, created = await call(http, "POST", "/api/v1/auth/keys", mine, {"name": "  ci  "})
    assert status == 201 and list(created) == ["key", "api_key"]
    raw, key = created["api_key"], created["key"]
    assert RAW_KEY.match(raw) and key["key_prefix"] == raw[:13]
    _key_shape(key, name="ci")
    assert key["last_used_at"] is None
    status, dated = await call(
        http, "POST", "/api/v1/auth/keys", mine, {"name": "dated", "expires_at": "2030-01-02T03:04:05+02:00"}
    )
    assert status == 201
    _key_shape(dated["key"], name="dated", expires="2030-01-02T01:04:05")  # stored and shown in naive UTC
    status, naive = await call(
        http, "POST", "/api/v1/auth/keys", mine, {"name": "naive", "expires_at": "2031-05-06T07:08:09"}
    )
    assert status == 201 and naive["key"]["expires_at"] == "2031-05-06T07:08:09"

    by_key = {"X-API-Key": raw}
    assert (await call(http, "GET", "/api/v1/auth/profile", by_key))[1]["user"]["id"] == user_id
    status, listed = await call(http, "GET", "/api/v1/auth/keys", by_key)
    assert status == 200 and listed["total"] == 3
    assert [k["name"] for k in listed["keys"]] == ["naive", "dated", "ci"]  # newest first
    used = listed["keys"][2]
    assert used == {**key, "last_used_at": used["last_used_at"]} and NAIVE_TS.match(used["last_used_at"])
    assert listed["keys"][1] == dated["key"]

    # B sees none of them (only its own) and can revoke none of them.
    status, b_keys = await call(
        http, "GET", "/api/v1/auth/keys?include_revoked=true", callers.b.key_headers()
    )
    assert status == 200 and {k["id"] for k in b_keys["keys"]}.isdisjoint(k["id"] for k in listed["keys"])
    assert await call(http, "DELETE", f"/api/v1/auth/keys/{key['id']}", callers.b.key_headers()) == (
        404,
        {"detail": f"API key not found: {key['id']}"},
    )
    assert (await call(http, "GET", "/api/v1/auth/profile", by_key))[0] == 200

    status, revoked = await call(http, "DELETE", f"/api/v1/auth/keys/{key['id']}", mine)
    assert (status, list(revoked)) == (200, ["key"])
    assert revoked["key"] == {**used, "is_active": False, "last_used_at": revoked["key"]["last_used_at"]}
    assert await call(http, "DELETE", f"/api/v1/auth/keys/{key['id']}", mine) == (
        404,
        {"detail": f"API key not found: {key['id']}"},
    )
    for missing in (str(uuid.uuid4()), "nope"):
        assert await call(http, "DELETE", f"/api/v1/auth/keys/{missing}", mine) == (
            404,
            {"detail": f"API key not found: {missing}"},
        )
    assert [k["name"] for k in (await call(http, "GET", "/api/v1/auth/keys", mine))[1]["keys"]] == [
        "naive",
        "dated",
    ]
    status, everything = await call(http, "GET", "/api/v1/auth/keys?include_revoked=true", mine)
    assert status == 200 and everything["total"] == 3
    assert everything["keys"][2] == revoked["key"]

    # The revoked key is refused everywhere: 403 on legacy routes, OpenAI's 401 on the OpenAI door.
    for path in (
        "/api/v1/auth/profile",
        "/api/v1/conversations",
        "/api/v1/assets",
        "/api/v0.2/personas/current",
    ):
        assert await call(http, "GET", path, by_key) == (403, BAD_KEY), path
    for headers in (by_key, {"Authorization": f"Bearer {raw}"}):
        async with http.get("/v1/models", headers=headers) as response:
            assert response.status == 401
            error = (await response.json())["error"]
            assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
    assert (await call(http, "GET", "/api/v1/auth/profile", mine))[0] == 200  # the JWT is unaffected


async def test_api_key_input_errors(http: aiohttp.ClientSession, callers: Callers) -> None:
    mine = callers.b.jwt_headers()
    too_short = "String should have at least 1 character"
    for body, problem in (
        ({"name": ""}, item("string_too_short", "name", too_short, "")),
        ({"name": "  "}, item("string_too_short", "name", too_short, "  ")),
        ({}, item("missing", "name", "Field required", {})),
    ):
        assert await call(http, "POST", "/api/v1/auth/keys", mine, body) == (422, {"detail": [problem]})
    status, refused = await call(http, "POST", "/api/v1/auth/keys", mine, {"name": "k", "expires_at": "soon"})
    assert status == 422 and [(i["type"], i["loc"]) for i in refused["detail"]] == [
        ("datetime_from_date_parsing", ["body", "expires_at"])
    ]
    assert await call(http, "POST", "/api/v1/auth/keys", mine, {"name": "k" * 256}) == (
        400,
        {"detail": "API key name must be at most 255 characters long"},
    )
    status, refused = await call(http, "GET", "/api/v1/auth/keys?include_revoked=maybe", mine)
    assert status == 422 and refused["detail"][0]["loc"] == ["query", "include_revoked"]
    for method, path in (
        ("GET", "/api/v1/auth/keys"),
        ("POST", "/api/v1/auth/keys"),
        ("DELETE", "/api/v1/auth/keys/x"),
    ):
        assert await call(http, method, path, {}, {"name": "k"}) == (401, NOT_AUTHENTICATED)


# -- POST /api/v1/assets/generate/stream ---------------------------------------------------------------------


async def _stream(http: aiohttp.ClientSession, headers: dict[str, str], body: Any) -> tuple[int, str, bytes]:
    async with http.post(STREAM, json=body, headers=headers) as response:
        return response.status, response.headers["content-type"], await response.read()


async def test_a_generation_streams_its_progress_then_one_done_with_the_listed_asset(
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    owner = callers.b.jwt_headers()
    status, content_type, raw = await _stream(http, owner, PROP)
    assert (status, content_type) == (200, "text/event-stream; charset=utf-8")
    events = sse_events(raw)
    assert raw == b"".join(event(e) for e in events)  # json.dumps defaults, one data line per event
    generation_id = events[0]["generation_id"]
    progress = [
        ("queued", "Generation accepted", 0, ""),
        ("budget_checked", "Budget checked", 10, ""),
        ("provider_called", "Calling meshy_ai", 20, "meshy_ai"),
        ("polling", "Meshy task in_progress", 50, "meshy_ai"),
        ("stored", "Asset stored", 100, "meshy_ai"),
    ]
    assert events[:-1] == [
        {
            "type": "progress",
            "generation_id": generation_id,
            "stage": s,
            "message": m,
            "percent": p,
            "provider": v,
        }
        for s, m, p, v in progress
    ]
    done = events[-1]
    assert list(done) == ["type", "generation_id", "asset"] and done["type"] == "done"
    assert done["generation_id"] == generation_id
    asset = done["asset"]
    assert (asset["cost"], asset["storage_info"]["external_source"]) == (0.2, "meshy_ai")

    status, listed = await call(http, "GET", "/api/v1/assets", owner)
    assert status == 200 and listed["assets"][0]["asset_id"] == asset["asset_id"]
    assert listed["assets"][0] == asset | {"response_time_ms": listed["assets"][0]["response_time_ms"]}
    assert await call(http, "GET", f"/api/v1/assets/{asset['asset_id']}", owner) == (200, listed["assets"][0])
    assert (await call(http, "GET", f"/api/v1/assets/{asset['asset_id']}", callers.a.key_headers()))[0] == 404


async def test_a_provider_failure_after_acceptance_is_the_one_error_event(
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    body = {"category": "texture", "style": "cartoon", "description": "FAIL this texture"}
    status, _, raw = await _stream(http, callers.b.key_headers(), body)
    events = sse_events(raw)
    generation_id = events[0]["generation_id"]
    assert status == 200
    assert [(e["type"], e.get("stage"), e.get("provider")) for e in events] == [
        ("progress", "queued", ""),
        ("progress", "budget_checked", ""),
        ("progress", "provider_called", "stability_ai"),
        ("progress", "provider_called", "openai_dalle3"),  # the fallback
        ("error", None, None),
    ]
    assert events[-1] == {
        "type": "error",
        "generation_id": generation_id,
        "error": "Asset request failed: OpenAI images answered HTTP 500",
    }


async def test_refusals_before_the_stream_are_ordinary_http_errors(
    http: aiohttp.ClientSession, callers: Callers
) -> None:
    owner = callers.b.jwt_headers()
    session = {**PROP, "session_id": str(uuid.uuid4())}
    assert (await _stream(http, owner, session))[0] == 200  # 0.20 of the session's 0.50
    assert (await call(http, "POST", "/api/v1/assets/generate", owner, session))[0] == 200  # 0.40
    status, content_type, raw = await _stream(http, owner, session)  # 0.60 would be over
    assert (status, content_type) == (429, "application/json")
    assert json.loads(raw) == {"detail": "Generation budget exceeded for this session"}

    status, content_type, raw = await _stream(http, owner, {"style": "x", "description": "y"})
    assert (status, content_type) == (422, "application/json")
    assert json.loads(raw) == {
        "detail": [item("missing", "category", "Field required", {"style": "x", "description": "y"})]
    }
    assert (await _stream(http, {}, PROP))[:2] == (401, "application/json")
    status, _, raw = await _stream(http, {"X-API-Key": "gaia_dev_" + "0" * 32}, PROP)
    assert (status, json.loads(raw)) == (403, BAD_KEY)


async def test_a_client_that_leaves_cancels_the_generation(
    http: aiohttp.ClientSession, callers: Callers, infra: Infra
) -> None:
    failed: list[dict[str, Any]] = []
    client = await nats.connect(infra.nats_url)

    async def collect(message: Any) -> None:
        failed.append(json.loads(message.data))

    subscription = await client.subscribe("gaia.asset.generation.failed", cb=collect)
    await client.flush()
    try:
        body = {"category": "image", "style": "realistic", "description": "SLOW a long picture"}
        async with http.post(STREAM, json=body, headers=callers.b.key_headers()) as response:
            opening = json.loads((await response.content.readuntil(b"\n\n")).removeprefix(b"data: "))
            generation_id = opening["generation_id"]
            response.close()  # the client goes away while the provider is still working
        for _ in range(50):
            mine = [f for f in failed if f["generation_id"] == generation_id]
            if mine:
                break
            await asyncio.sleep(0.02)
        assert [f["error"] for f in mine] == ["cancelled"]  # not the provider's timeout a second later
    finally:
        await subscription.unsubscribe()
        await client.close()
