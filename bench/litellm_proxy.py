"""The LiteLLM proxy as a benchmark target: its config (written once the fake's port is known), its offline
environment and its launch with both cores (``--num_workers 2 --timeout_worker_healthcheck 60``: without the
longer health check the second worker never starts on a slow 2-core machine).

The proxy itself lives in its own virtual environment (``scripts/bench`` installs
``litellm[proxy]==1.108.7`` into ``.gaia/bench/litellm-venv``), never in the project's.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

__all__ = ["MASTER_KEY", "VERSION", "argv", "env", "installed_version", "write_config"]

VERSION = "1.108.7"  # never 1.82.7 or 1.82.8 (compromised releases)
MASTER_KEY = "sk-bench-master"
DEFAULT_BIN = Path(__file__).resolve().parents[1] / ".gaia" / "bench" / "litellm-venv" / "bin" / "litellm"


def write_config(path: Path, *, fake_base_url: str, model: str) -> Path:
    """One model routed to the fake (``openai/<model>`` at ``api_base``), a master key, no database.

    JSON is YAML, so no YAML library is needed here."""
    config = {
        "model_list": [
            {
                "model_name": model,
                "litellm_params": {
                    "model": f"openai/{model}",
                    "api_base": fake_base_url,
                    "api_key": "sk-bench",
                },
            }
        ],
        "general_settings": {"master_key": MASTER_KEY},
    }
    path.write_text(json.dumps(config, indent=2))
    return path


def env(base: dict[str, str]) -> dict[str, str]:
    """The proxy's environment: offline (local cost map, no telemetry) and no database, Redis or provider
    settings inherited from the caller's shell."""
    keep = {k: v for k, v in base.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")}
    return {
        **keep,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY_DISABLED": "True",
        "PYTHONUNBUFFERED": "1",
    }


def argv(binary: Path, config: Path, *, port: int, workers: int) -> list[str]:
    return [
        str(binary),
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        str(workers),
        "--timeout_worker_healthcheck",
        "60",
    ]


def installed_version(binary: Path) -> str | None:
    python = binary.parent / "python"
    if not python.exists():
        return None
    out = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        check=False,
    )
    return out.stdout.strip() or None
