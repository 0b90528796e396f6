"""The asset service's gRPC adapter. RPCs not yet built answer UNIMPLEMENTED (the generated base class)."""

from __future__ import annotations

from gaia.asset.v1 import asset_pb2, asset_pb2_grpc
from grpc import aio

from gaia_services.runtime.remote_auth import RemoteAuthenticator
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.server import ServiceSpec

__all__ = ["AssetServicer", "spec"]

_SERVICE = asset_pb2.DESCRIPTOR.services_by_name["AssetService"].full_name


class AssetServicer(asset_pb2_grpc.AssetServiceServicer):
    def __init__(self, *, resources: Resources) -> None:
        self._resources = resources


def _register(server: aio.Server, resources: Resources) -> None:
    asset_pb2_grpc.add_AssetServiceServicer_to_server(AssetServicer(resources=resources), server)


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="asset",
        service_names=(_SERVICE,),
        register=_register,
        authenticator=lambda resources: RemoteAuthenticator(channel=resources.channel("auth")),
        peers=("auth",),
    )
