"""What only an admin may do: create users (confirmed or not, idempotently if asked), each with a key."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gaia_services.auth.accounts import IssuedKey
from gaia_services.auth.identity import INVALID_EMAIL, MIN_PASSWORD, SHORT_PASSWORD, valid_email
from gaia_services.auth.keyring import Keyring, is_admin
from gaia_services.auth.passwords import Passwords
from gaia_services.auth.users import UserRecord, Users
from gaia_services.runtime.errors import AlreadyExists, Forbidden, InvalidArgument
from gaia_services.runtime.events import EventBus
from gaia_services.runtime.principal import Principal

__all__ = ["NewKey", "NewUser", "UserAdmin"]


@dataclass(frozen=True, slots=True)
class NewKey:
    """The key to create with a user: ``raw`` given, that exact key (e.g. a documented seed)."""

    name: str = ""
    scopes: tuple[str, ...] = ()
    raw: str = ""


@dataclass(frozen=True, slots=True)
class NewUser:
    user: UserRecord
    created: bool  # False: it existed (``if_not_exists``)
    key: IssuedKey | None


class UserAdmin:
    def __init__(self, *, users: Users, passwords: Passwords, keyring: Keyring, events: EventBus) -> None:
        self._users = users
        self._passwords = passwords
        self._keyring = keyring
        self._events = events

    async def create_user(
        self,
        caller: Principal,
        *,
        email: str,
        password: str = "",
        name: str = "",
        confirmed: bool = False,
        if_not_exists: bool = False,
        key: NewKey | None = None,
    ) -> NewUser:
        """A new user (without a password when none is given); with ``if_not_exists`` an existing user of
        that email is answered instead of ``AlreadyExists``. ``key`` is created either way."""
        if not is_admin(caller):
            raise Forbidden("Only an admin may create users")
        email = email.strip()
        if not valid_email(email):
            raise InvalidArgument(INVALID_EMAIL)
        if password and len(password) < MIN_PASSWORD:
            raise InvalidArgument(SHORT_PASSWORD)
        created = True
        hashed = await asyncio.to_thread(self._passwords.hash, password) if password else None
        try:
            user = await self._users.create(email=email, password_hash=hashed, name=name, confirmed=confirmed)
        except AlreadyExists:
            existing = await self._users.by_email(email)
            if not if_not_exists or existing is None:
                raise
            user, created = existing, False
        issued = None
        if key is not None:
            issued = await self._keyring.issue(
                user_id=user.id, name=key.name or "api key", scopes=key.scopes, raw=key.raw or None
            )
        if created:
            await self._events.publish(
                "gaia.auth.registered",
                {"user_id": user.id, "email": user.email, "confirmation_required": False},
            )
        return NewUser(user=user, created=created, key=issued)
