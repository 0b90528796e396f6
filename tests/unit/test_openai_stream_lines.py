"""The OpenAI provider's reading of streamed ``data:`` lines (the SDK makes the request; we parse)."""

from __future__ import annotations

import pytest

from gaia_services.chat.providers.openai_provider import _chunk
from gaia_services.chat.providers.wording import UNREADABLE
from gaia_services.runtime.errors import DomainError


def test_data_lines_are_chunks_and_everything_else_is_skipped() -> None:
    assert _chunk('data: {"choices":[{"delta":{"content":"hi"}}]}') == {
        "choices": [{"delta": {"content": "hi"}}]
    }
    assert [_chunk(line) for line in ("data: [DONE]", "", ": keepalive", "event: x", "data:")] == [None] * 5


def test_an_error_event_raises_with_the_providers_message() -> None:
    with pytest.raises(DomainError) as failed:
        _chunk('data: {"error":{"message":"overloaded","type":"server_error"}}')
    assert failed.value.message == "overloaded"


def test_an_unreadable_event_is_a_provider_error_not_a_crash() -> None:
    with pytest.raises(DomainError) as failed:
        _chunk("data: {not json")
    assert failed.value.message == UNREADABLE
