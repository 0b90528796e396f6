"""Security properties of authentication, end to end: forged tokens, revocation everywhere within a second,
expiry, rate limits, secrets kept out of logs and responses, the native gRPC door, Redis down."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import grpc
import jwt
import pytest
from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from google.protobuf import timestamp_pb2
from grpc import aio

from gaia_services.auth.api_keys import ApiKeyStore
from gaia_services.auth.authenticator import LocalAuthenticator
from gaia_services.auth.cache import CredentialCache
from gaia_services.auth.limits import SlidingWindow
from gaia_services.auth.sessions import Sessions
from gaia_services.auth.tokens import TokenSigner
from gaia_services.embedded import free_port
from gaia_services.runtime.errors import CredentialsForbidden, CredentialsRejected
from gaia_services.runtime.principal import AuthType, Credentials
from gaia_services.settings import DEFAULT_DEV_JWT_SECRET
from tests.integration.test_auth_contract import _link_token, _mails
from tests.integration.test_auth_mesh import JWT_SECRET, auth_http, auth_mesh, mint
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh

__all__ = ["auth_http", "auth_mesh"]

PROTECTED = "/api/v1/conversations"
DEV = (("x-api-key", DEV_API_KEY),)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _profile(mesh: Mesh, metadata: tuple[tuple[str, str], ...]) -> auth_pb2.GetProfileResponse:
    async with aio.insecure_channel(mesh.addrs["auth"]) as channel:
        reply: auth_pb2.GetProfileResponse = await auth_pb2_grpc.AuthServiceStub(channel).GetProfile(
            auth_pb2.GetProfileRequest(), metadata=metadata, timeout=5
        )
        return reply


async def _create_key(mesh: Mesh, **fields: object) -> auth_pb2.CreateApiKeyResponse:
    async with aio.insecure_channel(mesh.addrs["auth"]) as channel:
        reply: auth_pb2.CreateApiKeyResponse = await auth_pb2_grpc.AuthServiceStub(channel).CreateApiKey(
            auth_pb2.CreateApiKeyRequest(name="test key", **fields), metadata=DEV, timeout=5
        )
        return reply


async def _login(http: aiohttp.ClientSession, mesh: Mesh) -> tuple[str, str, dict[str, str]]:
    email, password = f"sec-{uuid.uuid4().hex[:10]}@gaia.test", "pass-" + uuid.uuid4().hex[:12]
    async with http.post("/api/v1/auth/register", json={"email": email, "password": password}) as response:
        assert response.status == 200
    token = _link_token(_mails(mesh, email)[-1])
    async with http.post("/api/v1/auth/confirm", json={"token": token, "email": email}) as response:
        assert response.status == 200
    async with http.post("/api/v1/auth/login", json={"email": email, "password": password}) as response:
        assert response.status == 200
        session = (await response.json())["session"]
    return email, password, session


async def _within(seconds: float, refused: Callable[[], Awaitable[bool]]) -> float:
    started = time.monotonic()
    while not await refused():
        assert time.monotonic() - started < seconds, f"still accepted after {seconds}s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_native_grpc_client_with_key_with_jwt_and_without(
    auth_mesh: Mesh, auth_http: aiohttp.ClientSession
) -> None:
    by_key = await _profile(auth_mesh, DEV)
    assert by_key.user.email == "dev@gaia.local"
    email, _, session = await _login(auth_http, auth_mesh)
    by_jwt = await _profile(auth_mesh, (("authorization", f"Bearer {session['access_token']}"),))
    assert by_jwt.user.email == email
    async with aio.insecure_channel(auth_mesh.addrs["chat"]) as channel:
        chat = chat_pb2_grpc.ChatServiceStub(channel)
        await chat.ListConversations(
            chat_pb2.ListConversationsRequest(),
            timeout=5,
            metadata=(("authorization", f"Bearer {session['access_token']}"),),
        )
        with pytest.raises(aio.AioRpcError) as refused:
            await chat.ListConversations(chat_pb2.ListConversationsRequest(), timeout=5)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert refused.value.details() == "Not authenticated. Provide a valid JWT or API Key."


async def test_forged_and_expired_jwts_are_refused(auth_mesh: Mesh, auth_http: aiohttp.ClientSession) -> None:
    _, _, session = await _login(auth_http, auth_mesh)
    good = session["access_token"]
    head, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = {
        "expired": mint({**claims, "exp": int(time.time()) - 5}),
        "wrong audience": mint({**claims, "aud": "anon"}),
        "wrong secret": mint(claims, secret="not-the-secret-" * 3),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "tampered": f"{head}.{_b64({**claims, 'sub': str(uuid.uuid4())})}.{signature}",
        "HS512": mint(claims).replace(head, _b64({"alg": "HS512", "typ": "JWT"})),
    }
    for name, token in forged.items():
        with pytest.raises(aio.AioRpcError) as refused:
            await _profile(auth_mesh, (("authorization", f"Bearer {token}"),))
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED, name
        async with auth_http.get(PROTECTED, headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 401, name
        async with auth_http.post("/api/v1/auth/validate", json={"token": token}) as response:
            assert (await response.json())["valid"] is False, name
    assert (await _profile(auth_mesh, (("authorization", f"Bearer {good}"),))).user.id == claims["sub"]


async def test_a_revoked_key_is_refused_everywhere_within_a_second(
    auth_mesh: Mesh, auth_http: aiohttp.ClientSession
) -> None:
    created = await _create_key(auth_mesh)
    assert created.raw_key.startswith("gaia_dev_") and len(created.raw_key) == len("gaia_dev_") + 32
    key = (("x-api-key", created.raw_key),)
    async with aio.insecure_channel(auth_mesh.addrs["chat"]) as channel:
        chat = chat_pb2_grpc.ChatServiceStub(channel)
        await chat.ListConversations(chat_pb2.ListConversationsRequest(), metadata=key, timeout=5)
        await _profile(auth_mesh, key)
        async with auth_http.get(PROTECTED, headers={"X-API-Key": created.raw_key}) as response:
            assert response.status == 200  # every cache layer now holds the key

        async with aio.insecure_channel(auth_mesh.addrs["auth"]) as auth_channel:
            revoked = await auth_pb2_grpc.AuthServiceStub(auth_channel).RevokeApiKey(
                auth_pb2.RevokeApiKeyRequest(api_key_id=created.api_key.id), metadata=DEV, timeout=5
            )
        assert revoked.api_key.is_active is False

        async def shim_refuses() -> bool:
            async with auth_http.get(PROTECTED, headers={"X-API-Key": created.raw_key}) as response:
                return response.status == 403 and await response.json() == {
                    "detail": "Could not validate credentials"
                }

        async def grpc_refuses() -> bool:
            try:
                await chat.ListConversations(chat_pb2.ListConversationsRequest(), metadata=key, timeout=5)
            except aio.AioRpcError as exc:
                return exc.code() is grpc.StatusCode.PERMISSION_DENIED
            return False

        assert await _within(1.0, shim_refuses) < 1.0
        assert await _within(1.0, grpc_refuses) < 1.0


async def test_an_expired_key_is_refused(auth_mesh: Mesh, auth_http: aiohttp.ClientSession) -> None:
    expires = timestamp_pb2.Timestamp()
    expires.FromDatetime(datetime.now(UTC) + timedelta(seconds=2))
    created = await _create_key(auth_mesh, expires_at=expires)
    headers = {"X-API-Key": created.raw_key}
    async with auth_http.get(PROTECTED, headers=headers) as response:
        assert response.status == 200

    async def refused() -> bool:
        async with auth_http.get(PROTECTED, headers=headers) as response:
            return response.status == 403

    await _within(4.0, refused)


async def test_per_key_rate_limit_answers_429_with_retry_after(
    auth_mesh: Mesh, infra: Infra, auth_http: aiohttp.ClientSession
) -> None:
    created = await _create_key(auth_mesh)
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute(
            "UPDATE api_keys SET permissions = '{\"rate_limit_per_minute\": 3}' WHERE id = $1::uuid",
            created.api_key.id,
        )
    finally:
        await conn.close()
    headers = {"X-API-Key": created.raw_key}
    for _ in range(3):
        async with auth_http.get(PROTECTED, headers=headers) as response:
            assert response.status == 200
    async with auth_http.get(PROTECTED, headers=headers) as response:
        assert response.status == 429
        assert await response.read() == b'{"error":"Rate limit exceeded: 3 per 1 minute"}'
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    async with auth_http.get(PROTECTED, headers={"X-API-Key": DEV_API_KEY}) as response:
        assert response.status == 200  # another principal is not limited


async def test_last_used_at_is_kept_without_a_write_per_request(
    auth_mesh: Mesh, infra: Infra, auth_http: aiohttp.ClientSession
) -> None:
    created = await _create_key(auth_mesh)
    conn = await asyncpg.connect(infra.database_url)
    try:
        query = "SELECT last_used_at FROM api_keys WHERE id = $1::uuid"
        assert await conn.fetchval(query, created.api_key.id) is None
        async with auth_http.get(PROTECTED, headers={"X-API-Key": created.raw_key}) as response:
            assert response.status == 200
        first = await conn.fetchval(query, created.api_key.id)
        assert first is not None
        for _ in range(3):
            async with auth_http.get(PROTECTED, headers={"X-API-Key": created.raw_key}) as response:
                assert response.status == 200
        assert await conn.fetchval(query, created.api_key.id) == first
    finally:
        await conn.close()


async def test_no_secret_reaches_a_log_line_or_another_response(
    auth_mesh: Mesh, auth_http: aiohttp.ClientSession
) -> None:
    email, password, session = await _login(auth_http, auth_mesh)
    async with auth_http.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    ) as resp:
        renewed = (await resp.json())["session"]
    async with auth_http.post(
        "/api/v1/auth/login", json={"email": email, "password": password + "x"}
    ) as resp:
        wrong = await resp.text()
    created = await _create_key(auth_mesh)
    confirmation = _link_token(_mails(auth_mesh, email)[-1])
    async with auth_http.post("/api/v1/auth/validate", json={"api_key": created.raw_key}) as resp:
        validated = await resp.text()
    await asyncio.sleep(0.3)  # let the mesh's log lines arrive
    log = "\n".join(auth_mesh.log)
    secrets = [
        password,
        session["access_token"],
        session["refresh_token"],
        renewed["access_token"],
        renewed["refresh_token"],
        created.raw_key,
        confirmation,
    ]
    for secret in secrets:
        assert secret not in log
        assert secret not in wrong and secret not in validated
    assert DEV_API_KEY not in log.replace(f"dev API key {DEV_API_KEY}", "")  # the dev banner prints it


async def test_redis_down_falls_back_to_postgres(auth_mesh: Mesh, infra: Infra) -> None:
    import redis.asyncio as redis

    dead = redis.from_url(f"redis://127.0.0.1:{free_port()}", socket_connect_timeout=0.5, socket_timeout=0.5)
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=2)
    try:
        signer = TokenSigner(secret=JWT_SECRET, ttl_s=3600)
        authenticator = LocalAuthenticator(
            signer=signer,
            keys=ApiKeyStore(pool=pool),
            cache=CredentialCache(client=dead, prefix="x:", ttl_s=60, local_ttl_s=0.0),
            limiter=SlidingWindow(client=dead, prefix="x:"),
            rate_limit_per_minute=1,
        )
        for _ in range(3):  # each goes to Postgres; the limiter lets requests pass
            principal = await authenticator.authenticate(Credentials(api_key=DEV_API_KEY))
            assert principal.auth_type is AuthType.API_KEY and principal.email == "dev@gaia.local"
        with pytest.raises(CredentialsForbidden):
            await authenticator.authenticate(Credentials(api_key="not-a-real-key"))

        sessions = Sessions(pool=pool, refresh_ttl_s=60)
        with_sessions = LocalAuthenticator(
            signer=signer,
            keys=ApiKeyStore(pool=pool),
            session_status=sessions.status,
            cache=CredentialCache(client=dead, prefix="x:", ttl_s=60, local_ttl_s=0.0),
        )
        dev_id = str(await pool.fetchval("SELECT id FROM users WHERE email = 'dev@gaia.local'"))
        opened = await sessions.open(user_id=dev_id)
        token, _ = signer.issue(user_id=dev_id, email="dev@gaia.local", session_id=opened.session_id)
        assert (await with_sessions.authenticate(Credentials(jwt=token))).session_id == opened.session_id
        await sessions.revoke(opened.session_id)
        with pytest.raises(CredentialsRejected):  # the logout is seen through Postgres
            await with_sessions.authenticate(Credentials(jwt=token))
    finally:
        await pool.close()
        await dead.aclose()


async def test_profile_and_password_over_grpc(auth_mesh: Mesh, auth_http: aiohttp.ClientSession) -> None:
    email, password, first = await _login(auth_http, auth_mesh)
    async with auth_http.post("/api/v1/auth/login", json={"email": email, "password": password}) as response:
        second = (await response.json())["session"]
    mine = (("authorization", f"Bearer {first['access_token']}"),)
    async with aio.insecure_channel(auth_mesh.addrs["auth"]) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        request = auth_pb2.UpdateProfileRequest(name="Zed")
        request.user_metadata.update({"team": "blue"})
        updated = await stub.UpdateProfile(request, metadata=mine, timeout=5)
        assert updated.user.name == "Zed" and dict(updated.user.user_metadata) == {
            "name": "Zed",
            "team": "blue",
        }
        with pytest.raises(aio.AioRpcError) as wrong:
            await stub.ChangePassword(
                auth_pb2.ChangePasswordRequest(current_password="nope", new_password="x" * 8),
                metadata=mine,
                timeout=5,
            )
        assert wrong.value.code() is grpc.StatusCode.PERMISSION_DENIED
        changed = await stub.ChangePassword(
            auth_pb2.ChangePasswordRequest(
                current_password=password, new_password="brand-new-pass", revoke_other_sessions=True
            ),
            metadata=mine,
            timeout=5,
        )
        assert (changed.changed, changed.sessions_revoked) == (True, 1)
        assert (
            await stub.GetProfile(auth_pb2.GetProfileRequest(), metadata=mine, timeout=5)
        ).user.email == email
        with pytest.raises(aio.AioRpcError) as other:
            await stub.GetProfile(
                auth_pb2.GetProfileRequest(),
                timeout=5,
                metadata=(("authorization", f"Bearer {second['access_token']}"),),
            )
        assert other.value.code() is grpc.StatusCode.UNAUTHENTICATED
    async with auth_http.post(
        "/api/v1/auth/login", json={"email": email, "password": "brand-new-pass"}
    ) as response:
        assert response.status == 200


async def test_postgres_down_a_cached_key_passes_and_an_uncached_one_is_refused(
    infra: Infra, auth_mesh: Mesh
) -> None:
    import redis.asyncio as redis

    client = redis.from_url(infra.redis_url, decode_responses=True)
    prefix = f"{infra.redis_prefix}dbdown-{uuid.uuid4().hex[:6]}:"
    good = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=1)
    dead = await asyncpg.create_pool(f"postgresql://gaia@127.0.0.1:{free_port()}/x", min_size=0, max_size=1)
    signer = TokenSigner(secret=JWT_SECRET, ttl_s=3600)

    def authenticator(pool: asyncpg.Pool) -> LocalAuthenticator:
        return LocalAuthenticator(
            signer=signer,
            keys=ApiKeyStore(pool=pool),
            cache=CredentialCache(client=client, prefix=prefix, ttl_s=60, local_ttl_s=0.0),
        )

    try:
        await authenticator(good).authenticate(Credentials(api_key=DEV_API_KEY))  # now cached in Redis
        down = authenticator(dead)
        started = time.monotonic()
        assert (await down.authenticate(Credentials(api_key=DEV_API_KEY))).email == "dev@gaia.local"
        with pytest.raises(CredentialsForbidden):
            await down.authenticate(Credentials(api_key="some-uncached-key"))
        assert time.monotonic() - started < 5
    finally:
        await good.close()
        await dead.close()
        await client.aclose()


async def test_key_management_and_named_limits_over_grpc(
    auth_mesh: Mesh, auth_http: aiohttp.ClientSession
) -> None:
    _, _, session = await _login(auth_http, auth_mesh)
    mine = (("authorization", f"Bearer {session['access_token']}"),)
    async with aio.insecure_channel(auth_mesh.addrs["auth"]) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        with pytest.raises(aio.AioRpcError) as denied:  # scopes the caller does not hold
            await stub.CreateApiKey(
                auth_pb2.CreateApiKeyRequest(name="k", scopes=["admin"]), metadata=mine, timeout=5
            )
        assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(aio.AioRpcError) as not_admin:
            await stub.CreateUser(auth_pb2.CreateUserRequest(email="x@gaia.test"), metadata=mine, timeout=5)
        assert not_admin.value.code() is grpc.StatusCode.PERMISSION_DENIED
        first = await stub.CreateApiKey(auth_pb2.CreateApiKeyRequest(name="one"), metadata=mine, timeout=5)
        second = await stub.CreateApiKey(auth_pb2.CreateApiKeyRequest(name="two"), metadata=mine, timeout=5)
        await stub.RevokeApiKey(
            auth_pb2.RevokeApiKeyRequest(api_key_id=first.api_key.id), metadata=mine, timeout=5
        )
        live = await stub.ListApiKeys(auth_pb2.ListApiKeysRequest(), metadata=mine, timeout=5)
        assert [k.name for k in live.api_keys] == ["two"] and live.total == 1
        every = await stub.ListApiKeys(
            auth_pb2.ListApiKeysRequest(include_revoked=True), metadata=mine, timeout=5
        )
        assert {k.name: k.is_active for k in every.api_keys} == {"one": False, "two": True}
        two = next(k for k in every.api_keys if k.name == "two")
        assert second.raw_key.startswith(two.key_prefix) and len(two.key_prefix) < len(second.raw_key)
        stranger = (("authorization", "Bearer " + mint({"sub": str(uuid.uuid4()), "aud": "authenticated"})),)
        with pytest.raises(aio.AioRpcError) as foreign:  # another user's key is not found
            request_ = auth_pb2.RevokeApiKeyRequest(api_key_id=second.api_key.id)
            await stub.RevokeApiKey(request_, metadata=stranger, timeout=5)
        assert foreign.value.code() is grpc.StatusCode.NOT_FOUND

        bucket = f"ip:203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
        request = auth_pb2.CheckRateLimitRequest(key=bucket, limit_name="root")
        replies = [await stub.CheckRateLimit(request, metadata=DEV, timeout=5) for _ in range(61)]
        assert all(r.allowed for r in replies[:60]) and not replies[60].allowed
        assert (replies[60].description, replies[60].limit, replies[60].period_seconds) == (
            "60 per 1 minute",
            60,
            60,
        )
        assert 1 <= replies[60].retry_after_seconds <= 60


async def test_a_token_signed_elsewhere_gets_a_user_row_so_its_work_has_an_owner(
    http: aiohttp.ClientSession, infra: Infra
) -> None:
    """A Supabase-style token (our secret, no session here) for a user we never saw can create things."""
    user_id = str(uuid.uuid4())
    now = int(time.time())
    claims = {"sub": user_id, "aud": "authenticated", "email": f"{user_id}@supabase.test", "exp": now + 600}
    token = jwt.encode(claims, DEFAULT_DEV_JWT_SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post("/api/v1/conversations", json={}, headers=headers) as response:
        assert response.status == 201
    conn = await asyncpg.connect(infra.database_url)
    try:
        email = await conn.fetchval("SELECT email FROM users WHERE id = $1::uuid", user_id)
    finally:
        await conn.close()
    assert email == f"{user_id}@supabase.test"
