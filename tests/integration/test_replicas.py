"""Scale-out on one machine: two shims and two chat services (one auth, one asset), every one a real
process against the same Postgres, Redis and NATS, as two pods each would run (see docs/scaling.md).

Shim 0 reaches chat 0 and shim 1 reaches chat 1 (each names both, its own first), so traffic spread over
the two shims is spread over the two chat services. Then: the shim's rate limit holds across both shims
(the limit, not twice the limit), a revoked API key is refused by both within a second, a persona chosen
through one is the one the other sees, and a stream finishes while the other chat replica is killed (and
the other shim carries on over the surviving chat replica).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.integration.chat_helpers import mint, sse_events
from tests.support.infra import Infra
from tests.support.replicas import Replicas, run_replicas

ROOT_LIMIT = 8
TOKEN_DELAY_S = 0.1
SHIMS = ("shim0", "shim1")


@pytest.fixture(scope="module")
async def replicas(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Replicas]:
    env = {
        "GAIA_ROOT_RATE_LIMIT_PER_MINUTE": str(ROOT_LIMIT),
        "GAIA_AUTH_RATE_LIMIT_PER_MINUTE": "100000",
        "GAIA_CHAT_LOCAL_TOKEN_DELAY_S": str(TOKEN_DELAY_S),
    }
    async with run_replicas(infra, tmp_path_factory.mktemp("replicas"), extra_env=env) as value:
        yield value


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


async def _user(infra: Infra) -> dict[str, str]:
    email = f"replicas-{uuid.uuid4().hex[:10]}@example.test"
    conn = await asyncpg.connect(infra.database_url)
    try:
        user_id = str(
            await conn.fetchval("INSERT INTO users (email, name) VALUES ($1, 'R') RETURNING id", email)
        )
    finally:
        await conn.close()
    return {"Authorization": f"Bearer {mint(user_id, email)}"}


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    async with http.request(method, url, headers=headers, json=body) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


def _text(events: list[Any]) -> str:
    """The streamed reply: every OpenAI-style delta's content, in order."""
    return "".join(
        choice.get("delta", {}).get("content", "")
        for event in events
        if isinstance(event, dict)
        for choice in event.get("choices", ())
    )


async def test_the_shim_rate_limit_holds_across_both_shims(
    replicas: Replicas, http: aiohttp.ClientSession
) -> None:
    statuses: dict[str, list[int]] = {shim: [] for shim in SHIMS}
    for i in range(2 * ROOT_LIMIT):  # alternating: each shim alone would allow all of its share
        shim = SHIMS[i % 2]
        async with http.get(f"{replicas.url(shim)}/") as response:
            statuses[shim].append(response.status)
    every = [s for shim in SHIMS for s in statuses[shim]]
    assert every.count(200) == ROOT_LIMIT and every.count(429) == ROOT_LIMIT, statuses
    assert all(200 in statuses[shim] and 429 in statuses[shim] for shim in SHIMS), statuses


async def test_a_revoked_api_key_is_refused_by_both_shims_within_a_second(
    replicas: Replicas, http: aiohttp.ClientSession, infra: Infra
) -> None:
    owner = await _user(infra)
    status, created = await _call(
        http, "POST", f"{replicas.url('shim0')}/api/v1/auth/keys", owner, {"name": "replicas"}
    )
    assert status == 201, created
    by_key = {"X-API-Key": created["api_key"]}
    for shim in SHIMS:  # used (and so cached) through both, before the revocation
        for _ in range(2):
            status, _body = await _call(
                http, "GET", f"{replicas.url(shim)}/api/v0.2/personas/current", by_key
            )
            assert status == 200, (shim, _body)

    status, _ = await _call(
        http, "DELETE", f"{replicas.url('shim1')}/api/v1/auth/keys/{created['key']['id']}", owner
    )
    assert status == 200
    revoked_at = time.monotonic()
    refused: dict[str, float] = {}
    while len(refused) < len(SHIMS) and time.monotonic() - revoked_at < 3.0:
        for shim in set(SHIMS) - set(refused):
            status, _ = await _call(http, "GET", f"{replicas.url(shim)}/api/v0.2/personas/current", by_key)
            if status == 403:
                refused[shim] = time.monotonic() - revoked_at
        await asyncio.sleep(0.05)
    assert set(refused) == set(SHIMS) and max(refused.values()) < 1.0, refused
    for shim in SHIMS:  # and it stays refused
        status, _ = await _call(http, "GET", f"{replicas.url(shim)}/v1/models", by_key)
        assert status == 401


async def test_a_persona_chosen_through_one_replica_is_seen_by_the_other(
    replicas: Replicas, http: aiohttp.ClientSession, infra: Infra
) -> None:
    caller = await _user(infra)
    urls = [replicas.url(shim) for shim in SHIMS]
    for url in urls:  # both chat replicas have read (and cached) the current persona
        status, before = await _call(http, "GET", f"{url}/api/v0.2/personas/current", caller)
        assert status == 200, before
    name = f"Replica-{uuid.uuid4().hex[:6]}"
    persona = {"name": name, "description": "seen everywhere", "system_prompt": "You are everywhere."}
    status, created = await _call(http, "POST", f"{urls[0]}/api/v0.2/personas", caller, persona)
    assert status in (200, 201), created
    persona_id = created["persona"]["id"]
    status, chosen = await _call(
        http, "POST", f"{urls[0]}/api/v0.2/personas/set", caller, {"persona_id": persona_id}
    )
    assert status == 200, chosen
    changed_at = time.monotonic()
    while True:
        status, seen = await _call(http, "GET", f"{urls[1]}/api/v0.2/personas/current", caller)
        assert status == 200, seen
        if seen["persona"]["name"] == name:
            break
        assert time.monotonic() - changed_at < 1.0, seen
        await asyncio.sleep(0.05)
    change = {"description": "changed through the other replica"}
    status, _ = await _call(http, "PUT", f"{urls[1]}/api/v0.2/personas/{persona_id}", caller, change)
    assert status == 200
    status, seen = await _call(http, "GET", f"{urls[0]}/api/v0.2/personas/current", caller)
    assert (status, seen["persona"]["description"]) == (200, change["description"])


async def test_a_stream_finishes_when_the_other_chat_replica_is_killed(
    replicas: Replicas, http: aiohttp.ClientSession, infra: Infra
) -> None:
    caller = await _user(infra)
    words = [f"w{i}" for i in range(20)]
    body = {"message": " ".join(words), "model": "gaia-local"}
    started = time.monotonic()
    async with http.post(
        f"{replicas.url('shim0')}/api/v0.2/chat/stream", headers=caller, json=body
    ) as response:
        assert response.status == 200
        first = await response.content.readline()  # the stream is running on chat0
        assert first.startswith(b"data: ")
        replicas.kill("chat1")
        raw = first + await response.read()
    took = time.monotonic() - started
    events = sse_events(raw)
    assert events[-1] == "[DONE]" and _text(events).split() == ["echo:", *words], events[-3:]
    assert took >= TOKEN_DELAY_S * len(words) * 0.8  # it really was streaming while chat1 died

    # The other shim, whose chat replica died, carries on over the surviving one.
    async with http.post(
        f"{replicas.url('shim1')}/api/v0.2/chat/stream", headers=caller, json=body
    ) as response:
        assert response.status == 200
        events = sse_events(await response.read())
    assert _text(events).split() == ["echo:", *words]
