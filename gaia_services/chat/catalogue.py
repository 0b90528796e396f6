"""The one catalogue of the chat service: providers, models, who is configured, and the defaults.

Built once from the typed settings (``LLMSettings``), it is what routing and the catalogue RPCs both read:
which provider serves a model, whether a provider has credentials (so can serve requests, and is reported
available), the variable its key comes from, the model used when a request names none.

Three tables, as the reference kept them: the models with their full details (``GET /models/{id}``), each
provider's models with pricing (``/providers/{p}/models``) and the general model list (``GET /models``).
Models configured at run time (``GAIA_CATALOGUE_EXTRA_MODELS``) join all three. The legacy v0.2 streaming
door advertised a table of its own (``/api/v0.2/stream/models``), kept here with its figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from gaia_services.chat.llm_config import ExtraModel, LLMSettings
from gaia_services.chat.providers.local_model import LOCAL_MODEL
from gaia_services.runtime.errors import NotFound

__all__ = [
    "Catalogue",
    "Door",
    "ModelEntry",
    "ProviderAccess",
    "ProviderEntry",
    "StreamModel",
    "StreamRecommendations",
]

_OPENAI_MODEL = re.compile(r"^(gpt-|o\d|chatgpt-|text-)")
_VR_RESPONSE_MS = 700  # fast enough for VR use


class Door(StrEnum):
    """A front door whose default model differs from the configured one."""

    V02 = "v02"  # the December v0.2 chat: Anthropic's configured model


#: The provider whose configured model a door uses when the request names no model.
_DOOR_PROVIDERS = {Door.V02: "claude"}


@dataclass(frozen=True, slots=True)
class ModelEntry:
    id: str
    name: str
    provider: str
    capabilities: tuple[str, ...]
    max_tokens: int
    context_window: int
    cost_per_input_token: float
    cost_per_output_token: float
    avg_response_time_ms: int
    quality_score: float
    speed_score: float
    description: str
    listed: bool = True  # part of the general list (GET /models)
    is_deprecated: bool = False
    supports_system_prompt: bool = True
    supports_temperature: bool = True
    supports_streaming: bool = True
    avg_ttft_ms: int = 0
    created: int = 0

    @property
    def vr_suitable(self) -> bool:
        return self.avg_response_time_ms <= _VR_RESPONSE_MS


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    id: str
    name: str
    api_key_env: str
    capabilities: tuple[str, ...]
    models: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ProviderAccess:
    """How a provider the router can serve is reached: the variable its key comes from, the key (empty
    when not configured), its base URL, and whether it needs a key at all."""

    key_env: str
    key: str
    base_url: str | None
    needs_key: bool = True
    models: tuple[str, ...] = ()  # an OpenAI-compatible server's model names
    compatible: bool = False  # an OpenAI-compatible server

    @property
    def configured(self) -> bool:
        return bool(self.key) or not self.needs_key


@dataclass(frozen=True, slots=True)
class StreamModel:
    """A model of the v0.2 streaming door's own table (its figures: time to first token as that door
    advertised it, quality on a 0 to 10 scale, and its provider named as there)."""

    model_id: str
    name: str
    provider: str
    avg_ttft_ms: int
    quality_score: float
    vr_suitable: bool


@dataclass(frozen=True, slots=True)
class StreamRecommendations:
    """The v0.2 streaming door's recommended model ids."""

    vr_best: str
    quality_best: str
    balanced: str
    emergency: str


_STREAM_MODELS = (
    StreamModel("claude-3-haiku-20240307", "Claude 3 Haiku", "anthropic", 800, 8.5, True),
    StreamModel("gpt-4o-mini", "GPT-4o Mini", "openai", 1200, 9.0, False),
)
_STREAM_RECOMMENDATIONS = StreamRecommendations(
    vr_best="claude-3-haiku-20240307",
    quality_best="gpt-4o-mini",
    balanced="claude-3-haiku-20240307",
    emergency="claude-3-haiku-20240307",
)
#: The model used when a request names none, for the first configured provider (else the built-in model).
_FIRST_CONFIGURED = (("claude", "claude-3-haiku-20240307"), ("openai", "gpt-4o-mini"))

_MODELS = (
    ModelEntry(
        "claude-3-haiku-20240307",
        "Claude 3 Haiku",
        "claude",
        ("chat", "streaming"),
        4096,
        200000,
        0.00000025,
        0.00000125,
        450,
        0.85,
        0.95,
        "Fast and efficient model for everyday tasks",
        avg_ttft_ms=300,
        created=1709769600,
    ),
    ModelEntry(
        "claude-3-sonnet-20240229",
        "Claude 3 Sonnet",
        "claude",
        ("chat", "streaming", "tool_calling"),
        4096,
        200000,
        0.000003,
        0.000015,
        650,
        0.95,
        0.80,
        "Balanced model with excellent reasoning capabilities",
        listed=False,
        avg_ttft_ms=500,
        created=1709164800,
    ),
    ModelEntry(
        "gpt-4o-mini",
        "GPT-4o Mini",
        "openai",
        ("chat", "streaming", "tool_calling"),
        16384,
        128000,
        0.00000015,
        0.0000006,
        380,
        0.88,
        0.92,
        "Small, fast, and cost-effective model",
        avg_ttft_ms=250,
        created=1721260800,
    ),
    ModelEntry(
        "gpt-4o",
        "GPT-4o",
        "openai",
        ("chat", "streaming", "tool_calling", "vision"),
        4096,
        128000,
        0.0000025,
        0.00001,
        520,
        0.98,
        0.75,
        "Most capable model with vision and advanced reasoning",
        listed=False,
        avg_ttft_ms=400,
        created=1715385600,
    ),
)

_PROVIDERS = (
    ProviderEntry("claude", "Anthropic Claude", "ANTHROPIC_API_KEY", ("chat", "streaming", "tool_calling")),
    ProviderEntry("openai", "OpenAI", "OPENAI_API_KEY", ("chat", "streaming", "tool_calling", "vision")),
)


def _entry(extra: ExtraModel) -> ModelEntry:
    return ModelEntry(
        extra.id,
        extra.name or extra.id,
        extra.provider,
        tuple(extra.capabilities),
        extra.max_tokens,
        extra.context_window,
        extra.cost_per_input_token,
        extra.cost_per_output_token,
        extra.avg_response_time_ms,
        extra.quality_score,
        extra.speed_score,
        extra.description,
    )


class Catalogue:
    """The configured providers and models, and who can serve requests, from the settings given."""

    def __init__(self, *, settings: LLMSettings) -> None:
        self._settings = settings
        self._access = _access(settings)
        models = list(_MODELS)
        providers = {p.id: p for p in _PROVIDERS}
        for extra in settings.extra_models:
            models = [m for m in models if m.id != extra.id] + [_entry(extra)]
            if extra.provider not in providers:
                providers[extra.provider] = ProviderEntry(
                    extra.provider,
                    extra.provider_name or extra.provider,
                    extra.api_key_env,
                    tuple(extra.capabilities),
                )
        self._models = {m.id: m for m in models}
        self._providers = {
            pid: ProviderEntry(
                p.id, p.name, p.api_key_env, p.capabilities, tuple(m.id for m in models if m.provider == pid)
            )
            for pid, p in providers.items()
        }
        self._compatible_models = {
            model: name
            for name, access in self._access.items()
            if access.compatible
            for model in access.models
        }

    # -- who serves what --------------------------------------------------------------------------------

    def accesses(self) -> dict[str, ProviderAccess]:
        """Every provider the router knows besides the built-in model, configured or not."""
        return dict(self._access)

    def configured(self, provider: str) -> bool:
        """Whether requests for ``provider``'s models can be served (it has its credentials)."""
        if provider == LOCAL_MODEL:
            return True
        access = self._access.get(provider)
        return access is not None and access.configured

    def key_env(self, provider: str) -> str:
        """The variable ``provider``'s key comes from; empty when it needs none or is unknown."""
        access = self._access.get(provider)
        return access.key_env if access is not None else ""

    def provider_of(self, model: str) -> str:
        """The provider serving ``model``: ``claude-*`` Anthropic, ``gpt-*`` and ``o<digit>*`` OpenAI, the
        models of an OpenAI-compatible server that server, ``gaia-local*`` the built-in model."""
        if model.startswith(LOCAL_MODEL):
            return LOCAL_MODEL
        if model in self._compatible_models:
            return self._compatible_models[model]
        if model.startswith("claude"):
            return "claude"
        if _OPENAI_MODEL.match(model):
            return "openai"
        raise NotFound(f"Model not found: {model}")

    def default_model(self, provider_hint: str = "", door: Door | None = None) -> str:
        """The model for a request naming none: the door's provider's model, else the hinted provider's
        configured model, when it can serve; else the configured default, else the first configured of
        Anthropic's and OpenAI's, else the built-in model."""
        hint = _DOOR_PROVIDERS.get(door, provider_hint) if door is not None else provider_hint
        hinted = self._settings.provider_default_models.get(hint) if hint else None
        if hinted and self.configured(self.provider_of(hinted)):
            return hinted
        if self._settings.default_model:
            return self._settings.default_model
        for provider, model in _FIRST_CONFIGURED:
            if self.configured(provider):
                return model
        return LOCAL_MODEL

    # -- the tables -------------------------------------------------------------------------------------

    def providers(self) -> list[ProviderEntry]:
        return list(self._providers.values())

    def provider(self, provider_id: str) -> ProviderEntry:
        try:
            return self._providers[provider_id]
        except KeyError:
            raise NotFound(f"Provider {provider_id} not found") from None

    def is_available(self, provider_id: str) -> bool:
        """Whether a catalogue provider can serve requests: as routing says for the providers it knows;
        a provider only the catalogue knows when it needs no key or its key is set."""
        entry = self._providers.get(provider_id)
        if entry is None:
            return False
        if provider_id == LOCAL_MODEL or provider_id in self._access:
            return self.configured(provider_id)
        return not entry.api_key_env or bool(self._settings.named_key(entry.api_key_env))

    def provider_models(self, provider_id: str) -> list[ModelEntry]:
        return [self._models[m] for m in self.provider(provider_id).models]

    def models(
        self, *, provider: str = "", capabilities: tuple[str, ...] = (), available_only: bool = False
    ) -> list[ModelEntry]:
        """The general list, filtered by exact provider and by having every capability given."""
        return [
            m
            for m in self._models.values()
            if m.listed
            and (not provider or m.provider == provider)
            and all(c in m.capabilities for c in capabilities)
            and (not available_only or self.is_available(m.provider))
        ]

    def model(self, model_id: str) -> ModelEntry:
        try:
            return self._models[model_id]
        except KeyError:
            raise NotFound(f"Model not found: {model_id}") from None

    def stream_models(self) -> tuple[tuple[StreamModel, ...], StreamRecommendations]:
        """The v0.2 streaming door's table and its recommendations."""
        return _STREAM_MODELS, _STREAM_RECOMMENDATIONS


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else ""


def _access(settings: LLMSettings) -> dict[str, ProviderAccess]:
    access = {
        "claude": ProviderAccess(
            "ANTHROPIC_API_KEY", _secret(settings.anthropic_api_key), settings.anthropic_base_url
        ),
        "openai": ProviderAccess(
            "OPENAI_API_KEY", _secret(settings.openai_api_key), settings.openai_base_url
        ),
    }
    for server in settings.compatible_servers:
        key = _secret(server.api_key) if server.api_key else settings.named_key(server.api_key_env)
        access[server.name] = ProviderAccess(
            server.api_key_env,
            key,
            server.base_url,
            needs_key=bool(server.api_key_env),
            models=server.models,
            compatible=True,
        )
    return access
