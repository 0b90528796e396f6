"""What a page handler gets: the request, the shim client with the caller's credentials, and small helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from web import csrf
from web.session import signed_in
from web.shim_client import Credentials, ShimClient, ShimError

__all__ = ["Page", "View"]


@dataclass
class View:
    request: Request
    shim: ShimClient
    creds: Credentials | None
    dev: bool

    @property
    def session(self) -> Any:
        return self.request.session

    @property
    def csrf(self) -> str:
        return csrf.token(self.session)

    @property
    def email(self) -> str:
        return str(self.session.get("email", ""))

    @property
    def signed_in(self) -> bool:
        return signed_in(self.session)

    def param(self, name: str) -> str:
        return str(self.request.path_params.get(name) or self.request.query_params.get(name, ""))

    async def form(self) -> dict[str, str]:
        data = await self.request.form()
        return {k: v for k, v in data.items() if isinstance(v, str)}

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """A shim call as the signed-in caller."""
        return await self.shim.call(method, path, self.creds, body=body, params=params)

    async def act(
        self, method: str, path: str, *, body: Mapping[str, Any] | None = None, done: str, failed: str = ""
    ) -> Any:
        """A state-changing call whose outcome is told as a notice on the next page: ``done``, or
        ``failed`` followed by the shim's reason. Returns the answer, or None when it failed. Refused
        credentials are not a notice: they end the session (raised on)."""
        try:
            answer = await self.call(method, path, body=body)
        except ShimError as exc:
            if exc.credentials_refused:
                raise
            self.flash(f"{failed}{exc.detail}", "error")
            return None
        self.flash(done)
        return answer if answer is not None else True

    def flash(self, text: str, kind: str = "info") -> None:
        """A notice shown once, on the next page rendered."""
        self.session["flash"] = {"text": text, "kind": kind}

    def take_flash(self) -> dict[str, str] | None:
        value = self.session.pop("flash", None)
        return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Page:
    """One row of the UI's route table. ``public`` rows are served to anonymous visitors; every other row
    sends them to ``/login`` (303). Every row but GET requires the session's CSRF token."""

    method: str
    path: str
    handler: Callable[[View], Awaitable[Any]]
    public: bool = False
