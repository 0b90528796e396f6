"""The service layer's one error vocabulary, and its translation to gRPC status codes (one table)."""

from __future__ import annotations

import grpc

ERROR_MARKER_KEY = "gaia-error"

__all__ = [
    "ERROR_MARKER_KEY",
    "AlreadyExists",
    "CredentialsForbidden",
    "CredentialsRejected",
    "DomainError",
    "Exhausted",
    "Forbidden",
    "InvalidArgument",
    "NotFound",
    "PeerUnavailable",
    "RateLimited",
    "Unauthenticated",
    "Unavailable",
    "grpc_code_for",
    "trailing_of",
]


class DomainError(Exception):
    """An error whose message is safe to show the caller.

    ``marker`` travels as the ``gaia-error`` trailing metadata so that a front door can tell a service's
    own answer (``domain``) from a rejected credential (``auth``) or an unreachable peer (``peer``).
    """

    marker = "domain"

    def __init__(self, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s


class InvalidArgument(DomainError): ...


class Unauthenticated(DomainError): ...


class Forbidden(DomainError): ...


class NotFound(DomainError): ...


class AlreadyExists(DomainError): ...


class Exhausted(DomainError): ...


class Unavailable(DomainError): ...


class CredentialsRejected(Unauthenticated):
    """No usable credentials (or an invalid JWT without a key)."""

    marker = "auth"


class CredentialsForbidden(Forbidden):
    """A bad, revoked or expired API key."""

    marker = "auth"


class RateLimited(Exhausted):
    """Too many requests for one principal: answered as the legacy ``{"error": ...}`` with Retry-After."""

    marker = "ratelimit"


class PeerUnavailable(Unavailable):
    """A service this one depends on cannot be reached."""

    marker = "peer"


_CODES: dict[type[DomainError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    Exhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
}


def trailing_of(exc: grpc.RpcError) -> dict[str, str]:
    """The trailing metadata of a failed call as a plain dict (``aio.Metadata`` is not a mapping)."""
    pairs = exc.trailing_metadata() or ()  # type: ignore[attr-defined]
    return {str(k): v if isinstance(v, str) else v.decode() for k, v in pairs}


def grpc_code_for(error: DomainError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in _CODES:
            return _CODES[cls]  # type: ignore[index]
    return grpc.StatusCode.UNKNOWN
