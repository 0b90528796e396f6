"""``GaiaClient``: one native connection to the mesh with the caller's credentials.

Credentials (an API key or a JWT) are given once and sent as metadata on every call. Each service gets one
channel, opened on first use inside the running loop and reused by every call until ``close()`` (or the
end of ``async with``). Every call has a deadline (``timeout``, per client and per call); failures are
``GaiaError``s (``gaia_client.errors``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc
from gaia.asset.v1 import asset_pb2, asset_pb2_grpc
from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from gaia.common.v1 import common_pb2
from grpc import aio

from gaia_client.channels import open_channel
from gaia_client.errors import NotFound, error_from_rpc
from gaia_client.streams import ChatStream, GenerationStream

__all__ = ["Addresses", "AssetApi", "AuthApi", "ChatApi", "GaiaClient"]

Addresses = str | Sequence[str]
R = TypeVar("R")

#: The addresses ``gaia up`` serves on by default (and the env variables that move them).
DEFAULT_ADDRESSES = {"auth": "127.0.0.1:50051", "chat": "127.0.0.1:50052", "asset": "127.0.0.1:50053"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Credentials:
    api_key: str = ""
    jwt: str = ""

    def metadata(self) -> tuple[tuple[str, str], ...]:
        if self.jwt:
            return (("authorization", f"Bearer {self.jwt}"),)
        if self.api_key:
            return (("x-api-key", self.api_key),)
        return ()


class GaiaClient:
    """The mesh, natively. Use it as ``async with GaiaClient(api_key=...) as gaia:``, then ``gaia.chat``,
    ``gaia.assets`` and ``gaia.auth``.

    ``chat``/``auth``/``asset`` are each one address (``host:port``), several IP addresses (a list or a
    comma-separated string, spread round-robin), or a gRPC URI such as ``dns:///chat.gaia:50052`` (every
    address the name resolves to, round-robin). ``timeout`` is the deadline of a unary call and
    ``stream_timeout`` of a whole stream, in seconds; each call may pass its own.
    """

    def __init__(
        self,
        *,
        api_key: str = "",
        jwt: str = "",
        chat: Addresses = DEFAULT_ADDRESSES["chat"],
        auth: Addresses = DEFAULT_ADDRESSES["auth"],
        asset: Addresses = DEFAULT_ADDRESSES["asset"],
        timeout: float = 30.0,
        stream_timeout: float = 300.0,
        channel_credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        self._credentials = _Credentials(api_key=api_key, jwt=jwt)
        self._addresses: dict[str, Addresses] = {"chat": chat, "auth": auth, "asset": asset}
        self._channel_credentials = channel_credentials
        self._channels: dict[str, aio.Channel] = {}
        self.timeout = timeout
        self.stream_timeout = stream_timeout
        self.chat = ChatApi(self)
        self.assets = AssetApi(self)
        self.auth = AuthApi(self)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> GaiaClient:
        """A client from ``GAIA_API_KEY`` (or ``GAIA_JWT``) and ``GAIA_CHAT_ADDR``, ``GAIA_AUTH_ADDR``,
        ``GAIA_ASSET_ADDR``; keyword arguments given (and not None) win."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {
            "api_key": env.get("GAIA_API_KEY", ""),
            "jwt": env.get("GAIA_JWT", ""),
            **{
                name: env.get(f"GAIA_{name.upper()}_ADDR") or addr for name, addr in DEFAULT_ADDRESSES.items()
            },
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every channel (cancelling calls still running)."""
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            await channel.close()

    def channel(self, service: str) -> aio.Channel:
        """The one channel to ``service`` ("chat", "auth" or "asset"), opened on first use."""
        channel = self._channels.get(service)
        if channel is None:
            channel = open_channel(self._addresses[service], credentials=self._channel_credentials)
            self._channels[service] = channel
        return channel

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return self._credentials.metadata()

    async def _unary(self, method: Any, request: Any, timeout: float | None) -> Any:
        try:
            return await method(
                request, metadata=self._metadata(), timeout=self.timeout if timeout is None else timeout
            )
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from exc

    def _stream(self, method: Any, request: Any, timeout: float | None) -> aio.UnaryStreamCall:
        return method(
            request, metadata=self._metadata(), timeout=self.stream_timeout if timeout is None else timeout
        )


class ChatApi:
    """Chat turns, conversations, personas and models (``gaia.chat.v1.ChatService``)."""

    def __init__(self, client: GaiaClient) -> None:
        self._client = client

    def _stub(self) -> chat_pb2_grpc.ChatServiceStub:
        return chat_pb2_grpc.ChatServiceStub(self._client.channel("chat"))

    @staticmethod
    def turn(
        message: str,
        *,
        model: str = "",
        persona_id: str = "",
        conversation_id: str = "",
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> chat_pb2.StreamChatRequest:
        """The request of one turn. With ``conversation_id`` the turn continues that conversation ("new"
        starts one); without, the model sees no history (the exchange is still stored)."""
        request = chat_pb2.StreamChatRequest(
            message=message,
            model=model,
            persona_id=persona_id,
            conversation_id=conversation_id,
            history_mode=(
                chat_pb2.HISTORY_MODE_CONVERSATION if conversation_id else chat_pb2.HISTORY_MODE_UNSPECIFIED
            ),
        )
        if max_tokens is not None:
            request.max_tokens = max_tokens
        if temperature is not None:
            request.temperature = temperature
        return request

    def stream(self, message: str, *, timeout: float | None = None, **turn: Any) -> ChatStream:
        """Stream one turn: ``async with gaia.chat.stream("hi") as events: async for event in events``.
        Leaving the ``async with`` early cancels the turn and its provider request."""
        call = self._client._stream(self._stub().StreamChat, self.turn(message, **turn), timeout)
        return ChatStream(call)

    async def send(self, message: str, *, timeout: float | None = None, **turn: Any) -> chat_pb2.ChatResponse:
        """Run one turn and return the whole reply (``.response``, ``.conversation_id``, ``.usage``...)."""
        request = chat_pb2.ChatRequest(turn=self.turn(message, **turn))
        reply: chat_pb2.ChatResponse = await self._client._unary(self._stub().Chat, request, timeout)
        return reply

    async def conversations(
        self, *, limit: int = 0, offset: int = 0, timeout: float | None = None
    ) -> list[chat_pb2.Conversation]:
        """The caller's conversations, most recently updated first."""
        request = chat_pb2.ListConversationsRequest(page=common_pb2.PageRequest(limit=limit, offset=offset))
        reply = await self._client._unary(self._stub().ListConversations, request, timeout)
        return list(reply.conversations)

    async def messages(self, conversation_id: str, *, timeout: float | None = None) -> list[chat_pb2.Message]:
        """A conversation's messages, oldest first."""
        request = chat_pb2.ListMessagesRequest(conversation_id=conversation_id)
        reply = await self._client._unary(self._stub().ListMessages, request, timeout)
        return list(reply.messages)

    async def personas(self, *, timeout: float | None = None) -> list[chat_pb2.Persona]:
        """The active personas, newest first."""
        reply = await self._client._unary(self._stub().ListPersonas, chat_pb2.ListPersonasRequest(), timeout)
        return list(reply.personas)

    async def current_persona(self, *, timeout: float | None = None) -> chat_pb2.Persona:
        request = chat_pb2.GetCurrentPersonaRequest()
        reply = await self._client._unary(self._stub().GetCurrentPersona, request, timeout)
        persona: chat_pb2.Persona = reply.persona
        return persona

    async def persona_id(self, name_or_id: str, *, timeout: float | None = None) -> str:
        """The id of a persona given by id or by name (``NotFound`` for an unknown name)."""
        if _UUID.match(name_or_id):
            return name_or_id
        for persona in await self.personas(timeout=timeout):
            if persona.name.casefold() == name_or_id.casefold():
                return persona.id
        raise NotFound(f"no persona named {name_or_id!r}", code=grpc.StatusCode.NOT_FOUND)

    async def models(self, *, available_only: bool = False, timeout: float | None = None) -> list[Any]:
        """The model catalogue (``gaia.chat.v1.ModelInfo``)."""
        request = chat_pb2.ListModelsRequest(available_only=available_only)
        reply = await self._client._unary(self._stub().ListModels, request, timeout)
        return list(reply.models)


_CATEGORIES: dict[str, Any] = {
    name.removeprefix("ASSET_CATEGORY_").lower(): value
    for name, value in asset_pb2.AssetCategory.items()
    if value != asset_pb2.ASSET_CATEGORY_UNSPECIFIED
}


class AssetApi:
    """Asset generation and the caller's assets (``gaia.asset.v1.AssetService``)."""

    #: The asset types ``generate`` takes ("image", "audio", "prop", ...).
    TYPES = tuple(_CATEGORIES)

    def __init__(self, client: GaiaClient) -> None:
        self._client = client

    def _stub(self) -> asset_pb2_grpc.AssetServiceStub:
        return asset_pb2_grpc.AssetServiceStub(self._client.channel("asset"))

    def generate(
        self, prompt: str, *, type: str = "image", style: str = "realistic", timeout: float | None = None
    ) -> GenerationStream:
        """Generate an asset: ``Progress`` events, then ``Done`` with the stored asset."""
        if type not in _CATEGORIES:
            raise ValueError(f"unknown asset type {type!r}; one of {', '.join(_CATEGORIES)}")
        request = asset_pb2.GenerateAssetRequest(category=_CATEGORIES[type], style=style, description=prompt)
        return GenerationStream(self._client._stream(self._stub().GenerateAsset, request, timeout))

    async def list(self, *, limit: int = 0, timeout: float | None = None) -> list[asset_pb2.Asset]:
        request = asset_pb2.ListAssetsRequest(page=common_pb2.PageRequest(limit=limit))
        reply = await self._client._unary(self._stub().ListAssets, request, timeout)
        return list(reply.assets)


class AuthApi:
    """The caller's account (``gaia.auth.v1.AuthService``)."""

    def __init__(self, client: GaiaClient) -> None:
        self._client = client

    def _stub(self) -> auth_pb2_grpc.AuthServiceStub:
        return auth_pb2_grpc.AuthServiceStub(self._client.channel("auth"))

    async def profile(self, *, timeout: float | None = None) -> auth_pb2.User:
        """The calling user."""
        reply = await self._client._unary(self._stub().GetProfile, auth_pb2.GetProfileRequest(), timeout)
        user: auth_pb2.User = reply.user
        return user
