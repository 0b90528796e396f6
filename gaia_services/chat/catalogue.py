"""The provider and model catalogue: configuration, starting from the reference's values.

Three tables, as the reference kept them: the models with their full details (``GET /models/{id}``), each
provider's models with pricing (``/providers/{p}/models``) and the general model list (``GET /models``).
Models configured at run time (``GAIA_CATALOGUE_EXTRA_MODELS``, a JSON list) join all three. A provider is
available when its credentials variable is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gaia_services.runtime.errors import NotFound

__all__ = ["Catalogue", "CatalogueSettings", "ExtraModel", "ModelEntry", "ProviderEntry"]


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


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    id: str
    name: str
    api_key_env: str
    capabilities: tuple[str, ...]
    models: tuple[str, ...] = field(default_factory=tuple)


class ExtraModel(BaseModel):
    """A model added by configuration (e.g. one served by an OpenAI-compatible base URL)."""

    id: str
    provider: str
    name: str = ""
    capabilities: list[str] = Field(default_factory=lambda: ["chat", "streaming"])
    max_tokens: int = 4096
    context_window: int = 8192
    cost_per_input_token: float = 0.0
    cost_per_output_token: float = 0.0
    avg_response_time_ms: int = 0
    quality_score: float = 0.5
    speed_score: float = 0.5
    description: str = ""
    provider_name: str = ""
    api_key_env: str = ""


class CatalogueSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GAIA_CATALOGUE_", extra="ignore", frozen=True)

    extra_models: list[ExtraModel] = Field(default_factory=list)


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
    """The configured providers and models; availability comes from the environment given."""

    def __init__(self, *, settings: CatalogueSettings, environ: Mapping[str, str] | None = None) -> None:
        self._environ = dict(os.environ if environ is None else environ)
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

    def providers(self) -> list[ProviderEntry]:
        return list(self._providers.values())

    def provider(self, provider_id: str) -> ProviderEntry:
        try:
            return self._providers[provider_id]
        except KeyError:
            raise NotFound(f"Provider {provider_id} not found") from None

    def is_available(self, provider_id: str) -> bool:
        entry = self._providers.get(provider_id)
        if entry is None:
            return False
        return not entry.api_key_env or bool(self._environ.get(entry.api_key_env))

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
