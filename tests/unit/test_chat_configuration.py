"""The chat service's configuration is read once, and routing and the catalogue agree on it."""

from __future__ import annotations

import pytest

from gaia_services.chat.parts import ChatParts
from gaia_services.runtime.resources import Resources
from gaia_services.settings import Settings

_CREDENTIALS = (
    "OPENAI_API_KEY",
    "GAIA_CHAT_OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GAIA_CHAT_ANTHROPIC_API_KEY",
    "DEFAULT_LLM_MODEL",
    "GAIA_CHAT_DEFAULT_MODEL",
    "GAIA_CHAT_COMPATIBLE_SERVERS",
    "GAIA_CATALOGUE_EXTRA_MODELS",
)


def _parts(monkeypatch: pytest.MonkeyPatch, **env: str) -> ChatParts:
    for name in _CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # Nothing is queried while the parts are built: a stand-in pool is enough.
    return ChatParts.build(Resources(settings=Settings(), db=object()))  # type: ignore[arg-type]


@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "GAIA_CHAT_OPENAI_API_KEY"])
async def test_a_provider_that_serves_requests_is_available_in_the_catalogue(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    parts = _parts(monkeypatch, **{variable: "sk-test"})
    try:
        assert parts.router.resolve("gpt-4o-mini").provider == "openai"
        assert parts.catalogue.is_available("openai")
        assert not parts.catalogue.is_available("claude")
    finally:
        await parts.close()


async def test_an_unconfigured_provider_is_unavailable_to_both(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _parts(monkeypatch)
    try:
        assert not parts.catalogue.is_available("openai")
        assert parts.router.resolve("").model == "gaia-local"
    finally:
        await parts.close()


async def test_a_compatible_servers_key_comes_from_the_variable_it_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    servers = (
        '[{"name":"vllm","base_url":"http://127.0.0.1:9/v1","models":["qwen"],"api_key_env":"VLLM_KEY"}]'
    )
    monkeypatch.delenv("VLLM_KEY", raising=False)
    parts = _parts(monkeypatch, GAIA_CHAT_COMPATIBLE_SERVERS=servers)
    try:
        with pytest.raises(Exception, match="VLLM_KEY"):
            parts.router.resolve("qwen")
    finally:
        await parts.close()
    parts = _parts(monkeypatch, GAIA_CHAT_COMPATIBLE_SERVERS=servers, VLLM_KEY="x")
    try:
        assert parts.router.resolve("qwen").provider == "vllm"
    finally:
        await parts.close()


@pytest.mark.parametrize(("key", "available"), [(None, False), ("x", True)])
async def test_an_added_models_provider_is_available_when_the_variable_it_names_is_set(
    monkeypatch: pytest.MonkeyPatch, key: str | None, available: bool
) -> None:
    monkeypatch.delenv("LOCAL_KEY", raising=False)
    extra = '[{"id":"llama3","provider":"local","api_key_env":"LOCAL_KEY"}]'
    env = {"GAIA_CATALOGUE_EXTRA_MODELS": extra, **({"LOCAL_KEY": key} if key else {})}
    parts = _parts(monkeypatch, **env)
    try:
        assert parts.catalogue.model("llama3").provider == "local"
        assert parts.catalogue.is_available("local") is available
    finally:
        await parts.close()
