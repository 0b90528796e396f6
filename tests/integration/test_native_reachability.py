"""Every REST route of the shim maps to an RPC that native clients reach at the service's own address, with
the same authorization rule: a route that needs credentials is an RPC the service refuses without them
(UNAUTHENTICATED, before any work), and a public route (sign-in, registration, ...) is a public RPC.
Read-only RPCs (Get*/List*) also answer a native caller with credentials."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from gaia.asset.v1 import asset_pb2
from gaia.auth.v1 import auth_pb2
from gaia.chat.v1 import chat_pb2
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message_factory import GetMessageClass
from grpc import aio

from compat_gateway.routes import ROUTES
from compat_gateway.routes.table import Collected, Relayed, Unary, served
from gaia_services.runtime.wire import NOT_AUTHENTICATED
from tests.integration.chat_helpers import new_user
from tests.support.infra import Infra
from tests.support.mesh import Mesh

_SERVICES = {
    "auth": auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
    "chat": chat_pb2.DESCRIPTOR.services_by_name["ChatService"],
    "asset": asset_pb2.DESCRIPTOR.services_by_name["AssetService"],
}


def _rows() -> dict[tuple[str, str], set[bool]]:
    """(service, RPC) of every RPC row, with the auth rules of the routes that call it."""
    found: dict[tuple[str, str], set[bool]] = {}
    for row in served(ROUTES):
        if isinstance(row, Unary | Collected | Relayed):
            found.setdefault((row.rpc.service, row.rpc.name), set()).add(row.auth)
    return found


ROWS = _rows()


def test_every_rpc_row_names_a_real_rpc_with_one_auth_rule() -> None:
    assert len(ROWS) >= 60
    for (service, name), rules in ROWS.items():
        assert name in _SERVICES[service].methods_by_name, (service, name)
        assert len(rules) == 1, f"routes disagree whether {service}.{name} needs credentials"


async def _call(channel: aio.Channel, method: MethodDescriptor, metadata: tuple[tuple[str, str], ...]) -> Any:
    """Call ``method`` natively with an empty request; the status code (OK for an answer)."""
    request = GetMessageClass(method.input_type)()
    response = GetMessageClass(method.output_type)
    path = f"/{method.containing_service.full_name}/{method.name}"
    try:
        if method.server_streaming:
            call = channel.unary_stream(
                path,
                request_serializer=type(request).SerializeToString,
                response_deserializer=response.FromString,
            )(request, metadata=metadata, timeout=10)
            await call.read()
            call.cancel()
        else:
            await channel.unary_unary(
                path,
                request_serializer=type(request).SerializeToString,
                response_deserializer=response.FromString,
            )(request, metadata=metadata, timeout=10)
    except aio.AioRpcError as exc:
        return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


@pytest.mark.parametrize("service", sorted(_SERVICES))
async def test_each_route_rpc_is_reachable_natively_with_the_same_authorization(
    mesh: Mesh, infra: Infra, service: str
) -> None:
    caller = await new_user(infra)
    credentials = (("authorization", caller.headers["Authorization"]),)
    wrong: list[str] = []
    async with aio.insecure_channel(mesh.addrs[service]) as channel:
        for (owner, name), rules in sorted(ROWS.items()):
            if owner != service:
                continue
            method = _SERVICES[service].methods_by_name[name]
            code, details = await _call(channel, method, ())
            needs_credentials = True in rules
            if code is grpc.StatusCode.UNIMPLEMENTED:
                wrong.append(f"{name}: not served at {mesh.addrs[service]}")
            elif needs_credentials and (code, details) != (
                grpc.StatusCode.UNAUTHENTICATED,
                NOT_AUTHENTICATED,
            ):
                wrong.append(f"{name}: its routes need credentials, natively it answered {code.name} without")
            elif not needs_credentials and details == NOT_AUTHENTICATED:
                wrong.append(f"{name}: its routes are public, natively it needs credentials")
            if needs_credentials and name.startswith(("Get", "List")):
                code, details = await _call(channel, method, credentials)
                if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNIMPLEMENTED):
                    wrong.append(f"{name}: refused a native caller with credentials ({code.name}: {details})")
    assert wrong == []
