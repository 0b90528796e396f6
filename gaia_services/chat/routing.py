"""Model → provider routing (CONTRACT §5), credentials, retries before the first token, and fallback.

``claude-*`` goes to Anthropic, ``gpt-*`` and ``o<digit>*`` to OpenAI, names configured for an
OpenAI-compatible server to that server, ``gaia-local*`` to the built-in model. A model whose provider has
no credentials is ``Unavailable`` with the variable to set. A stream is opened by reading its first event:
transient errors there are retried; if the model still fails and fallback is enabled, the configured
fallback models are tried in order. Once a token has been relayed nothing is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from gaia_services.chat.llm_config import LLMSettings
from gaia_services.chat.providers import ChatProvider, Prompt, ProviderError, ProviderEvent
from gaia_services.chat.providers.local_model import LOCAL_MODEL, LocalModel
from gaia_services.runtime.errors import NotFound, Unavailable

__all__ = ["OpenedStream", "ProviderRouter", "Route"]

_log = logging.getLogger("gaia.chat.routing")
_OPENAI_MODEL = re.compile(r"^(gpt-|o\d|chatgpt-|text-)")


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
    def __init__(self, *, settings: LLMSettings, environ: Mapping[str, str] | None = None) -> None:
        self._settings = settings
        env = os.environ if environ is None else environ
        self._providers: dict[str, ChatProvider] = {
            LOCAL_MODEL: LocalModel(token_delay_s=settings.local_token_delay_s)
        }
        self._compat_models: dict[str, str] = {}
        self._key_env: dict[str, str] = {"claude": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
        connect, idle = settings.connect_timeout_s, settings.idle_timeout_s
        # Each SDK is imported only when its provider is configured: together they are ~90 MiB of the
        # chat process's memory (measured: openai 47 MiB, anthropic 42 MiB more).
        if settings.anthropic_api_key is not None and settings.anthropic_api_key.get_secret_value():
            from gaia_services.chat.providers.anthropic_provider import AnthropicProvider

            self._providers["claude"] = AnthropicProvider(
                api_key=settings.anthropic_api_key.get_secret_value(),
                base_url=settings.anthropic_base_url,
                connect_timeout_s=connect,
                idle_timeout_s=idle,
            )
        if settings.openai_api_key is not None and settings.openai_api_key.get_secret_value():
            from gaia_services.chat.providers.openai_provider import OpenAIProvider

            self._providers["openai"] = OpenAIProvider(
                name="openai",
                api_key=settings.openai_api_key.get_secret_value(),
                base_url=settings.openai_base_url,
                connect_timeout_s=connect,
                idle_timeout_s=idle,
            )
        for server in settings.compatible_servers:
            for model in server.models:
                self._compat_models[model] = server.name
            self._key_env[server.name] = server.api_key_env
            key = server.api_key.get_secret_value() if server.api_key else env.get(server.api_key_env, "")
            if server.api_key_env and not key:
                continue  # unconfigured: requests for its models are answered 503 naming the variable
            from gaia_services.chat.providers.openai_provider import OpenAIProvider

            self._providers[server.name] = OpenAIProvider(
                name=server.name,
                api_key=key or "none",
                base_url=server.base_url,
                include_usage=False,
                connect_timeout_s=connect,
                idle_timeout_s=idle,
            )

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()

    # -- resolution -------------------------------------------------------------------------------------

    def configured(self, provider: str) -> bool:
        return provider in self._providers

    def default_model(self) -> str:
        if self._settings.default_model:
            return self._settings.default_model
        if self.configured("claude"):
            return "claude-3-haiku-20240307"
        if self.configured("openai"):
            return "gpt-4o-mini"
        return LOCAL_MODEL

    def provider_of(self, model: str) -> str:
        if model.startswith(LOCAL_MODEL):
            return LOCAL_MODEL
        if model in self._compat_models:
            return self._compat_models[model]
        if model.startswith("claude"):
            return "claude"
        if _OPENAI_MODEL.match(model):
            return "openai"
        raise NotFound(f"Model not found: {model}")

    def resolve(self, model: str, provider_hint: str = "") -> Route:
        """The route for a request; ``Unavailable`` when its provider has no credentials."""
        if not model:
            hinted = self._settings.provider_default_models.get(provider_hint) if provider_hint else None
            model = hinted if hinted and self.configured(self.provider_of(hinted)) else self.default_model()
        provider = self.provider_of(model)
        if not self.configured(provider):
            variable = self._key_env.get(provider) or "a provider API key"
            raise Unavailable(
                f"Model {model} is not available: its provider {provider} has no credentials; set {variable}"
            )
        return Route(model=model, provider=provider, key_env=self._key_env.get(provider, ""))

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
            stream = provider.stream(_with_model(prompt, route.model))
            try:
                first = await anext(stream)
            except ProviderError as exc:
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
        except ProviderError as first_error:
            if not fallback:
                raise
            for other in self.fallbacks(route):
                try:
                    opened = await self._open_one(other, prompt)
                except ProviderError as exc:
                    _log.info("fallback %s failed: %s", other.model, exc.message)
                    continue
                opened.fallback_used = True
                return opened
            raise first_error from None


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
