"""The keyless dev generator makes real files: a decodable PNG, a playable WAV, a valid glTF 2.0 document."""

from __future__ import annotations

import base64
import io
import json
import struct
import wave
import zlib

from gaia_services.asset.providers import enhance
from gaia_services.asset.providers.local import make_gltf, make_png, make_wav


def test_png_is_a_valid_image_of_the_requested_size() -> None:
    data = make_png("a red cube", size=16)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (16, 16)
    idat_length = struct.unpack(">I", data[33:37])[0]
    pixels = zlib.decompress(data[41 : 41 + idat_length])
    assert len(pixels) == 16 * (1 + 16 * 3)
    assert make_png("a red cube", size=16) == data and make_png("a blue cube", size=16) != data


def test_wav_is_a_readable_one_second_tone() -> None:
    with wave.open(io.BytesIO(make_wav("calm", seconds=1.0, rate=8000))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 8000)


def test_gltf_is_a_cube_whose_buffer_matches_its_accessors() -> None:
    document = json.loads(make_gltf("a chair"))
    assert document["asset"]["version"] == "2.0"
    uri = document["buffers"][0]["uri"]
    buffer = base64.b64decode(uri.split(",", 1)[1])
    assert len(buffer) == document["buffers"][0]["byteLength"]
    views = document["bufferViews"]
    assert views[0]["byteLength"] + views[1]["byteLength"] == len(buffer)
    assert document["accessors"][1]["count"] * 12 == views[1]["byteLength"]


def test_prompts_are_enhanced_by_style() -> None:
    assert (
        enhance("a cube", "realistic") == "a cube, photorealistic, highly detailed, professional photography"
    )
    assert enhance("a cube", "noir") == "a cube, noir style"
    assert enhance("a cube", "") == "a cube"
