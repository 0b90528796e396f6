"""The auth service's gRPC adapter: protobuf in, domain calls, protobuf out."""

from __future__ import annotations

from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from grpc import aio

from gaia_services.auth.api_keys import ApiKeyStore
from gaia_services.auth.authenticator import LocalAuthenticator
from gaia_services.auth.convert import principal_to_proto
from gaia_services.auth.tokens import TokenSigner
from gaia_services.runtime.interceptors import Authenticator
from gaia_services.runtime.principal import Credentials
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.server import ServiceSpec

__all__ = ["AuthServicer", "spec"]

_SERVICE = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
_PUBLIC = frozenset(
    f"/{_SERVICE}/{rpc}"
    for rpc in ("Authenticate", "Register", "Login", "Refresh", "Logout", "ConfirmEmail", "ResendVerification",
                "Validate")
)


def _authenticator(resources: Resources) -> LocalAuthenticator:
    settings = resources.settings
    return LocalAuthenticator(
        signer=TokenSigner(secret=settings.jwt_secret.get_secret_value(), ttl_s=settings.access_token_ttl_s),
        keys=ApiKeyStore(pool=resources.pool()),
    )


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, *, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: aio.ServicerContext
    ) -> auth_pb2.AuthenticateResponse:
        principal = await self._authenticator.authenticate(Credentials(jwt=request.jwt, api_key=request.api_key))
        return auth_pb2.AuthenticateResponse(principal=principal_to_proto(principal))


def _register(server: aio.Server, resources: Resources) -> None:
    auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(authenticator=_authenticator(resources)), server)


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="auth",
        service_names=(_SERVICE,),
        register=_register,
        authenticator=_authenticator,
        public_methods=_PUBLIC,
    )
