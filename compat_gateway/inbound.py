"""One inbound HTTP request as the generic handler sees it: path, query, body, credentials, shim state."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request
from pydantic import BaseModel, ValidationError

from compat_gateway.errors import ErrorStyle, LegacyError
from compat_gateway.ratelimit import client_key
from gaia_services.runtime.calls import new_request_id
from gaia_services.runtime.principal import Credentials

if TYPE_CHECKING:
    from compat_gateway.shim import Shim

__all__ = ["MAX_JSON_DEPTH", "Inbound", "InputError"]

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class InputError(Exception):
    """The request's body or query is malformed: FastAPI's 422 item list, rendered by the route's style."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__("invalid input")
        self.items = items


# How deep a body's arrays and objects may nest. Deeper JSON is a 422: the decoder, pydantic, the 422's echo
# of the body and protobuf (a ``Struct`` takes two message levels per JSON level, and protobuf refuses more
# than 100) would each fail on it, some with a RecursionError (a 500).
MAX_JSON_DEPTH = 32
_TOO_DEEP = f"JSON decode error: nested more than {MAX_JSON_DEPTH} levels"


def _unstorable(value: Any, loc: list[Any]) -> list[Any] | None:
    """Where ``value`` holds text no service can carry (a NUL, or an unpaired surrogate: Postgres and
    protobuf both refuse them), or None. Iterative: a deep value never exhausts the stack."""
    pending: list[tuple[Any, list[Any]]] = [(value, loc)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or any("\ud800" <= ch <= "\udfff" for ch in item):
                return where
            continue
        pairs = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        children = []
        for key, child in pairs:
            if isinstance(key, str) and _unstorable(key, where) is not None:
                return where
            children.append((child, [*where, key]))
        pending.extend(reversed(children))  # depth first, in document order: the first bad text is named
    return None


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests arrays and objects more than ``MAX_JSON_DEPTH`` levels (iteratively)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# gRPC metadata carries printable ASCII only, and about 8 KiB in all: a credential outside that cannot be
# valid, and sent as it is it would fail the call itself (a 500). It travels as a value that no key or token
# matches, so the auth service gives the contract's answer (403 for a key, 401 for a JWT).
_MAX_CREDENTIAL = 4096
_UNUSABLE_CREDENTIAL = "invalid-credential"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


def _carriable(value: str) -> str:
    if len(value) > _MAX_CREDENTIAL or not _PRINTABLE_ASCII.fullmatch(value):
        return _UNUSABLE_CREDENTIAL
    return value


def _no_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259); accepted, they reach the 422's echo
    or a response, where they cannot be written (a 500)."""
    raise ValueError(f"{name} is not valid JSON")


def _json_error(position: int, message: str = "JSON decode error") -> InputError:
    return InputError([{"type": "json_invalid", "loc": ["body", position], "msg": message, "input": {}}])


def _text_error(loc: list[Any], value: Any) -> InputError:
    return InputError(
        [
            {
                "type": "string_unicode",
                "loc": loc,
                "msg": "Input should be a string without NUL characters or unpaired surrogates",
                "input": value,
            }
        ]
    )


def _items(exc: ValidationError, where: str, data: Any) -> list[dict[str, Any]]:
    """FastAPI's 422 items. A query parameter is validated on its own there, so its ``input`` is its raw
    value, or null when it is missing; a body error echoes the whole body. An error raised with a ``param``
    in its context (the OpenAI door's checks) keeps it, for the door's 400."""
    items = []
    for e in exc.errors(include_url=False):
        value = e.get("input")
        if where == "query":
            value = None if e["type"] == "missing" else data.get(e["loc"][0]) if e["loc"] else value
        item = {"type": e["type"], "loc": [where, *e["loc"]], "msg": e["msg"], "input": value}
        context = e.get("ctx") or {}
        if "param" in context:
            item["param"] = context["param"]
        items.append(item)
    return items


@dataclass
class Inbound:
    """``style`` is the route's error style; on the OpenAI door it also sets how credentials are read."""

    request: Request
    shim: Shim
    style: ErrorStyle = ErrorStyle.WRAPPED
    request_id: str = ""
    body_model: Any = None
    query_model: Any = None
    _body: Any = None
    _read: bool = False

    def __post_init__(self) -> None:
        """The client's ``X-Request-Id`` when it is a sane token, else a new one: it follows the call
        through every service's log."""
        given = self.request.headers.get("x-request-id", "")
        self.request_id = given if _REQUEST_ID.fullmatch(given) else new_request_id()

    @property
    def path_params(self) -> dict[str, str]:
        return dict(self.request.path_params)

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params)  # repeated keys: the last wins, as in the reference

    @property
    def credentials(self) -> Credentials:
        if self.style is ErrorStyle.OPENAI:
            given = Credentials.from_openai_headers(self.request.headers)
        else:
            given = Credentials.from_metadata(self.request.headers.items())
        return Credentials(jwt=_carriable(given.jwt), api_key=_carriable(given.api_key))

    @property
    def client_key(self) -> str:
        return client_key(self.request)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (*self.credentials.as_metadata(), ("x-request-id", self.request_id))

    async def json(self) -> Any:
        """The parsed body, or None when there is none; malformed JSON is a 422, never a 500."""
        if not self._read:
            limit = self.shim.settings.max_body_bytes
            chunks: list[bytes] = []
            size = 0
            async for chunk in self.request.stream():
                size += len(chunk)
                if size > limit:
                    raise LegacyError(413, {"detail": "Request body too large"})
                chunks.append(chunk)
            raw = b"".join(chunks)
            self._read = True
            if raw.strip():
                try:
                    self._body = json.loads(raw, parse_constant=_no_constant)
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    position = exc.pos if isinstance(exc, json.JSONDecodeError) else 0
                    raise _json_error(position) from exc
                except ValueError as exc:  # NaN or an infinity
                    raise _json_error(0) from exc
                except RecursionError as exc:  # nested past the interpreter's stack: thousands deep
                    raise _json_error(0, _TOO_DEEP) from exc
                if _too_deep(self._body):
                    self._body = None
                    raise _json_error(0, _TOO_DEEP)
                where = _unstorable(self._body, ["body"])
                if where is not None:
                    raise _text_error(where, None)
        return self._body

    async def json_object(self) -> dict[str, Any]:
        body = await self.json()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise InputError(
                [
                    {
                        "type": "model_attributes_type",
                        "loc": ["body"],
                        "msg": "Input should be a valid dictionary or object to extract fields from",
                        "input": body,
                    }
                ]
            )
        return body

    async def validate(self, body: type[BaseModel] | None, query: type[BaseModel] | None) -> None:
        for where, values in (("path", self.path_params), ("query", self.query)):
            found = _unstorable(values, [where])
            if found is not None:
                raise _text_error(found, None)
        if query is not None:
            try:
                self.query_model = query.model_validate(self.query)
            except ValidationError as exc:
                raise InputError(_items(exc, "query", self.query)) from exc
        if body is not None:
            data = await self.json()
            if data is None:
                raise InputError(
                    [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
                )
            try:
                self.body_model = body.model_validate(data)
            except ValidationError as exc:
                raise InputError(_items(exc, "body", data)) from exc
