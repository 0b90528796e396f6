"""The auth service's gRPC adapter: protobuf in, calls on the domain objects, protobuf out.

One servicer for the one proto service; its domain objects are the parts (``wiring.AuthParts``): the
authenticator, the identity (sessions, profile), the keyring, the user admin and the named rate limits.
Conversion lives in ``convert.py``.
"""

from __future__ import annotations

from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from grpc import aio

from gaia_services.auth.admin import NewKey
from gaia_services.auth.convert import (
    api_key_to_proto,
    auth_type_to_proto,
    datetime_from_proto,
    key_budget_from_proto,
    principal_to_proto,
    session_to_proto,
    struct_to_dict,
    user_to_proto,
)
from gaia_services.auth.keyring import is_admin
from gaia_services.auth.wiring import AuthParts, build_parts
from gaia_services.runtime.calls import caller, current_call
from gaia_services.runtime.errors import Forbidden
from gaia_services.runtime.principal import Credentials
from gaia_services.runtime.server import ServiceSpec

__all__ = ["NO_CREDENTIALS", "AuthServicer", "spec"]

NO_CREDENTIALS = "No valid authentication credentials provided"

_SERVICE = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
#: Answered without a caller (``caller()`` would refuse them): they are how a caller gets credentials.
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


def _presented_jwt() -> str:
    """The Bearer JWT the call presented. Logout is public, so there is no principal to ask: an expired
    token may still end its own session."""
    call = current_call.get()
    return call.credentials.jwt if call is not None else ""


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, *, parts: AuthParts) -> None:
        self._authenticator = parts.authenticator
        self._identity = parts.identity
        self._keyring = parts.keyring
        self._admin = parts.admin
        self._limits = parts.limits

    # ----- identity and sessions (public) -----
    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: aio.ServicerContext
    ) -> auth_pb2.AuthenticateResponse:
        principal = await self._authenticator.authenticate(
            Credentials(jwt=request.jwt, api_key=request.api_key)
        )
        return auth_pb2.AuthenticateResponse(principal=principal_to_proto(principal))

    async def Validate(
        self, request: auth_pb2.ValidateRequest, context: aio.ServicerContext
    ) -> auth_pb2.ValidateResponse:
        principal = await self._authenticator.validate(token=request.token, api_key=request.api_key)
        if principal is None:
            return auth_pb2.ValidateResponse(
                valid=False, auth_type=auth_type_to_proto(None), error=NO_CREDENTIALS
            )
        return auth_pb2.ValidateResponse(
            valid=True, auth_type=auth_type_to_proto(principal.auth_type), user_id=principal.user_id
        )

    async def Register(
        self, request: auth_pb2.RegisterRequest, context: aio.ServicerContext
    ) -> auth_pb2.RegisterResponse:
        result = await self._identity.register(
            email=request.email, password=request.password, name=request.name
        )
        reply = auth_pb2.RegisterResponse(
            user=user_to_proto(result.user), confirmation_required=result.session is None
        )
        if result.session is not None:
            reply.session.CopyFrom(session_to_proto(result.session, result.user))
        return reply

    async def Login(
        self, request: auth_pb2.LoginRequest, context: aio.ServicerContext
    ) -> auth_pb2.LoginResponse:
        result = await self._identity.login(email=request.email, password=request.password)
        reply = auth_pb2.LoginResponse(user=user_to_proto(result.user))
        if result.session is not None:
            reply.session.CopyFrom(session_to_proto(result.session, result.user))
        return reply

    async def Refresh(
        self, request: auth_pb2.RefreshRequest, context: aio.ServicerContext
    ) -> auth_pb2.RefreshResponse:
        result = await self._identity.refresh(refresh_token=request.refresh_token)
        reply = auth_pb2.RefreshResponse(user=user_to_proto(result.user))
        if result.session is not None:
            reply.session.CopyFrom(session_to_proto(result.session, result.user))
        return reply

    async def Logout(
        self, request: auth_pb2.LogoutRequest, context: aio.ServicerContext
    ) -> auth_pb2.LogoutResponse:
        """Ends the session of the refresh token or access token given, else of the presented Bearer JWT."""
        access = request.access_token
        if not access and not request.refresh_token:
            access = _presented_jwt()
        outcome = await self._identity.logout(refresh_token=request.refresh_token, access_token=access)
        return auth_pb2.LogoutResponse(revoked=outcome.revoked, session_id=outcome.session_id)

    async def ConfirmEmail(
        self, request: auth_pb2.ConfirmEmailRequest, context: aio.ServicerContext
    ) -> auth_pb2.ConfirmEmailResponse:
        user = await self._identity.confirm(email=request.email, token=request.token)
        return auth_pb2.ConfirmEmailResponse(user=user_to_proto(user))

    async def ResendVerification(
        self, request: auth_pb2.ResendVerificationRequest, context: aio.ServicerContext
    ) -> auth_pb2.ResendVerificationResponse:
        email = await self._identity.resend(email=request.email)
        return auth_pb2.ResendVerificationResponse(email=email, sent=True)

    # ----- the signed-in caller -----
    async def GetProfile(
        self, request: auth_pb2.GetProfileRequest, context: aio.ServicerContext
    ) -> auth_pb2.GetProfileResponse:
        user = await self._identity.profile(caller().user_id)
        return auth_pb2.GetProfileResponse(user=user_to_proto(user))

    async def UpdateProfile(
        self, request: auth_pb2.UpdateProfileRequest, context: aio.ServicerContext
    ) -> auth_pb2.UpdateProfileResponse:
        name = request.name if request.HasField("name") else None
        metadata = struct_to_dict(request.user_metadata) if request.HasField("user_metadata") else {}
        user = await self._identity.update_profile(caller().user_id, name=name, metadata=metadata)
        return auth_pb2.UpdateProfileResponse(user=user_to_proto(user))

    async def ChangePassword(
        self, request: auth_pb2.ChangePasswordRequest, context: aio.ServicerContext
    ) -> auth_pb2.ChangePasswordResponse:
        principal = caller()
        revoked = await self._identity.change_password(
            principal.user_id,
            current=request.current_password,
            new=request.new_password,
            revoke_others=request.revoke_other_sessions,
            keep_session=principal.session_id,
        )
        return auth_pb2.ChangePasswordResponse(changed=True, sessions_revoked=revoked)

    async def CreateApiKey(
        self, request: auth_pb2.CreateApiKeyRequest, context: aio.ServicerContext
    ) -> auth_pb2.CreateApiKeyResponse:
        issued = await self._keyring.create(
            caller(),
            user_id=request.user_id,
            name=request.name,
            scopes=request.scopes,
            expires_at=datetime_from_proto(request, "expires_at"),
            budget=key_budget_from_proto(request.budget) if request.HasField("budget") else None,
        )
        return auth_pb2.CreateApiKeyResponse(api_key=api_key_to_proto(issued.info), raw_key=issued.raw)

    async def ListApiKeys(
        self, request: auth_pb2.ListApiKeysRequest, context: aio.ServicerContext
    ) -> auth_pb2.ListApiKeysResponse:
        keys, total = await self._keyring.list(
            caller(),
            include_revoked=request.include_revoked,
            offset=request.page.offset,
            limit=request.page.limit,
        )
        return auth_pb2.ListApiKeysResponse(api_keys=[api_key_to_proto(k) for k in keys], total=total)

    async def RevokeApiKey(
        self, request: auth_pb2.RevokeApiKeyRequest, context: aio.ServicerContext
    ) -> auth_pb2.RevokeApiKeyResponse:
        revoked = await self._keyring.revoke(caller(), request.api_key_id)
        return auth_pb2.RevokeApiKeyResponse(api_key=api_key_to_proto(revoked.info))

    async def CreateUser(
        self, request: auth_pb2.CreateUserRequest, context: aio.ServicerContext
    ) -> auth_pb2.CreateUserResponse:
        key = None
        if request.create_api_key or request.api_key:
            key = NewKey(name=request.api_key_name, scopes=tuple(request.api_key_scopes), raw=request.api_key)
        made = await self._admin.create_user(
            caller(),
            email=request.email,
            password=request.password,
            name=request.name,
            confirmed=request.email_confirmed,
            if_not_exists=request.if_not_exists,
            key=key,
        )
        reply = auth_pb2.CreateUserResponse(user=user_to_proto(made.user), created=made.created)
        if made.key is not None:
            reply.api_key.CopyFrom(api_key_to_proto(made.key.info))
            reply.raw_api_key = made.key.raw
        return reply

    # ----- for other services -----
    async def CheckRateLimit(
        self, request: auth_pb2.CheckRateLimitRequest, context: aio.ServicerContext
    ) -> auth_pb2.CheckRateLimitResponse:
        principal = caller()
        if not is_admin(principal) and principal.user_id not in request.key.split(":"):
            raise Forbidden("Only the mesh's services and admins may count against another caller's limit")
        decision = await self._limits.hit(request.limit_name, request.key, cost=request.cost)
        return auth_pb2.CheckRateLimitResponse(
            allowed=decision.allowed,
            retry_after_seconds=decision.retry_after_s,
            limit=decision.limit,
            period_seconds=60,
            remaining=decision.remaining,
            description=f"{decision.limit} per 1 minute",
        )


def _register(server: aio.Server, parts: AuthParts) -> None:
    auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(parts=parts), server)


def spec() -> ServiceSpec[AuthParts]:
    """The auth service. Its own interceptor authenticates with its parts' authenticator, so the servicer
    and the interceptor share one credential cache and one revocation listener."""
    return ServiceSpec(
        name="auth",
        service_names=(_SERVICE,),
        parts=build_parts,
        register=_register,
        authenticator=lambda resources, parts: parts.authenticator,
        public_methods=_PUBLIC,
    )
