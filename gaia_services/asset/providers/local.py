"""The built-in generator of keyless dev mode (``LocalProvider``): real, small files of the right kind,
made locally.

Images and textures are PNGs, audio is a WAV tone, 3D assets and animations are glTF 2.0 cubes. The content is
derived from the prompt, so the same prompt gives the same file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import struct
import wave
import zlib
from collections.abc import AsyncIterator
from decimal import Decimal

from gaia_services.asset.providers.base import GeneratedFile, GenerationSpec, Polling

__all__ = ["LocalProvider", "make_gltf", "make_png", "make_wav"]


def _seed(prompt: str) -> bytes:
    return hashlib.sha256(prompt.encode()).digest()


def make_png(prompt: str, *, size: int = 64) -> bytes:
    """A ``size``x``size`` RGB gradient whose colours come from the prompt."""
    seed = _seed(prompt)
    r0, g0, b0 = seed[0], seed[1], seed[2]
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter: none
        for x in range(size):
            rows += bytes(((r0 + 3 * x) % 256, (g0 + 3 * y) % 256, (b0 + x + y) % 256))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


def make_wav(prompt: str, *, seconds: float = 1.0, rate: int = 22050) -> bytes:
    """A mono 16-bit tone whose pitch comes from the prompt."""
    frequency = 220 + _seed(prompt)[0] * 2
    frames = bytearray()
    for i in range(int(seconds * rate)):
        frames += struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * i / rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


_CUBE = (
    (-0.5, -0.5, -0.5),
    (0.5, -0.5, -0.5),
    (0.5, 0.5, -0.5),
    (-0.5, 0.5, -0.5),
    (-0.5, -0.5, 0.5),
    (0.5, -0.5, 0.5),
    (0.5, 0.5, 0.5),
    (-0.5, 0.5, 0.5),
)
_FACES = (
    0,
    2,
    1,
    0,
    3,
    2,
    4,
    5,
    6,
    4,
    6,
    7,
    0,
    1,
    5,
    0,
    5,
    4,
    3,
    7,
    6,
    3,
    6,
    2,
    0,
    4,
    7,
    0,
    7,
    3,
    1,
    2,
    6,
    1,
    6,
    5,
)


def make_gltf(prompt: str) -> bytes:
    """A glTF 2.0 cube (buffer embedded as a data URI), coloured from the prompt."""
    seed = _seed(prompt)
    positions = b"".join(struct.pack("<3f", *v) for v in _CUBE)
    indices = b"".join(struct.pack("<H", i) for i in _FACES)
    buffer = indices + positions
    color = [round(seed[i] / 255, 3) for i in range(3)] + [1.0]
    document = {
        "asset": {"version": "2.0", "generator": "gaia-local"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": prompt[:64]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 1}, "indices": 0, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": color}}],
        "buffers": [
            {
                "byteLength": len(buffer),
                "uri": "data:application/octet-stream;base64," + base64.b64encode(buffer).decode(),
            }
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(indices), "target": 34963},
            {"buffer": 0, "byteOffset": len(indices), "byteLength": len(positions), "target": 34962},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5123, "count": len(_FACES), "type": "SCALAR"},
            {
                "bufferView": 1,
                "componentType": 5126,
                "count": len(_CUBE),
                "type": "VEC3",
                "min": [-0.5, -0.5, -0.5],
                "max": [0.5, 0.5, 0.5],
            },
        ],
    }
    return json.dumps(document, separators=(",", ":")).encode()


class LocalProvider:
    """Keyless dev mode: a real small file, made here, free."""

    name = "local"

    def cost(self, spec: GenerationSpec) -> Decimal:
        return Decimal(0)

    async def run(self, spec: GenerationSpec) -> AsyncIterator[Polling | GeneratedFile]:
        if spec.category in ("image", "texture"):
            data, fmt, op, extra = (
                make_png(spec.prompt),
                "png",
                "image_generation",
                {"images": 1},
            )
        elif spec.category == "audio":
            data, fmt, op, extra = make_wav(spec.prompt), "wav", "audio_generation", {}
        else:
            data, fmt, op, extra = (
                make_gltf(spec.prompt),
                "gltf",
                "model_generation",
                {"models_3d": 1},
            )
        yield GeneratedFile(
            data=data,
            file_format=fmt,
            external_source="local",
            usage_provider="local",
            operation=op,
            cost=Decimal(0),
            model="gaia-local",
            source_name="local",
            details={"model": "gaia-local"},
            **extra,
        )
