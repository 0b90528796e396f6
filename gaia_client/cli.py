"""The client commands of ``gaia``: ``chat``, ``conversations``, ``personas``, ``assets generate`` (native
gRPC, through ``GaiaClient``) and ``smoke`` (the REST shim). They need no server settings: credentials come
from ``--api-key``/``GAIA_API_KEY`` (or ``--jwt``/``GAIA_JWT``), addresses from ``--chat-addr``/
``GAIA_CHAT_ADDR``, ``--auth-addr``/``GAIA_AUTH_ADDR``, ``--asset-addr``/``GAIA_ASSET_ADDR``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from gaia_client.client import AssetApi, GaiaClient
from gaia_client.errors import GaiaError
from gaia_client.events import Completed, Done, Progress, Started, Token
from gaia_client.smoke import run_smoke
from gaia_client.terminal import ProgressBar

__all__ = ["COMMANDS", "main"]

#: The first arguments ``gaia`` hands to this module.
COMMANDS = ("chat", "conversations", "personas", "assets", "smoke")
_INTERRUPTED = 130  # the shell's exit status after Ctrl-C


def _client(args: argparse.Namespace) -> GaiaClient:
    return GaiaClient.from_env(
        api_key=args.api_key,
        jwt=args.jwt,
        chat=args.chat_addr,
        auth=args.auth_addr,
        asset=args.asset_addr,
        timeout=args.timeout,
    )


async def _chat(args: argparse.Namespace) -> int:
    async with _client(args) as gaia:
        persona = await gaia.chat.persona_id(args.persona) if args.persona else ""
        turn = gaia.chat.stream(
            args.message, model=args.model or "", persona_id=persona, conversation_id=args.conversation or ""
        )
        async with turn as events:
            async for event in events:
                if isinstance(event, Token):
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
                elif isinstance(event, Started) and args.verbose:
                    print(f"[{event.model} via {event.provider}, conversation {event.conversation_id}]")
                elif isinstance(event, Completed):
                    sys.stdout.write("\n")
                    if args.verbose:
                        print(
                            f"[{event.finish_reason}; {event.prompt_tokens}+{event.completion_tokens} tokens;"
                            f" {event.total_time_ms} ms]"
                        )
    return 0


async def _conversations(args: argparse.Namespace) -> int:
    async with _client(args) as gaia:
        for row in await gaia.chat.conversations(limit=args.limit):
            updated = row.updated_at.ToDatetime().strftime("%Y-%m-%d %H:%M") if row.updated_at.seconds else ""
            print(f"{row.id}  {updated:16}  {row.message_count:4d} msgs  {row.title}")
    return 0


async def _personas(args: argparse.Namespace) -> int:
    async with _client(args) as gaia:
        current = (await gaia.chat.current_persona()).id
        for persona in await gaia.chat.personas():
            mark = "*" if persona.id == current else " "
            print(f"{mark} {persona.id}  {persona.name:<20}  {persona.description}")
    return 0


async def _assets_generate(args: argparse.Namespace) -> int:
    bar = ProgressBar()
    async with (
        _client(args) as gaia,
        gaia.assets.generate(args.prompt, type=args.type, style=args.style) as events,
    ):
        async for event in events:
            if isinstance(event, Progress):
                bar.update(event.percent, event.message or event.stage)
            elif isinstance(event, Done):
                bar.update(100, "done")
                bar.finish()
                print(f"{event.asset_id}  {event.download_url}")
    return 0


async def _smoke(args: argparse.Namespace) -> int:
    api_key = args.api_key if args.api_key is not None else os.environ.get("GAIA_API_KEY", "")
    outcomes = await run_smoke(
        args.url, api_key=api_key, model=args.model, timeout=args.timeout, skip=args.skip, out=sys.stdout
    )
    return 0 if all(o.ok for o in outcomes) else 1


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-key", help="an API key (default: GAIA_API_KEY)")
    parser.add_argument("--jwt", help="a JWT instead of an API key (default: GAIA_JWT)")
    for service, port in (("chat", 50052), ("auth", 50051), ("asset", 50053)):
        parser.add_argument(
            f"--{service}-addr",
            help=f"{service} service: host:port, ip:port,ip:port or dns:///name:port "
            f"(default: GAIA_{service.upper()}_ADDR or 127.0.0.1:{port})",
        )
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline of each call, in seconds")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gaia", description="Gaia Mesh client commands")
    commands = root.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", help="send a message and stream the reply (Ctrl-C stops it)")
    chat.add_argument("message")
    chat.add_argument("--model", help="model id (default: the service's)")
    chat.add_argument("--persona", help="persona id or name")
    chat.add_argument("--conversation", help="conversation id to continue ('new' starts one)")
    chat.add_argument("-v", "--verbose", action="store_true", help="also print the model and usage")
    _connection(chat)
    chat.set_defaults(run=_chat)
    conversations = commands.add_parser("conversations", help="list your conversations")
    conversations.add_argument("--limit", type=int, default=0)
    _connection(conversations)
    conversations.set_defaults(run=_conversations)
    personas = commands.add_parser("personas", help="list personas (* marks your current one)")
    _connection(personas)
    personas.set_defaults(run=_personas)
    assets = commands.add_parser("assets", help="asset commands").add_subparsers(dest="action", required=True)
    generate = assets.add_parser("generate", help="generate an asset, with a progress bar")
    generate.add_argument("prompt")
    generate.add_argument("--type", default="image", choices=AssetApi.TYPES)
    generate.add_argument("--style", default="realistic")
    _connection(generate)
    generate.set_defaults(run=_assets_generate)
    smoke = commands.add_parser("smoke", help="check a deployment through its REST shim")
    smoke.add_argument("--url", required=True, help="the shim's base URL, e.g. http://127.0.0.1:8666")
    smoke.add_argument("--api-key", help="an API key (default: GAIA_API_KEY)")
    smoke.add_argument("--model", default="gaia-local", help="the model of the chat checks")
    smoke.add_argument("--timeout", type=float, default=30.0, help="deadline of each check, in seconds")
    smoke.add_argument("--skip", action="append", default=[], help="a check not to run (repeatable)")
    smoke.set_defaults(run=_smoke)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Callable[[argparse.Namespace], Coroutine[Any, Any, int]] = args.run
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        # asyncio.run cancelled the command: the open stream's RPC was cancelled on the way out.
        print("\ngaia: interrupted", file=sys.stderr)
        return _INTERRUPTED
    except GaiaError as exc:
        print(f"\ngaia {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
