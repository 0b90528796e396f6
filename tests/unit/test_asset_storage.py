"""Local disk storage: streamed reads in bounded chunks, deletes, and no escape from its root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gaia_services.asset.storage import LocalStorage, content_type_for
from gaia_services.runtime.errors import NotFound


async def test_put_streamed_open_and_delete(tmp_path: Path) -> None:
    store = LocalStorage(root=tmp_path / "assets")
    data = os.urandom(150_000)
    await store.put("generated/image/a.png", data, "image/png")
    assert [p.name for p in (tmp_path / "assets" / "generated" / "image").iterdir()] == ["a.png"]
    async with store.open("generated/image/a.png") as blob:
        assert blob.size == len(data)
        pieces = [piece async for piece in blob.chunks(65536)]
    assert [len(p) for p in pieces] == [65536, 65536, 150_000 - 2 * 65536]
    assert b"".join(pieces) == data == await store.get("generated/image/a.png")
    await store.delete("generated/image/a.png")
    with pytest.raises(NotFound):
        async with store.open("generated/image/a.png"):
            pass
    await store.delete("generated/image/a.png")  # already gone: fine
    await store.close()


async def test_keys_cannot_leave_the_root(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("no")
    store = LocalStorage(root=tmp_path / "assets")
    for key in ("../secret.txt", "generated/../../secret.txt"):
        with pytest.raises(NotFound):
            await store.get(key)
        with pytest.raises(NotFound):
            async with store.open(key):
                pass


def test_content_types() -> None:
    assert [content_type_for(f) for f in ("PNG", "wav", "gltf", "glb", "xyz")] == [
        "image/png",
        "audio/wav",
        "model/gltf+json",
        "model/gltf-binary",
        "application/octet-stream",
    ]
