"""schemathesis over the shim's own /openapi.json, with valid credentials: no 500, no response that breaks
its own schema, no undocumented status. Bounded example count and a fixed seed (it runs in CI).

It runs schemathesis's CLI against the live mesh (its pytest loader does not support pytest 9).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.support.mesh import DEV_API_KEY, Mesh

# Operations whose every call starts real (slow) work; their validation paths are covered by contract tests.
SLOW = ("/api/v1/assets/generate", "/api/v1/assets/generate/stream")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.timeout(600)
async def test_no_server_errors_and_responses_match_their_schema(mesh: Mesh) -> None:
    st = str(Path(sys.executable).with_name("schemathesis"))
    argv = [
        st,
        "run",
        f"{mesh.http}/openapi.json",
        "--header",
        f"X-API-Key: {DEV_API_KEY}",
        "--checks",
        CHECKS,
        "--max-examples",
        "4",
        "--seed",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--no-color",
    ]
    for path in SLOW:
        argv += ["--exclude-path", path]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 540)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-8000:]
