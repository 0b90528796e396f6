"""Session fixtures: real infrastructure and one real mesh shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.fake_assets import FakeAssetProviders
from tests.support.fake_llm import FakeLLM
from tests.support.fixtures import fake_assets, fake_llm, infra  # noqa: F401 (shared fixtures)
from tests.support.infra import Infra
from tests.support.mesh import Mesh, run_mesh


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
async def mesh(
    infra: Infra,  # noqa: F811 (the shared fixtures imported above, requested by name)
    fake_llm: FakeLLM,  # noqa: F811
    fake_assets: FakeAssetProviders,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Mesh]:
    """One real mesh for the session, its providers pointed at the local fakes."""
    env = {**fake_llm.env(), **fake_assets.env()}
    async with run_mesh(infra, tmp_path_factory.mktemp("mesh"), extra_env=env) as value:
        yield value


@pytest.fixture
async def http(mesh: Mesh) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=mesh.http) as session:
        yield session


@pytest.fixture
def mesh_data(tmp_path: Path) -> Path:
    return tmp_path
