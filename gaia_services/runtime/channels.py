"""Outgoing gRPC channels that carry the served call's deadline, request id, credentials and trace onward.

Python gRPC does not propagate deadlines by itself: the interceptor here shortens each outgoing timeout to
what is left of the incoming call's deadline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from grpc import aio

from gaia_services.runtime.calls import current_call
from gaia_services.runtime.telemetry import TRACE_HEADERS, trace_headers

__all__ = ["channel_options", "open_channel"]

_CHANNEL_OPTIONS: Sequence[tuple[str, Any]] = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
    ("grpc.enable_retries", 0),
)


class _Propagate:
    def __init__(self, forward_credentials: bool) -> None:
        self._forward_credentials = forward_credentials

    def _details(self, details: aio.ClientCallDetails) -> aio.ClientCallDetails:
        call = current_call.get()
        traced = trace_headers()  # the current span's traceparent (none outside a trace)
        if call is None and not traced:
            return details
        metadata = list(details.metadata or ())
        present = {k for k, _ in metadata}
        if not present.intersection(TRACE_HEADERS):
            metadata.extend(traced.items())
        timeout = details.timeout
        if call is not None:
            if "x-request-id" not in present:
                metadata.append(("x-request-id", call.request_id))
            if self._forward_credentials and not present & {"authorization", "x-api-key"}:
                metadata.extend(call.credentials.as_metadata())
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


# Two classes, not one with both bases: ``aio.Channel`` files each interceptor under the first kind it is an
# instance of, so one class of both kinds would never see a server-streaming call.
class _PropagateUnary(_Propagate, aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return await continuation(self._details(details), request)


class _PropagateStream(_Propagate, aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return await continuation(self._details(details), request)


#: A name that resolves to every replica (``dns:///gaia-chat:50052``, a headless Service): calls are spread
#: over all of them. A plain address list (``ipv4:a,b``) stays gRPC's pick_first: the first live one is
#: preferred, the others are its failover.
_ROUND_ROBIN = ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]}))


def channel_options(address: str) -> tuple[tuple[str, Any], ...]:
    """The options of a channel to ``address``: round robin over a DNS name's replicas."""
    return (*_CHANNEL_OPTIONS, _ROUND_ROBIN) if address.startswith("dns:") else tuple(_CHANNEL_OPTIONS)


def open_channel(address: str, *, forward_credentials: bool = True) -> aio.Channel:
    """An insecure channel to a mesh peer; create it inside the running loop, close it in the lifespan."""
    return aio.insecure_channel(
        address,
        options=channel_options(address),
        interceptors=[_PropagateUnary(forward_credentials), _PropagateStream(forward_credentials)],
    )
