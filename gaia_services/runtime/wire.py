"""What crosses the wire beside the protos: the error marker, its values, and status numbers.

Services write these (the interceptor, a stream's ``gaia.common.v1.Failure``); every reader (other services,
the shim, native clients) reads them from here, so each string and number is written once. The module
imports nothing of the server side, so front doors may use it.
"""

from __future__ import annotations

from enum import StrEnum

import grpc

__all__ = [
    "ERROR_MARKER_KEY",
    "NOT_AUTHENTICATED",
    "POSTGRES_HEALTH",
    "RETRY_AFTER_KEY",
    "Marker",
    "code_number",
    "status_of",
    "trailing_of",
]

#: The trailing metadata key naming who answered a failed RPC (its value is a ``Marker``).
ERROR_MARKER_KEY = "gaia-error"
#: The trailing metadata key of a refusal's retry delay, in whole seconds.
RETRY_AFTER_KEY = "retry-after"
#: The gRPC health ``service`` name under which a service checks its PostgreSQL connection live.
POSTGRES_HEALTH = "gaia.dependency.postgres"
#: The answer to a call without usable credentials, on every door.
NOT_AUTHENTICATED = "Not authenticated. Provide a valid JWT or API Key."


class Marker(StrEnum):
    """Who answered a failed RPC; no marker at all means the call never reached a service's own code."""

    DOMAIN = "domain"  # the service's own answer; its message is safe to show
    AUTH = "auth"  # rejected or forbidden credentials
    RATE_LIMIT = "ratelimit"  # too many requests for one principal (with RETRY_AFTER_KEY)
    PEER = "peer"  # a service this one depends on cannot be reached


_BY_NUMBER: dict[int, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}


def status_of(number: int) -> grpc.StatusCode:
    """The gRPC status of a number (``gaia.common.v1.Failure.code``); an unknown number is INTERNAL."""
    return _BY_NUMBER.get(number, grpc.StatusCode.INTERNAL)


def code_number(code: grpc.StatusCode) -> int:
    """The number of a gRPC status (google.rpc.Code), as ``gaia.common.v1.Failure.code`` carries it."""
    number: int = code.value[0]
    return number


def trailing_of(exc: grpc.RpcError) -> dict[str, str]:
    """The trailing metadata of a failed call as a plain dict (``aio.Metadata`` is not a mapping)."""
    pairs = exc.trailing_metadata() or ()  # type: ignore[attr-defined]
    return {str(k): v if isinstance(v, str) else v.decode() for k, v in pairs}
