"""Session fixtures: real infrastructure and one real mesh shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.infra import Infra, open_infra
from tests.support.mesh import Mesh, run_mesh


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
async def infra(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Infra]:
    async with open_infra(tmp_path_factory.mktemp("infra")) as value:
        yield value


@pytest.fixture(scope="session")
async def mesh(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    async with run_mesh(infra, tmp_path_factory.mktemp("mesh")) as value:
        yield value


@pytest.fixture
async def http(mesh: Mesh) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=mesh.http) as session:
        yield session


@pytest.fixture
def mesh_data(tmp_path: Path) -> Path:
    return tmp_path
