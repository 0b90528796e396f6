"""Plain auth data ↔ protobuf (the one place the auth domain meets generated code)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gaia.auth.v1 import auth_pb2
from gaia.common.v1 import common_pb2
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from gaia_services.auth.accounts import ApiKeyInfo
from gaia_services.auth.identity import IssuedSession
from gaia_services.auth.users import UserRecord
from gaia_services.runtime.principal import AuthType, KeyBudget, Principal

__all__ = [
    "api_key_to_proto",
    "auth_type_to_proto",
    "datetime_from_proto",
    "key_budget_from_proto",
    "key_budget_to_proto",
    "principal_from_proto",
    "principal_to_proto",
    "session_to_proto",
    "struct_to_dict",
    "user_to_proto",
]

_TO_PROTO = {AuthType.JWT: common_pb2.AUTH_TYPE_JWT, AuthType.API_KEY: common_pb2.AUTH_TYPE_API_KEY}
_FROM_PROTO = {v: k for k, v in _TO_PROTO.items()}


def principal_to_proto(principal: Principal) -> common_pb2.Principal:
    return common_pb2.Principal(
        user_id=principal.user_id,
        email=principal.email,
        auth_type=_TO_PROTO[principal.auth_type],
        api_key_id=principal.api_key_id,
        scopes=list(principal.scopes),
        session_id=principal.session_id,
    )


def principal_from_proto(message: common_pb2.Principal) -> Principal:
    return Principal(
        user_id=message.user_id,
        auth_type=_FROM_PROTO.get(message.auth_type, AuthType.API_KEY),
        email=message.email,
        api_key_id=message.api_key_id,
        session_id=message.session_id,
        scopes=tuple(message.scopes),
    )


def key_budget_to_proto(budget: KeyBudget | None) -> common_pb2.KeyBudget | None:
    if budget is None:
        return None
    return common_pb2.KeyBudget(max_budget=budget.max_budget, budget_duration=budget.duration)


def key_budget_from_proto(message: common_pb2.KeyBudget) -> KeyBudget:
    return KeyBudget(max_budget=message.max_budget, duration=message.budget_duration)


def auth_type_to_proto(auth_type: AuthType | None) -> Any:
    return common_pb2.AUTH_TYPE_UNSPECIFIED if auth_type is None else _TO_PROTO[auth_type]


def _timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    return stamp


def datetime_from_proto(message: Any, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    value: datetime = getattr(message, field).ToDatetime(tzinfo=UTC)
    return value


def _struct(data: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(data)
    return message


def struct_to_dict(message: struct_pb2.Struct) -> dict[str, Any]:
    return dict(json_format.MessageToDict(message))


def user_to_proto(user: UserRecord) -> auth_pb2.User:
    message = auth_pb2.User(
        id=user.id,
        email=user.email,
        name=user.name or str(user.user_metadata.get("name") or ""),
        user_metadata=_struct(user.user_metadata),
        app_metadata=_struct(user.app_metadata),
        aud="authenticated",
        role="authenticated",
        phone="",
    )
    for field, value in (
        ("email_confirmed_at", user.email_confirmed_at),
        ("created_at", user.created_at),
        ("updated_at", user.updated_at),
        ("last_sign_in_at", user.last_sign_in_at),
    ):
        stamp = _timestamp(value)
        if stamp is not None:
            getattr(message, field).CopyFrom(stamp)
    return message


def session_to_proto(session: IssuedSession, user: UserRecord) -> auth_pb2.Session:
    return auth_pb2.Session(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=session.expires_in,
        expires_at=session.expires_at,
        token_type="bearer",
        user=user_to_proto(user),
        session_id=session.session_id,
    )


def api_key_to_proto(info: ApiKeyInfo) -> auth_pb2.ApiKey:
    message = auth_pb2.ApiKey(
        id=info.id,
        user_id=info.user_id,
        name=info.name,
        key_prefix=info.key_prefix,
        scopes=list(info.scopes),
        is_active=info.is_active,
        budget=key_budget_to_proto(info.budget),
    )
    for field, value in (
        ("created_at", info.created_at),
        ("expires_at", info.expires_at),
        ("last_used_at", info.last_used_at),
    ):
        stamp = _timestamp(value)
        if stamp is not None:
            getattr(message, field).CopyFrom(stamp)
    return message
