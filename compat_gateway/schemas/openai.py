"""Response models of the OpenAI-compatible door (``/v1/chat/completions``, ``/v1/models``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["ChatCompletion", "OpenAIModel", "OpenAIModelList"]


class ChatCompletion(BaseModel):
    """One ``chat.completion``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any]


class OpenAIModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    object: str
    created: int
    owned_by: str


class OpenAIModelList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object: str
    data: list[OpenAIModel]
