"""The auth routes through the real shim, whole bodies compared: the recorded ones byte for byte, the rest
(never recorded: Supabase was unconfigured) against the reference §4.10 shapes."""

from __future__ import annotations

import json
import re
import uuid
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from gaia_services.auth.sessions import hash_token
from tests.integration.test_auth_mesh import auth_http, auth_mesh, mint
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh
from tests.support.recorded import load, normalise

__all__ = ["auth_http", "auth_mesh"]

V1 = "/api/v1/auth"
V03 = "/api/v0.3/auth"
PROTECTED = "/api/v1/conversations"  # any authenticated route will do
USER_KEYS = [
    "id",
    "email",
    "email_confirmed_at",
    "user_metadata",
    "app_metadata",
    "aud",
    "role",
    "created_at",
    "last_sign_in_at",
    "phone",
    "identities",
]
SESSION_KEYS = [
    "access_token",
    "refresh_token",
    "expires_in",
    "expires_at",
    "token_type",
    "user",
    "provider_token",
    "provider_refresh_token",
]
RECORDED_JWT_CLAIMS = {
    "sub": "11111111-2222-3333-4444-555555555555",
    "aud": "authenticated",
    "role": "authenticated",
    "email": "jwt-user@example.test",
}


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@gaia.test"


def _wrapped(message: str) -> dict[str, str]:
    return {"detail": "Service error: " + json.dumps({"detail": message}, separators=(",", ":"))}


async def _post(http: aiohttp.ClientSession, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    async with http.post(path, json=body, **kwargs) as response:
        assert response.headers["content-type"] == "application/json"
        return response.status, await response.json()


def _mails(mesh: Mesh, to: str) -> list[Message]:
    folder = Path(mesh.data_dir) / "mail"
    found = (
        [message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))] if folder.exists() else []
    )
    return [m for m in found if m["To"] == to]


def _link_token(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    match = re.search(r"/api/v1/auth/confirm\?token=([^&\s]+)&email=", payload.decode())
    assert match, payload
    return match.group(1)


def _check_user(user: dict[str, Any], email: str, *, confirmed: bool, name: str = "") -> None:
    assert list(user) == USER_KEYS
    assert user["email"] == email
    uuid.UUID(user["id"])
    assert (user["email_confirmed_at"] is not None) is confirmed
    assert user["user_metadata"] == ({"name": name} if name else {})
    assert user["app_metadata"] == {"provider": "email", "providers": ["email"]}
    assert (user["aud"], user["role"], user["phone"], user["identities"]) == (
        "authenticated",
        "authenticated",
        "",
        [],
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", user["created_at"])


def _check_session(body: dict[str, Any], email: str) -> dict[str, Any]:
    assert list(body) == ["user", "session"]
    session = body["session"]
    assert list(session) == SESSION_KEYS
    assert session["token_type"] == "bearer"
    assert session["expires_in"] == 3600
    assert session["provider_token"] is None and session["provider_refresh_token"] is None
    assert session["user"] == body["user"]
    _check_user(body["user"], email, confirmed=True, name=body["user"]["user_metadata"].get("name", ""))
    assert body["user"]["last_sign_in_at"] is not None
    return dict(session)


async def _registered_and_confirmed(
    http: aiohttp.ClientSession, mesh: Mesh, password: str = "secret123"
) -> str:
    email = _email()
    status, _ = await _post(http, f"{V1}/register", {"email": email, "password": password})
    assert status == 200
    token = _link_token(_mails(mesh, email)[-1])
    async with http.get(f"{V1}/confirm", params={"token": token, "email": email}) as response:
        assert response.status == 200
    return email


# ----- validate: the recorded bodies -----


@pytest.mark.parametrize(
    ("fixture", "body"),
    [
        ("v1_auth_validate_bad_key", {"api_key": "nope"}),
        ("v1_auth_validate_empty", {}),
        ("v1_auth_validate_bad_token", {"token": "not.a.jwt"}),
        ("v1_auth_validate_nonascii", {"api_key": "ключ"}),
    ],
)
async def test_validate_failures_answer_the_recorded_bytes(
    auth_http: aiohttp.ClientSession, fixture: str, body: dict[str, str]
) -> None:
    recorded = load(fixture)
    for prefix in (V1, V03):
        async with auth_http.post(f"{prefix}/validate", json=body) as response:
            assert response.status == recorded.status
            assert await response.read() == recorded.body


async def test_validate_an_api_key_as_recorded(auth_http: aiohttp.ClientSession) -> None:
    recorded = load("v1_auth_validate_api_key")
    raw = json.dumps({"api_key": DEV_API_KEY}, indent=2)  # pretty JSON too (the reference failed it)
    for data in (json.dumps({"api_key": DEV_API_KEY}, separators=(",", ":")), raw):
        async with auth_http.post(
            f"{V1}/validate", data=data, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 200
            assert normalise(await response.json()) == normalise(recorded.json())


async def test_validate_a_jwt_as_recorded(auth_http: aiohttp.ClientSession) -> None:
    recorded = load("jwt_v1_auth_validate_token")
    async with auth_http.post(f"{V1}/validate", json={"token": mint(RECORDED_JWT_CLAIMS)}) as response:
        assert (response.status, await response.read()) == (200, recorded.body)
    expired = load("jwt_v1_auth_validate_expired_token")
    async with auth_http.post(
        f"{V1}/validate", json={"token": mint(RECORDED_JWT_CLAIMS, ttl=-60)}
    ) as response:
        assert (response.status, await response.read()) == (200, expired.body)


async def test_login_without_password_is_the_recorded_422(auth_http: aiohttp.ClientSession) -> None:
    recorded = load("v1_auth_login_missing_422")
    async with auth_http.post(
        f"{V1}/login", data=b'{"email":"a@b.c"}', headers={"Content-Type": "application/json"}
    ) as response:
        assert (response.status, await response.read()) == (422, recorded.body)


async def test_a_422_never_echoes_the_password(auth_http: aiohttp.ClientSession) -> None:
    status, body = await _post(auth_http, f"{V1}/register", {"email": 5, "password": "hunter2-secret"})
    assert status == 422
    assert "hunter2-secret" not in json.dumps(body)
    inner = json.loads(body["detail"].removeprefix("Service error: "))
    assert inner["detail"][0]["loc"] == ["body", "email"]
    assert inner["detail"][0]["input"] == 5
    status, body = await _post(auth_http, f"{V1}/login", ["not", "an", "object"])
    assert status == 422


# ----- registration, confirmation, login, refresh, logout -----


async def test_register_confirm_login_refresh_logout(
    auth_http: aiohttp.ClientSession, auth_mesh: Mesh
) -> None:
    email = _email()
    status, body = await _post(
        auth_http, f"{V1}/register", {"email": email, "password": "secret123", "username": "Ann"}
    )
    assert status == 200
    assert list(body) == ["user", "session"] and body["session"] is None
    _check_user(body["user"], email, confirmed=False, name="Ann")
    assert body["user"]["last_sign_in_at"] is None

    status, body = await _post(auth_http, f"{V1}/login", {"email": email, "password": "secret123"})
    assert (status, body) == (400, _wrapped("Login failed: Email not confirmed"))

    mails = _mails(auth_mesh, email)
    assert len(mails) == 1 and mails[0]["Subject"] == "Confirm your Gaia account"
    token = _link_token(mails[0])
    status, body = await _post(auth_http, f"{V1}/confirm", {"token": "wrong", "email": email})
    assert (status, body) == (400, _wrapped("Confirmation link is expired or invalid"))
    status, body = await _post(auth_http, f"{V1}/confirm", {"token": token, "email": email})
    assert status == 200
    assert list(body) == ["message", "user"] and body["message"] == "Email confirmed successfully"
    _check_user(body["user"], email, confirmed=True, name="Ann")
    status, body = await _post(auth_http, f"{V1}/confirm", {"token": token, "email": email})
    assert (status, body) == (400, _wrapped("Email is already confirmed"))

    status, body = await _post(auth_http, f"{V1}/login", {"email": email.upper(), "password": "secret123"})
    assert status == 200
    session = _check_session(body, email)
    assert body["user"]["user_metadata"] == {"name": "Ann"}
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    async with auth_http.get(PROTECTED, headers=bearer) as response:
        assert response.status == 200

    status, body = await _post(auth_http, f"{V1}/refresh", {"refresh_token": session["refresh_token"]})
    assert status == 200
    renewed = _check_session(body, email)
    assert renewed["refresh_token"] != session["refresh_token"]
    assert renewed["access_token"] != session["access_token"]

    status, body = await _post(
        auth_http, f"{V1}/logout", headers={"Authorization": f"Bearer {renewed['access_token']}"}
    )
    assert (status, body) == (200, {"message": "Logged out successfully"})
    for token in (renewed["access_token"], session["access_token"]):
        async with auth_http.get(PROTECTED, headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 401
            assert await response.json() == {"detail": "Not authenticated. Provide a valid JWT or API Key."}
    status, body = await _post(auth_http, f"{V1}/refresh", {"refresh_token": renewed["refresh_token"]})
    assert (status, body) == (400, _wrapped("Token refresh failed: Invalid Refresh Token: Session Revoked"))


async def test_refresh_token_reuse_revokes_the_whole_family(
    auth_http: aiohttp.ClientSession, auth_mesh: Mesh
) -> None:
    email = await _registered_and_confirmed(auth_http, auth_mesh)
    _, first = await _post(auth_http, f"{V03}/login", {"email": email, "password": "secret123"})
    spent = first["session"]["refresh_token"]
    _, second = await _post(auth_http, f"{V03}/refresh", {"refresh_token": spent})
    live = second["session"]
    async with auth_http.get(
        PROTECTED, headers={"Authorization": f"Bearer {live['access_token']}"}
    ) as response:
        assert response.status == 200
    status, body = await _post(auth_http, f"{V03}/refresh", {"refresh_token": spent})
    assert (status, body) == (400, _wrapped("Token refresh failed: Invalid Refresh Token: Already Used"))
    async with auth_http.get(
        PROTECTED, headers={"Authorization": f"Bearer {live['access_token']}"}
    ) as response:
        assert response.status == 401
    status, body = await _post(auth_http, f"{V03}/refresh", {"refresh_token": live["refresh_token"]})
    assert (status, body) == (400, _wrapped("Token refresh failed: Invalid Refresh Token: Session Revoked"))
    status, body = await _post(auth_http, f"{V03}/refresh", {"refresh_token": "never-issued"})
    assert (status, body) == (
        400,
        _wrapped("Token refresh failed: Invalid Refresh Token: Refresh Token Not Found"),
    )


async def test_logout_by_refresh_token_and_without_credentials(
    auth_http: aiohttp.ClientSession, auth_mesh: Mesh
) -> None:
    email = await _registered_and_confirmed(auth_http, auth_mesh)
    _, body = await _post(auth_http, f"{V1}/login", {"email": email, "password": "secret123"})
    session = body["session"]
    status, body = await _post(auth_http, f"{V1}/logout", {"refresh_token": session["refresh_token"]})
    assert (status, body) == (200, {"message": "Logged out successfully"})
    async with auth_http.get(
        PROTECTED, headers={"Authorization": f"Bearer {session['access_token']}"}
    ) as response:
        assert response.status == 401
    status, body = await _post(auth_http, f"{V1}/logout", {"refresh_token": session["refresh_token"]})
    assert (status, body) == (400, _wrapped("Logout failed: Invalid Refresh Token: Session Revoked"))
    async with auth_http.post(f"{V1}/logout", headers={"Content-Length": "0"}) as response:
        assert (response.status, await response.json()) == (200, {"message": "Logged out successfully"})


async def test_an_expired_refresh_token_cannot_refresh_but_still_ends_its_session(
    auth_http: aiohttp.ClientSession, auth_mesh: Mesh, infra: Infra
) -> None:
    """CONTRACT §3 refuses only a spent refresh token at logout; like an expired access token (Bearer), an
    expired refresh token still ends its own session (logging out is harmless). Refresh refuses it."""
    email = await _registered_and_confirmed(auth_http, auth_mesh)
    _, body = await _post(auth_http, f"{V1}/login", {"email": email, "password": "secret123"})
    session = body["session"]
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute(
            "UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE token_hash = $1",
            hash_token(session["refresh_token"]),
        )
    finally:
        await conn.close()
    status, body = await _post(auth_http, f"{V1}/refresh", {"refresh_token": session["refresh_token"]})
    assert (status, body) == (400, _wrapped("Token refresh failed: Invalid Refresh Token: Expired"))
    async with auth_http.get(
        PROTECTED, headers={"Authorization": f"Bearer {session['access_token']}"}
    ) as response:
        assert response.status == 200  # a refused refresh leaves the session alone
    status, body = await _post(auth_http, f"{V1}/logout", {"refresh_token": session["refresh_token"]})
    assert (status, body) == (200, {"message": "Logged out successfully"})
    async with auth_http.get(
        PROTECTED, headers={"Authorization": f"Bearer {session['access_token']}"}
    ) as response:
        assert response.status == 401
    status, body = await _post(auth_http, f"{V1}/logout", {"refresh_token": session["refresh_token"]})
    assert (status, body) == (400, _wrapped("Logout failed: Invalid Refresh Token: Session Revoked"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "not-an-email", "password": "secret123"}, "Please enter a valid email address"),
        ({"email": "ok@gaia.test", "password": "12345"}, "Password must be at least 6 characters long"),
        ({"email": "dev@gaia.local", "password": "secret123"}, "This email is already registered"),
    ],
)
async def test_registration_errors_are_the_reference_texts(
    auth_http: aiohttp.ClientSession, body: dict[str, str], message: str
) -> None:
    for prefix in (V1, V03):
        assert await _post(auth_http, f"{prefix}/register", body) == (400, _wrapped(message))


async def test_bad_login_is_400_and_repeated_failures_are_throttled(
    auth_http: aiohttp.ClientSession, auth_mesh: Mesh
) -> None:
    email = await _registered_and_confirmed(auth_http, auth_mesh)
    for _ in range(3):
        status, body = await _post(auth_http, f"{V1}/login", {"email": email, "password": "wrong-password"})
        assert (status, body) == (400, _wrapped("Login failed: Invalid login credentials"))
    async with auth_http.post(f"{V1}/login", json={"email": email, "password": "secret123"}) as response:
        assert response.status == 429
        assert await response.json() == _wrapped(
            "Login failed: Too many login attempts. Please try again later"
        )
        assert 0 < int(response.headers["Retry-After"]) <= 900
    other = {"email": _email(), "password": "whatever1"}  # an unknown email: the same answer
    assert await _post(auth_http, f"{V1}/login", other) == (
        400,
        _wrapped("Login failed: Invalid login credentials"),
    )


async def test_resend_verification(auth_http: aiohttp.ClientSession, auth_mesh: Mesh) -> None:
    email = _email()
    await _post(auth_http, f"{V03}/register", {"email": email, "password": "secret123"})
    status, body = await _post(auth_http, f"{V03}/resend-verification", {"email": email})
    assert (status, body) == (200, {"message": f"Verification email sent to {email}", "result": None})
    mails = _mails(auth_mesh, email)
    assert len(mails) == 2
    # the older link still works; v0.3 confirm is the same handler (the reference's was a 500)
    status, body = await _post(auth_http, f"{V03}/confirm", {"token": _link_token(mails[0]), "email": email})
    assert status == 200 and body["message"] == "Email confirmed successfully"
    status, body = await _post(auth_http, f"{V03}/resend-verification", {"email": email})
    assert (status, body) == (400, _wrapped("Email is already confirmed"))
    status, body = await _post(auth_http, f"{V1}/resend-verification", {"email": _email()})
    assert (status, body) == (400, _wrapped("Email address not found"))


# ----- the 401/403 semantics on an authenticated route -----


@pytest.mark.parametrize(
    ("fixture", "headers"),
    [
        ("auth_none_401", {}),
        ("auth_badkey_403", {"X-API-Key": "not-a-real-key"}),
        ("auth_bad_bearer_401", {"Authorization": "Bearer not.a.jwt"}),
        ("auth_basic_scheme_401", {"Authorization": "Basic Zm9vOmJhcg=="}),
        ("auth_empty_key_401", {"X-API-Key": ""}),
        ("auth_inactive_key_403", {"X-API-Key": "inactive-test-key-0001"}),
        ("jwt_expired_401", {"Authorization": "Bearer " + mint(RECORDED_JWT_CLAIMS, ttl=-60)}),
        ("jwt_wrong_aud_401", {"Authorization": "Bearer " + mint({**RECORDED_JWT_CLAIMS, "aud": "anon"})}),
        ("jwt_wrong_secret_401", {"Authorization": "Bearer " + mint(RECORDED_JWT_CLAIMS, secret="x" * 40)}),
        (
            "jwt_wrong_secret_plus_bad_key_403",
            {
                "Authorization": "Bearer " + mint(RECORDED_JWT_CLAIMS, secret="x" * 40),
                "X-API-Key": "not-a-real-key",
            },
        ),
    ],
)
async def test_refusals_answer_the_recorded_bytes(
    auth_http: aiohttp.ClientSession, fixture: str, headers: dict[str, str]
) -> None:
    recorded = load(fixture)
    async with auth_http.get(PROTECTED, headers=headers) as response:
        assert response.status == recorded.status
        assert await response.read() == recorded.body
        assert "www-authenticate" not in response.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not.a.jwt", "X-API-Key": DEV_API_KEY},
        {"Authorization": "Bearer " + mint(RECORDED_JWT_CLAIMS, ttl=-60), "X-API-Key": DEV_API_KEY},
        {"x-api-key": DEV_API_KEY},
        {"Authorization": "Bearer " + mint(RECORDED_JWT_CLAIMS)},  # a Supabase-style token (no session here)
    ],
)
async def test_a_good_credential_passes(auth_http: aiohttp.ClientSession, headers: dict[str, str]) -> None:
    async with auth_http.get(PROTECTED, headers=headers) as response:
        assert response.status == 200


async def test_in_dev_registration_confirms_at_once(http: aiohttp.ClientSession) -> None:
    """The shared dev mesh (confirmation off by default in dev): a session straight away."""
    email = _email()
    status, body = await _post(
        http, f"{V1}/register", {"email": email, "password": "secret123", "name": "Bo"}
    )
    assert status == 200
    session = _check_session(body, email)
    assert body["user"]["user_metadata"] == {"name": "Bo"}
    async with http.get(
        PROTECTED, headers={"Authorization": f"Bearer {session['access_token']}"}
    ) as response:
        assert response.status == 200
    status, body = await _post(http, f"{V1}/resend-verification", {"email": email})
    assert (status, body) == (400, _wrapped("Email is already confirmed"))
