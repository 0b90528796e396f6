"""The chat servicer's translations without a network: provider failures, the v0.2 door's default model,
and the v0.2 streaming door's model table (served by ListModels)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from gaia.chat.v1 import chat_pb2
from pydantic import SecretStr

from gaia_services.chat.catalogue import Catalogue, Door
from gaia_services.chat.convert import failure_to_proto, turn_request_from_proto
from gaia_services.chat.llm_config import LLMSettings
from gaia_services.chat.parts import ChatParts
from gaia_services.chat.providers.base import api_error, connection_error, status_error
from gaia_services.chat.routing import ProviderRouter
from gaia_services.chat.service import ChatServicer, _unary_failure
from gaia_services.runtime.errors import Exhausted, NotFound, Unavailable
from gaia_services.runtime.resources import Resources
from gaia_services.runtime.wire import code_number
from gaia_services.settings import Settings

S = grpc.StatusCode


@pytest.mark.parametrize(
    ("error", "code", "reason", "transient"),
    [
        (status_error("m", 429), S.RESOURCE_EXHAUSTED, "rate_limit", True),
        (status_error("m", 401), S.UNAUTHENTICATED, "auth_error", False),
        (status_error("m", 403), S.UNAUTHENTICATED, "auth_error", False),
        (status_error("m", 404), S.NOT_FOUND, "model_not_found", False),
        (status_error("m", 500), S.UNAVAILABLE, "api_error", True),
        (status_error("m", 408), S.UNAVAILABLE, "api_error", True),
        (status_error("m", 400), S.INTERNAL, "api_error", False),
        (connection_error("m"), S.UNAVAILABLE, "connection_error", True),
        (api_error("m"), S.INTERNAL, "api_error", False),
        (api_error("m", transient=True), S.UNAVAILABLE, "api_error", True),
    ],
)
def test_a_provider_failure_is_a_stream_failure_with_its_status_number(
    error: Any, code: grpc.StatusCode, reason: str, transient: bool
) -> None:
    failure = failure_to_proto(error)
    assert (failure.code, failure.reason, failure.message) == (code_number(code), reason, "m")
    assert error.transient is transient


def test_a_unary_turn_failing_after_it_started_is_not_found_or_unavailable() -> None:
    not_found = _unary_failure(status_error("no such model", 404))
    assert isinstance(not_found, NotFound) and not_found.message == "no such model"
    for error in (status_error("slow down", 429), Exhausted("x"), connection_error("down")):
        mapped = _unary_failure(error)
        assert type(mapped) is Unavailable and mapped.message == error.message


def _settings(**values: object) -> LLMSettings:
    base: dict[str, object] = {
        "ANTHROPIC_API_KEY": None,
        "OPENAI_API_KEY": None,
        "DEFAULT_LLM_MODEL": None,
        "compatible_servers": (),
    }
    return LLMSettings.model_validate({**base, **values})


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "gaia-local"),
        ({"OPENAI_API_KEY": SecretStr("k")}, "gpt-4o-mini"),
        ({"ANTHROPIC_API_KEY": SecretStr("k")}, "claude-3-5-sonnet-20241022"),
        ({"ANTHROPIC_API_KEY": SecretStr("k"), "DEFAULT_LLM_MODEL": "gpt-4o"}, "claude-3-5-sonnet-20241022"),
    ],
)
def test_the_v02_door_gets_anthropics_configured_model_as_the_claude_hint_did(
    values: dict[str, object], expected: str
) -> None:
    settings = _settings(**values)
    router = ProviderRouter(settings=settings, catalogue=Catalogue(settings=settings))
    assert router.resolve("", door=Door.V02).model == expected
    assert router.resolve("", "claude").model == expected
    assert router.resolve("gaia-local", door=Door.V02).model == "gaia-local"  # a named model wins


def test_the_door_field_reaches_the_turn() -> None:
    stream = chat_pb2.StreamChatRequest(message="hi", door=chat_pb2.CHAT_DOOR_V02)
    unary = chat_pb2.StreamChatRequest(message="hi")
    assert turn_request_from_proto(stream, streamed=True).door is Door.V02
    assert turn_request_from_proto(unary, streamed=False).door is None


@pytest.fixture
def servicer(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServicer]:
    for name in (
        "OPENAI_API_KEY",
        "GAIA_CHAT_OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GAIA_CHAT_ANTHROPIC_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    # ListModels reads only the catalogue: a stand-in pool is enough.
    yield ChatServicer(parts=ChatParts.build(Resources(settings=Settings(), db=object())))  # type: ignore[arg-type]


async def test_list_models_serves_the_v02_stream_door_table_only_when_asked(servicer: ChatServicer) -> None:
    plain = await servicer.ListModels(chat_pb2.ListModelsRequest(), None)  # type: ignore[arg-type]
    assert [m.id for m in plain.models] == ["claude-3-haiku-20240307", "gpt-4o-mini"]
    assert not plain.stream_models and not plain.HasField("stream_recommendations")

    reply = await servicer.ListModels(
        chat_pb2.ListModelsRequest(provider="nope", include_stream_models=True),
        None,  # type: ignore[arg-type]
    )
    assert not reply.models  # the filters apply to the catalogue's list, not to the door's table
    assert [
        (m.model_id, m.name, m.provider, m.avg_ttft_ms, m.quality_score, m.vr_suitable)
        for m in reply.stream_models
    ] == [
        ("claude-3-haiku-20240307", "Claude 3 Haiku", "anthropic", 800, 8.5, True),
        ("gpt-4o-mini", "GPT-4o Mini", "openai", 1200, 9.0, False),
    ]
    advice = reply.stream_recommendations
    assert (advice.vr_best, advice.quality_best, advice.balanced, advice.emergency) == (
        "claude-3-haiku-20240307",
        "gpt-4o-mini",
        "claude-3-haiku-20240307",
        "claude-3-haiku-20240307",
    )
