"""Session fixtures shared by the integration and browser suites: real infrastructure and the local fake
providers. Each suite's conftest imports them (and builds its own ``mesh`` with its own settings)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.fake_assets import FakeAssetProviders
from tests.support.fake_llm import FakeLLM
from tests.support.infra import Infra, open_infra

__all__ = ["fake_assets", "fake_llm", "infra"]


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
