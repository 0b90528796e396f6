"""schemathesis over the shim's own /openapi.json, with valid credentials: no 500, no response that breaks
its own schema, no undocumented status. Bounded example count and a fixed seed (it runs in CI).

It runs schemathesis's CLI against the live mesh (its pytest loader does not support pytest 9), as a user of
its own: what the run deletes or revokes (its own API key among them) is never what the other tests sign in
with.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.integration._callers import make_callers
from tests.support.infra import Infra
from tests.support.mesh import Mesh

# Operations whose every call starts real (slow) work; their validation paths are covered by contract tests.
SLOW = ("/api/v1/assets/generate", "/api/v1/assets/generate/stream")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.timeout(600)
async def test_no_server_errors_and_responses_match_their_schema(mesh: Mesh, infra: Infra) -> None:
    key = (await make_callers(infra)).b.api_key
    st = str(Path(sys.executable).with_name("schemathesis"))
    argv = [
        st,
        "run",
        f"{mesh.http}/openapi.json",
        "--header",
        f"X-API-Key: {key}",
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
