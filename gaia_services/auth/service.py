"""The auth service's gRPC adapter: protobuf in, domain calls, protobuf out (one mixin per area)."""

from __future__ import annotations

from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from grpc import aio

from gaia_services.auth.authenticator import LocalAuthenticator
from gaia_services.auth.service_accounts import AccountRpcs
from gaia_services.auth.service_identity import IdentityRpcs
from gaia_services.auth.wiring import AuthParts, build_parts
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.server import ServiceSpec

__all__ = ["AuthServicer", "spec"]

_SERVICE = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
_PUBLIC = frozenset(
    f"/{_SERVICE}/{rpc}"
    for rpc in (
        "Authenticate",
        "Register",
        "Login",
        "Refresh",
        "Logout",
        "ConfirmEmail",
        "ResendVerification",
        "Validate",
    )
)


def _authenticator(resources: Resources) -> LocalAuthenticator:
    """The authenticator of the auth service's own interceptor (cache, sessions and limits included)."""
    return build_parts(resources).authenticator


class AuthServicer(IdentityRpcs, AccountRpcs, auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, *, parts: AuthParts) -> None:
        self._parts = parts


def _register(server: aio.Server, resources: Resources) -> None:
    auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(parts=build_parts(resources)), server)


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="auth",
        service_names=(_SERVICE,),
        register=_register,
        authenticator=_authenticator,
        public_methods=_PUBLIC,
    )
