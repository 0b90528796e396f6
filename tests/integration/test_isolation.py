# ruff: noqa: E501 (scenario tables and one-pass scenario tests)
"""Isolation (issue 13 §3): every authenticated row of the route table and every RPC of every service is
tried by an anonymous caller and by user B on user A's conversations, messages, persona preference, assets,
API keys and usage. Anonymous: 401 everywhere (the OpenAI door's 401 too; gRPC UNAUTHENTICATED). B: a 404
for A's ids (403 for A's key id is not used: revoking someone else's key is the key's 404), and nothing of
A's in any listing B gets. A new route or RPC that this file does not classify fails the test.

What is stored: A's data is unchanged afterwards (checked in Postgres)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import asyncpg
import grpc
import pytest
from gaia.asset.v1 import asset_pb2, asset_pb2_grpc
from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from grpc import aio

from compat_gateway.routes import ROUTES
from compat_gateway.routes.table import Route, served
from tests.integration._callers import Caller, Callers, make_callers
from tests.support.infra import Infra
from tests.support.mesh import Mesh
from tests.support.reliability import Figures

# How B's call on each authenticated row is judged. "foreign": the path names one of A's objects, B gets a
# 404. "listing": B's own view, which must hold nothing of A's. "own": acts on B's own data only (A's data
# is checked intact at the end). "catalogue": data of no user (models, providers, prices, personas, which
# are one shared catalogue as in the reference).
POLICY: dict[str, str] = {
    "v1_auth_profile": "listing", "v1_auth_profile_update": "own", "v1_auth_change_password": "own",
    "v1_auth_keys_list": "listing", "v1_auth_keys_create": "own", "v1_auth_keys_revoke": "foreign",
    "v02_chat": "own", "v02_chat_stream": "own", "v02_chat_status": "listing", "v02_chat_history": "own",
    "v02_chat_reload_prompt": "own", "v02_stream_cache_invalidate": "own", "v02_stream_cache_status": "listing",
    "v02_stream_status": "listing", "v02_stream_history": "own", "v02_stream_models": "catalogue",
    "v02_stream_models_performance": "catalogue", "v1_chat_sse": "own", "v1_chat_openai": "own",
    "v1_chat_json": "own", "v1_chat_completions_sse": "own", "v1_chat_completions_openai": "own",
    "v1_chat_completions_json": "own", "v1_chat_status": "listing", "v1_chat_history": "own",
    "v1_chat_reload_prompt": "own", "v03_chat_no_message": "own", "v03_chat_sse": "own", "v03_chat_json": "own",
    "openai_chat_completions_sse": "own", "openai_chat_completions_json": "own", "openai_models": "catalogue",
    "v1_conversations_create": "own", "v1_conversations_list": "listing", "v1_conversations_get": "foreign",
    "v1_conversations_rename": "foreign", "v1_conversations_messages": "foreign",
    "v1_conversations_delete": "foreign", "v03_conversations_list": "listing", "v03_conversations_create": "own",
    "v03_conversations_messages": "foreign", "v02_personas_list": "catalogue", "v02_personas_current": "listing",
    "v02_personas_set": "own", "v02_personas_initialize_default": "own", "v02_personas_get": "catalogue",
    "v02_personas_create": "own", "v02_personas_update": "catalogue", "v02_personas_delete": "catalogue",
    "v1_chat_personas_list": "catalogue", "v1_chat_personas_create": "own", "v02_providers": "catalogue",
    "v02_providers_health": "catalogue", "v02_providers_stats": "catalogue", "v02_provider": "catalogue",
    "v02_provider_models": "catalogue", "v02_provider_health": "catalogue", "v02_provider_stats": "catalogue",
    "v02_models": "catalogue", "v02_models_capabilities": "catalogue", "v02_models_priorities": "catalogue",
    "v02_models_contexts": "catalogue", "v02_model": "catalogue", "v02_performance_summary": "listing",
    "v02_performance_providers": "listing", "v02_performance_stages": "listing", "v02_performance_live": "listing",
    "v02_performance_health": "listing", "v02_performance_reset": "own", "assets_list": "listing",
    "assets_generate": "own", "assets_generate_stream": "own", "assets_get": "foreign",
    "assets_download": "foreign", "pricing_current": "catalogue", "pricing_analytics": "listing",
    "pricing_update": "catalogue", "pricing_providers": "catalogue", "pricing_estimate": "catalogue",
    "pricing_dalle_tiers": "catalogue", "pricing_meshy_packages": "catalogue",
    "pricing_provider_comparison": "catalogue", "usage_current": "listing", "usage_history": "listing",
    "usage_log": "own", "usage_limits": "listing", "usage_billing_current": "listing",
    "usage_reports_monthly": "listing",
}  # fmt: skip
#: Rows B calls with A's ids in their path; the rest are called (listings) or only classified (own,
#: catalogue: proven by A's data being intact and by the anonymous refusal).
FOREIGN_PATHS = {
    "v1_auth_keys_revoke": ("DELETE", "/api/v1/auth/keys/{key}"),
    "v1_conversations_get": ("GET", "/api/v1/conversations/{conversation}"),
    "v1_conversations_rename": ("PATCH", "/api/v1/conversations/{conversation}"),
    "v1_conversations_messages": ("GET", "/api/v1/conversations/{conversation}/messages"),
    "v1_conversations_delete": ("DELETE", "/api/v1/conversations/{conversation}"),
    "v03_conversations_messages": ("GET", "/api/v0.3/conversations/{conversation}/messages"),
    "assets_get": ("GET", "/api/v1/assets/{asset}"),
    "assets_download": ("GET", "/api/v1/assets/{asset}/download"),
}
#: RPCs only reachable natively (no row calls them), with how B's call on A's data is refused.
NATIVE_ONLY: dict[str, str] = {
    "asset.RecordUsage": "B recording usage for A's user_id: PERMISSION_DENIED",
    "auth.CreateUser": "admin callers only: PERMISSION_DENIED for B",
    "chat.Chat": "B's unary turn on A's conversation: NOT_FOUND",
    "auth.CheckRateLimit": "B counting against A's bucket: PERMISSION_DENIED (admins and services only)",
}
#: RPCs callable without credentials (sign-in and the like).
PUBLIC_RPCS = {
    "auth.Authenticate", "auth.Register", "auth.Login", "auth.Refresh", "auth.Logout", "auth.ConfirmEmail",
    "auth.ResendVerification", "auth.Validate",
}  # fmt: skip
SERVICES = {
    "auth": (auth_pb2, "AuthService", auth_pb2_grpc.AuthServiceStub),
    "chat": (chat_pb2, "ChatService", chat_pb2_grpc.ChatServiceStub),
    "asset": (asset_pb2, "AssetService", asset_pb2_grpc.AssetServiceStub),
}


def _all_rpcs() -> dict[str, Any]:
    found = {}
    for service, (module, name, _) in SERVICES.items():
        for method in module.DESCRIPTOR.services_by_name[name].methods:
            found[f"{service}.{method.name}"] = method
    return found


def _authenticated_rows() -> list[Route]:
    return [row for row in served(ROUTES) if row.auth]


def _concrete(path: str) -> str:
    """A path with every parameter filled with an id nobody has."""
    parts = [str(uuid.uuid4()) if p.startswith("{") else p for p in path.split("/")]
    return "/".join(parts)


def test_every_route_and_rpc_is_classified() -> None:
    rows = {row.name for row in _authenticated_rows()}
    assert sorted(rows - set(POLICY)) == [], "new authenticated rows: classify them in POLICY"
    assert sorted(set(POLICY) - rows) == [], "rows gone from the table: drop them from POLICY"
    assert set(FOREIGN_PATHS) == {name for name, kind in POLICY.items() if kind == "foreign"}
    by_rows = {f"{row.rpc.service}.{row.rpc.name}" for row in served(ROUTES) if hasattr(row, "rpc")}
    unreached = set(_all_rpcs()) - by_rows - set(NATIVE_ONLY) - PUBLIC_RPCS
    assert sorted(unreached) == [], "RPCs no row calls: classify them in NATIVE_ONLY or PUBLIC_RPCS"


async def test_anonymous_callers_are_refused_everywhere(mesh: Mesh) -> None:
    figures = Figures()
    wrong: list[str] = []
    async with aiohttp.ClientSession(base_url=mesh.http) as http:
        seen: set[tuple[str, str]] = set()
        for row in _authenticated_rows():
            if (row.method, row.path) in seen:
                continue
            seen.add((row.method, row.path))
            async with http.request(row.method, _concrete(row.path), json={}) as response:
                figures.requests += 1
                body = await response.read()
                if response.status != 401:
                    wrong.append(f"{row.method} {row.path}: {response.status} {body[:120]!r}")
    for name, method in _all_rpcs().items():
        if name in PUBLIC_RPCS:
            continue
        service = name.split(".")[0]
        module, _, stub_type = SERVICES[service]
        async with aio.insecure_channel(mesh.addrs[service]) as channel:
            stub = stub_type(channel)
            request = getattr(module, method.input_type.name)()
            call = getattr(stub, method.name)(request, timeout=5)
            figures.requests += 1
            try:
                if method.server_streaming:
                    async for _ in call:
                        pass
                else:
                    await call
                wrong.append(f"{name}: answered an anonymous caller")
            except aio.AioRpcError as exc:
                if exc.code() is not grpc.StatusCode.UNAUTHENTICATED:
                    wrong.append(f"{name}: {exc.code().name} {exc.details()}")
    figures.record(
        area="isolation",
        scenario="anonymous caller on every route and RPC",
        done=f"{figures.requests} calls without credentials",
        held="every one 401 / UNAUTHENTICATED" if not wrong else "FAILED: " + "; ".join(wrong[:5]),
    )
    assert wrong == [], "\n".join(wrong)


async def _call(
    http: aiohttp.ClientSession, method: str, path: str, caller: Caller, body: Any = None
) -> tuple[int, Any]:
    async with http.request(method, path, headers=caller.key_headers(), json=body) as response:
        raw = await response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw.decode(errors="replace")


async def _a_data(http: aiohttp.ClientSession, a: Caller) -> dict[str, str]:
    marker = f"isolation-{uuid.uuid4().hex[:10]}"
    status, created = await _call(http, "POST", "/api/v1/conversations", a, {"title": marker})
    assert status in (200, 201), created
    conversation = created["id"] if "id" in created else created["conversation"]["id"]
    status, reply = await _call(
        http,
        "POST",
        "/api/v0.3/chat",
        a,
        {"message": marker, "conversation_id": conversation, "model": "gaia-local"},
    )
    assert status == 200, reply
    status, asset = await _call(
        http,
        "POST",
        "/api/v1/assets/generate",
        a,
        {"category": "image", "style": "realistic", "description": marker},
    )
    assert status == 200, asset
    status, key = await _call(http, "POST", "/api/v1/auth/keys", a, {"name": marker})
    assert status == 201, key
    return {
        "marker": marker,
        "conversation": conversation,
        "asset": asset["asset_id"],
        "key": key["key"]["id"],
        "raw_key": key["api_key"],
    }


async def _stored(infra: Infra, a: Caller, data: dict[str, str]) -> tuple[Any, ...]:
    conn = await asyncpg.connect(infra.database_url)
    try:
        return (
            await conn.fetchval(
                "SELECT count(*) FROM chat_messages WHERE conversation_id = $1::uuid", data["conversation"]
            ),
            await conn.fetchval(
                "SELECT title || is_active::text FROM conversations WHERE id = $1::uuid", data["conversation"]
            ),
            await conn.fetchval("SELECT is_active FROM api_keys WHERE id = $1::uuid", data["key"]),
            await conn.fetchval(
                "SELECT persona_id::text FROM user_persona_preferences WHERE user_id = $1", a.user_id
            ),
        )
    finally:
        await conn.close()


@pytest.mark.timeout(170)
async def test_user_b_never_reaches_user_as_data(mesh: Mesh, infra: Infra) -> None:
    callers: Callers = await make_callers(infra)
    a, b = callers.a, callers.b
    figures = Figures()
    wrong: list[str] = []
    async with aiohttp.ClientSession(base_url=mesh.http) as http:
        data = await _a_data(http, a)
        before = await _stored(infra, a, data)
        secrets = [
            data["marker"],
            data["conversation"],
            data["asset"],
            data["key"],
            data["raw_key"],
            a.user_id,
        ]
        for name, (method, template) in FOREIGN_PATHS.items():
            path = template.format(**data)
            for who in (b,):
                status, body = await _call(http, method, path, who, {"title": "hijacked"})
                figures.requests += 1
                if status != 404:
                    wrong.append(f"{name} as B: {status} {str(body)[:120]}")
        for row in _authenticated_rows():
            if POLICY[row.name] != "listing" or row.method != "GET":
                continue
            status, body = await _call(http, "GET", row.path, b)
            figures.requests += 1
            text = json.dumps(body) if not isinstance(body, str) else body
            leaked = [s for s in secrets if s in text]
            if status >= 500 or leaked:
                wrong.append(f"{row.name} as B: {status}, shows A's {leaked}")
        # B acting on its own data never touches A's
        for method, path, body in (
            ("DELETE", "/api/v1/chat/history", None),
            ("DELETE", "/api/v0.2/chat/history", None),
            ("POST", "/api/v0.2/personas/initialize-default", None),
            ("POST", "/api/v0.3/chat", {"message": "mine", "conversation_id": data["conversation"]}),
            ("POST", "/api/v1/chat", {"message": "mine", "conversation_id": data["conversation"]}),
        ):
            status, answer = await _call(http, method, path, b, body)
            figures.requests += 1
            if status >= 500 or (body and "conversation_id" in body and status != 404):
                wrong.append(f"{method} {path} as B: {status} {str(answer)[:120]}")
        # B's key on A's key over gRPC, natively
        async with aio.insecure_channel(mesh.addrs["auth"]) as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)
            try:
                await stub.RevokeApiKey(
                    auth_pb2.RevokeApiKeyRequest(api_key_id=data["key"]),
                    metadata=(("x-api-key", b.api_key),),
                    timeout=5,
                )
                wrong.append("RevokeApiKey as B on A's key: succeeded")
            except aio.AioRpcError as exc:
                if exc.code() is not grpc.StatusCode.NOT_FOUND:
                    wrong.append(f"RevokeApiKey as B on A's key: {exc.code().name}")
            figures.requests += 1
        async with aio.insecure_channel(mesh.addrs["chat"]) as channel:
            chat = chat_pb2_grpc.ChatServiceStub(channel)
            try:
                await chat.ListMessages(
                    chat_pb2.ListMessagesRequest(conversation_id=data["conversation"]),
                    metadata=(("x-api-key", b.api_key),),
                    timeout=5,
                )
                wrong.append("ListMessages as B on A's conversation: succeeded")
            except aio.AioRpcError as exc:
                if exc.code() is not grpc.StatusCode.NOT_FOUND:
                    wrong.append(f"ListMessages as B: {exc.code().name}")
            figures.requests += 1
    after = await _stored(infra, a, data)
    if after != before:
        wrong.append(f"A's stored data changed: {before} -> {after}")
    figures.record(
        area="isolation",
        scenario="user B on user A's data",
        done=f"{figures.requests} calls as B on A's conversations, messages, assets, keys, persona, usage "
        f"({len(POLICY)} authenticated rows classified, {len(_all_rpcs())} RPCs accounted for)",
        held="every foreign id 404, no listing shows A's data, A's rows unchanged"
        if not wrong
        else "FAILED: " + "; ".join(wrong[:5]),
    )
    assert wrong == [], "\n".join(wrong)


async def _refused(call: Any, code: grpc.StatusCode) -> str:
    try:
        await call
    except aio.AioRpcError as exc:
        return "" if exc.code() is code else f"{exc.code().name} {exc.details()}"
    return "succeeded"


async def test_native_only_rpcs_refuse_b(mesh: Mesh, infra: Infra) -> None:
    callers = await make_callers(infra)
    a, b = callers.a, callers.b
    as_b = (("x-api-key", b.api_key),)
    wrong: list[str] = []
    async with aiohttp.ClientSession(base_url=mesh.http) as http:
        _, created = await _call(http, "POST", "/api/v1/conversations", a, {"title": "native"})
        conversation = created["id"] if "id" in created else created["conversation"]["id"]
    async with aio.insecure_channel(mesh.addrs["asset"]) as channel:
        usage = asset_pb2_grpc.AssetServiceStub(channel).RecordUsage(
            asset_pb2.RecordUsageRequest(provider="openai", model="m", operation="x", user_id=a.user_id),
            metadata=as_b,
            timeout=5,
        )
        if problem := await _refused(usage, grpc.StatusCode.PERMISSION_DENIED):
            wrong.append(f"RecordUsage for A as B: {problem}")
    async with aio.insecure_channel(mesh.addrs["auth"]) as channel:
        create = auth_pb2_grpc.AuthServiceStub(channel).CreateUser(
            auth_pb2.CreateUserRequest(email=f"x-{uuid.uuid4().hex[:8]}@gaia.test"), metadata=as_b, timeout=5
        )
        if problem := await _refused(create, grpc.StatusCode.PERMISSION_DENIED):
            wrong.append(f"CreateUser as B: {problem}")
    async with aio.insecure_channel(mesh.addrs["chat"]) as channel:
        turn = chat_pb2.StreamChatRequest(message="hi", conversation_id=conversation, model="gaia-local")
        chat = chat_pb2_grpc.ChatServiceStub(channel).Chat(
            chat_pb2.ChatRequest(turn=turn), metadata=as_b, timeout=10
        )
        if problem := await _refused(chat, grpc.StatusCode.NOT_FOUND):
            wrong.append(f"Chat on A's conversation as B: {problem}")
    assert wrong == [], "\n".join(wrong)


async def test_b_cannot_count_against_a_s_rate_limit(mesh: Mesh, infra: Infra) -> None:
    callers = await make_callers(infra)
    async with aio.insecure_channel(mesh.addrs["auth"]) as channel:
        hit = auth_pb2_grpc.AuthServiceStub(channel).CheckRateLimit(
            auth_pb2.CheckRateLimitRequest(key=f"user:api:{callers.a.user_id}", limit_name="root", cost=1000),
            metadata=(("x-api-key", callers.b.api_key),),
            timeout=5,
        )
        assert await _refused(hit, grpc.StatusCode.PERMISSION_DENIED) == ""
