"""Plain principal ↔ protobuf ``Principal`` (the one place the auth domain meets generated code)."""

from __future__ import annotations

from gaia.common.v1 import common_pb2

from gaia_services.runtime.principal import AuthType, Principal

__all__ = ["principal_from_proto", "principal_to_proto"]

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
