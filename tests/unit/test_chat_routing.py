"""Model → provider routing, credentials, defaults, retries and fallback (no network: fake providers)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from gaia_services.chat.catalogue import Catalogue
from gaia_services.chat.llm_config import CompatibleServer, LLMSettings
from gaia_services.chat.providers import Prompt, ProviderEvent, StreamEnd, TextDelta
from gaia_services.chat.providers.local_model import LocalModel, local_reply
from gaia_services.chat.routing import ProviderRouter
from gaia_services.runtime.errors import DomainError, Internal, NotFound, Unavailable


def _settings(**values: object) -> LLMSettings:
    base: dict[str, object] = {
        "anthropic_api_key": None,
        "openai_api_key": None,
        "DEFAULT_LLM_MODEL": None,
        "compatible_servers": (),
        "fallback_models": (),
        "retry_backoff_s": 0.0,
    }
    return LLMSettings.model_validate({**base, **values})


def _router(settings: LLMSettings) -> ProviderRouter:
    return ProviderRouter(settings=settings, catalogue=Catalogue(settings=settings))


def test_with_no_credentials_the_default_is_the_local_model() -> None:
    router = _router(_settings())
    assert router.resolve("").model == "gaia-local"
    assert router.resolve("", "claude").model == "gaia-local"  # the v0.2 hint falls back to what works
    assert router.resolve("gaia-local-small").provider == "gaia-local"


def test_a_model_without_credentials_is_unavailable_naming_the_variable() -> None:
    router = _router(_settings())
    with pytest.raises(Unavailable, match="ANTHROPIC_API_KEY"):
        router.resolve("claude-3-haiku-20240307")
    with pytest.raises(Unavailable, match="OPENAI_API_KEY"):
        router.resolve("gpt-4o-mini")
    with pytest.raises(Unavailable, match="OPENAI_API_KEY"):
        router.resolve("o3-mini")
    with pytest.raises(NotFound, match="Model not found: llama-x"):
        router.resolve("llama-x")


def test_models_pick_their_provider_and_defaults_follow_credentials() -> None:
    router = _router(_settings(anthropic_api_key=SecretStr("k"), openai_api_key=SecretStr("k")))
    assert (router.resolve("claude-3-5-sonnet-20241022").provider, router.resolve("gpt-4o").provider) == (
        "claude",
        "openai",
    )
    assert router.resolve("").model == "claude-3-haiku-20240307"
    assert router.resolve("", "claude").model == "claude-3-5-sonnet-20241022"
    assert _router(_settings(openai_api_key=SecretStr("k"))).resolve("").model == ("gpt-4o-mini")
    assert (
        _router(_settings(DEFAULT_LLM_MODEL="gpt-4o", openai_api_key=SecretStr("k"))).resolve("").model
        == "gpt-4o"
    )


def test_compatible_servers_serve_their_configured_models() -> None:
    servers = (
        CompatibleServer(name="ollama", base_url="http://127.0.0.1:1/v1", models=("llama3",)),
        CompatibleServer(
            name="vllm", base_url="http://127.0.0.1:2/v1", models=("qwen",), api_key_env="VLLM_KEY"
        ),
    )
    router = _router(_settings(compatible_servers=servers))
    assert router.resolve("llama3").provider == "ollama"
    with pytest.raises(Unavailable, match="VLLM_KEY"):
        router.resolve("qwen")
    assert (
        _router(_settings(compatible_servers=servers, named_keys={"VLLM_KEY": "x"})).resolve("qwen").provider
        == "vllm"
    )


class _Flaky:
    """Fails ``failures`` times with ``error`` before its first token, then answers "ok"."""

    def __init__(self, error: DomainError, failures: int) -> None:
        self.error, self.failures, self.calls = error, failures, 0

    @property
    def name(self) -> str:
        return "claude"

    async def aclose(self) -> None:
        return None

    async def stream(self, prompt: Prompt) -> AsyncIterator[ProviderEvent]:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        yield TextDelta("ok")
        yield StreamEnd()


def _prompt() -> Prompt:
    return Prompt(model="", system="", turns=(), max_tokens=10)


async def _open(router: ProviderRouter, fallback: bool) -> tuple[str, bool]:
    opened = await router.open(router.resolve("claude-3-haiku-20240307"), _prompt(), fallback=fallback)
    first = opened.first
    await opened.aclose()
    return (first.text if isinstance(first, TextDelta) else "", opened.fallback_used)


async def test_transient_errors_are_retried_before_the_first_token() -> None:
    router = _router(_settings(anthropic_api_key=SecretStr("k"), max_retries=2))
    flaky = _Flaky(Unavailable("overloaded", reason="api_error", transient=True), failures=2)
    router._providers["claude"] = flaky
    assert await _open(router, fallback=False) == ("ok", False)
    assert flaky.calls == 3


async def test_permanent_errors_are_not_retried_and_fall_back_only_when_asked() -> None:
    settings = _settings(anthropic_api_key=SecretStr("k"), fallback_models=("gaia-local",))
    router = _router(settings)
    broken = _Flaky(Internal("bad request", reason="api_error"), failures=99)
    router._providers["claude"] = broken
    with pytest.raises(DomainError, match="bad request"):
        await _open(router, fallback=False)
    assert broken.calls == 1
    assert await _open(router, fallback=True) == ("echo: ", True)  # the empty prompt's echo


async def test_the_local_model_streams_word_by_word() -> None:
    assert local_reply("hello there") == ["echo:", " hello", " there"]
    assert local_reply("") == ["echo: "]
    assert local_reply("line one\nline two\ttab") == ["echo:", " line", " one", "\nline", " two", "\ttab"]
    events = [
        e
        async for e in LocalModel().stream(
            Prompt(
                model="gaia-local",
                system="",
                max_tokens=5,
                turns=(),
            )
        )
    ]
    assert events[-1] == StreamEnd(finish_reason="stop", prompt_tokens=0, completion_tokens=1)
