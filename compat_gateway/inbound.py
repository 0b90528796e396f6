"""One inbound HTTP request as the generic handler sees it: path, query, body, credentials, shim state."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

from compat_gateway.errors import LegacyError
from compat_gateway.ratelimit import client_key
from gaia_services.runtime.calls import new_request_id
from gaia_services.runtime.principal import Credentials

if TYPE_CHECKING:
    from compat_gateway.shim import Shim

__all__ = ["Inbound"]


def _json_error(msg: str, raw: bytes) -> LegacyError:
    return LegacyError(422, {"detail": [{"type": "json_invalid", "loc": ["body", 0], "msg": msg,
                                         "input": {}}]})


@dataclass
class Inbound:
    request: Request
    shim: Shim
    request_id: str = field(default_factory=new_request_id)
    _body: Any = None
    _read: bool = False

    @property
    def path_params(self) -> dict[str, str]:
        return dict(self.request.path_params)

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params)  # repeated keys: the last wins, as in the reference

    @property
    def credentials(self) -> Credentials:
        return Credentials.from_metadata(self.request.headers.items())

    @property
    def client_key(self) -> str:
        return client_key(self.request)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (*self.credentials.as_metadata(), ("x-request-id", self.request_id))

    async def json(self) -> Any:
        """The parsed body, or None when there is none; malformed JSON is a 422, never a 500."""
        if not self._read:
            raw = await self.request.body()
            self._read = True
            if raw.strip():
                try:
                    self._body = json.loads(raw)
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise _json_error("JSON decode error", raw) from exc
        return self._body

    async def json_object(self) -> dict[str, Any]:
        body = await self.json()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise LegacyError(422, {"detail": [{"type": "model_attributes_type", "loc": ["body"],
                                                "msg": "Input should be a valid dictionary or object to extract "
                                                       "fields from", "input": body}]})
        return body
