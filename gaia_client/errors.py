"""The client's one error vocabulary: a ``GaiaError`` per kind of failure, chosen by gRPC status code.

A failed RPC (``grpc.aio.AioRpcError``) and a stream's terminal ``failed`` event (``gaia.common.v1.Failure``,
which carries a status number) are translated by the same table, so a caller catches ``NotFound`` or
``Unavailable`` whichever way the service answered. The original error stays as ``__cause__``.
"""

from __future__ import annotations

import grpc

__all__ = [
    "AlreadyExists",
    "Cancelled",
    "DeadlineExceeded",
    "GaiaError",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "Unauthenticated",
    "Unavailable",
    "error_for_failure",
    "error_from_rpc",
]

#: Trailing metadata of a refusal: the retry delay in whole seconds (the services' ``retry-after``).
_RETRY_AFTER_KEY = "retry-after"


class GaiaError(Exception):
    """Any failure the mesh reported. ``code`` is the gRPC status, ``reason`` a short machine-readable
    reason when the service gave one (a stream's failure), ``mid_stream`` whether the stream had started."""

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        reason: str = "",
        retry_after_s: int | None = None,
        mid_stream: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.retry_after_s = retry_after_s
        self.mid_stream = mid_stream

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}" if self.message else self.code.name


class Unauthenticated(GaiaError):
    """No credentials, or credentials the mesh does not accept."""


class PermissionDenied(GaiaError):
    """Valid credentials that may not do this."""


class NotFound(GaiaError):
    """The conversation, persona, model or asset does not exist (or is not the caller's)."""


class InvalidArgument(GaiaError):
    """The request is malformed (also a failed precondition or a value out of range)."""


class AlreadyExists(GaiaError):
    """The thing to create exists already."""


class RateLimited(GaiaError):
    """Too many requests, or a budget spent; ``retry_after_s`` says when to try again, when known."""


class Unavailable(GaiaError):
    """The service, or a provider behind it, cannot answer now: a retry later may succeed."""


class DeadlineExceeded(GaiaError):
    """The call's deadline passed."""


class Cancelled(GaiaError):
    """The call was cancelled by the other side."""


class ServerError(GaiaError):
    """The service failed (INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS)."""


_BY_CODE: dict[grpc.StatusCode, type[GaiaError]] = {
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.FAILED_PRECONDITION: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RateLimited,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.ABORTED: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.CANCELLED: Cancelled,
}
_NUMBERS: dict[int, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}


def _error(code: grpc.StatusCode, message: str, **details: object) -> GaiaError:
    kind = _BY_CODE.get(code, ServerError)
    return kind(message, code=code, **details)  # type: ignore[arg-type]


def error_from_rpc(exc: grpc.RpcError, *, mid_stream: bool = False) -> GaiaError:
    """The ``GaiaError`` of a failed call (raise it ``from exc``)."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    message = (exc.details() if hasattr(exc, "details") else "") or ""
    retry_after: int | None = None
    trailing = exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == _RETRY_AFTER_KEY:
            text = value.decode() if isinstance(value, bytes) else str(value)
            retry_after = int(text) if text.isdigit() else None
    return _error(code, message, retry_after_s=retry_after, mid_stream=mid_stream)


def error_for_failure(number: int, reason: str, message: str, *, mid_stream: bool = True) -> GaiaError:
    """The ``GaiaError`` of a stream's terminal failure (``gaia.common.v1.Failure``)."""
    code = _NUMBERS.get(number, grpc.StatusCode.INTERNAL)
    return _error(code, message, reason=reason, mid_stream=mid_stream)
