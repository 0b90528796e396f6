"""Routes of the auth area: ``/api/v1/auth/*`` and the December ``/api/v0.3/auth/*`` (the same handlers).

All are public (the reference let anyone call them) and forwarded to the auth service, so a service's
error comes back wrapped as ``Service error: {"detail": ...}``.
"""

from __future__ import annotations

from typing import Any

from gaia.auth.v1 import auth_pb2
from pydantic import BaseModel

from compat_gateway.inbound import Inbound, InputError
from compat_gateway.render import auth as render
from compat_gateway.routes.table import Route, Unary
from compat_gateway.rpcs import AUTH, Rpc
from compat_gateway.schemas import auth as schemas

__all__ = ["ROUTES"]


class _Credentials(BaseModel):
    email: str
    password: str


class _Register(_Credentials):
    name: str | None = None
    username: str | None = None


class _Refresh(BaseModel):
    refresh_token: str


class _Validate(BaseModel):
    token: str | None = None
    api_key: str | None = None


class _Confirm(BaseModel):
    token: str
    email: str


class _Resend(BaseModel):
    email: str


def _body(inbound: Inbound) -> Any:
    return inbound.body_model


def _register(inbound: Inbound) -> auth_pb2.RegisterRequest:
    body: _Register = _body(inbound)
    return auth_pb2.RegisterRequest(
        email=body.email, password=body.password, name=body.name or body.username or ""
    )


def _login(inbound: Inbound) -> auth_pb2.LoginRequest:
    body: _Credentials = _body(inbound)
    return auth_pb2.LoginRequest(email=body.email, password=body.password)


def _refresh(inbound: Inbound) -> auth_pb2.RefreshRequest:
    return auth_pb2.RefreshRequest(refresh_token=_body(inbound).refresh_token)


def _validate(inbound: Inbound) -> auth_pb2.ValidateRequest:
    body: _Validate = _body(inbound)
    return auth_pb2.ValidateRequest(token=body.token or "", api_key=body.api_key or "")


async def _logout(inbound: Inbound) -> auth_pb2.LogoutRequest:
    """The session of the optional body's ``refresh_token``, else of the Bearer token; any other body is
    ignored (the reference took none)."""
    try:
        body = await inbound.json_object()
    except InputError:
        body = {}
    refresh = body.get("refresh_token")
    return auth_pb2.LogoutRequest(
        refresh_token=refresh if isinstance(refresh, str) else "", access_token=inbound.credentials.jwt
    )


def _confirm(inbound: Inbound) -> auth_pb2.ConfirmEmailRequest:
    body: _Confirm = _body(inbound)
    return auth_pb2.ConfirmEmailRequest(token=body.token, email=body.email)


def _confirm_link(inbound: Inbound) -> auth_pb2.ConfirmEmailRequest:
    query: _Confirm = inbound.query_model
    return auth_pb2.ConfirmEmailRequest(token=query.token, email=query.email)


def _resend(inbound: Inbound) -> auth_pb2.ResendVerificationRequest:
    return auth_pb2.ResendVerificationRequest(email=_body(inbound).email)


def _routes(prefix: str, tag: str) -> tuple[Route, ...]:
    def row(path: str, name: str, rpc: Rpc, **kwargs: Any) -> Unary:
        method = kwargs.pop("method", "POST")
        return Unary(
            method=method, path=f"{prefix}/{path}", name=f"{tag}_{name}", rpc=rpc, auth=False, **kwargs
        )

    return (
        row(
            "validate",
            "validate",
            AUTH.Validate,
            body=_Validate,
            build=_validate,
            render=render.validated,
            response=schemas.Validated,
            summary="Check a JWT or an API key",
        ),
        row(
            "refresh",
            "refresh",
            AUTH.Refresh,
            body=_Refresh,
            build=_refresh,
            render=render.auth_response,
            response=schemas.AuthResponse,
            summary="Exchange a refresh token for a new session",
        ),
        row(
            "register",
            "register",
            AUTH.Register,
            body=_Register,
            build=_register,
            render=render.auth_response,
            response=schemas.AuthResponse,
            summary="Create an account",
        ),
        row(
            "login",
            "login",
            AUTH.Login,
            body=_Credentials,
            build=_login,
            render=render.auth_response,
            response=schemas.AuthResponse,
            summary="Sign in with email and password",
        ),
        row(
            "logout",
            "logout",
            AUTH.Logout,
            build=_logout,
            render=render.logged_out,
            response=schemas.LoggedOut,
            summary="Revoke the session of the Bearer token or of a refresh token",
        ),
        row(
            "confirm",
            "confirm",
            AUTH.ConfirmEmail,
            body=_Confirm,
            build=_confirm,
            render=render.confirmed,
            response=schemas.Confirmed,
            summary="Confirm an email address",
        ),
        row(
            "resend-verification",
            "resend_verification",
            AUTH.ResendVerification,
            body=_Resend,
            build=_resend,
            render=render.verification_sent,
            response=schemas.VerificationSent,
            summary="Mail a new confirmation link",
        ),
    )


#: The mailed confirmation link (a GET, so that a person can simply open it).
_CONFIRM_LINK = Unary(
    method="GET",
    path="/api/v1/auth/confirm",
    name="v1_auth_confirm_link",
    query=_Confirm,
    build=_confirm_link,
    render=render.confirmed,
    response=schemas.Confirmed,
    auth=False,
    summary="Confirm an email address (the mailed link)",
    rpc=AUTH.ConfirmEmail,
)

ROUTES: tuple[Route, ...] = (
    *_routes("/api/v1/auth", "v1_auth"),
    _CONFIRM_LINK,
    *_routes("/api/v0.3/auth", "v03_auth"),
)
