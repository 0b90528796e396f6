"""The shim's one error table in both styles: RPC errors, stream failures, bad input, no credentials."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from gaia.chat.v1 import chat_pb2
from gaia.common.v1 import common_pb2
from grpc import aio
from pydantic import ValidationError

from compat_gateway.errors import (
    ErrorStyle,
    StreamIdleTimeout,
    input_error_response,
    missing_credentials,
    openai_error,
    openai_failure,
    openai_stream_error,
    rpc_error_response,
    unavailable_response,
)
from compat_gateway.inbound import InputError, _items
from compat_gateway.render.openai_door import ChatCompletionBody, completion_sse
from gaia_services.runtime.principal import Credentials
from gaia_services.runtime.wire import status_of as status_code_of

S = grpc.StatusCode


def _rpc(code: grpc.StatusCode, details: str, **trailing: str) -> aio.AioRpcError:
    pairs = tuple((k.replace("_", "-"), v) for k, v in trailing.items())
    return aio.AioRpcError(code, aio.Metadata(), aio.Metadata(*pairs), details=details)


def _answer(exc: aio.AioRpcError, style: ErrorStyle) -> tuple[int, bytes, str | None]:
    response = rpc_error_response(exc, service="chat", style=style)
    return response.status_code, bytes(response.body), response.headers.get("retry-after")


def _openai(message: str, kind: str, param: str | None, code: str | None) -> bytes:
    error = {"message": message, "type": kind, "param": param, "code": code}
    return json.dumps({"error": error}, separators=(",", ":")).encode()


# -- legacy styles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "style", "expected"),
    [
        (
            _rpc(S.NOT_FOUND, "Persona not found", gaia_error="domain"),
            ErrorStyle.WRAPPED,
            (404, b'{"detail":"Service error: {\\"detail\\":\\"Persona not found\\"}"}', None),
        ),
        (
            _rpc(S.ALREADY_EXISTS, "taken", gaia_error="domain"),
            ErrorStyle.PLAIN,
            (409, b'{"detail":"taken"}', None),
        ),
        (
            _rpc(S.PERMISSION_DENIED, "Could not validate credentials", gaia_error="auth"),
            ErrorStyle.WRAPPED,
            (403, b'{"detail":"Could not validate credentials"}', None),
        ),
        (
            _rpc(
                S.RESOURCE_EXHAUSTED,
                "Rate limit exceeded: 5 per 1 minute",
                gaia_error="ratelimit",
                retry_after="7",
            ),
            ErrorStyle.WRAPPED,
            (429, b'{"error":"Rate limit exceeded: 5 per 1 minute"}', "7"),
        ),
        (
            _rpc(S.UNAVAILABLE, "connect failed"),
            ErrorStyle.WRAPPED,
            (503, b'{"detail":"Service chat unavailable"}', None),
        ),
        (
            _rpc(S.DEADLINE_EXCEEDED, "late"),
            ErrorStyle.PLAIN,
            (503, b'{"detail":"Service chat unavailable"}', None),
        ),
        (
            _rpc(S.INTERNAL, "Traceback ..."),
            ErrorStyle.WRAPPED,
            (500, b'{"detail":"Internal server error"}', None),
        ),
    ],
)
def test_legacy_rpc_errors(
    exc: aio.AioRpcError, style: ErrorStyle, expected: tuple[int, bytes, str | None]
) -> None:
    assert _answer(exc, style) == expected


def test_legacy_input_errors_are_422_lists_without_secrets() -> None:
    items = [
        {"type": "missing", "loc": ["body", "x"], "msg": "Field required", "input": {"password": "p", "a": 1}}
    ]
    wrapped = input_error_response(items, ErrorStyle.WRAPPED)
    assert wrapped.status_code == 422
    assert bytes(wrapped.body) == (
        b'{"detail":"Service error: {\\"detail\\":[{\\"type\\":\\"missing\\",\\"loc\\":[\\"body\\",\\"x\\"],'
        b'\\"msg\\":\\"Field required\\",\\"input\\":{\\"a\\":1}}]}"}'
    )
    plain = input_error_response(items, ErrorStyle.PLAIN)
    assert json.loads(plain.body) == {
        "detail": [{"type": "missing", "loc": ["body", "x"], "msg": "Field required", "input": {"a": 1}}]
    }


def test_an_input_error_about_a_secret_field_does_not_echo_it() -> None:
    items = [
        {
            "type": "string_type",
            "loc": ["body", "current_password"],
            "msg": "Input should be a valid string",
            "input": 123456,
        }
    ]
    plain = input_error_response(items, ErrorStyle.PLAIN)
    assert json.loads(plain.body) == {"detail": [{**items[0], "input": None}]}


def test_missing_credentials_and_unavailable_by_style() -> None:
    legacy = missing_credentials(ErrorStyle.PLAIN)
    assert (legacy.status, legacy.body) == (
        401,
        {"detail": "Not authenticated. Provide a valid JWT or API Key."},
    )
    openai = missing_credentials(ErrorStyle.OPENAI)
    assert openai.status == 401
    assert openai.body == {
        "error": {
            "message": "Missing credentials: provide a Bearer token or an API key.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    assert (
        bytes(unavailable_response("asset", ErrorStyle.WRAPPED).body)
        == b'{"detail":"Service asset unavailable"}'
    )
    down = unavailable_response("chat", ErrorStyle.OPENAI)
    assert (down.status_code, bytes(down.body)) == (
        503,
        _openai("Service chat unavailable", "api_error", None, None),
    )


# -- the OpenAI door --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            _rpc(S.PERMISSION_DENIED, "Could not validate credentials", gaia_error="auth"),
            (
                401,
                _openai("Could not validate credentials", "invalid_request_error", None, "invalid_api_key"),
                None,
            ),
        ),
        (
            _rpc(S.UNAUTHENTICATED, "", gaia_error="auth"),
            (401, _openai("Invalid API key", "invalid_request_error", None, "invalid_api_key"), None),
        ),
        (
            _rpc(S.NOT_FOUND, "Model not found: x", gaia_error="domain"),
            (404, _openai("Model not found: x", "invalid_request_error", "model", "model_not_found"), None),
        ),
        (
            _rpc(S.INVALID_ARGUMENT, "bad", gaia_error="domain"),
            (400, _openai("bad", "invalid_request_error", None, None), None),
        ),
        (
            _rpc(
                S.RESOURCE_EXHAUSTED,
                "Rate limit exceeded: 5 per 1 minute",
                gaia_error="ratelimit",
                retry_after="9",
            ),
            (
                429,
                _openai("Rate limit exceeded: 5 per 1 minute", "requests", None, "rate_limit_exceeded"),
                "9",
            ),
        ),
        (
            _rpc(S.UNAVAILABLE, "Set OPENAI_API_KEY", gaia_error="domain"),
            (503, _openai("Set OPENAI_API_KEY", "api_error", None, None), None),
        ),
        (
            _rpc(S.UNAVAILABLE, "connect failed"),
            (503, _openai("Service chat unavailable", "api_error", None, None), None),
        ),
        (
            _rpc(S.DEADLINE_EXCEEDED, "late"),
            (503, _openai("Service chat unavailable", "api_error", None, None), None),
        ),
        (
            _rpc(S.INTERNAL, "Traceback ..."),
            (500, _openai("Internal server error", "api_error", None, None), None),
        ),
        (
            _rpc(S.ALREADY_EXISTS, "exists", gaia_error="domain"),
            (500, _openai("exists", "api_error", None, None), None),
        ),
    ],
)
def test_openai_rpc_errors(exc: aio.AioRpcError, expected: tuple[int, bytes, str | None]) -> None:
    assert _answer(exc, ErrorStyle.OPENAI) == expected


def test_openai_stream_failures() -> None:
    failure = common_pb2.Failure(code=8, reason="rate_limit", message="slow down")
    assert status_code_of(8) is S.RESOURCE_EXHAUSTED and status_code_of(999) is S.INTERNAL
    assert openai_failure(failure) == (
        429,
        {"message": "slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"},
    )
    # Stream events never carry a param, even for a 404's "model".
    assert openai_stream_error(_rpc(S.NOT_FOUND, "gone", gaia_error="domain")) == {
        "error": {
            "message": "gone",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }
    assert openai_stream_error(_rpc(S.UNAVAILABLE, "reset")) == {
        "error": {"message": "Service chat unavailable", "type": "api_error", "param": None, "code": None}
    }
    idle = StreamIdleTimeout()
    assert idle.code() is S.DEADLINE_EXCEEDED
    assert openai_stream_error(idle) == {
        "error": {"message": "Stream idle timeout", "type": "api_error", "param": None, "code": None}
    }
    assert (
        openai_error(S.UNAVAILABLE, "", domain=False, service="asset")[1]["message"]
        == "Service asset unavailable"
    )


def _door_400(data: Any) -> dict[str, Any]:
    try:
        ChatCompletionBody.model_validate(data)
    except ValidationError as exc:
        response = input_error_response(_items(exc, "body", data), ErrorStyle.OPENAI)
        assert response.status_code == 400
        body: dict[str, Any] = json.loads(response.body)
        return body["error"]
    raise AssertionError("accepted")


def test_openai_input_errors_name_the_first_problem() -> None:
    user = [{"role": "user", "content": "hi"}]
    cases: list[tuple[Any, str, str | None]] = [
        ([1], "The request body must be a JSON object.", None),
        ({"messages": user}, "you must provide a model parameter", "model"),
        ({"model": "m", "messages": []}, "'messages' must be a non-empty array.", "messages"),
        (
            {"model": "m", "messages": [*user, {"role": "robot", "content": "x"}]},
            "Invalid message at messages[1].",
            "messages[1]",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": " "}]}]},
            "The last user message must not be empty.",
            "messages",
        ),
        (
            {"model": "m", "messages": user, "max_completion_tokens": True},
            "'max_tokens' must be a positive integer.",
            "max_tokens",
        ),
        (
            {"model": "m", "messages": user, "temperature": "hot", "stop": 1},
            "Invalid type for 'temperature': expected a number.",
            "temperature",
        ),
        (
            {"model": "m", "messages": user, "stop": ["a", 2]},
            "'stop' must be a string or an array of strings.",
            "stop",
        ),
        (
            {"model": "m", "messages": user, "top_p": 10**400},
            "Invalid 'top_p': Input should be a valid number",
            "top_p",
        ),
    ]
    for data, message, param in cases:
        assert _door_400(data) == {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": None,
        }
    # The door's leniency is kept: other fields pass as sent, the unused max_tokens is not checked.
    body = ChatCompletionBody.model_validate(
        {
            "model": "m",
            "messages": user,
            "stream": "yes",
            "max_tokens": "x",
            "max_completion_tokens": 3,
            "n": 2,
        }
    )
    assert body.stream == "yes" and body.max_completion_tokens == 3


def test_openai_malformed_bodies() -> None:
    def error(items: list[dict[str, Any]]) -> dict[str, Any]:
        return json.loads(input_error_response(items, ErrorStyle.OPENAI).body)["error"]  # type: ignore[no-any-return]

    unparsable = {
        "message": "We could not parse the JSON body of your request.",
        "type": "invalid_request_error",
    }
    assert error(
        InputError([{"type": "json_invalid", "loc": ["body", 3], "msg": "JSON decode error"}]).items
    ) == {
        **unparsable,
        "param": None,
        "code": None,
    }
    assert (
        error([{"type": "string_unicode", "loc": ["body", "messages", 0], "msg": "x", "input": None}])[
            "message"
        ]
        == (unparsable["message"])
    )
    assert error([{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}])[
        "message"
    ] == ("The request body must be a JSON object.")
    assert error([{"type": "string_unicode", "loc": ["query", "q"], "msg": "bad text", "input": None}]) == {
        "message": "Invalid 'q': bad text",
        "type": "invalid_request_error",
        "param": "q",
        "code": None,
    }


def test_openai_credentials_convention() -> None:
    assert Credentials.from_openai_headers(
        {"authorization": "Bearer a.b.c", "x-api-key": "k"}
    ) == Credentials(jwt="a.b.c", api_key="k")
    assert Credentials.from_openai_headers(
        {"authorization": "Bearer gaia_dev_key", "x-api-key": "k"}
    ) == Credentials(api_key="gaia_dev_key")
    assert Credentials.from_openai_headers({"authorization": "Basic xyz", "x-api-key": " k "}) == Credentials(
        api_key="k"
    )
    assert not Credentials.from_openai_headers({}).present


# -- the door's stream renderer ---------------------------------------------------------------------------


def _turn(*events: chat_pb2.StreamChatResponse) -> list[chat_pb2.StreamChatResponse]:
    started = chat_pb2.ChatStarted(model="gpt-4o-mini", request_id="chat-abc", created=7)
    return [chat_pb2.StreamChatResponse(started=started), *events]


async def _chunks(events: list[Any], *, broken: aio.AioRpcError | None = None, usage: bool = False) -> bytes:
    async def rest() -> AsyncIterator[Any]:
        for item in events[1:]:
            yield item
        if broken is not None:
            raise broken

    body = ChatCompletionBody.model_validate(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        | ({"stream_options": {"include_usage": True}} if usage else {})
    )
    inbound = SimpleNamespace(body_model=body)
    return b"".join([c async for c in completion_sse(events[0], rest(), inbound)])  # type: ignore[arg-type]


_HEAD = (
    b'data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":7,"model":"gpt-4o-mini",'
    b'"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n'
)
_TOKEN = (
    b'data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":7,"model":"gpt-4o-mini",'
    b'"choices":[{"index":0,"delta":{"content":"h\xc3\xa9"},"logprobs":null,"finish_reason":null}]}\n\n'
)


async def test_the_door_stream_ends_in_done_or_one_openai_error_event() -> None:
    token = chat_pb2.StreamChatResponse(token=chat_pb2.ChatToken(text="hé"))
    completed = chat_pb2.StreamChatResponse(
        completed=chat_pb2.ChatCompleted(
            finish_reason="stop",
            model="gpt-4o-mini",
            usage=common_pb2.Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2),
        )
    )
    assert await _chunks(_turn(token, completed), usage=True) == _HEAD + _TOKEN + (
        b'data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":7,"model":"gpt-4o-mini",'
        b'"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\n'
        b'data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":7,"model":"gpt-4o-mini",'
        b'"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n'
        b"data: [DONE]\n\n"
    )
    failed = chat_pb2.StreamChatResponse(
        failed=common_pb2.Failure(code=14, reason="api_error", message="down")
    )
    assert await _chunks(_turn(token, failed)) == _HEAD + _TOKEN + (
        b'data: {"error":{"message":"down","type":"api_error","param":null,"code":null}}\n\n'
    )
    assert await _chunks(_turn(token), broken=StreamIdleTimeout()) == _HEAD + _TOKEN + (
        b'data: {"error":{"message":"Stream idle timeout","type":"api_error","param":null,"code":null}}\n\n'
    )
    assert await _chunks(_turn()) == _HEAD + (
        b'data: {"error":{"message":"The chat turn ended without an answer","type":"api_error",'
        b'"param":null,"code":null}}\n\n'
    )
