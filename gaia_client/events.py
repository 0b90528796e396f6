"""The typed events of the client's streams: a chat turn (``Started``, ``Token``, ``Completed``) and an
asset generation (``Progress``, ``Done``). A stream's failure is never an event: it is raised as a
``GaiaError`` (``gaia_client.errors``)."""

from __future__ import annotations

from dataclasses import dataclass

from gaia.asset.v1 import asset_pb2
from gaia.chat.v1 import chat_pb2

__all__ = ["ChatEvent", "Completed", "Done", "GenerationEvent", "Progress", "Started", "Token"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Started:
    """The turn started (always the first event)."""

    conversation_id: str
    model: str
    provider: str
    request_id: str
    persona_id: str
    conversation_created: bool

    @classmethod
    def of(cls, message: chat_pb2.ChatStarted) -> Started:
        return cls(
            conversation_id=message.conversation_id,
            model=message.model,
            provider=message.provider,
            request_id=message.request_id,
            persona_id=message.persona_id,
            conversation_created=message.conversation_created,
        )


@dataclass(frozen=True, slots=True)
class Token:
    """A piece of the reply, as the provider produced it."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    """The turn completed and is stored (the last event)."""

    finish_reason: str
    model: str
    provider: str
    message_id: str
    fallback_used: bool
    prompt_tokens: int
    completion_tokens: int
    time_to_first_token_ms: int
    total_time_ms: int

    @classmethod
    def of(cls, message: chat_pb2.ChatCompleted) -> Completed:
        return cls(
            finish_reason=message.finish_reason,
            model=message.model,
            provider=message.provider,
            message_id=message.message_id,
            fallback_used=message.fallback_used,
            prompt_tokens=message.usage.prompt_tokens,
            completion_tokens=message.usage.completion_tokens,
            time_to_first_token_ms=message.timings.time_to_first_token_ms,
            total_time_ms=message.timings.total_time_ms,
        )


ChatEvent = Started | Token | Completed


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """A generation reached a stage (``stage`` is the enum's short name, e.g. ``"provider_called"``)."""

    generation_id: str
    stage: str
    message: str
    percent: int
    provider: str

    @classmethod
    def of(cls, generation_id: str, message: asset_pb2.GenerationProgress) -> Progress:
        name = asset_pb2.GenerationStage.Name(message.stage).removeprefix("GENERATION_STAGE_").lower()
        return cls(
            generation_id=generation_id,
            stage=name,
            message=message.message,
            percent=message.percent,
            provider=message.provider,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Done:
    """The asset is ready (the last event); ``asset`` is the stored ``gaia.asset.v1.Asset``."""

    generation_id: str
    asset: asset_pb2.Asset

    @property
    def asset_id(self) -> str:
        return self.asset.asset_id

    @property
    def download_url(self) -> str:
        return self.asset.asset_data.download_url


GenerationEvent = Progress | Done
