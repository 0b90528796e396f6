"""Response models of the chat routes (JSON variants; SSE variants are documented as text/event-stream)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

__all__ = [
    "CacheInvalidated",
    "CacheStats",
    "CacheStatus",
    "ChatStatus",
    "Done",
    "DoneWithVersion",
    "StreamHistoryCleared",
    "StreamModels",
    "StreamModelsPerformance",
    "StreamStatus",
    "TokenUsage",
    "V02Chat",
    "V02ChatStatus",
    "V03Chat",
    "V1Chat",
    "V1ChatJson",
    "V1ChatOpenAI",
]


class TokenUsage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class V02Chat(BaseModel):
    """``POST /api/v0.2/chat``: the whole answer."""

    model_config = ConfigDict(extra="forbid")

    response: str
    model: str
    usage: TokenUsage


class V1ChatJson(BaseModel):
    """The July v1 chat answer (the default)."""

    model_config = ConfigDict(extra="forbid")

    response: str
    provider: str
    model: str
    usage: TokenUsage | None = Field(description="Null in the reference's recordings")
    response_time_ms: float | None
    reasoning: str | None
    fallback_used: bool | None


class V1ChatOpenAI(BaseModel):
    """The December OpenAI-shaped v1 answer (``response_format: openai`` or ``X-Response-Format: openai``)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, int] = Field(description="input_tokens, output_tokens, total_tokens")
    metadata: dict[str, Any] = Field(alias="_metadata", description="Routing and timing figures")


class V1Chat(RootModel[V1ChatJson | V1ChatOpenAI]):
    """The v1 chat JSON answer: July's shape by default, or the OpenAI shape on request."""


class V03Chat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: str
    conversation_id: str


class V02ChatStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_count: int
    has_history: bool
    api_version: str


class ChatStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_count: int
    has_history: bool


class Done(BaseModel):
    """A plain success acknowledgement."""

    model_config = ConfigDict(extra="forbid")

    status: str
    message: str | None = None


class DoneWithVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    message: str
    api_version: str


class CacheInvalidated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    cache_type: str
    invalidated_user: str | None
    invalidated_activity: str | None
    timestamp: str


class CacheStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    persona_cache_entries: int
    tools_cache_entries: int
    persona_cache_keys: list[str]
    tools_cache_keys: list[str]


class CacheStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cache_stats: CacheStats
    timestamp: str


class StreamStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    performance_mode: str
    message_count: int
    has_history: bool
    cache_status: CacheStats
    capabilities: dict[str, bool]
    timestamp: str


class StreamHistoryCleared(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    message: str
    timestamp: str


class StreamModels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[dict[str, Any]]
    default_selection: str
    selection_criteria: list[str]


class StreamModelsPerformance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all_models: list[dict[str, Any]]
    rankings: dict[str, list[dict[str, Any]]]
    recommendations: dict[str, str]
