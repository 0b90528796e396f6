"""The web UI's only way to the system: the shim's public HTTP API, with the session's credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["Credentials", "ShimClient", "ShimError"]


class ShimError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Credentials:
    """What the session holds: a JWT from login, or (dev mode) an API key."""

    access_token: str = ""
    api_key: str = ""

    def headers(self) -> dict[str, str]:
        if self.access_token:
            return {"Authorization": f"Bearer {self.access_token}"}
        return {"X-API-Key": self.api_key} if self.api_key else {}


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    detail = body.get("detail", body.get("error", body)) if isinstance(body, dict) else body
    text = detail if isinstance(detail, str) else str(detail)
    if text.startswith("Service error: "):  # unwrap the legacy envelope for people
        inner = text.removeprefix("Service error: ")
        try:
            nested = httpx.Response(200, content=inner.encode()).json()
            return str(nested.get("detail", inner))
        except ValueError:
            return inner
    return text


class ShimClient:
    def __init__(self, *, http: httpx.AsyncClient) -> None:
        self._http = http

    async def _json(
        self, method: str, path: str, creds: Credentials | None = None, body: Mapping[str, Any] | None = None
    ) -> Any:
        response = await self._http.request(method, path, json=body, headers=creds.headers() if creds else {})
        if response.status_code >= 400:
            raise ShimError(response.status_code, _detail(response))
        return response.json() if response.content else None

    async def health(self) -> dict[str, Any]:
        return dict(await self._json("GET", "/health"))

    async def login(self, email: str, password: str) -> dict[str, Any]:
        return dict(
            await self._json("POST", "/api/v1/auth/login", body={"email": email, "password": password})
        )

    async def register(self, email: str, password: str) -> dict[str, Any]:
        return dict(
            await self._json("POST", "/api/v1/auth/register", body={"email": email, "password": password})
        )

    async def conversations(self, creds: Credentials) -> list[dict[str, Any]]:
        return list((await self._json("GET", "/api/v1/conversations", creds))["conversations"])

    async def new_conversation(self, creds: Credentials) -> dict[str, Any]:
        return dict(await self._json("POST", "/api/v1/conversations", creds, body={}))

    async def messages(self, creds: Credentials, conversation_id: str) -> list[dict[str, Any]]:
        return list(
            (await self._json("GET", f"/api/v1/conversations/{conversation_id}/messages", creds))["messages"]
        )

    async def current_persona(self, creds: Credentials) -> dict[str, Any]:
        return dict((await self._json("GET", "/api/v0.2/personas/current", creds))["persona"])

    async def stream_chat(
        self, creds: Credentials, conversation_id: str, message: str
    ) -> AsyncIterator[bytes]:
        """The shim's v0.3 SSE for one turn, relayed as it arrives."""
        body = {"message": message, "conversation_id": conversation_id, "stream": True}
        async with self._http.stream(
            "POST",
            "/api/v0.3/chat",
            json=body,
            headers=creds.headers(),
            timeout=httpx.Timeout(10.0, read=120.0),
        ) as response:
            if response.status_code >= 400:
                await response.aread()
                raise ShimError(response.status_code, _detail(response))
            async for chunk in response.aiter_raw():
                yield chunk
