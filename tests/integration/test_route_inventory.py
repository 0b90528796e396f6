"""Route completeness: every route of CONTRACT §1 is in the one table exactly once, and answers."""

from __future__ import annotations

import json
from collections import Counter

import aiohttp
import pytest

from compat_gateway.routes import ROUTES
from compat_gateway.routes.table import Relayed
from tests.support.mesh import DEV_API_KEY
from tests.support.recorded import RECORDED_DIR

OUT_OF_SCOPE = {("GET", "/api/v1/filesystem"), ("POST", "/api/v1/filesystem/read")}
DECEMBER = {
    ("POST", "/api/v1/conversations"),
    ("GET", "/api/v1/conversations"),
    ("GET", "/api/v1/conversations/{conversation_id}"),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"),
    ("DELETE", "/api/v1/conversations/{conversation_id}"),
    ("POST", "/api/v0.3/chat"),
    ("GET", "/api/v0.3/conversations"),
    ("POST", "/api/v0.3/conversations"),
    *{
        ("POST", f"/api/v0.3/auth/{op}")
        for op in ("login", "register", "logout", "validate", "refresh", "confirm", "resend-verification")
    },
}
NEW = {("POST", "/v1/chat/completions"), ("GET", "/v1/models")}


def _reference() -> set[tuple[str, str]]:
    raw = (RECORDED_DIR / "openapi_json.txt").read_bytes().split(b"\r\n\r\n", 1)[1]
    paths = json.loads(raw)["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def _shape(path: str) -> str:
    """A path with its parameter names erased, so `{id}` and `{conversation_id}` compare equal."""
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


EXPECTED = {(m, _shape(p)) for m, p in (_reference() - OUT_OF_SCOPE) | DECEMBER | NEW}


def test_the_reference_inventory_has_75_routes() -> None:
    assert len(_reference()) == 75


def test_every_contract_route_is_in_the_table_exactly_once() -> None:
    table = Counter((route.method, _shape(route.path)) for route in ROUTES)
    duplicated = sorted(key for key, count in table.items() if count > 1)
    missing = sorted(EXPECTED - set(table))
    assert duplicated == []
    assert missing == []
    assert not {(m, _shape(p)) for m, p in OUT_OF_SCOPE} & set(table)


@pytest.mark.parametrize(("method", "path"), [*sorted(OUT_OF_SCOPE), ("GET", "/api/v0.3/locations/nearby")])
async def test_out_of_scope_routes_are_404(http: aiohttp.ClientSession, method: str, path: str) -> None:
    async with http.request(method, path, headers={"X-API-Key": DEV_API_KEY}) as response:
        assert response.status == 404
        assert await response.json() == {"detail": "Not Found"}


async def test_every_route_answers_without_framework_404_or_405(http: aiohttp.ClientSession) -> None:
    """Each route, called with the dev key, is routed: no framework 404/405 (domain 404s carry a detail)."""
    wrong: list[str] = []
    for route in ROUTES:
        path = route.path.replace("{", "x").replace("}", "")
        if isinstance(route, Relayed) or route.path.endswith(("/generate", "/chat", "/completions")):
            continue  # answered by the chat/asset contract tests; no work is started here
        async with http.request(route.method, path, headers={"X-API-Key": DEV_API_KEY}) as response:
            body = await response.read()
            if response.status == 405 or (response.status == 404 and body == b'{"detail":"Not Found"}'):
                wrong.append(f"{route.method} {route.path} -> {response.status}")
    assert wrong == []
