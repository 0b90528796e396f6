"""Where generated files live: local disk under the data folder by default, or an S3-compatible bucket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

from gaia_services.runtime.errors import NotFound

__all__ = ["CONTENT_TYPES", "Blob", "LocalStorage", "Storage", "content_type_for"]

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "gltf": "model/gltf+json",
    "glb": "model/gltf-binary",
    "obj": "model/obj",
    "fbx": "application/octet-stream",
}


def content_type_for(file_format: str) -> str:
    return CONTENT_TYPES.get(file_format.lower(), "application/octet-stream")


class Blob(Protocol):
    """A stored object being read: its size, then its bytes in chunks of at most ``size`` bytes."""

    @property
    def size(self) -> int: ...

    def chunks(self, size: int) -> AsyncGenerator[bytes, None]: ...


class Storage(Protocol):
    """A flat key → bytes store. ``kind`` is the legacy storage_type ("local", "s3").

    ``open`` streams an object (``NotFound`` when there is none); ``close`` releases connections.
    """

    @property
    def kind(self) -> str: ...

    @property
    def bucket(self) -> str: ...

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    def open(self, key: str) -> contextlib.AbstractAsyncContextManager[Blob]: ...

    async def close(self) -> None: ...


def _safe(root: Path, key: str) -> Path:
    path = (root / key).resolve()
    if root.resolve() not in path.parents:
        raise NotFound("Asset file not found")
    return path


class _FileBlob:
    def __init__(self, *, handle: BinaryIO, size: int) -> None:
        self._handle = handle
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    async def chunks(self, size: int) -> AsyncGenerator[bytes, None]:
        while piece := await asyncio.to_thread(self._handle.read, size):
            yield piece


class LocalStorage:
    def __init__(self, *, root: Path, bucket: str = "assets") -> None:
        self._root = root
        self._bucket = bucket

    @property
    def kind(self) -> str:
        return "local"

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def root(self) -> Path:
        return self._root

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, _safe(self._root, key), data)

    async def get(self, key: str) -> bytes:
        path = _safe(self._root, key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise NotFound("Asset file not found") from exc

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(_safe(self._root, key).unlink, missing_ok=True)

    @contextlib.asynccontextmanager
    async def open(self, key: str) -> AsyncIterator[Blob]:
        path = _safe(self._root, key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise NotFound("Asset file not found") from exc
        try:
            size = os.fstat(handle.fileno()).st_size
            yield _FileBlob(handle=handle, size=size)
        finally:
            await asyncio.to_thread(handle.close)

    async def close(self) -> None:
        return None
