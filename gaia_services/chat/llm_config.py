"""Typed configuration of the LLM layer (providers, routing, fallback, timeouts, prices), read once.

The SDKs' own variable names are honoured (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``ANTHROPIC_API_KEY``,
``ANTHROPIC_BASE_URL``, ``DEFAULT_LLM_MODEL``); everything else is prefixed ``GAIA_CHAT_``. Structured
values (``GAIA_CHAT_COMPATIBLE_SERVERS``, ``GAIA_CHAT_FALLBACK_MODELS``, ``GAIA_CHAT_PRICES``) are JSON.
"""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_PRICES", "CompatibleServer", "LLMSettings", "ModelPrice"]


class CompatibleServer(BaseModel):
    """An OpenAI-compatible server: its provider name, base URL and the model names it serves."""

    model_config = {"frozen": True}

    name: str
    base_url: str
    models: tuple[str, ...] = ()
    #: The variable holding its key; empty when the server needs none.
    api_key_env: str = ""
    api_key: SecretStr | None = None


class ModelPrice(BaseModel):
    """US dollars per token."""

    model_config = {"frozen": True}

    input: float = 0.0
    output: float = 0.0


#: The reference catalogue's prices (gaia-internals §7.3), per token.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-3-haiku-20240307": ModelPrice(input=2.5e-7, output=1.25e-6),
    "claude-3-sonnet-20240229": ModelPrice(input=3e-6, output=1.5e-5),
    "claude-3-5-haiku-20241022": ModelPrice(input=1e-6, output=5e-6),
    "claude-3-5-sonnet-20241022": ModelPrice(input=3e-6, output=1.5e-5),
    "gpt-4o": ModelPrice(input=5e-6, output=1.5e-5),
    "gpt-4o-mini": ModelPrice(input=1.5e-7, output=6e-7),
    "gaia-local": ModelPrice(),
}


class LLMSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GAIA_CHAT_", extra="ignore", frozen=True)

    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "GAIA_CHAT_ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "GAIA_CHAT_ANTHROPIC_BASE_URL")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "GAIA_CHAT_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "GAIA_CHAT_OPENAI_BASE_URL")
    )
    compatible_servers: tuple[CompatibleServer, ...] = ()

    #: The model used when a request names none (and gives no provider hint). Unset: the first configured
    #: of claude-3-haiku-20240307 (Anthropic), gpt-4o-mini (OpenAI), else the built-in gaia-local.
    default_model: str | None = Field(
        default=None, validation_alias=AliasChoices("DEFAULT_LLM_MODEL", "GAIA_CHAT_DEFAULT_MODEL")
    )
    #: The model used for a provider hint (the legacy v0.2 door asks for "claude").
    provider_default_models: dict[str, str] = {
        "claude": "claude-3-5-sonnet-20241022",
        "openai": "gpt-4o-mini",
    }
    #: Models tried in order when the chosen one fails before its first token (if fallback is enabled).
    fallback_models: tuple[str, ...] = ()
    #: Whether requests that do not say fall back.
    enable_fallback: bool = False

    #: Retries of a transient provider error (connection, 429, 5xx), only before the first token.
    max_retries: int = 2
    retry_backoff_s: float = 0.25
    connect_timeout_s: float = 5.0
    #: Longest silence between two streamed pieces before the call is abandoned.
    idle_timeout_s: float = 60.0

    default_max_tokens: int = 1024
    default_temperature: float | None = 0.7
    #: Messages of stored history sent with a turn (the reference kept 50).
    history_limit: int = 50
    #: Delay between the built-in model's tokens (seconds).
    local_token_delay_s: float = 0.0

    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    def price(self, model: str) -> ModelPrice:
        return self.prices.get(model, ModelPrice())
