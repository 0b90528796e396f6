"""``gaia users …`` and ``gaia keys …``: account chores against DATABASE_URL."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from typing import Any

import asyncpg

from gaia_services.auth.accounts import Accounts
from gaia_services.auth.passwords import Passwords
from gaia_services.runtime.errors import DomainError
from gaia_services.runtime.principal import KeyBudget
from gaia_services.settings import Settings

__all__ = ["add_account_commands"]


async def _with_accounts(settings: Settings, action: Any) -> int:
    pool = await asyncpg.create_pool(settings.require("database_url"), min_size=1, max_size=2)
    try:
        await action(Accounts(pool=pool, env=settings.env.value))
    except DomainError as exc:
        print(f"gaia: {exc.message}")
        return 1
    finally:
        await pool.close()
    return 0


def _users_create(settings: Settings, args: argparse.Namespace) -> int:
    password = args.password or getpass.getpass("password: ")

    async def action(accounts: Accounts) -> None:
        user_id = await accounts.create_user(
            email=args.email, password_hash=Passwords().hash(password), name=args.name or ""
        )
        print(f"user {user_id} {args.email}")

    return asyncio.run(_with_accounts(settings, action))


def _budget(budget: KeyBudget | None) -> str:
    if budget is None:
        return "none"
    return f"${budget.max_budget:g}/{budget.duration}" if budget.duration else f"${budget.max_budget:g}"


def _keys_create(settings: Settings, args: argparse.Namespace) -> int:
    async def action(accounts: Accounts) -> None:
        user_id = await accounts.user_id_for(args.email)
        budget = None
        if args.max_budget is not None or args.budget_duration:
            budget = KeyBudget(max_budget=args.max_budget or 0.0, duration=args.budget_duration or "")
        issued = await accounts.create_key(
            user_id=user_id,
            name=args.name,
            scopes=tuple(args.scope or ()),
            expires_in_days=args.expires_days,
            budget=budget,
        )
        print(f"key id {issued.info.id}\n{issued.raw}\n(shown once: store it now)")
        print(f"budget {_budget(issued.info.budget)}")

    return asyncio.run(_with_accounts(settings, action))


def _keys_list(settings: Settings, args: argparse.Namespace) -> int:
    async def action(accounts: Accounts) -> None:
        for key in await accounts.list_keys(user_id=await accounts.user_id_for(args.email)):
            state = "active" if key.is_active else "revoked"
            print(
                f"{key.id}  {key.key_prefix}…  {state:<8} {key.name}  expires={key.expires_at}  "
                f"last_used={key.last_used_at}  budget={_budget(key.budget)}"
            )

    return asyncio.run(_with_accounts(settings, action))


def _keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from gaia_services.auth.wiring import announce_key_revoked  # heavy (NATS, Redis): only when needed

    async def action(accounts: Accounts) -> None:
        revoked = await accounts.revoke_key(key_id=args.key_id)
        await announce_key_revoked(settings, revoked)  # every replica stops accepting it at once
        print(f"revoked {args.key_id}")

    return asyncio.run(_with_accounts(settings, action))


def add_account_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="manage users").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create a user (email confirmed)")
    create.add_argument("--email", required=True)
    create.add_argument("--password", help="prompted for when omitted")
    create.add_argument("--name")
    create.set_defaults(handler=_users_create)

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    kcreate = keys.add_parser("create", help="create an API key for a user (printed once)")
    kcreate.add_argument("--email", required=True)
    kcreate.add_argument("--name", default="cli")
    kcreate.add_argument("--scope", action="append")
    kcreate.add_argument("--expires-days", type=int)
    kcreate.add_argument(
        "--max-budget", type=float, help="US dollars the key may spend (per --budget-duration)"
    )
    kcreate.add_argument(
        "--budget-duration", help="when the key's spend resets: 30d, 12h, 15m, 60s (never if unset)"
    )
    kcreate.set_defaults(handler=_keys_create)
    klist = keys.add_parser("list", help="list a user's API keys")
    klist.add_argument("--email", required=True)
    klist.set_defaults(handler=_keys_list)
    krevoke = keys.add_parser("revoke", help="revoke an API key by id")
    krevoke.add_argument("key_id")
    krevoke.set_defaults(handler=_keys_revoke)
