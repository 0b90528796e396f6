"""The RPCs a route row may call, named by attribute (``CHAT.StreamChat``) from the services' descriptors.

A misspelt name fails when the route table is imported, at the shim's start; ``routes.table.check`` then
checks every row's kind against its RPC's (a unary row on a unary RPC, a stream row on a server stream).
"""

from __future__ import annotations

from dataclasses import dataclass

from gaia.asset.v1 import asset_pb2
from gaia.auth.v1 import auth_pb2
from gaia.chat.v1 import chat_pb2
from google.protobuf.descriptor import ServiceDescriptor

__all__ = ["ASSET", "AUTH", "CHAT", "Rpc", "Service"]


@dataclass(frozen=True, slots=True)
class Rpc:
    service: str  # the shim's name for the service: its channel and stub
    name: str  # the method, as the stub names it
    server_streaming: bool


class Service:
    """One service's RPCs: ``AUTH.Login`` is an ``Rpc``; an unknown name is an ``AttributeError``."""

    def __init__(self, name: str, descriptor: ServiceDescriptor) -> None:
        self._name = name
        self._descriptor = descriptor

    def __getattr__(self, method: str) -> Rpc:
        found = self._descriptor.methods_by_name.get(method)
        if found is None:
            raise AttributeError(f"{self._descriptor.full_name} has no RPC {method!r}")
        return Rpc(self._name, method, found.server_streaming)


AUTH = Service("auth", auth_pb2.DESCRIPTOR.services_by_name["AuthService"])
CHAT = Service("chat", chat_pb2.DESCRIPTOR.services_by_name["ChatService"])
ASSET = Service("asset", asset_pb2.DESCRIPTOR.services_by_name["AssetService"])
