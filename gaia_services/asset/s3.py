"""An S3-compatible object store behind the ``Storage`` protocol: SigV4-signed PUT, streamed GET and DELETE
over aiohttp, with timeouts and a few retries of idempotent calls.

Path-style addressing (``<endpoint>/<bucket>/<key>``) by default, as MinIO, Ceph and most S3 lookalikes
expect; virtual-hosted (``<bucket>.<host>/<key>``) when configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from gaia_services.asset.sigv4 import SigningKey, canonical_uri, sha256_hex, sign
from gaia_services.asset.storage import Blob
from gaia_services.runtime.errors import NotFound, Unavailable

__all__ = ["S3Storage"]

_log = logging.getLogger("gaia.asset.s3")
_ERROR_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")
UNAVAILABLE = "Asset storage unavailable"
MISSING = "Asset file not found"


class _ResponseBlob:
    def __init__(self, *, response: aiohttp.ClientResponse) -> None:
        self._response = response

    @property
    def size(self) -> int:
        return self._response.content_length or 0

    async def chunks(self, size: int) -> AsyncGenerator[bytes, None]:
        try:
            async for piece in self._response.content.iter_chunked(size):
                yield piece
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.warning("S3 read of %s broke off: %r", self._response.url, exc)
            raise Unavailable(UNAVAILABLE) from exc


class S3Storage:
    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        key: SigningKey,
        path_style: bool = True,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        retries: int = 2,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"S3 endpoint must be an http(s) URL, got {endpoint!r}")
        self._scheme = parts.scheme
        self._host = parts.netloc if path_style else f"{bucket}.{parts.netloc}"
        prefix = parts.path.rstrip("/")
        self._prefix = f"{prefix}/{bucket}" if path_style else prefix
        self._bucket = bucket
        self._key = key
        self._retries = max(0, retries)
        self._write_timeout = aiohttp.ClientTimeout(total=timeout_s, connect=connect_timeout_s)
        self._read_timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=timeout_s)
        self._session = session
        self._owned = session is None

    @property
    def kind(self) -> str:
        return "s3"

    @property
    def bucket(self) -> str:
        return self._bucket

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        return self._session

    async def close(self) -> None:
        if self._owned and self._session is not None:
            await self._session.close()
            self._session = None

    async def _send(
        self,
        method: str,
        key: str,
        *,
        timeout: aiohttp.ClientTimeout,
        data: bytes = b"",
        content_type: str | None = None,
    ) -> aiohttp.ClientResponse:
        """The response of the first attempt that is neither a connection error, a timeout nor a 5xx (the
        last attempt's answer otherwise). The caller releases it."""
        path = f"{self._prefix}/{key}"
        url = URL(f"{self._scheme}://{self._host}{canonical_uri(path)}", encoded=True)
        extra = {"content-type": content_type} if content_type else {}
        payload_hash = sha256_hex(data)
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            headers = sign(
                self._key, method=method, host=self._host, path=path, headers=extra, payload_hash=payload_hash
            )
            try:
                response = await self._client().request(
                    method, url, headers=headers, data=data or None, timeout=timeout
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                _log.warning("S3 %s %s failed (attempt %d): %r", method, key, attempt + 1, exc)
                if last:
                    raise Unavailable(UNAVAILABLE) from exc
            else:
                if response.status < 500 or last:
                    return response
                response.release()
                _log.warning("S3 %s %s answered %d (attempt %d)", method, key, response.status, attempt + 1)
            await asyncio.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _failure(self, method: str, key: str, response: aiohttp.ClientResponse) -> Unavailable:
        body = b""
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            body = await response.content.read(4096)
        match = _ERROR_CODE.search(body)
        code = match.group(1).decode(errors="replace") if match else "?"
        _log.error("S3 %s %s answered %d (%s)", method, key, response.status, code)
        return Unavailable(UNAVAILABLE)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        response = await self._send(
            "PUT", key, timeout=self._write_timeout, data=data, content_type=content_type
        )
        try:
            if response.status != 200:
                raise await self._failure("PUT", key, response)
        finally:
            response.release()

    async def delete(self, key: str) -> None:
        response = await self._send("DELETE", key, timeout=self._write_timeout)
        try:
            if response.status not in (200, 204, 404):
                raise await self._failure("DELETE", key, response)
        finally:
            response.release()

    @contextlib.asynccontextmanager
    async def open(self, key: str) -> AsyncIterator[Blob]:
        response = await self._send("GET", key, timeout=self._read_timeout)
        try:
            if response.status == 404:
                raise NotFound(MISSING)
            if response.status != 200:
                raise await self._failure("GET", key, response)
            yield _ResponseBlob(response=response)
        finally:
            response.release()

    async def get(self, key: str) -> bytes:
        async with self.open(key) as blob:
            return b"".join([piece async for piece in blob.chunks(64 * 1024)])
