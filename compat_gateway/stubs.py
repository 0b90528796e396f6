"""gRPC stubs for each service, built on the shim's channels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gaia.asset.v1 import asset_pb2_grpc
from gaia.auth.v1 import auth_pb2_grpc
from gaia.chat.v1 import chat_pb2_grpc
from grpc import aio

__all__ = ["stubs_for"]


def stubs_for(channels: Mapping[str, aio.Channel]) -> dict[str, Any]:
    return {
        "auth": auth_pb2_grpc.AuthServiceStub(channels["auth"]),
        "chat": chat_pb2_grpc.ChatServiceStub(channels["chat"]),
        "asset": asset_pb2_grpc.AssetServiceStub(channels["asset"]),
    }
