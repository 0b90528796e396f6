"""The service layer's one error vocabulary, and its translation to gRPC status codes (one table).

Every failure a service reports is a ``DomainError`` kind, its own checks' and its providers' alike (a
provider failure carries a ``reason`` such as ``"rate_limit"`` and whether it is ``transient``). The
interceptor turns a raised one into a gRPC status; a stream that reports one as its terminal
``gaia.common.v1.Failure`` numbers it with ``failure_code``. Both read the one table below.
"""

from __future__ import annotations

import grpc

from gaia_services.runtime.wire import Marker, code_number

__all__ = [
    "AlreadyExists",
    "CredentialsForbidden",
    "CredentialsRejected",
    "DeadlineExceeded",
    "DomainError",
    "Exhausted",
    "Forbidden",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "PeerUnavailable",
    "RateLimited",
    "Unauthenticated",
    "Unavailable",
    "failure_code",
    "grpc_code_for",
]


class DomainError(Exception):
    """An error whose message is safe to show the caller.

    ``marker`` travels as the ``gaia-error`` trailing metadata so that a front door can tell a service's
    own answer (``domain``) from a rejected credential (``auth``) or an unreachable peer (``peer``).
    ``reason`` is the short machine-readable cause a stream's ``Failure`` carries (``"rate_limit"``,
    ``"connection_error"``, …); ``transient`` failures (a provider's connection, rate limit, 5xx) may be
    retried.
    """

    marker: Marker = Marker.DOMAIN

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: int | None = None,
        reason: str = "",
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        self.reason = reason
        self.transient = transient


class InvalidArgument(DomainError): ...


class Unauthenticated(DomainError): ...


class Forbidden(DomainError): ...


class NotFound(DomainError): ...


class AlreadyExists(DomainError): ...


class Exhausted(DomainError): ...


class Unavailable(DomainError): ...


class DeadlineExceeded(DomainError): ...


class Internal(DomainError):
    """A failure with a message safe to show, but no more specific kind (a provider's unreadable answer)."""


class CredentialsRejected(Unauthenticated):
    """No usable credentials (or an invalid JWT without a key)."""

    marker = Marker.AUTH


class CredentialsForbidden(Forbidden):
    """A bad, revoked or expired API key."""

    marker = Marker.AUTH


class RateLimited(Exhausted):
    """Too many requests for one principal: answered as the legacy ``{"error": ...}`` with Retry-After."""

    marker = Marker.RATE_LIMIT


class PeerUnavailable(Unavailable):
    """A service this one depends on cannot be reached."""

    marker = Marker.PEER


_CODES: dict[type[DomainError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    Forbidden: grpc.StatusCode.PERMISSION_DENIED,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    Exhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    Internal: grpc.StatusCode.INTERNAL,
}


def grpc_code_for(error: DomainError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in _CODES:
            return _CODES[cls]  # type: ignore[index]
    return grpc.StatusCode.UNKNOWN


def failure_code(error: DomainError) -> int:
    """The status number of ``error`` for a stream's terminal ``gaia.common.v1.Failure``."""
    return code_number(grpc_code_for(error))
