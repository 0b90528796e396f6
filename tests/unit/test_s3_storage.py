"""The S3 storage backend against a local fake S3 that checks every SigV4 signature with its own code."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator

import pytest

from gaia_services.asset.s3 import S3Storage
from gaia_services.asset.sigv4 import SigningKey
from gaia_services.runtime.errors import NotFound, Unavailable
from tests.support.fake_s3 import FakeS3


@pytest.fixture
async def fake() -> AsyncIterator[FakeS3]:
    server = FakeS3()
    await server.start()
    yield server
    await server.stop()


def storage(fake: FakeS3, *, secret: str | None = None, **options: object) -> S3Storage:
    return S3Storage(
        endpoint=fake.endpoint,
        bucket=str(options.pop("bucket", "gaia-assets")),
        key=SigningKey(access_key=fake.access_key, secret_key=secret or fake.secret_key, region=fake.region),
        **options,  # type: ignore[arg-type]
    )


async def test_put_streamed_get_and_delete_round_trip(fake: FakeS3) -> None:
    store = storage(fake)
    data = os.urandom(200 * 1024 + 7)
    key = "generated/image/a b+c~.png"  # encoded on the wire; the fake's canonical form must agree
    try:
        await store.put(key, data, "image/png")
        assert fake.objects["gaia-assets/" + key] == (data, "image/png")
        async with store.open(key) as blob:
            assert blob.size == len(data)
            pieces = [piece async for piece in blob.chunks(64 * 1024)]
        assert b"".join(pieces) == data and all(len(p) <= 64 * 1024 for p in pieces) and len(pieces) >= 4
        assert await store.get(key) == data
        await store.delete(key)
        assert fake.keys() == []
        with pytest.raises(NotFound):
            await store.get(key)
        await store.delete(key)  # deleting what is gone is fine
        await store.put("empty.bin", b"", "application/octet-stream")
        assert await store.get("empty.bin") == b""
    finally:
        await store.close()
    assert [status for _, _, status in fake.log] == [200, 200, 200, 204, 404, 204, 200, 200]


async def test_a_bad_secret_is_refused_and_nothing_is_stored(fake: FakeS3) -> None:
    store = storage(fake, secret="not-the-secret")
    try:
        with pytest.raises(Unavailable):
            await store.put("generated/x.png", b"data", "image/png")
        with pytest.raises(Unavailable):
            await store.get("generated/x.png")
    finally:
        await store.close()
    assert fake.objects == {}
    assert [status for _, _, status in fake.log] == [403, 403]


async def test_server_errors_are_retried_then_reported(fake: FakeS3) -> None:
    store = storage(fake, retries=1)
    try:
        fake.fail_next = 1
        await store.put("k", b"v", "text/plain")
        assert fake.keys() == ["k"]
        fake.fail_next = 2
        with pytest.raises(Unavailable):
            await store.put("k2", b"v", "text/plain")
    finally:
        await store.close()
    assert [status for _, _, status in fake.log] == [500, 200, 500, 500]
    assert fake.keys() == ["k"]


async def test_a_slow_store_times_out(fake: FakeS3) -> None:
    store = storage(fake, timeout_s=0.2, retries=0)
    fake.delay_s = 1.0
    started = time.monotonic()
    try:
        with pytest.raises(Unavailable):
            await store.put("slow", b"v", "text/plain")
    finally:
        await store.close()
    assert time.monotonic() - started < 1.5


async def test_an_unknown_bucket_is_not_a_success(fake: FakeS3) -> None:
    store = storage(fake, bucket="nope")
    try:
        with pytest.raises(Unavailable):
            await store.put("k", b"v", "text/plain")
        with pytest.raises(NotFound):
            await store.get("k")
    finally:
        await store.close()
    assert fake.objects == {}


def test_the_endpoint_must_be_an_http_url() -> None:
    with pytest.raises(ValueError, match="http"):
        S3Storage(
            endpoint="s3.example.com", bucket="b", key=SigningKey(access_key="a", secret_key="s", region="r")
        )
