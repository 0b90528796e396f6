"""The chat service's gRPC adapter, composed of one mixin per area (each in its own ``service_*`` module)."""

from __future__ import annotations

from gaia.chat.v1 import chat_pb2, chat_pb2_grpc
from grpc import aio

from gaia_services.chat.parts import ChatParts
from gaia_services.chat.service_catalogue import CatalogueRpcs
from gaia_services.chat.service_conversations import ConversationRpcs
from gaia_services.chat.service_personas import PersonaRpcs
from gaia_services.chat.service_streaming import StreamingRpcs
from gaia_services.runtime.remote_auth import RemoteAuthenticator
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.server import Closer, ServiceSpec

__all__ = ["ChatServicer", "spec"]

_SERVICE = chat_pb2.DESCRIPTOR.services_by_name["ChatService"].full_name


class ChatServicer(
    StreamingRpcs, ConversationRpcs, PersonaRpcs, CatalogueRpcs, chat_pb2_grpc.ChatServiceServicer
):
    def __init__(self, *, parts: ChatParts) -> None:
        self._parts = parts


def _register(server: aio.Server, resources: Resources) -> Closer:
    parts = ChatParts.build(resources)
    chat_pb2_grpc.add_ChatServiceServicer_to_server(ChatServicer(parts=parts), server)
    return parts.close


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="chat",
        service_names=(_SERVICE,),
        register=_register,
        authenticator=lambda resources: RemoteAuthenticator(channel=resources.channel("auth")),
        peers=("auth",),
    )
