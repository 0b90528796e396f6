"""The identity domain: register, login, refresh, logout, email confirmation, profile and password.

Error texts are the reference's (reference §4.10, Supabase/GoTrue wording), prefixed as the reference's
auth service prefixed them; statuses are the reference's 400s except where CONTRACT §4 fixes a 500.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from gaia_services.auth.cache import CredentialCache
from gaia_services.auth.confirmations import Confirmations
from gaia_services.auth.limits import LoginThrottle
from gaia_services.auth.mailer import Mail, Mailer
from gaia_services.auth.passwords import Passwords
from gaia_services.auth.sessions import RefreshTokenError, Sessions
from gaia_services.auth.tokens import TokenError, TokenSigner
from gaia_services.auth.users import UserRecord, Users
from gaia_services.runtime.errors import (
    AlreadyExists,
    Exhausted,
    Forbidden,
    InvalidArgument,
    Unauthenticated,
)
from gaia_services.runtime.events import EventBus

__all__ = ["AuthResult", "Identity", "IssuedSession", "Logout", "valid_email"]

MIN_PASSWORD = 6
MAX_NAME = 255  # users.name is VARCHAR(255)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

INVALID_EMAIL = "Please enter a valid email address"
SHORT_PASSWORD = f"Password must be at least {MIN_PASSWORD} characters long"
LONG_NAME = f"Name must be at most {MAX_NAME} characters long"
REGISTERED = "This email is already registered"
BAD_LOGIN = "Login failed: Invalid login credentials"
UNCONFIRMED = "Login failed: Email not confirmed"
THROTTLED = "Login failed: Too many login attempts. Please try again later"
BAD_CONFIRMATION = "Confirmation link is expired or invalid"
ALREADY_CONFIRMED = "Email is already confirmed"
UNKNOWN_EMAIL = "Email address not found"
RESEND_TOO_SOON = "Too many requests. Please wait before requesting another email"


def valid_email(email: str) -> bool:
    return bool(_EMAIL.match(email)) and len(email) <= 255


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat()


@dataclass(frozen=True, slots=True)
class IssuedSession:
    access_token: str
    refresh_token: str
    expires_in: int
    expires_at: int
    session_id: str


@dataclass(frozen=True, slots=True)
class AuthResult:
    user: UserRecord
    session: IssuedSession | None


@dataclass(frozen=True, slots=True)
class Logout:
    revoked: bool
    session_id: str


class Identity:
    def __init__(
        self,
        *,
        users: Users,
        sessions: Sessions,
        confirmations: Confirmations,
        passwords: Passwords,
        signer: TokenSigner,
        mailer: Mailer,
        throttle: LoginThrottle,
        cache: CredentialCache,
        events: EventBus,
        confirmation_required: bool,
        public_url: str,
        resend_interval_s: int = 60,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._confirmations = confirmations
        self._passwords = passwords
        self._signer = signer
        self._mailer = mailer
        self._throttle = throttle
        self._cache = cache
        self._events = events
        self._confirmation_required = confirmation_required
        self._public_url = public_url.rstrip("/")
        self._resend_interval_s = resend_interval_s
        self._dummy_hash = ""  # verified against for unknown emails, so timing does not reveal them

    # ----- sessions -----
    async def _issue(self, user: UserRecord, session_id: str, refresh_token: str) -> IssuedSession:
        access, expires_at = self._signer.issue(user_id=user.id, email=user.email, session_id=session_id)
        return IssuedSession(
            access_token=access,
            refresh_token=refresh_token,
            expires_in=self._signer.ttl_s,
            expires_at=expires_at,
            session_id=session_id,
        )

    async def _open(self, user: UserRecord) -> AuthResult:
        rotation = await self._sessions.open(user_id=user.id)
        user = await self._users.signed_in(user.id)
        session = await self._issue(user, rotation.session_id, rotation.refresh_token)
        await self._events.publish(
            "gaia.auth.login", {"user_id": user.id, "session_id": rotation.session_id, "timestamp": _now()}
        )
        return AuthResult(user=user, session=session)

    async def _revoked(self, session_id: str, user_id: str, reason: str) -> None:
        await self._cache.mark_revoked(session_id, ttl_s=self._signer.ttl_s)
        await self._events.publish(
            "gaia.auth.session.revoked",
            {"session_id": session_id, "user_id": user_id, "reason": reason, "timestamp": _now()},
        )

    # ----- registration and confirmation -----
    async def register(self, *, email: str, password: str, name: str = "") -> AuthResult:
        email = email.strip()
        if not valid_email(email):
            raise InvalidArgument(INVALID_EMAIL)
        if len(password) < MIN_PASSWORD:
            raise InvalidArgument(SHORT_PASSWORD)
        if len(name) > MAX_NAME:
            raise InvalidArgument(LONG_NAME)
        hashed = await asyncio.to_thread(self._passwords.hash, password)
        try:
            user = await self._users.create(
                email=email, password_hash=hashed, name=name, confirmed=not self._confirmation_required
            )
        except AlreadyExists as exc:
            raise InvalidArgument(REGISTERED) from exc
        await self._events.publish(
            "gaia.auth.registered",
            {
                "user_id": user.id,
                "email": user.email,
                "confirmation_required": self._confirmation_required,
                "timestamp": _now(),
            },
        )
        if self._confirmation_required:
            await self._send_confirmation(user)
            return AuthResult(user=user, session=None)
        return await self._open(user)

    async def _send_confirmation(self, user: UserRecord) -> None:
        token = await self._confirmations.issue(user_id=user.id, email=user.email)
        link = f"{self._public_url}/api/v1/auth/confirm?token={quote(token)}&email={quote(user.email)}"
        text = (
            f"Confirm your Gaia account ({user.email}) by opening this link:\n\n{link}\n\n"
            f'or POST {{"token": "{token}", "email": "{user.email}"}} to '
            f"{self._public_url}/api/v1/auth/confirm\n"
        )
        await self._mailer.send(Mail(to=user.email, subject="Confirm your Gaia account", text=text))

    async def confirm(self, *, email: str, token: str) -> UserRecord:
        user = await self._users.by_email(email.strip())
        if user is not None and user.confirmed:
            raise InvalidArgument(ALREADY_CONFIRMED)
        user_id = await self._confirmations.redeem(email=email.strip(), raw=token) if token else None
        if user is None or user_id != user.id:
            raise InvalidArgument(BAD_CONFIRMATION)
        return await self._users.confirm(user.id)

    async def resend(self, *, email: str) -> str:
        user = await self._users.by_email(email.strip())
        if user is None or not user.is_active:
            raise InvalidArgument(UNKNOWN_EMAIL)
        if user.confirmed:
            raise InvalidArgument(ALREADY_CONFIRMED)
        last = await self._confirmations.last_sent(user.id)
        if last is not None and time.time() - last.timestamp() < self._resend_interval_s:
            raise InvalidArgument(RESEND_TOO_SOON)
        await self._send_confirmation(user)
        return user.email

    # ----- login, refresh, logout -----
    async def login(self, *, email: str, password: str) -> AuthResult:
        email = email.strip()
        wait = await self._throttle.blocked_for(email)
        if wait:
            raise Exhausted(THROTTLED, retry_after_s=wait)
        user = await self._users.by_email(email)
        # Verify even for an unknown user, so timing does not tell which emails exist.
        stored = user.password_hash if user is not None else None
        if not stored and not self._dummy_hash:
            self._dummy_hash = await asyncio.to_thread(self._passwords.hash, "not-anyone's-password")
        ok = await asyncio.to_thread(self._passwords.verify, stored or self._dummy_hash, password)
        if user is None or not user.is_active or not stored or not ok:
            await self._throttle.failed(email)
            raise InvalidArgument(BAD_LOGIN)
        await self._throttle.succeeded(email)
        if not user.confirmed:
            raise InvalidArgument(UNCONFIRMED)
        return await self._open(user)

    async def refresh(self, *, refresh_token: str) -> AuthResult:
        try:
            rotation = await self._sessions.rotate(refresh_token)
        except RefreshTokenError as exc:
            if exc.revoked_session:
                await self._revoked(exc.revoked_session, exc.user_id, "refresh_token_reuse")
            raise InvalidArgument(f"Token refresh failed: {exc.reason}") from exc
        user = await self._users.by_id(rotation.user_id)
        if user is None or not user.is_active:
            await self._sessions.revoke(rotation.session_id)
            raise InvalidArgument("Token refresh failed: User not found")
        return AuthResult(
            user=user, session=await self._issue(user, rotation.session_id, rotation.refresh_token)
        )

    async def logout(self, *, refresh_token: str = "", access_token: str = "") -> Logout:
        if refresh_token:
            try:
                session_id, _ = await self._sessions.session_of(refresh_token)
            except RefreshTokenError as exc:
                if exc.revoked_session:
                    await self._revoked(exc.revoked_session, exc.user_id, "refresh_token_reuse")
                raise InvalidArgument(f"Logout failed: {exc.reason}") from exc
        elif access_token:
            try:
                session_id = self._signer.verify(access_token, allow_expired=True).session_id
            except TokenError as exc:
                raise Unauthenticated("Logout failed: Invalid JWT") from exc
        else:
            return Logout(revoked=False, session_id="")
        user_id = await self._sessions.revoke(session_id) if session_id else None
        if user_id is None:
            return Logout(revoked=False, session_id=session_id)
        await self._revoked(session_id, user_id, "logout")
        await self._events.publish(
            "gaia.auth.logout", {"user_id": user_id, "session_id": session_id, "timestamp": _now()}
        )
        return Logout(revoked=True, session_id=session_id)

    # ----- the signed-in user -----
    async def profile(self, user_id: str) -> UserRecord:
        return await self._users.require(user_id)

    async def update_profile(self, user_id: str, *, name: str | None, metadata: dict[str, Any]) -> UserRecord:
        if name is not None and len(name) > MAX_NAME:
            raise InvalidArgument(LONG_NAME)
        return await self._users.update_profile(user_id, name=name, metadata=metadata)

    async def change_password(
        self, user_id: str, *, current: str, new: str, revoke_others: bool, keep_session: str
    ) -> int:
        user = await self._users.require(user_id)
        ok = await asyncio.to_thread(self._passwords.verify, user.password_hash, current)
        if not ok:
            raise Forbidden("Current password is incorrect")
        if len(new) < MIN_PASSWORD:
            raise InvalidArgument(SHORT_PASSWORD)
        await self._users.set_password(user_id, await asyncio.to_thread(self._passwords.hash, new))
        if not revoke_others:
            return 0
        revoked = await self._sessions.revoke_all(user_id, keep=keep_session)
        for session_id in revoked:
            await self._revoked(session_id, user_id, "password_changed")
        return len(revoked)
