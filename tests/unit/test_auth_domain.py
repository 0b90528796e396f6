"""The auth domain without infrastructure: tokens, passwords, the authenticator's rules, caches, limits,
settings, and the legacy renderers."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from gaia.auth.v1 import auth_pb2
from gaia.common.v1 import common_pb2

from compat_gateway.render import auth as render
from gaia_services.auth.api_keys import ApiKeyRecord, generate_key, hash_key
from gaia_services.auth.authenticator import LocalAuthenticator
from gaia_services.auth.cache import CachedIdentity, CredentialCache
from gaia_services.auth.config import AuthSettings
from gaia_services.auth.identity import valid_email
from gaia_services.auth.limits import SlidingWindow
from gaia_services.auth.passwords import Passwords
from gaia_services.auth.tokens import TokenError, TokenSigner
from gaia_services.runtime.errors import CredentialsForbidden, CredentialsRejected
from gaia_services.runtime.principal import AuthType, Credentials, Principal
from gaia_services.settings import Environment

SECRET = "unit-test-secret-0123456789abcdef0123"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class FakeKeys:
    """A key store behind the same methods as ``ApiKeyStore``."""

    def __init__(self, *records: tuple[str, ApiKeyRecord]) -> None:
        self._records = dict(records)
        self.touched: list[str] = []

    async def find_active(self, raw: str) -> ApiKeyRecord | None:
        return self._records.get(raw)

    async def touch(self, key_id: str) -> None:
        self.touched.append(key_id)


def _authenticator(
    statuses: dict[str, bool | None] | None = None, **records: ApiKeyRecord
) -> LocalAuthenticator:
    async def status(session_id: str) -> bool | None:
        return (statuses or {}).get(session_id)

    return LocalAuthenticator(
        signer=TokenSigner(secret=SECRET, ttl_s=3600),
        keys=FakeKeys(*records.items()),  # type: ignore[arg-type]
        session_status=status,
    )


def test_tokens_round_trip_and_carry_the_session() -> None:
    signer = TokenSigner(secret=SECRET, ttl_s=60)
    token, expires = signer.issue(user_id="u1", email="a@b.c", session_id="s1")
    claims = signer.verify(token)
    assert (claims.user_id, claims.email, claims.session_id, claims.expires_at, claims.ours) == (
        "u1",
        "a@b.c",
        "s1",
        expires,
        True,
    )
    raw = jwt.decode(token, SECRET, algorithms=["HS256"], audience="authenticated")
    assert raw["aud"] == "authenticated" and raw["sub"] == "u1" and raw["exp"] == expires


def test_forged_tokens_are_refused() -> None:
    signer = TokenSigner(secret=SECRET, ttl_s=60)
    token, _ = signer.issue(user_id="u1", email="a@b.c", session_id="s1")
    head, payload, signature = token.split(".")
    now = int(time.time())
    base = {"sub": "u1", "aud": "authenticated", "exp": now + 60}
    forged = [
        jwt.encode({**base, "exp": now - 1}, SECRET, algorithm="HS256"),
        jwt.encode({**base, "aud": "anon"}, SECRET, algorithm="HS256"),
        jwt.encode(base, "another-secret-0123456789abcdef012345", algorithm="HS256"),
        jwt.encode({"aud": "authenticated", "exp": now + 60}, SECRET, algorithm="HS256"),  # no sub
        f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        f"{head}.{_b64({**base, 'sub': 'someone-else'})}.{signature}",
        "not.a.jwt",
    ]
    for token in forged:
        with pytest.raises(TokenError):
            signer.verify(token)
    expired = jwt.encode({**base, "exp": now - 5, "session_id": "s9"}, SECRET, algorithm="HS256")
    assert signer.verify(expired, allow_expired=True).session_id == "s9"


def test_passwords_and_emails() -> None:
    passwords = Passwords(light=True)
    stored = passwords.hash("secret123")
    assert stored.startswith("$argon2id$") and "secret123" not in stored
    assert passwords.verify(stored, "secret123") and not passwords.verify(stored, "secret124")
    assert not passwords.verify(None, "x") and not passwords.verify("garbage", "x")
    assert valid_email("a@b.co") and not valid_email("a@b") and not valid_email("not an@email.com")


def test_generated_keys_and_their_hash() -> None:
    key = generate_key("prod")
    assert key.startswith("gaia_prod_") and len(key) == 42 and key[10:].isalnum()
    assert hash_key("FJUeDkZRy0uPp7cYtavMsIfwi7weF9-RT7BeOlusqnE") == (
        "8065e7a7dd9a5d02ea3a79cea93036e7092910c309bb3e43070826f3b939f661"
    )


async def test_jwt_first_then_key_and_the_refusal_statuses() -> None:
    record = ApiKeyRecord(id="k1", user_id="u2", email="k@b.c", scopes=("admin",), expires_at=None)
    auth = _authenticator({"s1": True, "s2": False}, good=record)
    signer = TokenSigner(secret=SECRET, ttl_s=3600)
    live, _ = signer.issue(user_id="u1", email="a@b.c", session_id="s1")
    revoked, _ = signer.issue(user_id="u1", email="a@b.c", session_id="s2")
    unknown, _ = signer.issue(user_id="u1", email="a@b.c", session_id="s3")
    supabase_user = "9a0d7a52-5d5c-4c35-9b1e-2f0f3c8a6b19"  # Supabase names its users by UUID
    foreign = jwt.encode(
        {"sub": supabase_user, "aud": "authenticated", "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS256",
    )
    not_a_user = jwt.encode(
        {"sub": "../../etc", "aud": "authenticated", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"
    )

    principal = await auth.authenticate(Credentials(jwt=live, api_key="good"))
    assert (principal.auth_type, principal.user_id, principal.session_id) == (AuthType.JWT, "u1", "s1")
    assert (await auth.authenticate(Credentials(jwt=foreign))).user_id == supabase_user  # Supabase-issued
    for token in (revoked, unknown, "not.a.jwt", not_a_user):
        with pytest.raises(CredentialsRejected):
            await auth.authenticate(Credentials(jwt=token))
        fallback = await auth.authenticate(Credentials(jwt=token, api_key="good"))
        assert (fallback.auth_type, fallback.api_key_id, fallback.scopes) == (
            AuthType.API_KEY,
            "k1",
            ("admin",),
        )
        with pytest.raises(CredentialsForbidden):
            await auth.authenticate(Credentials(jwt=token, api_key="bad"))
    with pytest.raises(CredentialsRejected):
        await auth.authenticate(Credentials())


def test_cached_identities_and_local_invalidation() -> None:
    principal = Principal(user_id="u", auth_type=AuthType.API_KEY, email="e", api_key_id="k", scopes=("a",))
    identity = CachedIdentity(principal=principal, rate_limit=5, expires_at=time.time() + 60)
    assert CachedIdentity.from_json(identity.to_json()) == identity
    assert not CachedIdentity(principal=principal, expires_at=time.time() - 1).live(time.time())

    cache = CredentialCache(client=None, prefix="p:", ttl_s=60, local_ttl_s=30)
    cache._remember("api_key", "h1", identity)
    jwt_identity = CachedIdentity(principal=Principal(user_id="u", auth_type=AuthType.JWT, session_id="s"))
    cache._remember("jwt", "h2", jwt_identity)
    assert cache.local("api_key", "h1") == identity and cache.local("jwt", "h2") == jwt_identity
    assert cache.drop(api_key_id="k") == 1 and cache.local("api_key", "h1") is None
    assert cache.drop(session_id="s") == 1 and cache.local("jwt", "h2") is None
    cache._remember("api_key", "h3", CachedIdentity(principal=principal, expires_at=time.time() - 1))
    assert cache.local("api_key", "h3") is None  # an expired credential never comes out of a cache


def test_retry_after_follows_the_sliding_window() -> None:
    window = SlidingWindow(client=None, prefix="", window_s=60)
    assert window._retry_after(limit=10, current=10, previous=0, elapsed=15.0) == 45
    # 10 from the last window, none yet in this one: one more fits once the old weight drops below 9
    assert window._retry_after(limit=10, current=0, previous=10, elapsed=0.0) == 6


def test_confirmation_defaults_by_environment() -> None:
    settings = AuthSettings()
    assert settings.confirmation_required(Environment.PROD) is True
    assert settings.confirmation_required(Environment.DEV) is False
    assert AuthSettings(require_confirmation=True).confirmation_required(Environment.DEV) is True
    assert AuthSettings().light(Environment.TEST) and not AuthSettings().light(Environment.DEV)


def test_the_auth_response_shape() -> None:
    user = auth_pb2.User(id="u1", email="a@b.c", aud="authenticated", role="authenticated")
    user.user_metadata.update({"name": "Ann"})
    user.app_metadata.update({"provider": "email"})
    user.created_at.FromDatetime(datetime(2025, 7, 1, 10, 0, 0, 123456, tzinfo=UTC))
    session = auth_pb2.Session(
        access_token="at",
        refresh_token="rt",
        expires_in=3600,
        expires_at=1752750000,
        token_type="bearer",
        user=user,
    )
    body = render.auth_response(auth_pb2.LoginResponse(user=user, session=session), None)  # type: ignore[arg-type]
    assert body == {
        "user": {
            "id": "u1",
            "email": "a@b.c",
            "email_confirmed_at": None,
            "user_metadata": {"name": "Ann"},
            "app_metadata": {"provider": "email"},
            "aud": "authenticated",
            "role": "authenticated",
            "created_at": "2025-07-01T10:00:00.123456Z",
            "last_sign_in_at": None,
            "phone": "",
            "identities": [],
        },
        "session": {
            "access_token": "at",
            "refresh_token": "rt",
            "expires_in": 3600,
            "expires_at": 1752750000,
            "token_type": "bearer",
            "user": body["user"],
            "provider_token": None,
            "provider_refresh_token": None,
        },
    }
    pending = render.auth_response(auth_pb2.RegisterResponse(user=user), None)  # type: ignore[arg-type]
    assert pending["session"] is None
    invalid = auth_pb2.ValidateResponse(valid=False, error="No valid authentication credentials provided")
    assert render.validated(invalid, None) == {  # type: ignore[arg-type]
        "valid": False,
        "auth_type": "none",
        "user_id": None,
        "error": "No valid authentication credentials provided",
    }
    valid = auth_pb2.ValidateResponse(valid=True, auth_type=common_pb2.AUTH_TYPE_API_KEY, user_id="u1")
    assert render.validated(valid, None) == {  # type: ignore[arg-type]
        "valid": True,
        "auth_type": "api_key",
        "user_id": "u1",
        "error": None,
    }


def test_a_key_expiry_bounds_its_cache_life() -> None:
    expires = datetime.now(UTC) + timedelta(seconds=1)
    identity = CachedIdentity(
        principal=Principal(user_id="u", auth_type=AuthType.API_KEY), expires_at=expires.timestamp()
    )
    cache = CredentialCache(client=None, prefix="", ttl_s=600, local_ttl_s=600)
    cache._remember("api_key", "h", identity)
    assert cache._local["api_key:h"].until - time.monotonic() <= 1.01
