"""Provider failures read exactly as the reference's recordings, whichever SDK release is installed.

Each error is built by the installed SDK itself, from a provider response like the fake provider's (and
the reference's upstream's), then mapped by our provider; the expected text is cut from the recorded
bytes, so an SDK that rewords ``str(error)`` (anthropic 2.17, openai 3.63) changes nothing on the wire.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from gaia_services.chat.providers import anthropic_provider, openai_provider
from gaia_services.chat.providers.wording import (
    CONNECTION_ERROR,
    TIMED_OUT,
    http_error_text,
    stream_error_text,
)
from tests.support.recorded import load

_FAILED = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": "fake_llm: injected failure"},
}
_MID_STREAM = {
    "type": "error",
    "error": {"type": "overloaded_error", "message": "fake_llm: injected mid-stream failure"},
}


def _last_sse_error(name: str) -> str:
    events = [line for line in load(name).body.decode().split("\n") if line.startswith("data: ")]
    return str(json.loads(events[-1][6:])["error"])


def _response(status: int, body: Any, path: str) -> httpx2.Response:
    request = httpx2.Request("POST", f"http://fake.test{path}")
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx2.Response(status, content=content, request=request)


def _anthropic() -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key="k", base_url="http://fake.test", max_retries=0)


def _openai() -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="k", base_url="http://fake.test/v1", max_retries=0)


def test_an_anthropic_http_error_reads_as_recorded() -> None:
    exc = _anthropic()._make_status_error_from_response(_response(400, _FAILED, "/v1/messages"))
    recorded = _last_sse_error("v02_chat_stream_upstream_fail")
    assert anthropic_provider._error(exc).message == recorded
    assert load("v02_chat_upstream_fail").json()["detail"] == recorded
    assert recorded in load("v1_chat_upstream_fail").json()["detail"]


def test_an_anthropic_mid_stream_error_event_reads_as_recorded() -> None:
    # What anthropic's stream does with `event: error` (anthropic/_streaming.py): a status error on the
    # 200 response that carried the stream, with the event's decoded body.
    response = _response(200, b"", "/v1/messages")
    exc = _anthropic()._make_status_error(f"{_MID_STREAM}", body=_MID_STREAM, response=response)
    failed = anthropic_provider._error(exc)
    assert failed.message == _last_sse_error("v02_chat_stream_failmid")
    assert failed.transient  # overloaded: retried when no token was sent yet


def test_an_openai_http_error_reads_in_the_same_format() -> None:
    exc = _openai()._make_status_error_from_response(_response(400, _FAILED, "/v1/chat/completions"))
    assert openai_provider._error(exc).message == _last_sse_error("v02_chat_stream_upstream_fail")


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"", "Error code: 502"),
        (b"Bad Gateway", "Bad Gateway"),
        ({"error": {"message": "no"}}, "Error code: 502 - {'error': {'message': 'no'}}"),
    ],
)
def test_bodies_that_are_empty_or_not_json_read_as_the_reference_sdk_did(body: Any, text: str) -> None:
    for client, provider in ((_anthropic(), anthropic_provider), (_openai(), openai_provider)):
        exc = client._make_status_error_from_response(_response(502, body, "/v1/x"))
        failed = provider._error(exc)
        assert (failed.message, failed.transient) == (text, True)


def test_connection_failures_and_timeouts_are_our_words() -> None:
    request = httpx2.Request("POST", "http://fake.test/v1/messages")
    assert (
        anthropic_provider._error(anthropic.APIConnectionError(request=request)).message == CONNECTION_ERROR
    )
    assert anthropic_provider._error(anthropic.APITimeoutError(request)).message == TIMED_OUT
    assert openai_provider._error(openai.APIConnectionError(request=request)).message == CONNECTION_ERROR
    assert openai_provider._error(openai.APITimeoutError(request)).message == TIMED_OUT


def test_the_renderings_themselves() -> None:
    assert http_error_text(_response(400, {"a": [1, "b"]}, "/")) == "Error code: 400 - {'a': [1, 'b']}"
    assert http_error_text(_response(502, b" \n", "/")) == "Error code: 502"
    assert stream_error_text({"type": "error"}) == "{'type': 'error'}"
    assert stream_error_text("not json") == "not json"
    assert stream_error_text(None) == "Error code: 200"
