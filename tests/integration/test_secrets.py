# ruff: noqa: E501, PLR0915, ASYNC240 (scenario tables and one-pass scenario tests)
"""Secrets (issue 13 §5): traffic with known passwords, API keys, JWTs and refresh tokens (sign-up, login,
refresh, chat streams and unary calls by JWT and by key, a failed login, key creation and validation,
logout), then a grep of every log line of every process (their output and the files under the data
folder), every response body and header, and every NATS payload published meanwhile: zero hits."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiohttp
import nats
import pytest

from tests.support.mesh import DEV_API_KEY, Mesh
from tests.support.reliability import Figures


def _mail_token(mesh: Mesh, email: str) -> str | None:
    import re

    for path in sorted((mesh.data_dir / "mail").glob("*")):
        text = path.read_text(errors="replace")
        if email in text:
            found = re.search(r"token=([A-Za-z0-9._~%-]+)", text)
            if found:
                return found.group(1)
    return None


@pytest.mark.timeout(120)
async def test_no_secret_in_logs_responses_or_events(mesh: Mesh) -> None:
    figures = Figures()
    seen: list[tuple[frozenset[str], bytes]] = []  # every response's headers and body, with what it issued
    payloads: list[bytes] = []
    bus = await nats.connect(mesh.env["NATS_URL"])

    async def keep(message: nats.aio.msg.Msg) -> None:
        payloads.append(message.data)

    await bus.subscribe("gaia.>", cb=keep)
    email, password = f"secret-{uuid.uuid4().hex[:8]}@gaia.test", "pw-" + uuid.uuid4().hex
    secrets: dict[str, str] = {"password": password}

    async def call(
        http: aiohttp.ClientSession, method: str, path: str, issues: tuple[str, ...] = (), **kw: object
    ) -> dict:
        async with http.request(method, path, **kw) as response:  # type: ignore[arg-type]
            body = await response.read()
            head = b"\n".join(f"{k}: {v}".encode() for k, v in response.headers.items())
            seen.append((frozenset(issues), head + b"\n" + body))
            figures.requests += 1
            try:
                import json

                value = json.loads(body)
                return value if isinstance(value, dict) else {}
            except ValueError:
                return {}

    async with aiohttp.ClientSession(base_url=mesh.http) as http:
        await call(http, "POST", "/api/v1/auth/register", json={"email": email, "password": password})
        token = _mail_token(mesh, email)
        if token:
            await call(http, "POST", "/api/v1/auth/confirm", json={"token": token, "email": email})
        login = await call(
            http,
            "POST",
            "/api/v1/auth/login",
            ("access_token", "refresh_token"),
            json={"email": email, "password": password},
        )
        session = login["session"]
        secrets["access_token"], secrets["refresh_token"] = session["access_token"], session["refresh_token"]
        bearer = {"Authorization": f"Bearer {session['access_token']}"}
        await call(http, "POST", "/api/v1/auth/login", json={"email": email, "password": password + "-wrong"})
        renewed = await call(
            http,
            "POST",
            "/api/v1/auth/refresh",
            ("renewed_access", "renewed_refresh"),
            json={"refresh_token": session["refresh_token"]},
        )
        secrets["renewed_access"] = renewed["session"]["access_token"]
        secrets["renewed_refresh"] = renewed["session"]["refresh_token"]
        bearer = {"Authorization": f"Bearer {secrets['renewed_access']}"}
        created = await call(
            http, "POST", "/api/v1/auth/keys", ("api_key",), headers=bearer, json={"name": "secret test"}
        )
        secrets["api_key"] = created["api_key"]
        key = {"X-API-Key": secrets["api_key"]}
        for headers in (bearer, key):
            await call(http, "POST", "/api/v0.2/chat/stream", headers=headers,
                       json={"message": "hello there", "model": "gaia-local"})  # fmt: skip
            await call(
                http, "POST", "/api/v0.3/chat", headers=headers, json={"message": "hi", "model": "gaia-local"}
            )
            await call(http, "GET", "/api/v1/conversations", headers=headers)
            await call(http, "GET", "/api/v0.2/usage/current", headers=headers)
            figures.streams += 1
        await call(http, "POST", "/api/v1/auth/validate", json={"api_key": secrets["api_key"]})
        await call(http, "POST", "/api/v1/chat", headers=key, json={"message": ""})  # a 422 echoing its input
        await call(http, "POST", "/api/v1/auth/login", json={"email": email})  # a 422 without the password
        await call(http, "POST", "/v1/chat/completions", headers={"Authorization": f"Bearer {secrets['api_key']}"},
                   json={"model": "gaia-local", "messages": [{"role": "user", "content": "x"}]})  # fmt: skip
        await call(http, "POST", "/api/v1/auth/logout", headers=bearer,
                   json={"refresh_token": secrets["renewed_refresh"]})  # fmt: skip
        await call(http, "POST", "/api/v1/auth/refresh", json={"refresh_token": secrets["renewed_refresh"]})
    await asyncio.sleep(0.5)  # let the last log lines and events arrive
    await bus.drain()

    logs = "\n".join(mesh.log)
    files = [p for p in Path(mesh.data_dir).rglob("*") if p.is_file() and "mail" not in p.parts]
    hits: list[str] = []
    for name, secret in secrets.items():
        needle = secret.encode()
        if secret in logs:
            hits.append(f"{name} in the mesh's output")
        for path in files:
            if needle in path.read_bytes():
                hits.append(f"{name} in {path.relative_to(mesh.data_dir)}")
        hits += [
            f"{name} in a response" for issued, answer in seen if needle in answer and name not in issued
        ]
        hits += [f"{name} in a NATS payload" for payload in payloads if needle in payload]
    figures.inputs = len(secrets)
    figures.extra = {"log_lines": len(mesh.log), "log_files": len(files), "nats_payloads": len(payloads)}
    figures.record(
        area="secrets",
        scenario="known secrets grepped everywhere",
        done=f"{len(secrets)} secrets (password, access and refresh tokens, renewed ones, an API key) used in "
        f"{figures.requests} requests; grepped {len(mesh.log)} log lines, {len(files)} files, "
        f"{len(seen)} responses, {len(payloads)} NATS payloads",
        held="zero hits" if not hits else "FAILED: " + "; ".join(sorted(set(hits))[:5]),
    )
    assert DEV_API_KEY not in logs.replace(f"dev API key {DEV_API_KEY}", "")
    assert sorted(set(hits)) == []
