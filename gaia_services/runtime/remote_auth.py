"""The authenticator of every service but auth: the auth service's ``Authenticate`` RPC over gRPC."""

from __future__ import annotations

import grpc
from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from gaia.common.v1 import common_pb2
from grpc import aio

from gaia_services.runtime.errors import (
    CredentialsForbidden,
    CredentialsRejected,
    PeerUnavailable,
    RateLimited,
)
from gaia_services.runtime.principal import AuthType, Credentials, Principal
from gaia_services.runtime.wire import ERROR_MARKER_KEY, RETRY_AFTER_KEY, Marker, trailing_of

__all__ = ["RemoteAuthenticator"]

_AUTH_TYPES = {common_pb2.AUTH_TYPE_JWT: AuthType.JWT, common_pb2.AUTH_TYPE_API_KEY: AuthType.API_KEY}


class RemoteAuthenticator:
    def __init__(self, *, channel: aio.Channel, timeout_s: float = 5.0) -> None:
        self._stub = auth_pb2_grpc.AuthServiceStub(channel)
        self._timeout_s = timeout_s

    async def authenticate(self, credentials: Credentials) -> Principal:
        request = auth_pb2.AuthenticateRequest(jwt=credentials.jwt, api_key=credentials.api_key)
        try:
            reply = await self._stub.Authenticate(request, timeout=self._timeout_s)
        except aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNAUTHENTICATED:
                raise CredentialsRejected(exc.details() or "") from exc
            if exc.code() is grpc.StatusCode.PERMISSION_DENIED:
                raise CredentialsForbidden(exc.details() or "") from exc
            trailing = trailing_of(exc)
            if (
                exc.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                and trailing.get(ERROR_MARKER_KEY) == Marker.RATE_LIMIT
            ):
                retry = trailing.get(RETRY_AFTER_KEY)
                raise RateLimited(exc.details() or "", retry_after_s=int(retry) if retry else None) from exc
            raise PeerUnavailable("Service auth unavailable") from exc
        p = reply.principal
        return Principal(
            user_id=p.user_id,
            auth_type=_AUTH_TYPES.get(p.auth_type, AuthType.API_KEY),
            email=p.email,
            api_key_id=p.api_key_id,
            session_id=p.session_id,
            scopes=tuple(p.scopes),
        )
