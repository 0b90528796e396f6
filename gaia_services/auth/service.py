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


class AuthServicer(IdentityRpcs, AccountRpcs, auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, *, parts: AuthParts) -> None:
        self._parts = parts


def spec() -> ServiceSpec:
    """The auth service. Its own interceptor and its servicer share one set of parts (one cache, one
    NATS listener) per resources, built on first use."""
    built: dict[int, AuthParts] = {}

    def parts(resources: Resources) -> AuthParts:
        if id(resources) not in built:
            built[id(resources)] = build_parts(resources)
        return built[id(resources)]

    def authenticator(resources: Resources) -> LocalAuthenticator:
        return parts(resources).authenticator

    def register(server: aio.Server, resources: Resources) -> None:
        auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(parts=parts(resources)), server)

    return ServiceSpec(
        name="auth",
        service_names=(_SERVICE,),
        register=register,
        authenticator=authenticator,
        public_methods=_PUBLIC,
    )
