"""Local fake asset providers: OpenAI images, Stability, Meshy (task + polling) and Mubert, on one port.

It runs as an aiohttp server on a loopback port; ``env()`` points the asset service's clients at it (the asset
service has its own variables, so the chat fake's ``OPENAI_BASE_URL`` is not touched). Prompts steer it:
``FAIL`` → HTTP 500, ``SLOW`` → an answer slower than the configured provider timeout, ``MESHFAIL`` → a Meshy
task that fails while polled. Every generation request is recorded in ``calls``.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import uuid
import zlib
from typing import Any

from aiohttp import web

from tests.support.http_fake import HttpFake

__all__ = ["FakeAssetProviders"]

PROVIDER_TIMEOUT_S = 1.0
_SLOW_S = 5.0


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\x10\x80\xf0" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PNG = _png()
GLB = b"glTF" + struct.pack("<II", 2, 12)
WAV = (
    b"RIFF"
    + struct.pack("<I", 36 + 8)
    + b"WAVEfmt "
    + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    + b"data"
    + struct.pack("<I", 8)
    + b"\x00\x00" * 4
)


class FakeAssetProviders(HttpFake):
    shutdown_timeout = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []
        self._tasks: dict[str, dict[str, Any]] = {}

    async def _steer(self, provider: str, prompt: str) -> web.Response | None:
        self.calls.append((provider, prompt))
        if "SLOW" in prompt:
            await asyncio.sleep(_SLOW_S)
        if "FAIL" in prompt and "MESHFAIL" not in prompt:
            return web.json_response({"error": {"message": "provider exploded"}}, status=500)
        return None

    async def _openai_images(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != "Bearer sk-fake-images":
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        body = await request.json()
        if (failed := await self._steer("openai", body.get("prompt", ""))) is not None:
            return failed
        return web.json_response(
            {
                "created": 1,
                "data": [{"b64_json": base64.b64encode(PNG).decode(), "revised_prompt": body["prompt"]}],
            }
        )

    async def _stability(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        prompt = body["text_prompts"][0]["text"]
        if (failed := await self._steer("stability", prompt)) is not None:
            return failed
        return web.json_response(
            {"artifacts": [{"base64": base64.b64encode(PNG).decode(), "seed": 1, "finishReason": "SUCCESS"}]}
        )

    async def _meshy_create(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if (failed := await self._steer("meshy", body.get("prompt", ""))) is not None:
            return failed
        task_id = uuid.uuid4().hex
        self._tasks[task_id] = {"polls": 0, "fail": "MESHFAIL" in body.get("prompt", "")}
        return web.json_response({"result": task_id})

    async def _meshy_task(self, request: web.Request) -> web.StreamResponse:
        task_id = request.match_info["task_id"]
        task = self._tasks.get(task_id)
        if task is None:
            return web.json_response({"message": "not found"}, status=404)
        task["polls"] += 1
        if task["polls"] < 2:
            return web.json_response({"id": task_id, "status": "IN_PROGRESS", "progress": 50})
        if task["fail"]:
            return web.json_response(
                {"id": task_id, "status": "FAILED", "task_error": {"message": "mesh broke"}}
            )
        return web.json_response(
            {
                "id": task_id,
                "status": "SUCCEEDED",
                "progress": 100,
                "model_urls": {"glb": f"{self.base}/files/{task_id}.glb"},
                "thumbnail_url": f"{self.base}/files/{task_id}.png",
            }
        )

    async def _mubert(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if (failed := await self._steer("mubert", body["params"].get("prompt", ""))) is not None:
            return failed
        return web.json_response(
            {"status": 1, "data": {"tasks": [{"download_link": f"{self.base}/files/t.wav"}]}}
        )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        kinds = {".glb": (GLB, "model/gltf-binary"), ".wav": (WAV, "audio/wav"), ".png": (PNG, "image/png")}
        for suffix, (data, content_type) in kinds.items():
            if name.endswith(suffix):
                return web.Response(body=data, content_type=content_type)
        return web.Response(status=404)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/images/generations", self._openai_images)
        app.router.add_post("/v1/generation/{engine}/text-to-image", self._stability)
        app.router.add_post("/v2/text-to-3d", self._meshy_create)
        app.router.add_get("/v2/text-to-3d/{task_id}", self._meshy_task)
        app.router.add_post("/v2/TTMRecordTrack", self._mubert)
        app.router.add_get("/files/{name}", self._file)
        return app

    def env(self) -> dict[str, str]:
        return {
            "GAIA_ASSET_OPENAI_BASE_URL": f"{self.base}/v1",
            "GAIA_ASSET_OPENAI_API_KEY": "sk-fake-images",
            "GAIA_ASSET_STABILITY_BASE_URL": self.base,
            "STABILITY_API_KEY": "sk-fake-stability",
            "GAIA_ASSET_MESHY_BASE_URL": self.base,
            "MESHY_API_KEY": "msy-fake",
            "GAIA_ASSET_MESHY_POLL_INTERVAL_S": "0.05",
            "GAIA_ASSET_MUBERT_BASE_URL": self.base,
            "MUBERT_API_KEY": "mubert-fake",
            "GAIA_ASSET_PROVIDER_TIMEOUT_S": str(PROVIDER_TIMEOUT_S),
            "GAIA_ASSET_PROVIDER_RETRIES": "0",
        }
