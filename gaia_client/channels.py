"""The channel to one service: its target (one address, several for round-robin, or a ``dns:///`` name)
and the gRPC service config every channel carries (round-robin, retries of idempotent calls).

Retries are gRPC's own (the service config's ``retryPolicy``), never a loop in the client: idempotent unary
calls (``Get*``/``List*``) are retried on UNAVAILABLE; a chat or asset stream is retried on UNAVAILABLE
only before its first message (gRPC commits a call once a response arrives, and never retries it after),
so a stream is never replayed after its first token. Other calls (``Chat``, creations, deletions) are never
retried.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

import grpc
from gaia.asset.v1 import asset_pb2
from gaia.auth.v1 import auth_pb2
from gaia.chat.v1 import chat_pb2
from google.protobuf.descriptor import ServiceDescriptor
from grpc import aio

__all__ = ["idempotent_methods", "open_channel", "service_config", "target_of"]

_SERVICES: tuple[ServiceDescriptor, ...] = (
    auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
    chat_pb2.DESCRIPTOR.services_by_name["ChatService"],
    asset_pb2.DESCRIPTOR.services_by_name["AssetService"],
)
#: Streams that may be retried before their first message: they store nothing before it.
_STREAMS_RETRIED_BEFORE_FIRST_MESSAGE = (
    ("gaia.chat.v1.ChatService", "StreamChat"),
    ("gaia.asset.v1.AssetService", "GenerateAsset"),
)
_IDEMPOTENT_PREFIXES = ("Get", "List")


def idempotent_methods() -> list[tuple[str, str]]:
    """(service, method) of every unary RPC that only reads: its name starts with Get or List."""
    return [
        (service.full_name, method.name)
        for service in _SERVICES
        for method in service.methods
        if method.name.startswith(_IDEMPOTENT_PREFIXES) and not method.server_streaming
    ]


def _names(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"service": service, "method": method} for service, method in pairs]


def service_config(*, max_attempts: int = 4) -> dict[str, Any]:
    """The default service config of every channel (JSON as gRPC reads it)."""
    policy = {
        "maxAttempts": max_attempts,
        "initialBackoff": "0.05s",
        "maxBackoff": "1s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    return {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {"name": _names(idempotent_methods()), "retryPolicy": policy},
            {
                "name": _names(_STREAMS_RETRIED_BEFORE_FIRST_MESSAGE),
                "retryPolicy": {**policy, "maxAttempts": 3},
            },
        ],
    }


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def target_of(addresses: str | Sequence[str]) -> str:
    """The gRPC target of one service: ``host:port``, a URI (``dns:///svc:50052``) as given, or several
    ``ip:port`` addresses (a list, or one comma-separated string) as an ``ipv4:``/``ipv6:`` target that
    round-robin spreads calls over. Several host names need a ``dns:///`` name that resolves to all."""
    items = [a.strip() for a in (addresses.split(",") if isinstance(addresses, str) else addresses)]
    items = [a for a in items if a]
    if not items:
        raise ValueError("no address given")
    if len(items) == 1:
        return items[0]
    hosts = [a.rsplit(":", 1)[0] for a in items]
    if not all(_is_ip(h) for h in hosts):
        raise ValueError(f"several addresses must be IP literals (or use one dns:/// name): {addresses!r}")
    family = "ipv6" if any(":" in h for h in hosts) else "ipv4"
    return f"{family}:{','.join(items)}"


def open_channel(
    addresses: str | Sequence[str], *, credentials: grpc.ChannelCredentials | None = None
) -> aio.Channel:
    """A channel to one service (call inside the running event loop)."""
    options = [
        ("grpc.service_config", json.dumps(service_config())),
        ("grpc.enable_retries", 1),
    ]
    target = target_of(addresses)
    if credentials is None:
        return aio.insecure_channel(target, options=options)
    return aio.secure_channel(target, credentials, options=options)
