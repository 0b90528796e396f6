"""The generation pipeline: budget, provider (with fallback), storage, rows and usage, with progress events.

Nothing is left behind by a generation that does not complete: the budget reservation is released, a stored
file is deleted and the rows are never committed, whether the provider failed, timed out, or the caller went
away.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from gaia_services.asset.assets import AssetRecord, AssetStore
from gaia_services.asset.budgets import refusal_message
from gaia_services.asset.providers.base import (
    GeneratedFile,
    GenerationSpec,
    Polling,
    Provider,
    api_error,
    enhance,
)
from gaia_services.asset.storage import Storage, content_type_for
from gaia_services.asset.usage import UsageRecord, UsageStore
from gaia_services.runtime.budgets import BudgetExceeded, Budgets, BudgetScope, Reservation
from gaia_services.runtime.errors import DomainError, failure_code
from gaia_services.runtime.events import EventBus
from gaia_services.runtime.principal import Principal

__all__ = ["Done", "Event", "Failed", "GenerationRequest", "Generator", "Progress"]

_log = logging.getLogger("gaia.asset.generation")


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    category: str
    style: str
    description: str
    quality: str = "medium"
    session_id: str = ""


@dataclass(frozen=True, slots=True)
class Progress:
    stage: str  # queued, budget_checked, provider_called, polling, stored
    message: str
    percent: int
    provider: str = ""


@dataclass(frozen=True, slots=True)
class Done:
    asset: AssetRecord


@dataclass(frozen=True, slots=True)
class Failed:
    """The generation's terminal failure; ``code`` is ``failure_code`` of the error (a status number)."""

    code: int
    reason: str
    message: str


Event = Progress | Done | Failed


class Generator:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        store: AssetStore,
        storage: Storage,
        budgets: Budgets,
        usage: UsageStore,
        events: EventBus,
        providers: Callable[[str], list[Provider]],
    ) -> None:
        self._pool = pool
        self._store = store
        self._storage = storage
        self._budgets = budgets
        self._usage = usage
        self._events = events
        self._providers = providers

    async def _publish(self, outcome: str, payload: dict[str, object]) -> None:
        await self._events.publish(
            f"gaia.asset.generation.{outcome}",
            {**payload, "timestamp": datetime.now(UTC).replace(tzinfo=None).isoformat()},
        )

    async def _save(
        self,
        request: GenerationRequest,
        spec: GenerationSpec,
        generated: GeneratedFile,
        *,
        key: str,
        started: float,
        generation_id: str,
        session_id: str,
        scope: BudgetScope,
    ) -> AssetRecord:
        """The asset and generation rows and the usage record, in one transaction."""
        asset_id = key.rsplit("/", 1)[-1].split(".", 1)[0]
        user_id = scope.user_id
        now = datetime.now(UTC)
        record = AssetRecord(
            asset_id=asset_id,
            user_id=user_id,
            category=request.category,
            title=request.description[:100] or request.category,
            description=request.description,
            style_tags=(request.style,) if request.style else (),
            storage_type=self._storage.kind,
            storage_key=key,
            file_format=generated.file_format,
            file_size_mb=round(len(generated.data) / (1024 * 1024), 6),
            quality_score=0.5 if generated.external_source == "local" else 0.85,
            license_type="proprietary",
            attribution_required=False,
            created_at=now.replace(tzinfo=None),
            cost=generated.cost,
            response_time_ms=int((time.perf_counter() - started) * 1000),
            external_source=generated.external_source,
            source_name=generated.source_name,
            metadata={
                "prompt": request.description,
                "enhanced_prompt": spec.prompt,
                "style": request.style,
                "quality": generated.details.get("quality", request.quality),
                **{k: v for k, v in generated.details.items() if k != "quality"},
                "generation_id": generation_id,
                "session_id": session_id,
                "generated_at": now.replace(tzinfo=None).isoformat(),
            },
        )
        async with self._pool.acquire() as conn, conn.transaction():
            await self._store.insert(
                conn,
                record,
                prompt=spec.prompt,
                session_id=session_id,
                generation_metadata={
                    "generation_id": generation_id,
                    "provider": generated.external_source,
                },
            )
            await self._usage.record(
                UsageRecord(
                    user_id=user_id,
                    provider=generated.usage_provider,
                    operation=generated.operation,
                    model=generated.model,
                    images=generated.images,
                    models_3d=generated.models_3d,
                    credits=generated.credits,
                    cost=generated.cost,
                    latency_ms=record.response_time_ms,
                    metadata={
                        "asset_id": asset_id,
                        "session_id": session_id,
                        "category": request.category,
                        "budget_session": scope.session,
                        **({"api_key_id": scope.api_key_id} if scope.api_key_id else {}),
                    },
                ),
                conn=conn,
            )
        return record

    async def _attempt(
        self, chain: list[Provider], spec: GenerationSpec
    ) -> AsyncIterator[Progress | GeneratedFile]:
        """Each provider in turn until one produces the file; the last provider's error otherwise."""
        last_error: DomainError | None = None
        for provider in chain:
            yield Progress("provider_called", f"Calling {provider.name}", 20, provider.name)
            generated: GeneratedFile | None = None
            try:
                async for item in provider.run(spec):
                    if isinstance(item, Polling):
                        percent = 20 + min(item.percent, 100) * 6 // 10
                        yield Progress(
                            "polling", item.message or "Waiting for the provider", percent, provider.name
                        )
                    else:
                        generated = item
            except DomainError as exc:
                _log.warning("provider %s failed: %s", provider.name, exc.message)
                last_error = exc
                continue
            if generated is not None:
                yield generated
                return
        raise last_error or api_error("No provider produced the asset")

    async def _undo(
        self, stored_key: str | None, reservation: Reservation | None, event: dict[str, object]
    ) -> None:
        """Leave nothing behind: the stored file goes, the budget comes back, the failure is announced."""
        with contextlib.suppress(Exception):
            if stored_key is not None:
                await self._storage.delete(stored_key)
        with contextlib.suppress(Exception):
            if reservation is not None:
                await self._budgets.release(reservation)
        await self._publish("failed", event)

    async def generate(
        self, request: GenerationRequest, *, caller: Principal, generation_id: str
    ) -> AsyncIterator[Event]:
        """Generate for ``caller``, spending from their budgets: the budget session is the request's
        ``session_id``, else the caller's sign-in session (never a fresh one)."""
        started = time.perf_counter()
        scope = BudgetScope.of(caller, request.session_id)
        user_id = scope.user_id
        session_id = request.session_id or scope.session
        base = {"generation_id": generation_id, "category": request.category, "session_id": session_id}
        await self._publish("started", {**base, "style": request.style, "user_id": user_id})
        yield Progress("queued", "Generation accepted", 0)
        chain = self._providers(request.category)
        spec = GenerationSpec(
            category=request.category,
            style=request.style,
            description=request.description,
            quality=request.quality,
            prompt=enhance(request.description, request.style),
        )
        reservation: Reservation | None = None
        stored_key: str | None = None
        committed = False
        failure = "cancelled"
        try:
            try:
                reservation = await self._budgets.reserve(scope, chain[0].cost(spec))
            except BudgetExceeded as exc:
                failure = refusal_message(exc)
                yield Failed(failure_code(exc), "budget_exceeded", failure)
                return
            yield Progress("budget_checked", "Budget checked", 10)
            generated: GeneratedFile | None = None
            try:
                async for item in self._attempt(chain, spec):
                    if isinstance(item, Progress):
                        yield item
                    else:
                        generated = item
            except DomainError as error:
                failure = error.message
                yield Failed(failure_code(error), error.reason, f"Asset request failed: {error.message}")
                return
            assert generated is not None
            asset_id = str(uuid.uuid4())
            key = f"generated/{request.category}/{asset_id}.{generated.file_format}"
            stored_key = key
            await self._storage.put(key, generated.data, content_type_for(generated.file_format))
            record = await self._save(
                request,
                spec,
                generated,
                key=key,
                started=started,
                generation_id=generation_id,
                session_id=session_id,
                scope=scope,
            )
            committed = True
            await self._budgets.settle(reservation, generated.cost)
            await self._publish(
                "completed",
                {
                    **base,
                    "asset_id": asset_id,
                    "cost": float(generated.cost),
                    "generation_time_ms": record.response_time_ms,
                    "user_id": user_id,
                },
            )
            yield Progress("stored", "Asset stored", 100, generated.external_source)
            yield Done(record)
        except Exception as exc:
            failure = "internal error"
            _log.error("generation %s failed", generation_id, exc_info=exc)
            raise
        finally:
            if not committed:
                await self._undo(stored_key, reservation, {**base, "error": failure, "user_id": user_id})
