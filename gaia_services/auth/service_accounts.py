"""RPCs of the signed-in account: profile, password, API keys; admin user creation; named rate limits."""

from __future__ import annotations

import asyncio

from gaia.auth.v1 import auth_pb2
from grpc import aio

from gaia_services.auth.convert import api_key_to_proto, datetime_from_proto, struct_to_dict, user_to_proto
from gaia_services.auth.identity import MIN_PASSWORD, SHORT_PASSWORD, valid_email
from gaia_services.auth.wiring import AuthParts
from gaia_services.runtime.calls import current_call
from gaia_services.runtime.errors import AlreadyExists, CredentialsRejected, Forbidden, InvalidArgument
from gaia_services.runtime.principal import Principal
from gaia_services.runtime.wire import NOT_AUTHENTICATED

__all__ = ["AccountRpcs"]

ADMIN = "admin"
_EVENT_CREATED = "gaia.auth.api_key.created"


def _caller() -> Principal:
    call = current_call.get()
    if call is None or call.principal is None:
        raise CredentialsRejected(NOT_AUTHENTICATED)
    return call.principal


def _admin(principal: Principal) -> bool:
    return ADMIN in principal.scopes


class AccountRpcs:
    _parts: AuthParts

    async def GetProfile(
        self, request: auth_pb2.GetProfileRequest, context: aio.ServicerContext
    ) -> auth_pb2.GetProfileResponse:
        user = await self._parts.identity.profile(_caller().user_id)
        return auth_pb2.GetProfileResponse(user=user_to_proto(user))

    async def UpdateProfile(
        self, request: auth_pb2.UpdateProfileRequest, context: aio.ServicerContext
    ) -> auth_pb2.UpdateProfileResponse:
        name = request.name if request.HasField("name") else None
        metadata = struct_to_dict(request.user_metadata) if request.HasField("user_metadata") else {}
        user = await self._parts.identity.update_profile(_caller().user_id, name=name, metadata=metadata)
        return auth_pb2.UpdateProfileResponse(user=user_to_proto(user))

    async def ChangePassword(
        self, request: auth_pb2.ChangePasswordRequest, context: aio.ServicerContext
    ) -> auth_pb2.ChangePasswordResponse:
        caller = _caller()
        revoked = await self._parts.identity.change_password(
            caller.user_id,
            current=request.current_password,
            new=request.new_password,
            revoke_others=request.revoke_other_sessions,
            keep_session=caller.session_id,
        )
        return auth_pb2.ChangePasswordResponse(changed=True, sessions_revoked=revoked)

    async def CreateApiKey(
        self, request: auth_pb2.CreateApiKeyRequest, context: aio.ServicerContext
    ) -> auth_pb2.CreateApiKeyResponse:
        caller = _caller()
        owner = caller.user_id
        if request.user_id and request.user_id != caller.user_id:
            if not _admin(caller):
                raise Forbidden("Only an admin may create keys for another user")
            owner = (await self._parts.identity.users.require(request.user_id)).id
        scopes = tuple(dict.fromkeys(request.scopes))
        if not _admin(caller) and not set(scopes) <= set(caller.scopes):
            raise Forbidden("A key cannot be granted scopes its creator does not hold")
        issued = await self._parts.accounts.create_key(
            user_id=owner,
            name=request.name or "api key",
            scopes=scopes,
            expires_at=datetime_from_proto(request, "expires_at"),
        )
        await self._parts.events.publish(_EVENT_CREATED, {"api_key_id": issued.info.id, "user_id": owner})
        return auth_pb2.CreateApiKeyResponse(api_key=api_key_to_proto(issued.info), raw_key=issued.raw)

    async def ListApiKeys(
        self, request: auth_pb2.ListApiKeysRequest, context: aio.ServicerContext
    ) -> auth_pb2.ListApiKeysResponse:
        keys = await self._parts.accounts.list_keys(
            user_id=_caller().user_id, include_revoked=request.include_revoked
        )
        offset = max(0, request.page.offset)
        limit = request.page.limit if request.page.limit > 0 else 100
        page = keys[offset : offset + limit]
        return auth_pb2.ListApiKeysResponse(api_keys=[api_key_to_proto(k) for k in page], total=len(keys))

    async def RevokeApiKey(
        self, request: auth_pb2.RevokeApiKeyRequest, context: aio.ServicerContext
    ) -> auth_pb2.RevokeApiKeyResponse:
        caller = _caller()
        revoked = await self._parts.accounts.revoke_key(
            key_id=request.api_key_id, user_id=None if _admin(caller) else caller.user_id
        )
        await self._parts.key_revoked(revoked)
        return auth_pb2.RevokeApiKeyResponse(api_key=api_key_to_proto(revoked.info))

    async def CreateUser(
        self, request: auth_pb2.CreateUserRequest, context: aio.ServicerContext
    ) -> auth_pb2.CreateUserResponse:
        if not _admin(_caller()):
            raise Forbidden("Only an admin may create users")
        if not valid_email(request.email.strip()):
            raise InvalidArgument("Please enter a valid email address")
        if request.password and len(request.password) < MIN_PASSWORD:
            raise InvalidArgument(SHORT_PASSWORD)
        parts = self._parts
        users = parts.identity.users
        created = True
        hashed = await asyncio.to_thread(parts.passwords.hash, request.password) if request.password else None
        try:
            user = await users.create(
                email=request.email.strip(),
                password_hash=hashed,
                name=request.name,
                confirmed=request.email_confirmed,
            )
        except AlreadyExists:
            existing = await users.by_email(request.email.strip())
            if not request.if_not_exists or existing is None:
                raise
            user, created = existing, False
        reply = auth_pb2.CreateUserResponse(user=user_to_proto(user), created=created)
        if request.create_api_key or request.api_key:
            issued = await parts.accounts.create_key(
                user_id=user.id,
                name=request.api_key_name or "api key",
                scopes=tuple(request.api_key_scopes),
                raw=request.api_key or None,
            )
            await parts.events.publish(_EVENT_CREATED, {"api_key_id": issued.info.id, "user_id": user.id})
            reply.api_key.CopyFrom(api_key_to_proto(issued.info))
            reply.raw_api_key = issued.raw
        if created:
            await parts.events.publish(
                "gaia.auth.registered",
                {"user_id": user.id, "email": user.email, "confirmation_required": False},
            )
        return reply

    async def CheckRateLimit(
        self, request: auth_pb2.CheckRateLimitRequest, context: aio.ServicerContext
    ) -> auth_pb2.CheckRateLimitResponse:
        parts = self._parts
        limit = (
            parts.settings.root_rate_limit_per_minute
            if request.limit_name == "root"
            else parts.auth.rate_limit_per_minute
        )
        if not request.key:
            raise InvalidArgument("A rate-limit key is required")
        decision = await parts.limiter.hit(
            f"{request.limit_name or 'default'}:{request.key}", limit=limit, cost=max(1, request.cost)
        )
        return auth_pb2.CheckRateLimitResponse(
            allowed=decision.allowed,
            retry_after_seconds=decision.retry_after_s,
            limit=limit,
            period_seconds=60,
            remaining=decision.remaining,
            description=f"{limit} per 1 minute",
        )
