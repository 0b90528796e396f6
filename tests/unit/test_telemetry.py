"""Traces, metrics and JSON logs in process: two gRPC services on port 0, the shim middleware over ASGI, the
router's provider span, the log formatter. Spans go to the SDK's in-memory exporter."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import grpc
import httpx
import pytest
from gaia.auth.v1 import auth_pb2, auth_pb2_grpc
from grpc import aio
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from compat_gateway.middleware import ShimMetrics, ShimMiddleware
from gaia_services.chat.providers import StreamEnd, TextDelta
from gaia_services.chat.routing import Route as ModelRoute
from gaia_services.chat.routing import _observed
from gaia_services.runtime.calls import CallState, current_call
from gaia_services.runtime.channels import open_channel
from gaia_services.runtime.errors import Unavailable
from gaia_services.runtime.logs import configure_logging
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.server import start_service
from gaia_services.runtime.telemetry import Telemetry, Tracing, current_telemetry, open_tracing, trace_headers
from gaia_services.settings import Settings
from tests.unit.test_runtime import GOOD_KEY, Downstream, Seen, Upstream, _spec

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_PARENT = f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"


@pytest.fixture
def exported() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def _tracing(exporter: InMemorySpanExporter, name: str) -> Tracing:
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(tracer=provider.get_tracer("test"), provider=provider)


async def _pair(up: Telemetry, down: Telemetry) -> AsyncIterator[tuple[aio.Channel, Seen]]:
    resources = Resources(settings=Settings())
    seen = Seen()
    downstream = await start_service(
        _spec(Downstream(seen)), resources, address="127.0.0.1:0", telemetry=down
    )
    to_downstream = open_channel(f"127.0.0.1:{downstream.port}")
    upstream = await start_service(
        _spec(Upstream(to_downstream)), resources, address="127.0.0.1:0", telemetry=up
    )
    channel = aio.insecure_channel(f"127.0.0.1:{upstream.port}")
    try:
        yield channel, seen
    finally:
        await channel.close()
        await to_downstream.close()
        await upstream.stop(0)
        await downstream.stop(0)


async def _get_profile(channel: aio.Channel, *extra: tuple[str, str]) -> None:
    await auth_pb2_grpc.AuthServiceStub(channel).GetProfile(
        auth_pb2.GetProfileRequest(), metadata=(("x-api-key", GOOD_KEY), *extra)
    )


def _trace_of(header: str) -> str:
    return header.split("-")[1]


async def test_the_clients_trace_continues_through_both_services(exported: InMemorySpanExporter) -> None:
    up = Telemetry(tracing=_tracing(exported, "up"))
    down = Telemetry(tracing=_tracing(exported, "down"))
    async for channel, seen in _pair(up, down):
        await _get_profile(channel, ("traceparent", CLIENT_PARENT))
        spans: list[ReadableSpan] = list(exported.get_finished_spans())
        by_service = {s.resource.attributes["service.name"]: s for s in spans}
        assert set(by_service) == {"up", "down"}
        upper, lower = by_service["up"], by_service["down"]
        assert {f"{s.context.trace_id:032x}" for s in spans} == {CLIENT_TRACE}
        assert upper.kind is SpanKind.SERVER and upper.name == "/gaia.auth.v1.AuthService/GetProfile"
        assert upper.parent is not None and f"{upper.parent.span_id:016x}" == "00f067aa0ba902b7"
        assert lower.parent is not None and lower.parent.span_id == upper.context.span_id
        assert seen.metadata["traceparent"] == f"00-{CLIENT_TRACE}-{upper.context.span_id:016x}-01"
        page = up.metrics.exposition().decode()
        method = "/gaia.auth.v1.AuthService/GetProfile"
        assert f'gaia_rpc_requests_total{{code="OK",method="{method}"}} 1.0' in page
        assert f'gaia_rpc_seconds_count{{method="{method}"}} 1.0' in page


async def test_a_call_without_a_trace_starts_one_when_exporting(exported: InMemorySpanExporter) -> None:
    up = Telemetry(tracing=_tracing(exported, "up"))
    async for channel, seen in _pair(up, Telemetry()):
        await _get_profile(channel)
        (span,) = exported.get_finished_spans()
        assert span.parent is None
        assert _trace_of(seen.metadata["traceparent"]) == f"{span.context.trace_id:032x}"


async def test_without_an_exporter_the_clients_traceparent_passes_unchanged() -> None:
    async for channel, seen in _pair(Telemetry(), Telemetry()):
        await _get_profile(channel, ("traceparent", CLIENT_PARENT))
        assert seen.metadata["traceparent"] == CLIENT_PARENT
        await _get_profile(channel)
        assert "traceparent" not in seen.metadata  # no trace, no header, no cost


def test_open_tracing_exports_only_with_an_endpoint() -> None:
    assert not open_tracing(Settings(), part="chat").recording
    settings = Settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_SERVICE_NAME="game")  # type: ignore[call-arg]
    tracing = open_tracing(settings, part="chat")
    try:
        assert tracing.recording and tracing.provider is not None
        assert tracing.provider.resource.attributes["service.name"] == "game-chat"
    finally:
        tracing.shutdown()
    disabled = Settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_SDK_DISABLED="true")  # type: ignore[call-arg]
    assert not open_tracing(disabled, part="chat").recording


def _shim(tracing: Tracing) -> httpx.AsyncClient:
    async def hello(_: object) -> PlainTextResponse:
        call = current_call.get()
        return PlainTextResponse(
            f"{call.request_id if call else ''} {trace_headers().get('traceparent', '')}"
        )

    app = ShimMiddleware(
        Starlette(routes=[Route("/hello/{name}", hello)]),
        metrics=ShimMetrics(),
        max_body_bytes=1024,
        tracer=tracing.tracer,
        recording=tracing.recording,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shim")


async def test_the_shim_continues_the_clients_trace_and_returns_its_span(
    exported: InMemorySpanExporter,
) -> None:
    async with _shim(_tracing(exported, "shim")) as client:
        response = await client.get("/hello/x", headers={"traceparent": CLIENT_PARENT})
        returned = response.headers["traceparent"]
        (span,) = exported.get_finished_spans()
        assert returned == f"00-{CLIENT_TRACE}-{span.context.span_id:016x}-01"
        assert response.text.split(" ")[1] == returned  # current while the request is served
        assert (
            span.name == "GET /hello/{name}"
            and (span.attributes or {}).get("http.response.status_code") == 200
        )

        fresh = await client.get("/hello/x", headers={"x-request-id": "req-given-1234"})
        assert _trace_of(fresh.headers["traceparent"]) != CLIENT_TRACE
        assert fresh.text.startswith("req-given-1234 ")


async def test_the_shim_without_an_exporter_echoes_a_traceparent_and_adds_none() -> None:
    async with _shim(Tracing()) as client:
        echoed = await client.get("/hello/x", headers={"traceparent": CLIENT_PARENT})
        assert echoed.headers["traceparent"] == CLIENT_PARENT
        plain = await client.get("/hello/x")
        assert "traceparent" not in plain.headers
        assert len(plain.text.strip()) == 32  # a request id even so (for the log lines)


async def _provider(seen: list[dict[str, str]], fail: bool) -> AsyncIterator[TextDelta | StreamEnd]:
    seen.append(trace_headers())
    if fail:
        raise Unavailable("down", reason="connection_error", transient=True)
    yield TextDelta("hi")
    yield StreamEnd(prompt_tokens=3, completion_tokens=1)


async def test_a_provider_call_is_a_client_span_with_its_tokens_and_errors_counted(
    exported: InMemorySpanExporter,
) -> None:
    telemetry = Telemetry(tracing=_tracing(exported, "chat"))
    route = ModelRoute(model="gpt-4o-mini", provider="openai")
    seen: list[dict[str, str]] = []
    token = current_telemetry.set(telemetry)
    try:
        with telemetry.tracer.start_as_current_span("call") as call:
            events = [e async for e in _observed(route, _provider(seen, fail=False))]
            with pytest.raises(Unavailable):
                [e async for e in _observed(route, _provider(seen, fail=True))]
            assert trace.get_current_span() is call  # the provider span never leaks into the caller
    finally:
        current_telemetry.reset(token)
    assert events[-1] == StreamEnd(prompt_tokens=3, completion_tokens=1)
    provider_spans = [s for s in exported.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert len(provider_spans) == 2
    for span, headers in zip(provider_spans, seen, strict=True):
        assert headers["traceparent"].startswith(
            f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-"
        )
        assert span.parent is not None and span.parent.span_id == call.get_span_context().span_id
    page = telemetry.metrics.exposition().decode()
    assert 'gaia_chat_tokens_total{kind="prompt",provider="openai"} 3.0' in page
    assert 'gaia_chat_tokens_total{kind="completion",provider="openai"} 1.0' in page
    assert 'gaia_chat_provider_errors_total{provider="openai",reason="connection_error"} 1.0' in page


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_logs_carry_the_request_id_and_the_trace_id(
    root_logging: None, exported: InMemorySpanExporter
) -> None:
    out = io.StringIO()
    configure_logging("INFO", fmt="json", service="chat", stream=out)
    tracer = _tracing(exported, "chat").tracer
    token = current_call.set(CallState(method="/x", request_id="abc123abc123abc1"))
    try:
        with tracer.start_as_current_span("call") as span:
            logging.getLogger("gaia.test").info("hello %s", "there")
    finally:
        current_call.reset(token)
    logging.getLogger("gaia.test").warning("outside")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "hello there" and first["service"] == "chat"
    assert first["request_id"] == "abc123abc123abc1"
    assert first["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    assert first["span_id"] == f"{span.get_span_context().span_id:016x}"
    assert second["level"] == "WARNING" and second["request_id"] is None and second["trace_id"] is None


async def test_server_streaming_calls_carry_the_trace_and_the_call_state(
    exported: InMemorySpanExporter,
) -> None:
    """``aio.Channel`` files an interceptor under one kind only: streams need their own (they had none)."""
    seen: list[dict[str, str]] = []

    async def stream(request: bytes, context: aio.ServicerContext) -> AsyncIterator[bytes]:
        seen.append({k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)})
        yield b"x"

    server = aio.server()
    handler = grpc.unary_stream_rpc_method_handler(stream)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.S", {"M": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = open_channel(f"127.0.0.1:{port}")
    token = current_call.set(CallState(method="/m", request_id="req-stream-1234"))
    try:
        with _tracing(exported, "up").tracer.start_as_current_span("call") as span:
            assert await channel.unary_stream("/t.S/M")(b"").read() == b"x"
    finally:
        current_call.reset(token)
        await channel.close()
        await server.stop(0)
    assert seen[0]["x-request-id"] == "req-stream-1234"
    assert _trace_of(seen[0]["traceparent"]) == f"{span.get_span_context().trace_id:032x}"
