# ruff: noqa: E501 (scenario tables and one-pass scenario tests)
"""Bad input by hand, through the real mesh (issue 13 §2): oversized and deep bodies, invalid UTF-8, wrong
content types, a 64 KiB header, absurd numbers, NaN and infinities, traversal and NUL in ids and names,
injection strings, forged, expired and orphaned JWTs, revoked, expired and malformed API keys.

Every answer is a 4xx of the contract (or a 200 where the input is merely odd, e.g. a SQL string as a chat
message, which is text like any other), within a few seconds, and no body carries an internal message.
The client sees: the route's error body; what is stored: nothing for a refused request."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import jwt
import pytest

from gaia_services.auth.accounts import Accounts
from gaia_services.auth.api_keys import hash_key
from gaia_services.settings import DEFAULT_DEV_JWT_SECRET
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh
from tests.support.reliability import Figures

KEY = {"X-API-Key": DEV_API_KEY}
JSON = {**KEY, "Content-Type": "application/json"}
#: Text that would betray an internal failure if it reached a client.
INTERNAL = (
    b"Traceback",
    b'File "',
    b"RecursionError",
    b"asyncpg",
    b"psycopg",
    b"_pb2",
    b"grpc.",
    b"StatusCode.",
)
INJECTIONS = (
    "'; DROP TABLE users; --",
    "1' OR '1'='1",
    "{{7*7}}",
    "${7*7}",
    "<%= 7*7 %>",
    "{% raw %}{{config}}{% endraw %}",
    "${jndi:ldap://127.0.0.1/a}",
    "<script>alert(1)</script>",
)
TRAVERSAL = ("..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc", "a%00b", "%00", "x" * 300, "%C0%AE%C0%AE")


@dataclass
class Case:
    name: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=lambda: dict(KEY))
    data: bytes | None = None
    expect: tuple[int, ...] = (400, 401, 403, 404, 405, 413, 422)


def _mint(claims: dict[str, Any], *, key: str = DEFAULT_DEV_JWT_SECRET, alg: str = "HS256") -> str:
    now = int(time.time())
    base = {
        "sub": str(uuid.uuid4()),
        "email": "x@gaia.test",
        "aud": "authenticated",
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode({**base, **claims}, key, algorithm=alg)


def _alg_none(user_id: str) -> str:
    return _mint({"sub": user_id}, key="", alg="none")


async def _prepare_keys(infra: Infra) -> dict[str, str]:
    """Fresh API keys in Postgres: one revoked, one expired (both before any use, so nothing is cached),
    and a deleted user's JWT."""
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=2)
    try:
        accounts = Accounts(pool=pool, env="dev")
        user = await accounts.create_user(
            email=f"bad-{uuid.uuid4().hex[:8]}@gaia.test", password_hash=None, name="B"
        )
        revoked = await accounts.create_key(user_id=user, name="revoked")
        expired = await accounts.create_key(user_id=user, name="expired")
        await pool.execute("UPDATE api_keys SET is_active = false WHERE key_hash = $1", hash_key(revoked.raw))
        await pool.execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 hour' WHERE key_hash = $1",
            hash_key(expired.raw),
        )
        gone = await accounts.create_user(
            email=f"gone-{uuid.uuid4().hex[:8]}@gaia.test", password_hash=None, name="G"
        )
        await pool.execute("DELETE FROM users WHERE id = $1::uuid", gone)
        dev = str(await pool.fetchval("SELECT id FROM users WHERE email = 'dev@gaia.local'"))
    finally:
        await pool.close()
    return {"revoked": revoked.raw, "expired": expired.raw, "gone": gone, "dev": dev}


def _cases(keys: dict[str, str]) -> list[Case]:
    big = b'{"message":"' + b"a" * (5 * 1024 * 1024) + b'"}'
    deep = b"[" * 10_000 + b"]" * 10_000
    cases = [
        Case("5 MiB body", "POST", "/api/v0.2/chat", dict(JSON), big, (413,)),
        Case("5 MiB body, v1 door", "POST", "/v1/chat/completions", dict(JSON), big, (413,)),
        Case("JSON 10,000 deep", "POST", "/api/v0.2/chat", dict(JSON), deep, (422,)),
        Case(
            "JSON 10,000 deep in a field",
            "POST",
            "/api/v0.2/personas",
            dict(JSON),
            b'{"name":"n","personality_traits":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_001,
            (422,),
        ),
        Case("JSON 10,000 deep, v0.3", "POST", "/api/v0.3/chat", dict(JSON), deep, (422,)),
        Case("JSON 10,000 deep, OpenAI door", "POST", "/v1/chat/completions", dict(JSON), deep, (400,)),
        Case("invalid UTF-8", "POST", "/api/v0.2/chat", dict(JSON), b'{"message":"\xff\xfe\xc3"}', (422,)),
        Case("invalid UTF-8, v1", "POST", "/api/v1/chat", dict(JSON), b'{"message":"\xc0\xaf"}', (422,)),
        Case("lone surrogate", "POST", "/api/v0.2/chat", dict(JSON), b'{"message":"\\ud800"}', (422,)),
        Case("NUL in message", "POST", "/api/v0.2/chat", dict(JSON), b'{"message":"a\\u0000b"}', (422,)),
        Case("not JSON", "POST", "/api/v0.2/chat", dict(JSON), b"message=hello", (422,)),
        Case("empty body", "POST", "/api/v0.2/chat", dict(JSON), b"", (422,)),
        Case("JSON array body", "POST", "/api/v0.2/chat", dict(JSON), b"[1,2]", (422,)),
        Case("NaN", "POST", "/api/v0.2/chat", dict(JSON), b'{"message":NaN}', (422,)),
        Case(
            "Infinity as a model",
            "POST",
            "/api/v0.2/chat",
            dict(JSON),
            b'{"message":"hi","model":Infinity}',
            (422,),
        ),
        Case(
            "NaN temperature, v1",
            "POST",
            "/v1/chat/completions",
            dict(JSON),
            b'{"model":"gaia-local","messages":[{"role":"user","content":"hi"}],"temperature":NaN}',
            (400,),
        ),
        Case(
            "-Infinity top_p, v1",
            "POST",
            "/v1/chat/completions",
            dict(JSON),
            b'{"model":"gaia-local","messages":[{"role":"user","content":"hi"}],"top_p":-Infinity}',
            (400,),
        ),
        Case(
            "huge max_tokens",
            "POST",
            "/v1/chat/completions",
            dict(JSON),
            b'{"model":"gaia-local","messages":[{"role":"user","content":"hi"}],"max_tokens":'
            + b"9" * 40
            + b"}",
            (400,),
        ),
        Case(
            "negative max_tokens",
            "POST",
            "/v1/chat/completions",
            dict(JSON),
            b'{"model":"gaia-local","messages":[{"role":"user","content":"hi"}],"max_tokens":-5}',
            (400,),
        ),
        Case(
            "huge max_response_time_ms",
            "POST",
            "/api/v1/chat",
            dict(JSON),
            b'{"message":"hi","model":"gaia-local","max_response_time_ms":' + b"9" * 40 + b"}",
            (200, 422),
        ),
        Case(
            "huge estimate quantity",
            "POST",
            "/api/v0.2/assets/pricing/cost-estimator/estimate",
            dict(JSON),
            b'{"provider":"openai","quantity":1e400}',
            (400, 422),
        ),
        Case(
            "negative usage tokens",
            "POST",
            "/api/v0.2/usage/log",
            dict(JSON),
            b'{"provider":"openai","operation":"x","tokens":-1,"input_tokens":-9e18}',
            (200, 400, 422),
        ),
        Case(
            "text/plain body",
            "POST",
            "/api/v0.2/chat",
            {**KEY, "Content-Type": "text/plain"},
            b'{"message":"hi","model":"gaia-local"}',
            (200, 415, 422),
        ),
        Case(
            "form body",
            "POST",
            "/api/v0.2/personas",
            {**KEY, "Content-Type": "application/x-www-form-urlencoded"},
            b"name=x&description=y",
            (415, 422),
        ),
        Case(
            "multipart body",
            "POST",
            "/api/v1/auth/login",
            {"Content-Type": "multipart/form-data; boundary=zz"},
            b'--zz\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--zz--\r\n',
            (400, 415, 422),
        ),
        Case(
            "64 KiB header",
            "GET",
            "/api/v0.2/personas/current",
            {**KEY, "X-Junk": "a" * 65536},
            None,
            (200, 400, 431),
        ),
        Case(
            "64 KiB API key",
            "GET",
            "/api/v0.2/personas/current",
            {"X-API-Key": "k" * 65536},
            None,
            (400, 403, 431),
        ),
        Case(
            "64 KiB bearer",
            "GET",
            "/api/v0.2/personas/current",
            {"Authorization": "Bearer " + "a." * 32768},
            None,
            (400, 401, 431),
        ),
        # credentials
        Case(
            "alg none JWT",
            "GET",
            "/api/v1/conversations",
            {"Authorization": f"Bearer {_alg_none(keys['dev'])}"},
            None,
            (401,),
        ),
        Case(
            "JWT with a wrong key",
            "GET",
            "/api/v1/conversations",
            {"Authorization": f"Bearer {_mint({'sub': keys['dev']}, key='k' * 40)}"},
            None,
            (401,),
        ),
        Case(
            "JWT with our issuer and no session",
            "GET",
            "/api/v1/conversations",
            {
                "Authorization": f"Bearer {_mint({'sub': keys['dev'], 'iss': 'gaia', 'session_id': str(uuid.uuid4())})}"
            },
            None,
            (401,),
        ),
        Case(
            "JWT with a wrong issuer and a wrong key",
            "GET",
            "/api/v1/conversations",
            {"Authorization": f"Bearer {_mint({'iss': 'https://evil.example'}, key='e' * 40)}"},
            None,
            (401,),
        ),
        Case(
            "JWT with the wrong audience",
            "GET",
            "/api/v1/conversations",
            {"Authorization": f"Bearer {_mint({'sub': keys['dev'], 'aud': 'other'})}"},
            None,
            (401,),
        ),
        Case(
            "expired JWT",
            "GET",
            "/api/v1/conversations",
            {"Authorization": f"Bearer {_mint({'sub': keys['dev'], 'exp': int(time.time()) - 60})}"},
            None,
            (401,),
        ),
        Case(
            "JWT of a deleted user",
            "GET",
            "/api/v1/conversations",
            {"Authorization": f"Bearer {_mint({'sub': keys['gone']})}"},
            None,
            (200, 401, 403),
        ),
        Case(
            "JWT whose sub is not a uuid",
            "GET",
            "/api/v1/conversations",
            {"Authorization": f"Bearer {_mint({'sub': '../../etc'})}"},
            None,
            (401,),
        ),
        Case(
            "garbage bearer", "GET", "/api/v1/conversations", {"Authorization": "Bearer a.b.c"}, None, (401,)
        ),
        Case("revoked API key", "GET", "/api/v1/conversations", {"X-API-Key": keys["revoked"]}, None, (403,)),
        Case("expired API key", "GET", "/api/v1/conversations", {"X-API-Key": keys["expired"]}, None, (403,)),
        Case(
            "malformed API key", "GET", "/api/v1/conversations", {"X-API-Key": "gaia_dev_'; --"}, None, (403,)
        ),
        Case("unicode API key", "GET", "/api/v1/conversations", {"X-API-Key": "kéy☃"}, None, (403,)),
        Case(
            "revoked key, OpenAI door",
            "GET",
            "/v1/models",
            {"Authorization": f"Bearer {keys['revoked']}"},
            None,
            (401,),
        ),
    ]
    for text in INJECTIONS:
        body = ('{"message":' + _json(text) + ',"model":"gaia-local"}').encode()
        cases.append(
            Case(f"injection as a message: {text}", "POST", "/api/v0.2/chat", dict(JSON), body, (200,))
        )
        cases.append(
            Case(f"injection as an id: {text}", "GET", f"/api/v1/conversations/{_quote(text)}", expect=(404,))
        )
        cases.append(
            Case(
                f"injection as a persona: {text}", "GET", f"/api/v0.2/personas/{_quote(text)}", expect=(404,)
            )
        )
        cases.append(
            Case(
                f"injection in a query: {text}",
                "GET",
                f"/api/v0.2/usage/history?days={_quote(text)}",
                expect=(400, 422),
            )
        )
    for raw in TRAVERSAL:
        for path in (
            "/api/v1/assets/{}",
            "/api/v1/assets/{}/download",
            "/api/v1/conversations/{}/messages",
            "/api/v0.2/personas/{}",
            "/api/v0.2/models/{}",
            "/api/v0.2/providers/{}",
        ):
            cases.append(Case(f"id {raw[:20]} in {path}", "GET", path.format(raw), expect=(404, 422)))
        cases.append(
            Case(
                f"asset name {raw[:20]}",
                "POST",
                "/api/v0.2/personas",
                dict(JSON),
                ('{"name":' + _json(raw.replace("%00", "\\u0000")) + ',"description":"d"}').encode(),
                (200, 409, 422),
            )
        )
    return cases


def _json(text: str) -> str:
    import json

    return json.dumps(text)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


async def _send(http: aiohttp.ClientSession, case: Case) -> tuple[int, bytes, float]:
    started = time.monotonic()
    async with http.request(case.method, case.path, headers=case.headers, data=case.data) as response:
        return response.status, await response.read(), time.monotonic() - started


async def _run(mesh: Mesh, cases: list[Case], figures: Figures) -> list[str]:
    problems: list[str] = []
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(base_url=mesh.http, timeout=timeout) as http:
        for case in cases:
            figures.inputs += 1
            figures.requests += 1
            try:
                status, body, took = await _send(http, case)
            except TimeoutError:
                figures.hangs += 1
                problems.append(f"{case.name}: no answer within 20 s")
                continue
            except aiohttp.ClientError as exc:  # a closed connection is an answer too, but not a contract one
                problems.append(f"{case.name}: {type(exc).__name__}")
                continue
            if status >= 500:
                figures.server_errors += 1
            if status not in case.expect:
                problems.append(f"{case.name}: {status} {body[:200]!r}")
            if any(marker in body for marker in INTERNAL):
                problems.append(f"{case.name}: internal text on the wire {body[:200]!r}")
            if took > 15:
                figures.hangs += 1
                problems.append(f"{case.name}: took {took:.1f}s")
        # the shim still answers normally afterwards
        async with http.get("/api/v0.2/personas/current", headers=KEY) as response:
            assert response.status == 200
    return problems


@pytest.mark.timeout(240)
async def test_hostile_requests_get_the_contracts_4xx(mesh: Mesh, infra: Infra) -> None:
    figures = Figures()
    cases = _cases(await _prepare_keys(infra))
    problems = await _run(mesh, cases, figures)
    await asyncio.sleep(0.3)
    log = "\n".join(mesh.log)
    assert "RecursionError" not in log
    figures.record(
        area="bad input",
        scenario="hostile requests by hand",
        done=f"{figures.inputs} crafted requests: 5 MiB, 10,000-deep JSON, invalid UTF-8, wrong content types, "
        "64 KiB headers, NaN/Infinity/huge/negative numbers, traversal and NUL in ids and names, SQL and "
        "template injection, forged/expired/orphaned JWTs, revoked/expired/malformed keys",
        held="every answer the contract's 4xx (or 200 for harmless text), no internal text, no hang"
        if not problems
        else "FAILED: " + "; ".join(problems[:5]),
    )
    assert problems == [], "\n".join(problems)
