"""Routes of the signed-in account: ``/api/v1/auth/profile``, ``/change-password`` and ``/keys*``.

New routes (not the reference's): they need credentials and answer errors as ``{"detail": ...}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from gaia.auth.v1 import auth_pb2
from gaia.common.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from compat_gateway.errors import ErrorStyle
from compat_gateway.inbound import Inbound
from compat_gateway.render import account as render
from compat_gateway.routes.table import Route, empty_request, unary_rows
from compat_gateway.rpcs import AUTH
from compat_gateway.schemas import account as schemas

__all__ = ["ROUTES"]

_AUTH = "/api/v1/auth"


def _utc(value: datetime) -> datetime:
    """A naive datetime is UTC, as everywhere on the legacy routes."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Profile(BaseModel):
    name: str


class _ChangePassword(BaseModel):
    current_password: str
    new_password: str
    revoke_other_sessions: bool = False


class _NewKey(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    expires_at: Annotated[datetime, AfterValidator(_utc)] | None = None
    #: US dollars the key may spend per ``budget_duration`` (none when absent).
    max_budget: Annotated[float, Field(ge=0, le=1_000_000)] | None = None
    #: When the key's spend starts afresh: ``30d``, ``12h``, ``15m``, ``60s``; absent: never.
    budget_duration: Annotated[str, StringConstraints(pattern=r"^\d{1,6}[smhd]$")] | None = None


class _KeysQuery(BaseModel):
    include_revoked: bool = False


def _update_profile(inbound: Inbound) -> auth_pb2.UpdateProfileRequest:
    body: _Profile = inbound.body_model
    return auth_pb2.UpdateProfileRequest(name=body.name)


def _change_password(inbound: Inbound) -> auth_pb2.ChangePasswordRequest:
    body: _ChangePassword = inbound.body_model
    return auth_pb2.ChangePasswordRequest(
        current_password=body.current_password,
        new_password=body.new_password,
        revoke_other_sessions=body.revoke_other_sessions,
    )


def _create_key(inbound: Inbound) -> auth_pb2.CreateApiKeyRequest:
    body: _NewKey = inbound.body_model
    message = auth_pb2.CreateApiKeyRequest(name=body.name)
    if body.expires_at is not None:
        stamp = Timestamp()
        stamp.FromDatetime(body.expires_at)
        message.expires_at.CopyFrom(stamp)
    if body.max_budget is not None or body.budget_duration:
        message.budget.CopyFrom(
            common_pb2.KeyBudget(
                max_budget=body.max_budget or 0.0, budget_duration=body.budget_duration or ""
            )
        )
    return message


def _list_keys(inbound: Inbound) -> auth_pb2.ListApiKeysRequest:
    query: _KeysQuery = inbound.query_model
    return auth_pb2.ListApiKeysRequest(include_revoked=query.include_revoked)


def _revoke_key(inbound: Inbound) -> auth_pb2.RevokeApiKeyRequest:
    return auth_pb2.RevokeApiKeyRequest(api_key_id=inbound.path_params["key_id"])


_row = unary_rows(errors=ErrorStyle.PLAIN)

ROUTES: tuple[Route, ...] = (
    _row(
        "GET",
        f"{_AUTH}/profile",
        "v1_auth_profile",
        AUTH.GetProfile,
        empty_request(auth_pb2.GetProfileRequest),
        render.profile,
        response=schemas.Profile,
        summary="The calling user",
    ),
    _row(
        "PATCH",
        f"{_AUTH}/profile",
        "v1_auth_profile_update",
        AUTH.UpdateProfile,
        _update_profile,
        render.profile,
        body=_Profile,
        response=schemas.Profile,
        summary="Change the calling user's display name",
    ),
    _row(
        "POST",
        f"{_AUTH}/change-password",
        "v1_auth_change_password",
        AUTH.ChangePassword,
        _change_password,
        render.password_changed,
        body=_ChangePassword,
        response=schemas.PasswordChanged,
        summary="Change the password (403 when the current one is wrong), optionally ending other sessions",
    ),
    _row(
        "GET",
        f"{_AUTH}/keys",
        "v1_auth_keys_list",
        AUTH.ListApiKeys,
        _list_keys,
        render.key_list,
        query=_KeysQuery,
        response=schemas.ApiKeyList,
        summary="The caller's API keys, newest first (never the raw keys)",
    ),
    _row(
        "POST",
        f"{_AUTH}/keys",
        "v1_auth_keys_create",
        AUTH.CreateApiKey,
        _create_key,
        render.key_created,
        body=_NewKey,
        status_code=201,
        response=schemas.ApiKeyCreated,
        summary="Create an API key (optionally with a budget: max_budget per budget_duration); the raw "
        "key is shown this once",
    ),
    _row(
        "DELETE",
        f"{_AUTH}/keys/{{key_id}}",
        "v1_auth_keys_revoke",
        AUTH.RevokeApiKey,
        _revoke_key,
        render.key_revoked,
        response=schemas.ApiKeyRevoked,
        summary="Revoke one of the caller's API keys",
    ),
)
