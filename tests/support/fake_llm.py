"""A local fake LLM provider speaking the OpenAI and Anthropic wire protocols.

It runs as an aiohttp server on a loopback port; ``env()`` points the official SDKs at it. It answers
``echo: <last user message>`` word by word, as the reference's fake did, and the message text picks a mode:

- ``fail: ...``    HTTP 400 before the first token (the provider's own error body);
- ``flaky: ...``   the first request with this exact text gets a transient error (Anthropic 529, OpenAI 503);
- ``failmid: ...`` an error event after three tokens;
- ``slow: ...``    100 ms before each token (``slowNN: ...``: NN ms);
- ``hang: ...``    never answers (the connection stays open until the client goes away).

Every request is recorded (``requests``) with when it started and finished and whether and when the client
went away, so tests can show that a cut stream closed the provider request.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.http_fake import HttpFake

__all__ = ["FakeLLM", "FakeRequest", "echo_tokens"]

_WORD = re.compile(r"\s*\S+")
_SLOW = re.compile(r"^slow(\d*):")


def echo_tokens(message: str) -> list[str]:
    """The fake's reply to ``message``, split as it streams it: ``["echo:", " hello", " there"]``."""
    text = "echo: " + message
    tokens = _WORD.findall(text)
    rest = text[sum(len(t) for t in tokens) :]
    if rest:
        tokens[-1] += rest
    return tokens


@dataclass
class FakeRequest:
    """One request the fake received."""

    seq: int
    api: str  # "openai" or "anthropic"
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    stream: bool
    started: float = field(default_factory=time.monotonic)
    outcome: str = "pending"  # response, injected_error, injected_midstream_error, client_gone
    finished: float | None = None
    client_gone_at: float | None = None
    tokens_sent: int = 0

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def system(self) -> str:
        """The system prompt as sent (Anthropic ``system``, or OpenAI system messages joined)."""
        if self.api == "anthropic":
            system = self.body.get("system", "")
            if isinstance(system, list):
                return "".join(b.get("text", "") for b in system if isinstance(b, dict))
            return str(system or "")
        return "\n".join(
            _text(m.get("content")) for m in self.body.get("messages", []) if m.get("role") == "system"
        )

    @property
    def messages(self) -> list[dict[str, str]]:
        return [
            {"role": str(m.get("role")), "content": _text(m.get("content"))}
            for m in self.body.get("messages", [])
        ]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _last_user(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text(message.get("content"))
    return ""


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


class FakeLLM(HttpFake):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[FakeRequest] = []
        self._flaky_seen: set[str] = set()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        return app

    def env(self) -> dict[str, str]:
        return {
            "OPENAI_BASE_URL": f"{self.base}/v1",
            "OPENAI_API_KEY": "sk-fake-openai",
            "ANTHROPIC_BASE_URL": self.base,
            "ANTHROPIC_API_KEY": "sk-ant-fake",
            # Requests that ask for fallback (enable_fallback) try these after the chosen model fails.
            "GAIA_CHAT_FALLBACK_MODELS": '["gpt-4o-mini", "gaia-local"]',
            "GAIA_CHAT_RETRY_BACKOFF_S": "0.05",
        }

    def find(self, text: str) -> list[FakeRequest]:
        """The requests whose last user message is ``text``."""
        return [r for r in self.requests if _last_user(r.body) == text]

    async def wait_finished(self, record: FakeRequest, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while record.finished is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    # -- shared ---------------------------------------------------------------------------------------

    async def _begin(self, request: web.Request, api: str) -> tuple[FakeRequest, str]:
        body = await request.json()
        record = FakeRequest(
            seq=len(self.requests) + 1,
            api=api,
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            stream=bool(body.get("stream")),
        )
        self.requests.append(record)
        return record, _last_user(body)

    def _mode(self, message: str) -> str:
        if message.startswith("flaky:"):
            if message in self._flaky_seen:
                return "normal"
            self._flaky_seen.add(message)
            return "flaky"
        for mode in ("fail", "failmid", "hang"):
            if message.startswith(f"{mode}:"):
                return mode
        return "normal"

    @staticmethod
    def _delay(message: str) -> float:
        match = _SLOW.match(message)
        if not match:
            return 0.0
        return int(match.group(1) or 100) / 1000

    @staticmethod
    def _gone(request: web.Request) -> bool:
        transport = request.transport
        return transport is None or transport.is_closing()

    async def _hang(self, request: web.Request, record: FakeRequest) -> web.StreamResponse:
        while not self._gone(request):
            await asyncio.sleep(0.02)
        record.client_gone_at = time.monotonic()
        record.outcome = "client_gone"
        record.finished = time.monotonic()
        return web.Response(status=499)

    async def _write(
        self,
        request: web.Request,
        response: web.StreamResponse,
        record: FakeRequest,
        chunk: bytes,
        delay: float,
    ) -> bool:
        """Write one event after ``delay``; False when the client has gone away."""
        waited = 0.0
        while waited < delay:
            if self._gone(request):
                break
            step = min(0.01, delay - waited)
            await asyncio.sleep(step)
            waited += step
        if self._gone(request):
            record.client_gone_at = time.monotonic()
            record.outcome = "client_gone"
            return False
        try:
            await response.write(chunk)
        except (ConnectionError, RuntimeError):
            record.client_gone_at = time.monotonic()
            record.outcome = "client_gone"
            return False
        return True

    # -- OpenAI ---------------------------------------------------------------------------------------

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        record, message = await self._begin(request, "openai")
        mode = self._mode(message)
        try:
            if mode == "hang":
                return await self._hang(request, record)
            if mode in ("fail", "flaky"):
                record.outcome = "injected_error"
                status, kind = (400, "invalid_request_error") if mode == "fail" else (503, "server_error")
                return web.json_response(
                    {
                        "error": {
                            "message": "fake_llm: injected failure",
                            "type": kind,
                            "param": None,
                            "code": None,
                        }
                    },
                    status=status,
                )
            tokens = echo_tokens(message)
            usage = {
                "prompt_tokens": len(message.split()),
                "completion_tokens": len(tokens),
                "total_tokens": len(message.split()) + len(tokens),
            }
            ident, created, model = f"chatcmpl-fake{record.seq}", int(time.time()), record.model
            if not record.stream:
                record.outcome = "response"
                record.tokens_sent = len(tokens)
                return web.json_response(
                    {
                        "id": ident,
                        "object": "chat.completion",
                        "created": created,
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": "".join(tokens)},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": usage,
                    }
                )
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)

            def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
                return _sse(
                    {
                        "id": ident,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }
                )

            delay = self._delay(message)
            if not await self._write(
                request, response, record, chunk({"role": "assistant", "content": ""}, None), 0
            ):
                return response
            for i, token in enumerate(tokens):
                if mode == "failmid" and i == 3:
                    record.outcome = "injected_midstream_error"
                    await response.write(
                        _sse(
                            {
                                "error": {
                                    "message": "fake_llm: injected mid-stream failure",
                                    "type": "server_error",
                                }
                            }
                        )
                    )
                    return response
                if not await self._write(request, response, record, chunk({"content": token}, None), delay):
                    return response
                record.tokens_sent += 1
            await response.write(chunk({}, "stop"))
            if (record.body.get("stream_options") or {}).get("include_usage"):
                await response.write(
                    _sse(
                        {
                            "id": ident,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": model,
                            "choices": [],
                            "usage": usage,
                        }
                    )
                )
            await response.write(b"data: [DONE]\n\n")
            record.outcome = "response"
            return response
        finally:
            record.finished = time.monotonic()

    # -- Anthropic ------------------------------------------------------------------------------------

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        record, message = await self._begin(request, "anthropic")
        mode = self._mode(message)
        try:
            if mode == "hang":
                return await self._hang(request, record)
            if mode in ("fail", "flaky"):
                record.outcome = "injected_error"
                status, kind = (400, "invalid_request_error") if mode == "fail" else (529, "overloaded_error")
                return web.json_response(
                    {"type": "error", "error": {"type": kind, "message": "fake_llm: injected failure"}},
                    status=status,
                )
            tokens = echo_tokens(message)
            prompt_tokens = len(message.split())
            ident, model = f"msg_fake{record.seq}", record.model
            if not record.stream:
                record.outcome = "response"
                record.tokens_sent = len(tokens)
                return web.json_response(
                    {
                        "id": ident,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [{"type": "text", "text": "".join(tokens)}],
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": {"input_tokens": prompt_tokens, "output_tokens": len(tokens)},
                    }
                )
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            start = {
                "type": "message_start",
                "message": {
                    "id": ident,
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": model,
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": prompt_tokens, "output_tokens": 1},
                },
            }
            opening = (
                _sse(start, "message_start")
                + _sse(
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                    "content_block_start",
                )
                + _sse({"type": "ping"}, "ping")
            )
            if not await self._write(request, response, record, opening, 0):
                return response
            delay = self._delay(message)
            for i, token in enumerate(tokens):
                if mode == "failmid" and i == 3:
                    record.outcome = "injected_midstream_error"
                    await response.write(
                        _sse(
                            {
                                "type": "error",
                                "error": {
                                    "type": "overloaded_error",
                                    "message": "fake_llm: injected mid-stream failure",
                                },
                            },
                            "error",
                        )
                    )
                    return response
                delta = {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": token},
                }
                if not await self._write(
                    request, response, record, _sse(delta, "content_block_delta"), delay
                ):
                    return response
                record.tokens_sent += 1
            closing = (
                _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
                + _sse(
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                        "usage": {"output_tokens": len(tokens)},
                    },
                    "message_delta",
                )
                + _sse({"type": "message_stop"}, "message_stop")
            )
            await response.write(closing)
            record.outcome = "response"
            return response
        finally:
            record.finished = time.monotonic()
