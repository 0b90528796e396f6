"""A lean OpenAI-compatible upstream for benchmarks: N tokens per answer, an optional delay per token.

Run as ``python -m bench.fake_upstream --port P --tokens 20 --token-delay-ms 0``.

Deliberately not the tests' ``tests/support/fake_llm.FakeLLM``: that fake echoes the prompt (so the answer's
length follows the request, not ``--tokens``), records every request (unbounded over a soak) and checks the
connection before each token; here the fake is the benchmark's floor, so it does as little as possible.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from aiohttp import web

__all__ = ["main"]


def _chunk(model: str, created: int, delta: dict[str, str], finish: str | None) -> bytes:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def build_app(*, tokens: int, delay_s: float) -> web.Application:
    words = [f" w{i}" for i in range(tokens)]

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = body.get("model", "gpt-4o-mini")
        created = int(time.time())
        usage = {"prompt_tokens": 8, "completion_tokens": tokens, "total_tokens": 8 + tokens}
        if not body.get("stream"):
            if delay_s:
                await asyncio.sleep(delay_s * tokens)
            return web.json_response(
                {
                    "id": "chatcmpl-bench",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(words)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_chunk(model, created, {"role": "assistant", "content": ""}, None))
        for word in words:
            if delay_s:
                await asyncio.sleep(delay_s)
            await response.write(_chunk(model, created, {"content": word}, None))
        await response.write(_chunk(model, created, {}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            tail = {
                "id": "chatcmpl-bench",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            await response.write(b"data: " + json.dumps(tail).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        return response

    models_body = {
        "object": "list",
        "data": [{"id": "gpt-4o-mini", "object": "model", "created": 0, "owned_by": "bench"}],
    }

    async def models(request: web.Request) -> web.Response:
        # The floor of the "authenticated unary read" workload (GET /v1/models); the fake checks no key.
        return web.json_response(models_body)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/v1/models", models)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--token-delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    app = build_app(tokens=args.tokens, delay_s=args.token_delay_ms / 1000)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
