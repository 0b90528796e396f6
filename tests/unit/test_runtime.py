"""The shared runtime on in-process gRPC servers (port 0): interceptor, error table, propagation, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest
from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gaia_services.runtime.calls import current_call
from gaia_services.runtime.channels import open_channel
from gaia_services.runtime.errors import CredentialsForbidden, NotFound, RateLimited
from gaia_services.runtime.principal import AuthType, Credentials, Principal
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.server import RunningService, ServiceSpec, start_service
from gaia_services.runtime.wire import trailing_of
from gaia_services.settings import Settings

GOOD_KEY = "good-key"


class KeyAuthenticator:
    async def authenticate(self, credentials: Credentials) -> Principal:
        if credentials.api_key == GOOD_KEY:
            return Principal(user_id="u1", auth_type=AuthType.API_KEY, email="u1@example.com")
        raise CredentialsForbidden("Could not validate credentials")


@dataclass
class Seen:
    metadata: dict[str, str] = field(default_factory=dict)
    remaining: float | None = None


class Downstream(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, seen: Seen) -> None:
        self._seen = seen

    async def GetProfile(
        self, request: auth_pb2.GetProfileRequest, context: aio.ServicerContext
    ) -> auth_pb2.GetProfileResponse:
        self._seen.metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        self._seen.remaining = context.time_remaining()
        return auth_pb2.GetProfileResponse()


class Upstream(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, downstream: aio.Channel) -> None:
        self._downstream = auth_pb2_grpc.AuthServiceStub(downstream)

    async def GetProfile(
        self, request: auth_pb2.GetProfileRequest, context: aio.ServicerContext
    ) -> auth_pb2.GetProfileResponse:
        call = current_call.get()
        assert call is not None and call.principal is not None
        await self._downstream.GetProfile(auth_pb2.GetProfileRequest(), timeout=60)
        return auth_pb2.GetProfileResponse(
            user=auth_pb2.User(id=call.principal.user_id, email=call.principal.email)
        )

    async def ChangePassword(
        self, request: auth_pb2.ChangePasswordRequest, context: aio.ServicerContext
    ) -> auth_pb2.ChangePasswordResponse:
        raise NotFound("Persona not found: 42")

    async def UpdateProfile(
        self, request: auth_pb2.UpdateProfileRequest, context: aio.ServicerContext
    ) -> auth_pb2.UpdateProfileResponse:
        raise RuntimeError("secret database password in a stack trace")

    async def ListApiKeys(
        self, request: auth_pb2.ListApiKeysRequest, context: aio.ServicerContext
    ) -> auth_pb2.ListApiKeysResponse:
        raise RateLimited("Rate limit exceeded: 2 per 1 minute", retry_after_s=17)

    async def Validate(
        self, request: auth_pb2.ValidateRequest, context: aio.ServicerContext
    ) -> auth_pb2.ValidateResponse:
        return auth_pb2.ValidateResponse(
            valid=current_call.get() is not None and current_call.get().principal is None
        )  # type: ignore[union-attr]


def _spec(servicer: auth_pb2_grpc.AuthServiceServicer) -> ServiceSpec:
    return ServiceSpec(
        name="auth",
        service_names=("gaia.auth.v1.AuthService",),
        parts=lambda resources: None,
        register=lambda server, _: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server),
        authenticator=lambda resources, _: KeyAuthenticator(),
        public_methods=frozenset({"/gaia.auth.v1.AuthService/Validate"}),
    )


@dataclass
class Pair:
    upstream: RunningService
    downstream: RunningService
    seen: Seen
    channel: aio.Channel


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    resources = Resources(settings=Settings())
    seen = Seen()
    downstream = await start_service(_spec(Downstream(seen)), resources, address="127.0.0.1:0")
    to_downstream = open_channel(f"127.0.0.1:{downstream.port}")
    upstream = await start_service(_spec(Upstream(to_downstream)), resources, address="127.0.0.1:0")
    channel = aio.insecure_channel(f"127.0.0.1:{upstream.port}")
    yield Pair(upstream=upstream, downstream=downstream, seen=seen, channel=channel)
    await channel.close()
    await to_downstream.close()
    await upstream.stop(0)
    await downstream.stop(0)


def _stub(pair: Pair) -> auth_pb2_grpc.AuthServiceStub:
    return auth_pb2_grpc.AuthServiceStub(pair.channel)


async def test_no_credentials_is_unauthenticated_with_the_legacy_text(pair: Pair) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await _stub(pair).GetProfile(auth_pb2.GetProfileRequest())
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.details() == "Not authenticated. Provide a valid JWT or API Key."
    assert trailing_of(caught.value)["gaia-error"] == "auth"


async def test_bad_key_is_permission_denied(pair: Pair) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await _stub(pair).GetProfile(auth_pb2.GetProfileRequest(), metadata=(("x-api-key", "nope"),))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details() == "Could not validate credentials"


async def test_principal_deadline_request_id_and_credentials_travel_downstream(pair: Pair) -> None:
    reply = await _stub(pair).GetProfile(
        auth_pb2.GetProfileRequest(),
        timeout=5,
        metadata=(("x-api-key", GOOD_KEY), ("x-request-id", "req-123")),
    )
    assert (reply.user.id, reply.user.email) == ("u1", "u1@example.com")
    assert pair.seen.metadata["x-request-id"] == "req-123"
    assert pair.seen.metadata["x-api-key"] == GOOD_KEY
    # The downstream call asked for 60 s but inherits what is left of the caller's 5 s. gRPC
    # sends the timeout in coarse wire units and each hop measures it on its own clock, so
    # the receiver may see a few milliseconds more than 5 s; far less than 60 s either way.
    assert pair.seen.remaining is not None and 3.0 < pair.seen.remaining < 5.5


async def test_domain_error_maps_through_the_table(pair: Pair) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await _stub(pair).ChangePassword(
            auth_pb2.ChangePasswordRequest(), metadata=(("x-api-key", GOOD_KEY),)
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "Persona not found: 42"
    assert trailing_of(caught.value)["gaia-error"] == "domain"


async def test_rate_limit_carries_retry_after(pair: Pair) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await _stub(pair).ListApiKeys(auth_pb2.ListApiKeysRequest(), metadata=(("x-api-key", GOOD_KEY),))
    trailing = trailing_of(caught.value)
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (trailing["gaia-error"], trailing["retry-after"]) == ("ratelimit", "17")


async def test_unexpected_exception_is_internal_without_its_text(pair: Pair) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await _stub(pair).UpdateProfile(auth_pb2.UpdateProfileRequest(), metadata=(("x-api-key", GOOD_KEY),))
    assert caught.value.code() is grpc.StatusCode.INTERNAL
    assert caught.value.details() == "Internal server error"
    assert "secret" not in (caught.value.debug_error_string() or "")


async def test_public_method_needs_no_credentials(pair: Pair) -> None:
    reply = await _stub(pair).Validate(auth_pb2.ValidateRequest())
    assert reply.valid is True


async def test_graceful_stop_reports_not_serving_and_refuses_new_calls(pair: Pair) -> None:
    health = health_pb2_grpc.HealthStub(pair.channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service="gaia.auth.v1.AuthService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    stopping = asyncio.create_task(pair.upstream.stop(1.0))
    await asyncio.sleep(0.05)
    await stopping
    with pytest.raises(aio.AioRpcError) as caught:
        await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
