"""Traces: OpenTelemetry spans, W3C ``traceparent`` propagation, export by OTLP only when configured.

No instrumentation package is used: the shim's middleware, the server interceptor, the outgoing channels and
the chat router open spans and carry the context themselves with the W3C TraceContext propagator.

- With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) set, each process has an SDK tracer
  provider (service name ``<OTEL_SERVICE_NAME or gaia>-<part>``) and a batch processor exporting over
  OTLP/gRPC; ``Tracing.shutdown`` flushes it.
- Without it the tracer is the API's no-op one: nothing is recorded or exported (near-zero cost), but a
  ``traceparent`` a client sent is still carried unchanged to every hop and to the provider request, and
  returned on the response; a request without one starts no trace.

``Telemetry`` bundles a process's tracing and its Prometheus instruments; ``current_telemetry`` is the
telemetry of the service serving the current call (set by the server interceptor, like ``current_call``),
which the code below the servicers (routing, events) reads to count and trace without being handed it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NoOpTracer, Span, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gaia_services.runtime.metrics import ServiceMetrics
from gaia_services.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = [
    "TRACE_HEADERS",
    "Telemetry",
    "Tracing",
    "as_mapping",
    "current_telemetry",
    "extract",
    "headers_for",
    "open_tracing",
    "trace_headers",
    "trace_ids",
]

_log = logging.getLogger("gaia.telemetry")

#: The W3C headers (and gRPC metadata keys) a trace travels in.
TRACE_HEADERS = ("traceparent", "tracestate")
_PROPAGATOR = TraceContextTextMapPropagator()
_NO_TRACER = NoOpTracer()
_FLUSH_TIMEOUT_MS = 2_000
_EXPORT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Tracing:
    """A process's tracer; ``recording`` when spans are exported (an SDK provider), else the no-op tracer."""

    tracer: Tracer = _NO_TRACER
    provider: TracerProvider | None = None

    @property
    def recording(self) -> bool:
        return self.provider is not None

    def shutdown(self) -> None:
        """Export what is buffered (bounded wait), then stop the exporter."""
        if self.provider is None:
            return
        try:
            self.provider.force_flush(_FLUSH_TIMEOUT_MS)
            self.provider.shutdown()
        except Exception as exc:  # a collector gone at shutdown must not fail the stop
            _log.warning("trace export at shutdown failed: %s", exc)


def open_tracing(settings: Settings, *, part: str) -> Tracing:
    """The tracing of one process (``part``: auth, chat, asset, shim, web)."""
    endpoint = settings.otel_endpoint
    if not endpoint or settings.otel_sdk_disabled or settings.otel_traces_exporter.lower() == "none":
        return Tracing()
    # Imported only when exporting: the SDK and the exporter are not loaded otherwise.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = f"{settings.otel_service_name}-{part}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=_EXPORT_TIMEOUT_S)
    provider.add_span_processor(
        BatchSpanProcessor(exporter, schedule_delay_millis=max(1, settings.otel_schedule_delay_ms))
    )
    _log.info("traces exported to %s as %s", endpoint, name)
    return Tracing(tracer=provider.get_tracer("gaia"), provider=provider)


@dataclass(frozen=True)
class Telemetry:
    """What one service process measures: its tracing and its Prometheus instruments."""

    tracing: Tracing = field(default_factory=Tracing)
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)

    @property
    def tracer(self) -> Tracer:
        return self.tracing.tracer


current_telemetry: ContextVar[Telemetry | None] = ContextVar("gaia_current_telemetry", default=None)


def extract(pairs: Iterable[tuple[str, object]]) -> Context | None:
    """The trace context carried by ``pairs`` (HTTP headers or gRPC metadata, lower-case keys), or None."""
    carrier = {k: v for k, v in pairs if k in TRACE_HEADERS and isinstance(v, str)}
    if not carrier:
        return None
    return _PROPAGATOR.extract(carrier)


def trace_headers() -> dict[str, str]:
    """The W3C headers for the current context (empty when there is no valid span)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


def headers_for(span: Span) -> dict[str, str]:
    """The W3C headers naming ``span`` (empty for an invalid span)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


def trace_ids() -> tuple[str, str] | None:
    """The current trace id and span id as hex, or None outside a trace."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def as_mapping(headers: Iterable[tuple[bytes, bytes]]) -> Mapping[str, str]:
    """ASGI header pairs (bytes) as the W3C carrier ``extract`` reads."""
    wanted = {h.encode() for h in TRACE_HEADERS}
    return {k.decode(): v.decode("latin-1") for k, v in headers if k in wanted}
