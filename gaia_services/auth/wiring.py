"""Builds the auth service's parts from the process's resources (settings read once, here).

Also the cross-replica invalidation: each part set listens on NATS for revoked keys and sessions and drops
its in-process cache entries; whoever revokes (this service, or ``gaia keys revoke``) deletes the shared
Redis entry and announces it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis

from gaia_services.auth.accounts import Accounts, RevokedKey
from gaia_services.auth.admin import UserAdmin
from gaia_services.auth.api_keys import ApiKeyStore
from gaia_services.auth.authenticator import LocalAuthenticator
from gaia_services.auth.cache import CredentialCache
from gaia_services.auth.config import AuthSettings
from gaia_services.auth.confirmations import Confirmations
from gaia_services.auth.identity import Identity
from gaia_services.auth.keyring import KEY_REVOKED, Keyring
from gaia_services.auth.limits import LoginThrottle, NamedLimits, SlidingWindow
from gaia_services.auth.mailer import FileMailer, Mailer, SmtpMailer
from gaia_services.auth.passwords import Passwords
from gaia_services.auth.sessions import Sessions
from gaia_services.auth.tokens import TokenSigner
from gaia_services.auth.users import Users
from gaia_services.runtime.budgets import Budgets, BudgetSettings
from gaia_services.runtime.events import NatsEventBus, connect_events
from gaia_services.runtime.resources import Resources
from gaia_services.settings import Settings

__all__ = ["KEY_REVOKED", "SESSION_REVOKED", "AuthParts", "announce_key_revoked", "build_parts"]

_log = logging.getLogger("gaia.auth")

SESSION_REVOKED = "gaia.auth.session.revoked"


@dataclass(frozen=True)
class AuthParts:
    """The auth service's domain objects. The interceptor's authenticator is one of them: it shares the
    credential cache (and its revocation listener) with the rest."""

    authenticator: LocalAuthenticator
    identity: Identity
    keyring: Keyring
    admin: UserAdmin
    limits: NamedLimits
    listening: asyncio.Task[None] | None = None


def _mailer(settings: Settings, auth: AuthSettings) -> Mailer:
    if auth.smtp_host:
        return SmtpMailer(
            host=auth.smtp_host,
            port=auth.smtp_port,
            sender=auth.mail_from,
            username=auth.smtp_username,
            password=auth.smtp_password.get_secret_value(),
            starttls=auth.smtp_starttls,
        )
    return FileMailer(directory=settings.data_dir / "mail", sender=auth.mail_from)


def build_parts(resources: Resources, auth: AuthSettings | None = None) -> AuthParts:
    settings = resources.settings
    auth = auth or AuthSettings()
    pool = resources.pool()
    signer = TokenSigner(secret=settings.jwt_secret.get_secret_value(), ttl_s=settings.access_token_ttl_s)
    cache = CredentialCache(
        client=resources.redis,
        prefix=settings.redis_prefix,
        ttl_s=auth.cache_ttl_s,
        local_ttl_s=auth.local_cache_ttl_s,
    )
    limiter = SlidingWindow(client=resources.redis, prefix=settings.redis_prefix)
    budgets = Budgets(
        client=resources.redis,
        prefix=settings.redis_prefix,
        settings=BudgetSettings(),
        events=resources.events,
        service="auth",
    )
    sessions = Sessions(pool=pool, refresh_ttl_s=settings.refresh_token_ttl_s)
    users = Users(pool=pool)
    passwords = Passwords(light=auth.light(settings.env))
    authenticator = LocalAuthenticator(
        signer=signer,
        keys=ApiKeyStore(pool=pool),
        session_status=sessions.status,
        adopt_user=users.adopt,
        cache=cache,
        limiter=limiter,
        rate_limit_per_minute=auth.rate_limit_per_minute,
        last_used_interval_s=auth.last_used_interval_s,
        budgets=budgets,
    )
    identity = Identity(
        users=users,
        sessions=sessions,
        confirmations=Confirmations(pool=pool, ttl_s=auth.confirmation_ttl_s),
        passwords=passwords,
        signer=signer,
        mailer=_mailer(settings, auth),
        throttle=LoginThrottle(
            client=resources.redis,
            prefix=settings.redis_prefix,
            max_failures=auth.login_max_failures,
            window_s=auth.login_failure_window_s,
        ),
        cache=cache,
        events=resources.events,
        confirmation_required=auth.confirmation_required(settings.env),
        public_url=auth.public_url or f"http://{settings.host}:{settings.http_port}",
        resend_interval_s=auth.resend_interval_s,
    )
    keyring = Keyring(
        accounts=Accounts(pool=pool, env=settings.env.value),
        users=users,
        cache=cache,
        events=resources.events,
        budgets=budgets,
    )
    listening = None
    if isinstance(resources.events, NatsEventBus):
        listening = asyncio.get_running_loop().create_task(_listen(resources.events, cache))
    return AuthParts(
        authenticator=authenticator,
        identity=identity,
        keyring=keyring,
        admin=UserAdmin(users=users, passwords=passwords, keyring=keyring, events=resources.events),
        limits=NamedLimits(
            window=limiter,
            per_minute=auth.rate_limit_per_minute,
            root_per_minute=settings.root_rate_limit_per_minute,
        ),
        listening=listening,
    )


async def _listen(bus: NatsEventBus, cache: CredentialCache) -> None:
    async def on_message(msg: Any) -> None:
        try:
            data = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(data, dict):
            cache.drop(
                api_key_id=str(data.get("api_key_id") or ""), session_id=str(data.get("session_id") or "")
            )

    try:
        await bus.client.subscribe(KEY_REVOKED, cb=on_message)
        await bus.client.subscribe(SESSION_REVOKED, cb=on_message)
    except Exception as exc:  # without NATS, the short local TTL bounds staleness
        _log.warning("cannot listen for revocations: %s", exc)


async def announce_key_revoked(settings: Settings, revoked: RevokedKey) -> None:
    """For processes outside the service (the CLI): drop the shared cache entry and tell every replica."""
    if settings.redis_url:
        client = redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.delete(f"{settings.redis_prefix}auth:api_key:{revoked.key_hash}")
        except (redis.RedisError, OSError) as exc:
            _log.warning("could not drop the cached key: %s", exc)
        finally:
            await client.aclose()
    bus = await connect_events(settings.nats_url, name="gaia-cli")
    try:
        await bus.publish(KEY_REVOKED, {"api_key_id": revoked.info.id, "user_id": revoked.info.user_id})
    finally:
        await bus.close()
