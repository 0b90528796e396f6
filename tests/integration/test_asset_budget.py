"""The per-user monthly generation budget, on a mesh of its own with a small limit: once the next generation
would pass it, the answer is 429 and no provider is called; other users and cheaper requests still pass."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.integration.test_asset import GENERATE, call, counts, fresh_user, wrapped
from tests.support.fake_assets import FakeAssetProviders
from tests.support.infra import Infra
from tests.support.mesh import Mesh, run_mesh

MONTHLY = 0.30  # dollars per user per month; a Meshy model costs 0.20, a standard DALL-E image 0.04


@pytest.fixture(scope="module")
async def budget_mesh(
    infra: Infra, fake_assets: FakeAssetProviders, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Mesh]:
    env = {**fake_assets.env(), "GAIA_ASSET_USER_MONTHLY_BUDGET": str(MONTHLY)}
    async with run_mesh(infra, tmp_path_factory.mktemp("budgetmesh"), extra_env=env) as value:
        yield value


@pytest.fixture
async def budget_http(budget_mesh: Mesh) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=budget_mesh.http) as session:
        yield session


def prop(session: str | None = None) -> dict[str, str]:
    """A Meshy 3D model (0.20), each time in a new budget session unless one is given."""
    return {
        "category": "prop",
        "style": "realistic",
        "description": "a monthly chair",
        "session_id": session or str(uuid.uuid4()),
    }


async def test_the_monthly_user_budget_stops_generation_before_the_provider(
    budget_http: aiohttp.ClientSession, budget_mesh: Mesh, infra: Infra, fake_assets: FakeAssetProviders
) -> None:
    user = await fresh_user(infra)
    status, asset = await call(budget_http, "POST", GENERATE, user, prop())
    assert (status, asset["cost"]) == (200, 0.2)

    calls, before = len(fake_assets.calls), await counts(infra, user, budget_mesh)
    # 0.20 + 0.20 > 0.30, in a fresh session (so the 0.50 session budget is not what refuses it).
    got, body = await call(budget_http, "POST", GENERATE, user, prop())
    assert (got, body) == (429, wrapped("Monthly generation budget exceeded for this user"))
    assert len(fake_assets.calls) == calls
    assert await counts(infra, user, budget_mesh) == before

    # What still fits does pass: a standard image (0.04) brings the month to 0.24.
    image = {"category": "image", "style": "realistic", "description": "a cheap cube"}
    status, asset = await call(budget_http, "POST", GENERATE, user, image)
    assert (status, asset["cost"]) == (200, 0.04)
    assert len(fake_assets.calls) == calls + 1

    # Another user has a budget of their own.
    status, _ = await call(budget_http, "POST", GENERATE, await fresh_user(infra), prop())
    assert status == 200


async def test_a_refused_generation_gives_the_budget_nothing_back_to_spend(
    budget_http: aiohttp.ClientSession, infra: Infra, fake_assets: FakeAssetProviders
) -> None:
    user = await fresh_user(infra)
    assert (await call(budget_http, "POST", GENERATE, user, prop()))[0] == 200
    for _ in range(2):  # refusals do not consume the budget: the month stays at 0.20
        assert (await call(budget_http, "POST", GENERATE, user, prop()))[0] == 429
    # A failed generation releases its reservation: a failing image (0.04 reserved) then a passing one.
    image = {"category": "image", "style": "realistic", "description": "a FAIL cube"}
    assert (await call(budget_http, "POST", GENERATE, user, image))[0] == 503
    for _ in range(2):  # 0.20 + 0.04 + 0.04 = 0.28 <= 0.30
        status, _ = await call(budget_http, "POST", GENERATE, user, {**image, "description": "a fine cube"})
        assert status == 200
    got, body = await call(budget_http, "POST", GENERATE, user, {**image, "description": "one too many"})
    assert (got, body) == (429, wrapped("Monthly generation budget exceeded for this user"))
