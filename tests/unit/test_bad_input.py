"""Hostile JSON through the shim's input path, in process on fake services (issue 13): JSON nested thousands
deep is the route's 422 (OpenAI's 400 on /v1), never a RecursionError's 500; the depth limit is exact; and
the walks over a decoded body never recurse."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from compat_gateway.inbound import MAX_JSON_DEPTH, _too_deep, _unstorable
from tests.support.fake_services import GOOD_KEY, FakeMesh, fake_mesh

HEADERS = {"X-API-Key": GOOD_KEY, "Content-Type": "application/json"}
ROUTES = ("/api/v0.2/chat", "/api/v0.2/chat/stream", "/api/v1/chat", "/api/v0.3/chat", "/api/v0.2/personas")
TOO_DEEP = f"JSON decode error: nested more than {MAX_JSON_DEPTH} levels"


@pytest.fixture(scope="module")
async def mesh() -> AsyncIterator[FakeMesh]:
    async with fake_mesh() as running:
        yield running


def _array(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _inside_message(depth: int) -> str:
    """An object body whose field ``x`` nests objects so that the whole body is ``depth`` levels deep."""
    inner = depth - 1
    return '{"message":"tokens:a","x":' + '{"a":' * inner + "1" + "}" * inner + "}"


async def _post(mesh: FakeMesh, path: str, raw: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(mesh.url) as http,
        http.post(path, data=raw, headers=HEADERS) as response,
    ):
        return response.status, await response.read()


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("depth", [10_000, 100_000, MAX_JSON_DEPTH + 1])
@pytest.mark.parametrize("shape", [_array, _inside_message])
async def test_json_nested_too_deep_is_a_422(mesh: FakeMesh, path: str, depth: int, shape: object) -> None:
    assert callable(shape)
    status, body = await _post(mesh, path, shape(depth))
    assert status == 422, body[:300]
    assert b"json_invalid" in body and TOO_DEEP.encode() in body
    assert b"Traceback" not in body and b"Recursion" not in body


@pytest.mark.parametrize("depth", [10_000, MAX_JSON_DEPTH + 1])
async def test_the_openai_door_answers_its_400(mesh: FakeMesh, depth: int) -> None:
    status, body = await _post(mesh, "/v1/chat/completions", _array(depth))
    assert status == 400
    assert b'"type":"invalid_request_error"' in body


async def test_a_body_at_the_limit_is_served(mesh: FakeMesh) -> None:
    status, body = await _post(mesh, "/api/v0.2/chat/stream", _inside_message(MAX_JSON_DEPTH))
    assert status == 200, body[:300]
    assert body.startswith(b"data: ")


async def test_the_shim_keeps_serving_after_deep_bodies(mesh: FakeMesh) -> None:
    for _ in range(3):
        assert (await _post(mesh, "/api/v0.2/chat", _array(50_000)))[0] == 422
    status, _ = await _post(mesh, "/api/v0.2/chat/stream", '{"message":"tokens:a,b"}')
    assert status == 200


def test_the_walks_are_iterative() -> None:
    deep: object = "ok"
    for _ in range(50_000):  # far past the interpreter's recursion limit
        deep = [deep]
    assert _too_deep(deep)
    assert _unstorable(deep, ["body"]) is None
    bad: object = "a\x00b"
    for key in range(3):
        bad = {f"k{key}": bad}
    assert _unstorable({"fine": "x", "bad": bad}, ["body"]) == ["body", "bad", "k2", "k1", "k0"]
    assert _unstorable({"x\x00": 1}, ["body"]) == ["body"]
    assert not _too_deep({"a": [{"b": [1]}]})
