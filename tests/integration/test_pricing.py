"""Pricing and cost-estimator routes through the real shim, compared with the recorded reference."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.support.mesh import DEV_API_KEY
from tests.support.recorded import load, normalise

KEY = {"X-API-Key": DEV_API_KEY}
_PRICING = "/api/v0.2/assets/pricing"


def shape(value: Any) -> Any:
    """Keys (in order) and JSON types, recursively; a list's shape is that of its first element."""
    if isinstance(value, dict):
        return ("object", tuple((k, shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", shape(value[0]) if value else None)
    return type(value).__name__


async def _get(http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> tuple[int, bytes, str]:
    async with http.request(method, path, headers=KEY, **kwargs) as response:
        return response.status, await response.read(), response.headers.get("content-type", "")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "fixture"),
    [
        ("GET", f"{_PRICING}/current?provider=dalle", {}, "v02_pricing_current_dalle"),
        ("GET", f"{_PRICING}/providers", {}, "v02_pricing_providers"),
        (
            "POST",
            f"{_PRICING}/cost-estimator/estimate",
            {"data": b'{"provider":"dalle","quantity":5,"quality":"standard"}'},
            "v02_estimate_dalle_x5_standard",
        ),
        (
            "POST",
            f"{_PRICING}/cost-estimator/estimate",
            {"data": b'{"provider":"claude","estimated_tokens":2000}'},
            "v02_estimate_claude_tokens",
        ),
        (
            "POST",
            f"{_PRICING}/cost-estimator/estimate",
            {"data": b'{"provider":"meshy","operation":"text_to_3d","quantity":2}'},
            "v02_estimate_meshy",
        ),
        (
            "POST",
            f"{_PRICING}/cost-estimator/estimate",
            {"data": b'{"provider":"stability","quality":"hd","quantity":3}'},
            "v02_estimate_stability_hd",
        ),
        ("GET", f"{_PRICING}/cost-estimator/dalle-tiers", {}, "v02_estimate_dalle_tiers"),
        ("GET", f"{_PRICING}/cost-estimator/meshy-packages", {}, "v02_estimate_meshy_packages"),
        (
            "GET",
            f"{_PRICING}/cost-estimator/provider-comparison?operation=image_generation&quantity=10",
            {},
            "v02_provider_comparison_image",
        ),
        (
            "GET",
            f"{_PRICING}/cost-estimator/provider-comparison?operation=text_completion&quantity=2",
            {},
            "v02_provider_comparison_text",
        ),
        (
            "GET",
            f"{_PRICING}/cost-estimator/provider-comparison?operation=3d",
            {},
            "v02_provider_comparison_other",
        ),
        ("GET", f"{_PRICING}/cost-estimator/provider-comparison", {}, "v02_provider_comparison_missing_422"),
        ("GET", f"{_PRICING}/current", {}, "v02_pricing_current_missing_422"),
    ],
)
async def test_pricing_routes_answer_the_recorded_bodies(
    http: aiohttp.ClientSession, method: str, path: str, kwargs: dict[str, Any], fixture: str
) -> None:
    recorded = load(fixture)
    status, body, content_type = await _get(http, method, path, **kwargs)
    assert status == recorded.status
    assert content_type == "application/json"
    assert normalise(json.loads(body)) == normalise(recorded.json())
    if recorded.status == 422 or "dalle-tiers" in path or "meshy-packages" in path:
        assert body == recorded.body  # byte for byte


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "message"),
    [
        ("GET", f"{_PRICING}/current?provider=nope", None, 404, "Pricing not found for provider: nope"),
        ("POST", f"{_PRICING}/update?provider=nope", None, 404, "Provider not found: nope"),
        (
            "GET",
            f"{_PRICING}/analytics?start_date=0001-01-01&end_date=2026-01-01",
            None,
            400,
            "The period must be at most 3660 days",
        ),
        (
            "POST",
            f"{_PRICING}/cost-estimator/estimate",
            b'{"provider":"nope"}',
            400,
            "Valid provider required",
        ),
        ("POST", f"{_PRICING}/cost-estimator/estimate", b"{}", 400, "Valid provider required"),
    ],
)
async def test_client_mistakes_are_4xx_with_the_reference_message(
    http: aiohttp.ClientSession, *, method: str, path: str, data: bytes | None, status: int, message: str
) -> None:
    got, body, _ = await _get(http, method, path, data=data)
    assert got == status
    assert json.loads(body) == {
        "detail": "Service error: " + json.dumps({"detail": message}, separators=(",", ":"))
    }


async def test_pricing_update_reloads_and_keeps_the_reference_shape(http: aiohttp.ClientSession) -> None:
    recorded = load("v02_pricing_update")
    for data in (None, b"{}"):  # a body is accepted and ignored
        status, body, _ = await _get(http, "POST", f"{_PRICING}/update?provider=dalle", data=data)
        assert status == 200
        reply = json.loads(body)
        assert shape(reply) == shape(recorded.json())
        assert reply["message"] == "Pricing update triggered for dalle"
        assert reply["provider"] == "dalle"
    status, body, _ = await _get(http, "GET", f"{_PRICING}/current?provider=dalle")
    assert status == 200


async def test_pricing_analytics_has_the_reference_shape(http: aiohttp.ClientSession) -> None:
    for query, fixture in (
        ("", "v02_pricing_analytics"),
        ("?provider=dalle&start_date=2025-07-01&end_date=2025-07-03", "v02_pricing_analytics_provider"),
    ):
        recorded = load(fixture).json()
        status, body, _ = await _get(http, "GET", f"{_PRICING}/analytics{query}")
        assert status == 200
        reply = json.loads(body)
        assert list(reply) == list(recorded)
        assert list(reply["cost_breakdown"])[:0] == []
        assert shape(reply["usage_metrics"]) == shape(recorded["usage_metrics"])
        assert shape(reply["cost_trends"]) == shape(recorded["cost_trends"])
        assert isinstance(reply["total_cost"], float)
    assert reply["period"] == {"start_date": "2025-07-01", "end_date": "2025-07-03"}
    assert [d["date"] for d in reply["cost_trends"]] == ["2025-07-01", "2025-07-02", "2025-07-03"]
    assert reply["filtered_provider"] == "dalle"
