"""The ``gaia`` command: ``up``, ``status``, ``migrate``, ``serve <part>``, and account chores."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Sequence

from gaia_services.runtime.logs import configure_logging
from gaia_services.settings import Settings

__all__ = ["CLIENT_COMMANDS", "main"]

#: Handed to ``gaia_client.cli`` (its ``COMMANDS``; a unit test keeps the two equal), imported only then.
CLIENT_COMMANDS = ("chat", "conversations", "personas", "assets", "smoke")

_SERVICES = {
    "auth": "gaia_services.auth.service",
    "chat": "gaia_services.chat.service",
    "asset": "gaia_services.asset.service",
}


def _up(settings: Settings, _: argparse.Namespace) -> int:
    from gaia_services.supervisor import run_mesh

    try:
        return asyncio.run(run_mesh(settings))
    except RuntimeError as exc:
        print(f"gaia up: {exc}", file=sys.stderr)
        return 1


def _status(settings: Settings, args: argparse.Namespace) -> int:
    from gaia_services.status import mesh_status

    report = asyncio.run(mesh_status(settings))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for row in report["parts"]:
            print(
                f"{row['name']:<8} {row['state']:<10} pid={row['pid'] or '-':<8} "
                f"{row['address']}  {row['detail']}"
            )
    return 0 if report["running"] else 1


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from gaia_services.db import migrate_url

    applied = asyncio.run(migrate_url(settings.require("database_url")))
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.part in _SERVICES:
        from gaia_services.runtime.server import serve_forever

        module = importlib.import_module(_SERVICES[args.part])
        asyncio.run(serve_forever(module.spec(), settings))
        return 0
    import uvicorn

    if args.part == "shim":
        app, port = "compat_gateway.app:create_app", settings.http_port
    else:
        app, port = "web.app:create_app", settings.web_port
    uvicorn.run(
        app,
        factory=True,
        host=settings.host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s),
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gaia",
        description="Gaia Mesh: run and manage the mesh",
        epilog=f"client commands (gaia <command> --help): {', '.join(CLIENT_COMMANDS)}",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "up", help="run the whole mesh on this machine (embedded servers where no URL is set)"
    )
    status = commands.add_parser("status", help="what runs, and its health")
    status.add_argument("--json", action="store_true")
    commands.add_parser("migrate", help="apply pending database migrations to DATABASE_URL")
    serve = commands.add_parser("serve", help="run one part of the mesh in the foreground")
    serve.add_argument("part", choices=[*_SERVICES, "shim", "web"])
    from gaia_services.accounts import add_account_commands

    add_account_commands(commands)
    return parser


_HANDLERS = {"up": _up, "status": _status, "migrate": _migrate, "serve": _serve}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in CLIENT_COMMANDS:  # client commands need no server settings
        from gaia_client.cli import main as client_main

        return client_main(argv)
    args = _parser().parse_args(argv)
    if args.command == "up":
        os.environ.setdefault("GAIA_ENV", "dev")
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"gaia: invalid settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, fmt=settings.log_format, service="gaia")
    handler = _HANDLERS.get(args.command) or args.handler
    return int(handler(settings, args))


if __name__ == "__main__":
    sys.exit(main())
