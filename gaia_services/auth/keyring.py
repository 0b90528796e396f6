"""API keys as their owners (and admins) manage them: who may create, list and revoke which key, and what
the rest of the mesh hears of it (events; a revoked key leaves every cache)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gaia_services.auth.accounts import Accounts, ApiKeyInfo, IssuedKey, RevokedKey
from gaia_services.auth.cache import CredentialCache
from gaia_services.auth.users import Users
from gaia_services.runtime.budgets import Budgets
from gaia_services.runtime.errors import Forbidden
from gaia_services.runtime.events import EventBus
from gaia_services.runtime.principal import KeyBudget, Principal

__all__ = ["ADMIN", "KEY_CREATED", "KEY_REVOKED", "Keyring", "is_admin"]

ADMIN = "admin"
KEY_CREATED = "gaia.auth.api_key.created"
KEY_REVOKED = "gaia.auth.api_key.revoked"


def is_admin(principal: Principal) -> bool:
    return ADMIN in principal.scopes


class Keyring:
    def __init__(
        self,
        *,
        accounts: Accounts,
        users: Users,
        cache: CredentialCache,
        events: EventBus,
        budgets: Budgets | None = None,
    ) -> None:
        self._budgets = budgets
        self._accounts = accounts
        self._users = users
        self._cache = cache
        self._events = events

    async def issue(
        self,
        *,
        user_id: str,
        name: str,
        scopes: tuple[str, ...],
        expires_at: datetime | None = None,
        raw: str | None = None,
        budget: KeyBudget | None = None,
    ) -> IssuedKey:
        """A new key of ``user_id``, announced; no permission check (the caller's business)."""
        issued = await self._accounts.create_key(
            user_id=user_id, name=name, scopes=scopes, expires_at=expires_at, raw=raw, budget=budget
        )
        if self._budgets is not None and issued.info.budget is not None:
            await self._budgets.define_key(issued.info.id, issued.info.budget)
        await self._events.publish(KEY_CREATED, {"api_key_id": issued.info.id, "user_id": user_id})
        return issued

    async def create(
        self,
        caller: Principal,
        *,
        user_id: str = "",
        name: str = "",
        scopes: Sequence[str] = (),
        expires_at: datetime | None = None,
        budget: KeyBudget | None = None,
    ) -> IssuedKey:
        """A key of the caller, or (admins only) of ``user_id``, with at most the caller's scopes (any scopes
        for an admin). A caller using a key with a budget may not create keys (that would be a way around
        the budget)."""
        if caller.key_budget is not None and not is_admin(caller):
            raise Forbidden("A key with a budget cannot create API keys")
        owner = caller.user_id
        if user_id and user_id != caller.user_id:
            if not is_admin(caller):
                raise Forbidden("Only an admin may create keys for another user")
            owner = (await self._users.require(user_id)).id
        granted = tuple(dict.fromkeys(scopes))
        if not is_admin(caller) and not set(granted) <= set(caller.scopes):
            raise Forbidden("A key cannot be granted scopes its creator does not hold")
        return await self.issue(
            user_id=owner, name=name or "api key", scopes=granted, expires_at=expires_at, budget=budget
        )

    async def list(
        self, caller: Principal, *, include_revoked: bool, offset: int = 0, limit: int = 0
    ) -> tuple[list[ApiKeyInfo], int]:
        """A page of the caller's keys, newest first (100 when ``limit`` is 0), and their total count."""
        keys = await self._accounts.list_keys(user_id=caller.user_id, include_revoked=include_revoked)
        offset = max(0, offset)
        limit = limit if limit > 0 else 100
        return keys[offset : offset + limit], len(keys)

    async def revoke(self, caller: Principal, key_id: str) -> RevokedKey:
        """Revoke one of the caller's keys (any key, for an admin); it leaves every replica's cache."""
        revoked = await self._accounts.revoke_key(
            key_id=key_id, user_id=None if is_admin(caller) else caller.user_id
        )
        await self._cache.forget("api_key", revoked.key_hash)
        await self._events.publish(
            KEY_REVOKED, {"api_key_id": revoked.info.id, "user_id": revoked.info.user_id}
        )
        return revoked
