"""Usage and billing routes through the real shim: reference shapes, values computed from the records."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import aiohttp
import asyncpg
import jwt
import pytest

from gaia_services.settings import DEFAULT_DEV_JWT_SECRET
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY
from tests.support.recorded import load

KEY = {"X-API-Key": DEV_API_KEY}
_USAGE = "/api/v0.2/usage"


def shape(value: Any) -> Any:
    """Keys (in order) and JSON types, recursively; a list's shape is that of its first element."""
    if isinstance(value, dict):
        return ("object", tuple((k, shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", shape(value[0]) if value else None)
    return type(value).__name__


async def fresh_user(infra: Infra) -> dict[str, str]:
    """A new user (row + HS256 access token signed with the dev secret): a clean slate for usage figures."""
    user_id = str(uuid.uuid4())
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute("INSERT INTO users (id, email) VALUES ($1, $2)", user_id, f"{user_id}@usage.test")
    finally:
        await conn.close()
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": user_id,
            "aud": "authenticated",
            "email": f"{user_id}@usage.test",
            "iat": now,
            "exp": now + 3600,
        },
        DEFAULT_DEV_JWT_SECRET,
        algorithm="HS256",
    )
    return {"Authorization": f"Bearer {token}"}


async def call(
    http: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    async with http.request(
        method, path, headers={**headers, "Content-Type": "application/json"}, data=data
    ) as response:
        return response.status, json.loads(await response.read())


def wrapped(message: str) -> dict[str, str]:
    return {"detail": "Service error: " + json.dumps({"detail": message}, separators=(",", ":"))}


@pytest.mark.parametrize(
    ("path", "fixture"),
    [
        (f"{_USAGE}/current", "v02_usage_current"),
        (f"{_USAGE}/current?provider=dalle", "v02_usage_current_provider"),
        (f"{_USAGE}/limits", "v02_usage_limits"),
        (f"{_USAGE}/limits?provider=claude", "v02_usage_limits_provider"),
        (f"{_USAGE}/billing/current", "v02_usage_billing_current"),
        (f"{_USAGE}/history?days=3", "v02_usage_history"),
    ],
)
async def test_usage_routes_have_the_reference_shapes(
    http: aiohttp.ClientSession, infra: Infra, path: str, fixture: str
) -> None:
    user = await fresh_user(infra)
    status, _ = await call(
        http,
        "POST",
        f"{_USAGE}/log",
        user,
        {"provider": "claude", "operation": "text_completion", "cost": 0.5, "tokens": 10},
    )
    assert status == 200
    status, body = await call(http, "GET", path, user)
    assert status == 200
    recorded = load(fixture).json()
    if fixture == "v02_usage_billing_current":
        body["billing_alerts"] = recorded["billing_alerts"]  # no alert below 80% of a limit
    assert shape(body) == shape(recorded)


async def test_usage_log_has_the_reference_shape_and_jwt_callers_work(
    http: aiohttp.ClientSession, infra: Infra
) -> None:
    recorded = load("v02_usage_log").json()
    status, body = await call(
        http,
        "POST",
        f"{_USAGE}/log",
        KEY,
        {"provider": "dalle", "operation": "image_generation", "cost": 0.04},
    )
    assert status == 200
    assert shape(body) == shape(recorded)
    assert body["message"] == "Usage logged successfully" and body["cost_logged"] == 0.04
    status, body = await call(http, "GET", f"{_USAGE}/current", await fresh_user(infra))
    assert status == 200
    assert shape(body) == shape(load("jwt_v02_usage_current").json())
    assert body["total_cost"] == 0.0 and body["total_requests"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("GET", f"{_USAGE}/current?provider=nope", None, 404, "No usage data for provider: nope"),
        ("GET", f"{_USAGE}/history?days=0", None, 400, "days must be a positive number"),
        ("GET", f"{_USAGE}/history?days=1000000", None, 400, "days must be at most 3660"),
        (
            "POST",
            f"{_USAGE}/log",
            {"provider": "dalle", "operation": "image_generation"},
            400,
            "Missing required field: cost",
        ),
        (
            "POST",
            f"{_USAGE}/log",
            {"operation": "image_generation", "cost": 1},
            400,
            "Missing required field: provider",
        ),
        ("GET", f"{_USAGE}/reports/monthly?month=July", None, 400, "Invalid month format. Use YYYY-MM"),
    ],
)
async def test_client_mistakes_are_4xx(
    http: aiohttp.ClientSession, *, method: str, path: str, body: Any, status: int, message: str
) -> None:
    got, reply = await call(http, method, path, KEY, body)
    assert (got, reply) == (status, wrapped(message))


async def test_figures_are_the_sums_of_what_was_recorded_and_per_user(
    http: aiohttp.ClientSession, infra: Infra
) -> None:
    user = await fresh_user(infra)
    _, dev_before = await call(http, "GET", f"{_USAGE}/current", KEY)
    logs = [
        {"provider": "dalle", "operation": "image_generation", "cost": 0.04, "images": 1},
        {"provider": "claude", "operation": "text_completion", "cost": 0.105, "tokens": 2000},
        {"provider": "meshy", "operation": "text_to_3d", "cost": 0.2, "credits": 5},
    ]
    for entry in logs:
        status, _ = await call(http, "POST", f"{_USAGE}/log", user, entry)
        assert status == 200
    status, current = await call(http, "GET", f"{_USAGE}/current", user)
    assert status == 200
    assert (
        current["total_cost"],
        current["total_requests"],
        current["total_tokens"],
        current["total_images"],
    ) == (0.345, 3, 2000, 1)
    assert current["providers"]["dalle"] == {"cost": 0.04, "requests": 1, "images": 1}
    assert current["providers"]["claude"] == {"cost": 0.105, "requests": 1, "tokens": 2000}
    assert current["providers"]["meshy"] == {"cost": 0.2, "requests": 1, "models": 0}
    assert current["providers"]["openai_gpt"] == {"cost": 0.0, "requests": 0, "tokens": 0}

    _, history = await call(http, "GET", f"{_USAGE}/history?days=3", user)
    assert [d["total_cost"] for d in history["usage_history"]] == [0.0, 0.0, 0.345]
    assert history["summary"] == {
        "total_cost": 0.345,
        "total_requests": 3,
        "average_daily_cost": 0.115,
        "peak_cost_day": history["usage_history"][-1]["date"],
    }
    _, filtered = await call(http, "GET", f"{_USAGE}/history?days=2&provider=claude", user)
    assert filtered["provider_history"][-1] == {
        "date": history["usage_history"][-1]["date"],
        "provider": "claude",
        "cost": 0.105,
        "requests": 1,
    }

    _, limits = await call(http, "GET", f"{_USAGE}/limits", user)
    assert limits["limits"]["dalle"]["used_this_month"] == 1
    assert limits["limits"]["dalle"]["remaining"] == 14999
    assert limits["limits"]["meshy"]["credits_used"] == 5
    assert limits["limits"]["claude"]["tokens_used"] == 2000
    assert limits["limits"]["claude"]["cost_per_1k_tokens"] == 0.09

    _, bill = await call(http, "GET", f"{_USAGE}/billing/current", user)
    assert bill["current_charges"] == {
        "subscription_fees": 25.0,
        "usage_charges": 0.345,
        "overage_charges": 0.0,
        "total": 25.345,
    }

    month = history["usage_history"][-1]["date"][:7]
    _, report = await call(http, "GET", f"{_USAGE}/reports/monthly?month={month}", user)
    assert report["report_period"] == month
    assert report["summary"] == {
        "total_cost": 0.345,
        "total_requests": 3,
        "total_tokens": 2000,
        "total_images": 1,
        "total_3d_models": 0,
        "unique_operations": 3,
    }
    assert report["top_operations"][0] == {"operation": "text_to_3d", "cost": 0.2, "count": 1}
    assert shape(report) == shape(load("v02_usage_reports_monthly").json())
    _, old = await call(http, "GET", f"{_USAGE}/reports/monthly?month=2020-01", user)
    assert old["summary"]["total_requests"] == 0

    _, analytics = await call(http, "GET", "/api/v0.2/assets/pricing/analytics?provider=claude", user)
    assert analytics["total_cost"] == 0.345 and analytics["provider_cost"] == 0.105
    assert analytics["usage_metrics"] == {
        "total_images": 1,
        "total_3d_models": 0,
        "total_tokens": 2000,
        "total_credits": 5,
    }
    assert analytics["cost_trends"][-1]["daily_cost"] == 0.345

    _, dev_after = await call(http, "GET", f"{_USAGE}/current", KEY)
    assert dev_after["total_requests"] == dev_before["total_requests"]  # B's usage is not A's
