"""``gaia smoke``: the operator's check of a deployment through the REST shim.

One table of checks (health, auth, a chat, a stream, personas, models, an asset, pricing, usage), each
answered by one request (auth by two) and printed as PASS or FAIL with its HTTP status and time. Any
failure makes the run fail, naming every check that failed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import httpx

__all__ = ["CHECKS", "Outcome", "Smoke", "run_smoke"]


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    ok: bool
    status: int | None  # the HTTP status; None when no answer came
    ms: float
    detail: str = ""


class _Failed(Exception):
    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True, kw_only=True)
class Smoke:
    """What the checks share: the HTTP client (base URL, credentials, timeout) and the chat model."""

    http: httpx.AsyncClient
    model: str

    async def expect(self, response: httpx.Response, *, status: int = 200) -> Any:
        if response.status_code != status:
            raise _Failed(response.status_code, _excerpt(response.text))
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text


def _excerpt(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _health(s: Smoke) -> str:
    body = await s.expect(await s.http.get("/health"))
    services = body.get("services", {}) if isinstance(body, dict) else {}
    sick = sorted(name for name, row in services.items() if row.get("status") != "healthy")
    if sick or body.get("status") not in ("healthy", "ok"):
        raise _Failed(200, f"status {body.get('status')!r}; unhealthy: {', '.join(sick) or '-'}")
    return f"{len(services)} services healthy"


async def _auth(s: Smoke) -> str:
    refused = await s.http.get("/api/v1/auth/profile", headers={"X-API-Key": "", "Authorization": ""})
    if refused.status_code not in (401, 403):
        raise _Failed(refused.status_code, "a call without credentials was not refused")
    body = await s.expect(await s.http.get("/api/v1/auth/profile"))
    user = body.get("user", body) if isinstance(body, dict) else {}
    return f"as {user.get('email', '?')}; anonymous refused {refused.status_code}"


async def _chat(s: Smoke) -> str:
    payload = {"message": "gaia smoke: say something", "model": s.model}
    body = await s.expect(await s.http.post("/api/v1/chat", json=payload))
    reply = str(body.get("response", ""))
    if not reply:
        raise _Failed(200, f"empty reply: {_excerpt(json.dumps(body))}")
    return f"{body.get('model', '?')}: {_excerpt(reply, 40)}"


async def _stream(s: Smoke) -> str:
    payload = {
        "model": s.model,
        "stream": True,
        "messages": [{"role": "user", "content": "gaia smoke: stream something"}],
    }
    pieces: list[str] = []
    done = False
    async with s.http.stream("POST", "/v1/chat/completions", json=payload) as response:
        if response.status_code != 200:
            raise _Failed(response.status_code, _excerpt((await response.aread()).decode(errors="replace")))
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            data = line[len("data: ") :]
            if data == "[DONE]":
                done = True
                break
            chunk = json.loads(data)
            if "error" in chunk:
                raise _Failed(200, f"stream failed: {_excerpt(json.dumps(chunk['error']))}")
            for choice in chunk.get("choices", []):
                pieces.append(choice.get("delta", {}).get("content") or "")
    if not done or not "".join(pieces):
        raise _Failed(200, f"stream ended without {'tokens' if done else '[DONE]'}")
    return f"{len([p for p in pieces if p])} chunks"


async def _personas(s: Smoke) -> str:
    body = await s.expect(await s.http.get("/api/v0.2/personas"))
    rows = body.get("personas", body) if isinstance(body, dict) else body
    return f"{len(rows)} personas" if isinstance(rows, list) else "listed"


async def _models(s: Smoke) -> str:
    body = await s.expect(await s.http.get("/v1/models"))
    ids = [m.get("id") for m in body.get("data", [])]
    if not ids:
        raise _Failed(200, "no models")
    return f"{len(ids)} models"


async def _asset(s: Smoke) -> str:
    payload = {"category": "image", "style": "realistic", "description": "gaia smoke: a small test image"}
    body = await s.expect(await s.http.post("/api/v1/assets/generate", json=payload))
    asset_id = body.get("asset_id", "") if isinstance(body, dict) else ""
    if not asset_id:
        raise _Failed(200, f"no asset id: {_excerpt(json.dumps(body))}")
    return f"asset {asset_id} ({body.get('source', '?')})"


async def _pricing(s: Smoke) -> str:
    body = await s.expect(await s.http.get("/api/v0.2/assets/pricing/providers"))
    rows = body.get("providers", []) if isinstance(body, dict) else body
    names = [r.get("provider") or r.get("name") if isinstance(r, dict) else r for r in rows]
    if not names or not names[0]:
        raise _Failed(200, f"no priced providers: {_excerpt(json.dumps(body))}")
    await s.expect(await s.http.get("/api/v0.2/assets/pricing/current", params={"provider": names[0]}))
    return f"{len(names)} priced providers; {names[0]} current"


async def _usage(s: Smoke) -> str:
    await s.expect(await s.http.get("/api/v0.2/usage/current"))
    return "current usage"


#: The checks, in the order they run: (name, check). A check returns a short detail or raises.
CHECKS: tuple[tuple[str, Callable[[Smoke], Awaitable[str]]], ...] = (
    ("health", _health),
    ("auth", _auth),
    ("chat", _chat),
    ("stream", _stream),
    ("personas", _personas),
    ("models", _models),
    ("asset", _asset),
    ("pricing", _pricing),
    ("usage", _usage),
)


async def _run_one(smoke: Smoke, name: str, check: Callable[[Smoke], Awaitable[str]]) -> Outcome:
    started = time.perf_counter()

    def took() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        detail = await check(smoke)
    except _Failed as failed:
        return Outcome(name, False, failed.status, took(), failed.detail)
    except httpx.TimeoutException:
        return Outcome(name, False, None, took(), "timed out")
    except httpx.HTTPError as exc:
        return Outcome(name, False, None, took(), f"{type(exc).__name__}: {_excerpt(str(exc))}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return Outcome(name, False, 200, took(), f"unexpected answer ({type(exc).__name__}: {exc})")
    return Outcome(name, True, 200, took(), detail)


async def run_smoke(
    url: str,
    *,
    api_key: str = "",
    model: str = "gaia-local",
    timeout: float = 30.0,
    skip: Sequence[str] = (),
    out: TextIO,
) -> list[Outcome]:
    """Run every check against ``url`` and print each outcome to ``out`` as it is known."""
    headers = {"X-API-Key": api_key} if api_key else {}
    outcomes: list[Outcome] = []
    async with httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=timeout) as http:
        smoke = Smoke(http=http, model=model)
        for name, check in CHECKS:
            if name in skip:
                continue
            outcome = await _run_one(smoke, name, check)
            outcomes.append(outcome)
            status = "-" if outcome.status is None else str(outcome.status)
            verdict = "PASS" if outcome.ok else "FAIL"
            print(
                f"{verdict}  {name:<9} {status:>4} {outcome.ms:8.0f} ms  {outcome.detail}",
                file=out,
                flush=True,
            )
    failed = [o.name for o in outcomes if not o.ok]
    if failed:
        print(f"smoke: FAILED {len(failed)} of {len(outcomes)}: {', '.join(failed)}", file=out)
    else:
        print(f"smoke: all {len(outcomes)} checks passed against {url}", file=out)
    return outcomes
