"""Session fixtures: real infrastructure and one real mesh shared by the integration tests."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.fake_assets import FakeAssetProviders
from tests.support.fake_llm import FakeLLM
from tests.support.infra import Infra, open_infra
from tests.support.mesh import Mesh, run_mesh


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
async def infra() -> AsyncIterator[Infra]:
    # Not under pytest's basetemp: as root the embedded PostgreSQL runs as another account, and any other
    # pytest session started meanwhile re-locks /tmp/pytest-of-root to 0700 (seen: PANIC on pg_control).
    with tempfile.TemporaryDirectory(prefix="gaia-test-infra-") as folder:
        async with open_infra(Path(folder)) as value:
            yield value


@pytest.fixture(scope="session")
async def fake_llm() -> AsyncIterator[FakeLLM]:
    fake = FakeLLM()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="session")
async def fake_assets() -> AsyncIterator[FakeAssetProviders]:
    fake = FakeAssetProviders()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="session")
async def mesh(
    infra: Infra, fake_llm: FakeLLM, fake_assets: FakeAssetProviders, tmp_path_factory: pytest.TempPathFactory
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
