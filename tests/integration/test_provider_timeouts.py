"""The providers' own timeouts, through the official SDKs against the fake: a provider that goes silent is
abandoned after the idle timeout, one that cannot be reached fails at once; both are transient errors (so
retried, or fallen back from, before the first token)."""

from __future__ import annotations

import time

import pytest

from gaia_services.chat.providers import ChatProvider, Prompt, Turn
from gaia_services.chat.providers.anthropic_provider import AnthropicProvider
from gaia_services.chat.providers.openai_provider import OpenAIProvider
from gaia_services.embedded import free_port
from gaia_services.runtime.errors import DomainError
from tests.support.fake_llm import FakeLLM


def _provider(kind: str, base: str, *, idle_s: float) -> ChatProvider:
    if kind == "openai":
        return OpenAIProvider(
            name="openai",
            api_key="sk-fake",
            base_url=f"{base}/v1",
            connect_timeout_s=1.0,
            idle_timeout_s=idle_s,
        )
    return AnthropicProvider(
        api_key="sk-ant-fake", base_url=base, connect_timeout_s=1.0, idle_timeout_s=idle_s
    )


async def _drain(provider: ChatProvider, text: str, model: str) -> None:
    prompt = Prompt(model=model, system="", turns=(Turn(role="user", content=text),), max_tokens=16)
    async for _ in provider.stream(prompt):
        pass


_KINDS = [("openai", "gpt-4o-mini"), ("anthropic", "claude-3-haiku-20240307")]


@pytest.mark.parametrize("mode", ["hang", "slow800"])  # silent before its headers / between its events
@pytest.mark.parametrize(("kind", "model"), _KINDS)
async def test_a_silent_provider_is_abandoned_after_the_idle_timeout(
    fake_llm: FakeLLM, kind: str, model: str, mode: str
) -> None:
    provider = _provider(kind, fake_llm.base, idle_s=0.5)
    text = f"{mode}: idle {kind}"
    started = time.monotonic()
    try:
        with pytest.raises(DomainError) as failed:
            await _drain(provider, text, model)
    finally:
        await provider.aclose()
    waited = time.monotonic() - started
    assert (failed.value.reason, failed.value.transient) == ("connection_error", True)
    assert 0.45 < waited < 3.0, waited
    assert fake_llm.find(text), "the request reached the provider"


@pytest.mark.parametrize(("kind", "model"), _KINDS)
async def test_an_unreachable_provider_fails_at_once(kind: str, model: str) -> None:
    provider = _provider(kind, f"http://127.0.0.1:{free_port()}", idle_s=30.0)
    started = time.monotonic()
    try:
        with pytest.raises(DomainError) as failed:
            await _drain(provider, "anyone there?", model)
    finally:
        await provider.aclose()
    assert (failed.value.reason, failed.value.transient) == ("connection_error", True)
    assert time.monotonic() - started < 3.0
