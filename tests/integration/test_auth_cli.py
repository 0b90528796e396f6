"""``gaia users create`` and ``gaia keys create|list|revoke`` against the running mesh, and the gaia.auth.*
events (plain JSON objects on NATS)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import uuid
from typing import Any

import aiohttp
import nats
import pytest
from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from grpc import aio

from tests.integration.test_auth_contract import _link_token, _mails
from tests.integration.test_auth_mesh import auth_http, auth_mesh
from tests.support.mesh import DEV_API_KEY, Mesh

__all__ = ["auth_http", "auth_mesh"]

PROTECTED = "/api/v1/conversations"


async def _gaia(mesh: Mesh, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gaia_services.cli",
        *args,
        env=dict(mesh.env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    return int(process.returncode or 0), out.decode()


async def test_cli_users_and_keys(auth_mesh: Mesh, auth_http: aiohttp.ClientSession) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@gaia.test"
    code, out = await _gaia(
        auth_mesh, "users", "create", "--email", email, "--password", "cli-secret-1", "--name", "Cli User"
    )
    assert code == 0, out
    assert re.match(rf"user [0-9a-f-]{{36}} {re.escape(email)}", out)
    code, out = await _gaia(auth_mesh, "users", "create", "--email", email, "--password", "cli-secret-1")
    assert (code, out.strip().splitlines()[-1]) == (1, "gaia: This email is already registered")

    async with auth_http.post(
        "/api/v1/auth/login", json={"email": email, "password": "cli-secret-1"}
    ) as response:
        assert response.status == 200  # the CLI's users are confirmed and can sign in

    code, out = await _gaia(
        auth_mesh, "keys", "create", "--email", email, "--name", "ci", "--expires-days", "5"
    )
    assert code == 0, out
    key_id, raw = re.findall(r"key id ([0-9a-f-]{36})\n(gaia_dev_[A-Za-z0-9]{32})\n", out)[0]
    async with auth_http.get(PROTECTED, headers={"X-API-Key": raw}) as response:
        assert response.status == 200

    code, out = await _gaia(auth_mesh, "keys", "list", "--email", email)
    assert code == 0 and key_id in out and "active" in out and raw not in out

    code, out = await _gaia(auth_mesh, "keys", "revoke", key_id)
    assert (code, out.strip().splitlines()[-1]) == (0, f"revoked {key_id}")
    started = time.monotonic()
    async with auth_http.get(PROTECTED, headers={"X-API-Key": raw}) as response:
        assert response.status == 403  # the cached key was dropped at once
    assert time.monotonic() - started < 1.0
    code, out = await _gaia(auth_mesh, "keys", "revoke", key_id)
    assert code == 1 and "API key not found" in out


async def test_auth_events_are_plain_json(auth_mesh: Mesh, auth_http: aiohttp.ClientSession) -> None:
    client = await nats.connect(auth_mesh.env["NATS_URL"])
    seen: list[tuple[str, Any]] = []

    async def record(msg: Any) -> None:
        seen.append((msg.subject, json.loads(msg.data)))

    await client.subscribe("gaia.auth.>", cb=record)
    await client.flush()
    try:
        email, password = f"ev-{uuid.uuid4().hex[:8]}@gaia.test", "event-pass-1"
        async with auth_http.post(
            "/api/v1/auth/register", json={"email": email, "password": password}
        ) as resp:
            assert resp.status == 200
        confirmation = _link_token(_mails(auth_mesh, email)[-1])
        async with auth_http.get(
            "/api/v1/auth/confirm", params={"token": confirmation, "email": email}
        ) as resp:
            assert resp.status == 200
        async with auth_http.post("/api/v1/auth/login", json={"email": email, "password": password}) as resp:
            session = (await resp.json())["session"]
        async with auth_http.post(
            "/api/v1/auth/logout", headers={"Authorization": f"Bearer {session['access_token']}"}
        ) as resp:
            assert resp.status == 200
        bearer = (("authorization", f"Bearer {session['access_token']}"),)
        async with aio.insecure_channel(auth_mesh.addrs["auth"]) as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)
            with pytest.raises(aio.AioRpcError):  # logged out: the token no longer works
                await stub.CreateApiKey(auth_pb2.CreateApiKeyRequest(name="x"), metadata=bearer, timeout=5)
            dev = (("x-api-key", DEV_API_KEY),)
            created = await stub.CreateApiKey(
                auth_pb2.CreateApiKeyRequest(name="ev"), metadata=dev, timeout=5
            )
            key_id = created.api_key.id
            await stub.RevokeApiKey(auth_pb2.RevokeApiKeyRequest(api_key_id=key_id), metadata=dev, timeout=5)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not any(s == "gaia.auth.api_key.revoked" for s, _ in seen):
            await asyncio.sleep(0.05)
    finally:
        await client.drain()
    subjects = [s for s, _ in seen]
    for subject in (
        "gaia.auth.registered",
        "gaia.auth.login",
        "gaia.auth.logout",
        "gaia.auth.session.revoked",
        "gaia.auth.api_key.created",
        "gaia.auth.api_key.revoked",
    ):
        assert subject in subjects
    for _, payload in seen:
        assert isinstance(payload, dict)
        assert session["access_token"] not in json.dumps(payload)
    login = next(p for s, p in seen if s == "gaia.auth.login")
    assert login["session_id"] == next(p for s, p in seen if s == "gaia.auth.logout")["session_id"]
    assert next(p for s, p in seen if s == "gaia.auth.api_key.revoked")["api_key_id"] == key_id
    registered = next(p for s, p in seen if s == "gaia.auth.registered")
    assert registered["email"] == email and registered["confirmation_required"] is True
