"""The response models behind /openapi.json: every JSON row has one, the document's references resolve, and
the reference's recorded 200 bodies validate against the model of the row that answers them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from compat_gateway.openapi import build_openapi
from compat_gateway.routes import ROUTES
from compat_gateway.routes.table import Relayed, Route
from tests.support.recorded import RECORDED_DIR, load

_ROW = re.compile(
    r"^\| `(?P<name>[^`]+)` \| `(?P<method>[A-Z]+) :18666(?P<path>[^` ?]*)[^`]*` \|.*\| HTTP/1\.1 200"
)


def _needs_model(route: Route) -> bool:
    return (
        not isinstance(route, Relayed) and route.status_code != 204 and route.media_type == "application/json"
    )


def _route_for(method: str, path: str) -> Route | None:
    for route in ROUTES:
        pattern = "^" + re.sub(r"{[^}]+}", "[^/]+", route.path) + "$"
        if route.method == method and re.match(pattern, path):
            return route
    return None


def _recorded_json_rows() -> list[tuple[str, Route]]:
    rows = []
    for line in (RECORDED_DIR / "INDEX.md").read_text().splitlines():
        match = _ROW.match(line)
        if match is None:
            continue
        route = _route_for(match["method"], match["path"] or "/")
        if route is None or not _needs_model(route):
            continue
        if "application/json" not in load(match["name"]).headers.get("content-type", ""):
            continue  # the SSE variant of a row whose request picks the format
        rows.append((match["name"], route))
    return rows


def test_every_json_row_has_a_response_model() -> None:
    assert [r.name for r in ROUTES if _needs_model(r) and r.response is None] == []
    # Only the non-JSON bodies go without: Prometheus text, and a download (the file in its own type).
    bare = [
        r.name for r in ROUTES if not isinstance(r, Relayed) and r.status_code != 204 and r.response is None
    ]
    assert sorted(bare) == ["assets_download", "metrics"]


def test_every_reference_in_the_document_resolves() -> None:
    document = build_openapi(ROUTES, title="t", version="1")
    schemas = document["components"]["schemas"]
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document))
    assert refs
    assert sorted(set(refs) - set(schemas)) == []
    for route in ROUTES:
        if route.response is not None:
            operation = document["paths"][route.path][route.method.lower()]
            content = operation["responses"][str(route.status_code)]["content"]["application/json"]
            assert content["schema"] == {"$ref": f"#/components/schemas/{route.response.__name__}"}


ROWS = _recorded_json_rows()


def test_the_recorded_bodies_cover_many_rows() -> None:
    assert len({route.name for _, route in ROWS}) >= 40


@pytest.mark.parametrize(("name", "route"), ROWS, ids=[name for name, _ in ROWS])
def test_a_recorded_body_validates_against_its_rows_model(name: str, route: Route) -> None:
    assert route.response is not None
    body: Any = load(name).json()
    route.response.model_validate(body)
