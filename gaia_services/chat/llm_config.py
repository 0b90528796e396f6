"""Typed configuration of the LLM layer (providers, routing, fallback, timeouts, prices, catalogue
additions), read once when the service is wired; nothing else in the chat service reads the environment.

The SDKs' own variable names are honoured (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``ANTHROPIC_API_KEY``,
``ANTHROPIC_BASE_URL``, ``DEFAULT_LLM_MODEL``), and so is ``GAIA_CATALOGUE_EXTRA_MODELS``; everything else is
prefixed ``GAIA_CHAT_``. Structured values (``GAIA_CHAT_COMPATIBLE_SERVERS``, ``GAIA_CHAT_FALLBACK_MODELS``,
``GAIA_CHAT_PRICES``, ``GAIA_CATALOGUE_EXTRA_MODELS``) are JSON. A compatible server or an added model may
name the variable its key is in (``api_key_env``): that variable is read with the rest (``named_keys``).
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["DEFAULT_PRICES", "CompatibleServer", "ExtraModel", "LLMSettings", "ModelPrice"]


class CompatibleServer(BaseModel):
    """An OpenAI-compatible server: its provider name, base URL and the model names it serves."""

    model_config = {"frozen": True}

    name: str
    base_url: str
    models: tuple[str, ...] = ()
    #: The variable holding its key; empty when the server needs none.
    api_key_env: str = ""
    api_key: SecretStr | None = None


class ExtraModel(BaseModel):
    """A model added to the catalogue by configuration (e.g. one served by an OpenAI-compatible base URL)."""

    model_config = {"frozen": True}

    id: str
    provider: str
    name: str = ""
    capabilities: tuple[str, ...] = ("chat", "streaming")
    max_tokens: int = 4096
    context_window: int = 8192
    cost_per_input_token: float = 0.0
    cost_per_output_token: float = 0.0
    avg_response_time_ms: int = 0
    quality_score: float = 0.5
    speed_score: float = 0.5
    description: str = ""
    provider_name: str = ""
    #: The variable holding its provider's key; empty when the provider needs none.
    api_key_env: str = ""


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
    #: Models added to the catalogue (``GAIA_CATALOGUE_EXTRA_MODELS``, a JSON list).
    extra_models: tuple[ExtraModel, ...] = Field(default=(), validation_alias="GAIA_CATALOGUE_EXTRA_MODELS")
    #: The values of the variables named by the ``api_key_env`` fields above, read with the rest.
    named_keys: dict[str, SecretStr] = {}

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

    def named_key(self, variable: str) -> str:
        """The value of a variable an ``api_key_env`` field names; empty when unset."""
        value = self.named_keys.get(variable) if variable else None
        return value.get_secret_value() if value is not None else ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            _NamedKeys(settings_cls, env_settings),
        )


class _NamedKeys(PydanticBaseSettingsSource):
    """``named_keys``: the variables the other sources' ``api_key_env`` fields name, taken from the
    environment as the environment source read it (last, so that it sees what the others gave)."""

    def __init__(self, settings_cls: type[BaseSettings], env: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        names = {
            _key_env(item)
            for value in self.current_state.values()
            if isinstance(value, list | tuple)
            for item in value
        } - {""}
        variables: dict[str, str] = getattr(self._env, "env_vars", {})
        folded = not self.config.get("case_sensitive", False)
        keys = {name: variables.get(name.lower() if folded else name, "") for name in names}
        found = {name: value for name, value in keys.items() if value}
        return {"named_keys": found} if found else {}


def _key_env(item: object) -> str:
    value = item.get("api_key_env") if isinstance(item, dict) else getattr(item, "api_key_env", "")
    return value if isinstance(value, str) else ""
