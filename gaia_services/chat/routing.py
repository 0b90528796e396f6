"""Model → provider routing (CONTRACT §5), credentials, retries before the first token, and fallback.

Which provider serves a model, whether it has credentials and the default model are the catalogue's
(``Catalogue``); the router holds one client per configured provider. A model whose provider has no
credentials is ``Unavailable`` with the variable to set. A stream is opened by reading its first event:
transient errors there are retried; if the model still fails and fallback is enabled, the configured
fallback models are tried in order. Once a token has been relayed nothing is retried.

A provider failure is a ``DomainError`` raised by the provider's stream (it has a ``reason`` and says
whether it is ``transient``); the router catches those only around the provider's calls.

Each provider stream (each attempt) is a client span, child of the served call's, current while the provider
code runs so that the SDK request carries its ``traceparent``; its tokens and errors are counted on the
serving process's instruments (``runtime.telemetry.current_telemetry``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from gaia_services.chat.catalogue import Catalogue, Door
from gaia_services.chat.llm_config import LLMSettings
from gaia_services.chat.providers import ChatProvider, Prompt, ProviderEvent, StreamEnd
from gaia_services.chat.providers.local_model import LOCAL_MODEL, LocalModel
from gaia_services.runtime.errors import DomainError, NotFound, Unavailable
from gaia_services.runtime.telemetry import Telemetry, current_telemetry

__all__ = ["OpenedStream", "ProviderRouter", "Route"]

_log = logging.getLogger("gaia.chat.routing")


@dataclass(frozen=True, slots=True)
class Route:
    """Where a model is served: the provider's legacy name, and the variable its key comes from."""

    model: str
    provider: str
    key_env: str = ""


@dataclass
class OpenedStream:
    """A provider stream whose first event has arrived."""

    route: Route
    first: ProviderEvent
    rest: AsyncIterator[ProviderEvent]
    fallback_used: bool

    async def aclose(self) -> None:
        close = getattr(self.rest, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


class ProviderRouter:
    def __init__(self, *, settings: LLMSettings, catalogue: Catalogue) -> None:
        self._settings = settings
        self._catalogue = catalogue
        self._providers: dict[str, ChatProvider] = {
            LOCAL_MODEL: LocalModel(token_delay_s=settings.local_token_delay_s)
        }
        connect, idle = settings.connect_timeout_s, settings.idle_timeout_s
        # Each SDK is imported only when its provider is configured: together they are ~90 MiB of the
        # chat process's memory (measured: openai 47 MiB, anthropic 42 MiB more).
        for name, access in catalogue.accesses().items():
            if not access.configured:
                continue  # unconfigured: requests for its models are answered 503 naming the variable
            if name == "claude" and not access.compatible:
                from gaia_services.chat.providers.anthropic_provider import AnthropicProvider

                self._providers[name] = AnthropicProvider(
                    api_key=access.key,
                    base_url=access.base_url,
                    connect_timeout_s=connect,
                    idle_timeout_s=idle,
                )
                continue
            from gaia_services.chat.providers.openai_provider import OpenAIProvider

            self._providers[name] = OpenAIProvider(
                name=name,
                api_key=access.key or "none",
                base_url=access.base_url,
                include_usage=not access.compatible,
                connect_timeout_s=connect,
                idle_timeout_s=idle,
            )

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()

    # -- resolution -------------------------------------------------------------------------------------

    def resolve(self, model: str, provider_hint: str = "", door: Door | None = None) -> Route:
        """The route for a request; ``Unavailable`` when its provider has no credentials."""
        catalogue = self._catalogue
        model = model or catalogue.default_model(provider_hint, door)
        provider = catalogue.provider_of(model)
        variable = catalogue.key_env(provider)
        if not catalogue.configured(provider):
            raise Unavailable(
                f"Model {model} is not available: its provider {provider} has no credentials; "
                f"set {variable or 'a provider API key'}"
            )
        return Route(model=model, provider=provider, key_env=variable)

    def fallbacks(self, primary: Route) -> list[Route]:
        routes = []
        for model in self._settings.fallback_models:
            try:
                route = self.resolve(model)
            except (NotFound, Unavailable):
                continue
            if route.model != primary.model:
                routes.append(route)
        return routes

    # -- opening a stream ------------------------------------------------------------------------------

    async def _open_one(self, route: Route, prompt: Prompt) -> OpenedStream:
        provider = self._providers[route.provider]
        attempt = 0
        while True:
            stream = _observed(route, provider.stream(_with_model(prompt, route.model)))
            try:
                first = await anext(stream)
            except DomainError as exc:
                if exc.transient and attempt < self._settings.max_retries:
                    attempt += 1
                    _log.info(
                        "%s %s: transient error, retry %d: %s",
                        route.provider,
                        route.model,
                        attempt,
                        exc.message,
                    )
                    await asyncio.sleep(self._settings.retry_backoff_s * attempt)
                    continue
                raise
            except BaseException:
                with contextlib.suppress(Exception):
                    await stream.aclose()  # type: ignore[attr-defined]
                raise
            return OpenedStream(route=route, first=first, rest=stream, fallback_used=False)

    async def open(self, route: Route, prompt: Prompt, *, fallback: bool) -> OpenedStream:
        """Open ``route``'s stream, retrying transient errors, then falling back if allowed."""
        try:
            return await self._open_one(route, prompt)
        except DomainError as first_error:
            if not fallback:
                raise
            for other in self.fallbacks(route):
                try:
                    opened = await self._open_one(other, prompt)
                except DomainError as exc:
                    _log.info("fallback %s failed: %s", other.model, exc.message)
                    continue
                opened.fallback_used = True
                return opened
            raise first_error from None


def _observed(route: Route, inner: AsyncIterator[ProviderEvent]) -> AsyncIterator[ProviderEvent]:
    """``inner`` as a client span (current while the provider runs), its tokens and errors counted; as it
    is outside a served call (no telemetry: unit tests)."""
    telemetry = current_telemetry.get()
    return inner if telemetry is None else _traced(route, inner, telemetry)


async def _traced(
    route: Route, inner: AsyncIterator[ProviderEvent], telemetry: Telemetry
) -> AsyncIterator[ProviderEvent]:
    metrics = telemetry.metrics
    metrics.provider_calls.labels(route.provider).inc()
    span = telemetry.tracer.start_span(
        f"chat.provider {route.provider}",
        kind=SpanKind.CLIENT,
        attributes={"gen_ai.system": route.provider, "gen_ai.request.model": route.model},
    )
    # A non-recording span adds nothing to the context: the served call's (or the client's) stays current.
    span_context = trace.set_span_in_context(span) if span.is_recording() else None
    try:
        while True:
            token = None if span_context is None else otel_context.attach(span_context)
            try:
                event = await anext(inner)
            except StopAsyncIteration:
                return
            except DomainError as exc:
                metrics.provider_errors.labels(route.provider, exc.reason or "error").inc()
                span.set_status(StatusCode.ERROR, exc.reason or "error")
                raise
            finally:
                if token is not None:
                    otel_context.detach(token)
            if isinstance(event, StreamEnd):
                metrics.tokens.labels(route.provider, "prompt").inc(event.prompt_tokens)
                metrics.tokens.labels(route.provider, "completion").inc(event.completion_tokens)
                span.set_attribute("gen_ai.usage.input_tokens", event.prompt_tokens)
                span.set_attribute("gen_ai.usage.output_tokens", event.completion_tokens)
            yield event
    finally:
        close = getattr(inner, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()
        span.end()


def _with_model(prompt: Prompt, model: str) -> Prompt:
    return Prompt(
        model=model,
        system=prompt.system,
        turns=prompt.turns,
        max_tokens=prompt.max_tokens,
        temperature=prompt.temperature,
        top_p=prompt.top_p,
        stop=prompt.stop,
    )
