"""The shim alone, on fake gRPC services: real grpc.aio servers (port 0) with the runtime's own interceptor
and health service, whose servicers answer from a script, and the real shim app served by uvicorn on a
free port. No database, Redis, NATS or provider is needed.

``FakeChat.StreamChat`` reads its script from the message: ``"tokens:a,b"`` streams those tokens and
completes; ``"fail:<text>"`` ends with a ``failed`` event; ``"refuse:<text>"`` raises ``NotFound`` before
any event; ``"break"`` aborts the RPC after one token; ``"hang"`` streams one token and then waits until
cancelled (recorded in ``cancelled``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import uvicorn
from gaia.asset.v1 import asset_pb2_grpc
from gaia.auth.v1 import auth_pb2_grpc
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from gaia.common.v1 import common_pb2
from grpc import aio

from compat_gateway.app import build_app
from gaia_services.runtime.errors import CredentialsForbidden, NotFound, failure_code
from gaia_services.runtime.principal import AuthType, Credentials, Principal
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.server import RunningService, ServiceSpec, start_service
from gaia_services.settings import Settings

__all__ = ["GOOD_KEY", "FakeChat", "FakeMesh", "FakePool", "fake_mesh"]

GOOD_KEY = "good-key"


class KeyAuthenticator:
    async def authenticate(self, credentials: Credentials) -> Principal:
        if credentials.api_key != GOOD_KEY:
            raise CredentialsForbidden("Could not validate credentials")
        return Principal(user_id="u1", auth_type=AuthType.API_KEY, email="u1@example.com")


def _started(request: chat_pb2.StreamChatRequest) -> chat_pb2.StreamChatResponse:
    return chat_pb2.StreamChatResponse(
        started=chat_pb2.ChatStarted(
            conversation_id=request.conversation_id or "c1",
            model=request.model or "fake-model",
            provider="fake",
            request_id="chat-r1",
            created=1700000000,
        )
    )


def _token(text: str) -> chat_pb2.StreamChatResponse:
    return chat_pb2.StreamChatResponse(token=chat_pb2.ChatToken(text=text))


@dataclass
class FakeChat(chat_pb2_grpc.ChatServiceServicer):
    requests: list[chat_pb2.StreamChatRequest] = field(default_factory=list)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    async def StreamChat(
        self, request: chat_pb2.StreamChatRequest, context: aio.ServicerContext
    ) -> AsyncIterator[chat_pb2.StreamChatResponse]:
        self.requests.append(request)
        text = request.message or (request.messages[-1].content if request.messages else "")
        verb, _, rest = text.partition(":")
        if verb == "refuse":
            raise NotFound(rest)
        yield _started(request)
        if verb == "tokens":
            tokens = rest.split(",")
            for text in tokens:
                yield _token(text)
            usage = common_pb2.Usage(
                prompt_tokens=3, completion_tokens=len(tokens), total_tokens=3 + len(tokens)
            )
            yield chat_pb2.StreamChatResponse(
                completed=chat_pb2.ChatCompleted(
                    finish_reason="stop", model="fake-model", provider="fake", usage=usage
                )
            )
        elif verb == "fail":
            failure = common_pb2.Failure(
                code=failure_code(NotFound(rest)), reason="model_not_found", message=rest
            )
            yield chat_pb2.StreamChatResponse(failed=failure)
        elif verb == "break":
            yield _token("partial")
            await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")
        elif verb == "hang":
            yield _token("partial")
            try:
                await asyncio.Event().wait()
            finally:
                self.cancelled.set()


class FakePool:
    """What a service's PostgreSQL health check reads of its pool: ``fetchval``, failing while ``down``."""

    def __init__(self) -> None:
        self.down = False

    async def fetchval(self, query: str) -> int:
        if self.down:
            raise OSError("connection refused")
        return 1


@dataclass
class FakeMesh:
    url: str
    chat: FakeChat
    pool: FakePool
    services: dict[str, RunningService]


def _spec(name: str, service: str, add: Any, servicer: Any) -> ServiceSpec:
    return ServiceSpec(
        name=name,
        service_names=(service,),
        parts=lambda resources: None,
        register=lambda server, _: add(servicer, server),
        authenticator=lambda resources, _: KeyAuthenticator(),
    )


@contextlib.asynccontextmanager
async def fake_mesh() -> AsyncIterator[FakeMesh]:
    """Three fake services and the real shim in front of them (its Redis points at a closed port)."""
    pool = FakePool()
    resources = Resources(settings=Settings(), db=pool)  # type: ignore[arg-type]
    chat = FakeChat()
    specs = {
        "auth": _spec(
            "auth",
            "gaia.auth.v1.AuthService",
            auth_pb2_grpc.add_AuthServiceServicer_to_server,
            auth_pb2_grpc.AuthServiceServicer(),
        ),
        "chat": _spec(
            "chat", "gaia.chat.v1.ChatService", chat_pb2_grpc.add_ChatServiceServicer_to_server, chat
        ),
        "asset": _spec(
            "asset",
            "gaia.asset.v1.AssetService",
            asset_pb2_grpc.add_AssetServiceServicer_to_server,
            asset_pb2_grpc.AssetServiceServicer(),
        ),
    }
    services = {
        name: await start_service(spec, resources, address="127.0.0.1:0") for name, spec in specs.items()
    }
    addr = {name: f"127.0.0.1:{running.port}" for name, running in services.items()}
    settings = Settings(  # type: ignore[call-arg]  # REDIS_URL is its environment name
        REDIS_URL="redis://127.0.0.1:9/0",
        auth_addr=addr["auth"],
        chat_addr=addr["chat"],
        asset_addr=addr["asset"],
    )
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings), host="127.0.0.1", port=0, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield FakeMesh(url=f"http://127.0.0.1:{port}", chat=chat, pool=pool, services=services)
    finally:
        server.should_exit = True
        await serving
        for running in services.values():
            await running.stop(0)
