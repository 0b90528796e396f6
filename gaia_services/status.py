"""``gaia status``: what the running mesh's state file says, checked against reality."""

from __future__ import annotations

import json
from typing import Any

import psutil

from gaia_services.runtime.probes import ProbeResult, probe_grpc, probe_http
from gaia_services.settings import Settings
from gaia_services.supervisor import state_path

__all__ = ["mesh_status"]


async def _probe(name: str, address: str) -> ProbeResult:
    if name in ("shim", "web"):
        return await probe_http(f"{address}/health" if name == "web" else f"{address}/api/v0.2/health")
    return await probe_grpc(address, timeout=1.0)


async def mesh_status(settings: Settings) -> dict[str, Any]:
    path = state_path(settings)
    if not path.exists():
        return {
            "running": False,
            "parts": [
                {"name": "mesh", "state": "stopped", "pid": None, "address": "", "detail": f"no {path}"}
            ],
        }
    state = json.loads(path.read_text())
    supervisor_alive = psutil.pid_exists(int(state["supervisor_pid"]))
    parts: list[dict[str, Any]] = [
        {
            "name": "gaia-up",
            "state": "running" if supervisor_alive else "dead",
            "pid": state["supervisor_pid"],
            "address": "",
            "detail": "",
        }
    ]
    for name, info in state["children"].items():
        alive = info["pid"] is not None and psutil.pid_exists(int(info["pid"]))
        probe = await _probe(name, str(info["address"])) if alive else None
        parts.append(
            {
                "name": name,
                "state": "healthy" if probe and probe.ok else ("unhealthy" if alive else "dead"),
                "pid": info["pid"],
                "address": info["address"],
                "detail": (probe.error if probe and not probe.ok else f"restarts={info['restarts']}"),
            }
        )
    for name, info in state["infra"].items():
        alive = info["pid"] is not None and psutil.pid_exists(int(info["pid"]))
        parts.append(
            {
                "name": name.removeprefix("Embedded").lower(),
                "state": "running" if alive else "dead",
                "pid": info["pid"],
                "address": info["url"],
                "detail": "embedded",
            }
        )
    return {"running": supervisor_alive, "parts": parts}
