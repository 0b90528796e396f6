"""The web UI's only way to the system: the shim's public HTTP API, with the session's credentials.

Every failure comes out as one of two exceptions: ``ShimError`` (the shim answered with an error status; its
``detail`` is the readable reason, unwrapped from the legacy ``Service error: {...}`` envelope) or
``ShimUnreachable`` (no answer at all).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["Credentials", "ShimClient", "ShimError", "ShimUnreachable", "readable_detail"]

#: Streams may stay quiet while a model thinks or an asset renders; a read may wait this long.
STREAM_READ_TIMEOUT_S = 300.0


class ShimError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail

    @property
    def credentials_refused(self) -> bool:
        """The shim no longer accepts the caller's credentials (expired, revoked): the session is over."""
        return self.status == 401 or (self.status == 403 and self.detail == "Could not validate credentials")


class ShimUnreachable(Exception):
    """The shim did not answer (connection refused, timeout)."""


@dataclass(frozen=True)
class Credentials:
    """What a request carries: the session's JWT, or (the dev sign-in) an API key."""

    access_token: str = ""
    api_key: str = ""

    def headers(self) -> dict[str, str]:
        if self.access_token:
            return {"Authorization": f"Bearer {self.access_token}"}
        return {"X-API-Key": self.api_key} if self.api_key else {}


def _text(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):  # FastAPI's validation items
        return "; ".join(
            str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail
        )
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("detail") or detail)
    return str(detail)


def readable_detail(body: bytes) -> str:
    """The reason in an error body, for people: ``detail`` or ``error`` (the OpenAI object's ``message``),
    with the legacy ``Service error: {"detail": ...}`` envelope opened."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode(errors="replace").strip() or "No details"
    if not isinstance(data, dict):
        return _text(data)
    text = _text(data.get("detail", data.get("error", data)))
    if text.startswith("Service error: "):
        inner = text.removeprefix("Service error: ")
        try:
            nested = json.loads(inner)
        except ValueError:
            return inner
        return _text(nested.get("detail", inner)) if isinstance(nested, dict) else inner
    return text


class ShimClient:
    def __init__(self, *, http: httpx.AsyncClient) -> None:
        self._http = http

    async def call(
        self,
        method: str,
        path: str,
        creds: Credentials | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """One JSON call; the decoded body (None when empty)."""
        try:
            response = await self._http.request(
                method, path, json=body, params=params, headers=creds.headers() if creds else {}
            )
        except httpx.TransportError as exc:
            raise ShimUnreachable(str(exc) or type(exc).__name__) from exc
        if response.status_code >= 400:
            raise ShimError(response.status_code, readable_detail(response.content))
        return response.json() if response.content else None

    @asynccontextmanager
    async def stream(
        self, path: str, creds: Credentials, body: Mapping[str, Any]
    ) -> AsyncIterator[httpx.Response]:
        """A streamed POST, open while the caller reads it; leaving the block closes the request upstream."""
        timeout = httpx.Timeout(10.0, read=STREAM_READ_TIMEOUT_S)
        try:
            async with self._http.stream(
                "POST", path, json=body, headers=creds.headers(), timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    raise ShimError(response.status_code, readable_detail(await response.aread()))
                yield response
        except httpx.TransportError as exc:
            raise ShimUnreachable(str(exc) or type(exc).__name__) from exc

    @asynccontextmanager
    async def download(self, path: str, creds: Credentials) -> AsyncIterator[httpx.Response]:
        """A streamed GET of a stored file."""
        try:
            async with self._http.stream("GET", path, headers=creds.headers()) as response:
                if response.status_code >= 400:
                    raise ShimError(response.status_code, readable_detail(await response.aread()))
                yield response
        except httpx.TransportError as exc:
            raise ShimUnreachable(str(exc) or type(exc).__name__) from exc
