"""Outgoing gRPC channels that carry the served call's deadline, request id and credentials onward.

Python gRPC does not propagate deadlines by itself: the interceptor here shortens each outgoing timeout to
what is left of the incoming call's deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from grpc import aio

from gaia_services.runtime.calls import current_call

__all__ = ["open_channel"]

_CHANNEL_OPTIONS: Sequence[tuple[str, Any]] = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
    ("grpc.enable_retries", 0),
)


class _Propagate(aio.UnaryUnaryClientInterceptor, aio.UnaryStreamClientInterceptor):
    def __init__(self, forward_credentials: bool) -> None:
        self._forward_credentials = forward_credentials

    def _details(self, details: aio.ClientCallDetails) -> aio.ClientCallDetails:
        call = current_call.get()
        if call is None:
            return details
        metadata = list(details.metadata or ())
        present = {k for k, _ in metadata}
        if "x-request-id" not in present:
            metadata.append(("x-request-id", call.request_id))
        if self._forward_credentials and not present & {"authorization", "x-api-key"}:
            metadata.extend(call.credentials.as_metadata())
        timeout = details.timeout
        remaining = call.time_remaining()
        if remaining is not None:
            timeout = remaining if timeout is None else min(timeout, remaining)
        return aio.ClientCallDetails(
            method=details.method,
            timeout=timeout,
            metadata=aio.Metadata(*metadata),
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return await continuation(self._details(details), request)


def open_channel(address: str, *, forward_credentials: bool = True) -> aio.Channel:
    """An insecure channel to a mesh peer; create it inside the running loop, close it in the lifespan."""
    return aio.insecure_channel(
        address, options=_CHANNEL_OPTIONS, interceptors=[_Propagate(forward_credentials)]
    )
