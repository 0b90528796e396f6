"""RPCs of identity and sessions: Authenticate, Validate, Register, Login, Refresh, Logout, confirmation."""

from __future__ import annotations

from gaia.auth.v1 import auth_pb2
from grpc import aio

from gaia_services.auth.convert import auth_type_to_proto, principal_to_proto, session_to_proto, user_to_proto
from gaia_services.auth.identity import AuthResult
from gaia_services.auth.wiring import AuthParts
from gaia_services.runtime.calls import current_call
from gaia_services.runtime.errors import DomainError
from gaia_services.runtime.principal import Credentials

__all__ = ["NO_CREDENTIALS", "IdentityRpcs"]

NO_CREDENTIALS = "No valid authentication credentials provided"


def _auth_response(result: AuthResult, cls: type) -> object:
    message = cls(user=user_to_proto(result.user))
    if result.session is not None:
        message.session.CopyFrom(session_to_proto(result.session, result.user))
    return message


class IdentityRpcs:
    _parts: AuthParts

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: aio.ServicerContext
    ) -> auth_pb2.AuthenticateResponse:
        principal = await self._parts.authenticator.authenticate(
            Credentials(jwt=request.jwt, api_key=request.api_key)
        )
        return auth_pb2.AuthenticateResponse(principal=principal_to_proto(principal))

    async def Validate(
        self, request: auth_pb2.ValidateRequest, context: aio.ServicerContext
    ) -> auth_pb2.ValidateResponse:
        authenticator = self._parts.authenticator
        for credentials in (Credentials(jwt=request.token), Credentials(api_key=request.api_key)):
            if not credentials.present:
                continue
            try:
                identity = await authenticator.identify(credentials)
            except DomainError:
                continue
            principal = identity.principal
            return auth_pb2.ValidateResponse(
                valid=True, auth_type=auth_type_to_proto(principal.auth_type), user_id=principal.user_id
            )
        return auth_pb2.ValidateResponse(
            valid=False, auth_type=auth_type_to_proto(None), error=NO_CREDENTIALS
        )

    async def Register(
        self, request: auth_pb2.RegisterRequest, context: aio.ServicerContext
    ) -> auth_pb2.RegisterResponse:
        result = await self._parts.identity.register(
            email=request.email, password=request.password, name=request.name
        )
        message = _auth_response(result, auth_pb2.RegisterResponse)
        assert isinstance(message, auth_pb2.RegisterResponse)
        message.confirmation_required = result.session is None
        return message

    async def Login(
        self, request: auth_pb2.LoginRequest, context: aio.ServicerContext
    ) -> auth_pb2.LoginResponse:
        result = await self._parts.identity.login(email=request.email, password=request.password)
        message = _auth_response(result, auth_pb2.LoginResponse)
        assert isinstance(message, auth_pb2.LoginResponse)
        return message

    async def Refresh(
        self, request: auth_pb2.RefreshRequest, context: aio.ServicerContext
    ) -> auth_pb2.RefreshResponse:
        result = await self._parts.identity.refresh(refresh_token=request.refresh_token)
        message = _auth_response(result, auth_pb2.RefreshResponse)
        assert isinstance(message, auth_pb2.RefreshResponse)
        return message

    async def Logout(
        self, request: auth_pb2.LogoutRequest, context: aio.ServicerContext
    ) -> auth_pb2.LogoutResponse:
        access = request.access_token
        if not access and not request.refresh_token:
            call = current_call.get()
            access = call.credentials.jwt if call is not None else ""
        outcome = await self._parts.identity.logout(refresh_token=request.refresh_token, access_token=access)
        return auth_pb2.LogoutResponse(revoked=outcome.revoked, session_id=outcome.session_id)

    async def ConfirmEmail(
        self, request: auth_pb2.ConfirmEmailRequest, context: aio.ServicerContext
    ) -> auth_pb2.ConfirmEmailResponse:
        user = await self._parts.identity.confirm(email=request.email, token=request.token)
        return auth_pb2.ConfirmEmailResponse(user=user_to_proto(user))

    async def ResendVerification(
        self, request: auth_pb2.ResendVerificationRequest, context: aio.ServicerContext
    ) -> auth_pb2.ResendVerificationResponse:
        email = await self._parts.identity.resend(email=request.email)
        return auth_pb2.ResendVerificationResponse(email=email, sent=True)
