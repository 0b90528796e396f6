"""Observability of the real mesh: one trace id from the HTTP request through the shim, chat, auth and the
provider request (spans received by a local OTLP/gRPC collector); each service's Prometheus page; JSON logs
carrying the request id and the trace id.

One mesh of its own (its processes need the OTLP endpoint, JSON logs and metrics ports in their environment).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from grpc import aio
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from gaia_services.embedded import free_port
from tests.integration.chat_helpers import sse_events
from tests.support.fake_llm import FakeLLM
from tests.support.infra import Infra
from tests.support.mesh import DEV_API_KEY, Mesh, run_mesh

CLIENT_TRACE = uuid.uuid4().hex
CLIENT_PARENT = f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int


@dataclass
class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """A local OTLP/gRPC trace receiver: keeps every span it is sent."""

    spans: list[ReceivedSpan] = field(default_factory=list)

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: aio.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            service=attributes.get("service.name", ""),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            kind=span.kind,
                        )
                    )
        return trace_service_pb2.ExportTraceServiceResponse()

    async def wait_for(self, trace_id: str, services: set[str], timeout: float = 15.0) -> list[ReceivedSpan]:
        deadline = time.monotonic() + timeout
        while True:
            spans = [s for s in self.spans if s.trace_id == trace_id]
            if services <= {s.service for s in spans} or time.monotonic() > deadline:
                return spans
            await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Observed:
    mesh: Mesh
    collector: Collector
    metrics_ports: dict[str, int]


@pytest.fixture(scope="module")
async def observed(
    infra: Infra, fake_llm: FakeLLM, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Observed]:
    collector = Collector()
    server = aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    metrics_ports = {name: free_port() for name in ("auth", "chat", "asset")}
    env = {
        **fake_llm.env(),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "GAIA_LOG_FORMAT": "json",
        **{f"GAIA_{name.upper()}_METRICS_PORT": str(p) for name, p in metrics_ports.items()},
    }
    try:
        async with run_mesh(infra, Path(tmp_path_factory.mktemp("observed")), extra_env=env) as mesh:
            yield Observed(mesh=mesh, collector=collector, metrics_ports=metrics_ports)
    finally:
        await server.stop(0)


async def _stream(observed: Observed, message: str, **headers: str) -> aiohttp.ClientResponse:
    async with (
        aiohttp.ClientSession(base_url=observed.mesh.http) as http,
        http.post(
            "/api/v0.2/chat/stream",
            json={"message": message, "model": "gpt-4o-mini"},
            headers={"X-API-Key": DEV_API_KEY, **headers},
        ) as response,
    ):
        assert response.status == 200
        events = sse_events(await response.read())
        assert events[-1] == "[DONE]"
        return response


async def test_one_trace_from_the_http_request_to_the_provider_request(
    observed: Observed, fake_llm: FakeLLM
) -> None:
    message = f"trace me {uuid.uuid4().hex[:8]}"
    response = await _stream(observed, message, traceparent=CLIENT_PARENT)
    _, returned_trace, shim_span, _ = response.headers["traceparent"].split("-")
    assert returned_trace == CLIENT_TRACE and shim_span != "00f067aa0ba902b7"

    (provider_request,) = fake_llm.find(message)
    _, provider_trace, provider_parent, _ = provider_request.headers["traceparent"].split("-")
    assert provider_trace == CLIENT_TRACE

    spans = await observed.collector.wait_for(CLIENT_TRACE, {"gaia-shim", "gaia-chat", "gaia-auth"})
    by_id = {s.span_id: s for s in spans}
    services = {s.service for s in spans}
    assert {"gaia-shim", "gaia-chat", "gaia-auth"} <= services, spans
    shim = by_id[shim_span]
    assert shim.service == "gaia-shim" and shim.name == "POST /api/v0.2/chat/stream"
    assert shim.parent_id == "00f067aa0ba902b7"  # the client's span
    chat = next(s for s in spans if s.name == "/gaia.chat.v1.ChatService/StreamChat")
    assert chat.service == "gaia-chat" and chat.parent_id == shim_span
    auth = next(s for s in spans if s.service == "gaia-auth" and s.parent_id == chat.span_id)
    assert auth.name.endswith("/Authenticate")
    provider = by_id[provider_parent]  # the span the provider request names as its parent
    assert provider.service == "gaia-chat" and provider.name == "chat.provider openai"
    assert provider.parent_id == chat.span_id


async def test_a_request_without_traceparent_starts_a_trace_and_gets_it_back(
    observed: Observed, fake_llm: FakeLLM
) -> None:
    message = f"new trace {uuid.uuid4().hex[:8]}"
    response = await _stream(observed, message)
    trace_id = response.headers["traceparent"].split("-")[1]
    (provider_request,) = fake_llm.find(message)
    assert provider_request.headers["traceparent"].split("-")[1] == trace_id
    spans = await observed.collector.wait_for(trace_id, {"gaia-shim", "gaia-chat", "gaia-auth"})
    assert {"gaia-shim", "gaia-chat", "gaia-auth"} <= {s.service for s in spans}


async def test_every_service_serves_prometheus_metrics(observed: Observed) -> None:
    await _stream(observed, f"count me {uuid.uuid4().hex[:8]}")
    pages = {}
    async with aiohttp.ClientSession() as http:
        for name, port in observed.metrics_ports.items():
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                pages[name] = await response.text()
        async with http.get(f"{observed.mesh.http}/metrics") as response:
            pages["shim"] = await response.text()
    chat = pages["chat"]
    assert 'gaia_rpc_requests_total{code="OK",method="/gaia.chat.v1.ChatService/StreamChat"}' in chat
    assert 'gaia_rpc_seconds_bucket{le="0.1",method="/gaia.chat.v1.ChatService/StreamChat"}' in chat
    assert 'gaia_rpc_streams_in_flight{method="/gaia.chat.v1.ChatService/StreamChat"} 0.0' in chat
    assert 'gaia_chat_tokens_total{kind="completion",provider="openai"}' in chat
    assert "gaia_chat_provider_calls_total" in chat and "gaia_events_dropped_total" in chat
    assert (
        'gaia_rpc_requests_total{code="OK",method="/gaia.auth.v1.AuthService/Authenticate"}' in pages["auth"]
    )
    assert "gaia_rpc_requests_total" in pages["asset"] and "process_resident_memory_bytes" in pages["asset"]
    assert "gaia_shim_requests_total" in pages["shim"]


async def test_json_logs_carry_the_request_id_and_the_trace_id(observed: Observed) -> None:
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    response = await _stream(observed, f"log me {uuid.uuid4().hex[:8]}", **{"X-Request-Id": request_id})
    trace_id = response.headers["traceparent"].split("-")[1]
    deadline = time.monotonic() + 5
    while True:
        lines = []
        for raw in observed.mesh.log:
            _, sep, rest = raw.partition(" | ")  # gaia up prefixes each child's line with its name
            if sep and rest.startswith("{"):
                lines.append(json.loads(rest))
        mine = [line for line in lines if line.get("request_id") == request_id]
        if {line["service"] for line in mine} >= {"chat", "auth"} or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert {"chat", "auth"} <= {line["service"] for line in mine}, mine
    assert all(line["trace_id"] == trace_id for line in mine)
    assert {"ts", "level", "logger", "message", "span_id"} <= set(mine[0])
