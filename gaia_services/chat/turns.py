"""One chat turn, end to end: validate, route, place, prompt, stream, store, record, announce.

``ChatTurns.stream`` is an async generator of plain events: ``TurnStarted``, then ``TurnToken``s as the
provider sends them, then exactly one ``TurnCompleted`` or ``TurnFailed`` (which carries the provider's
``DomainError``). Everything that can refuse the turn (empty message, unknown model, provider without
credentials, unknown conversation) raises before ``TurnStarted``. Both turns are stored before the terminal
event. When the consumer goes away (the RPC is cancelled), the provider stream is closed at once and the user
turn and the partial reply are stored in the background, marked partial. ``ChatTurns.reply`` is the same turn,
whole. Every turn is measured for the performance routes (``Metrics``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gaia_services.chat.catalogue import Door
from gaia_services.chat.history import ChatHistory, HistoryMode, Placement, StoredTurn
from gaia_services.chat.llm_config import LLMSettings
from gaia_services.chat.metrics import Metrics
from gaia_services.chat.persona_prompt import PersonaPrompts
from gaia_services.chat.providers import Prompt, StreamEnd, TextDelta, Turn
from gaia_services.chat.routing import OpenedStream, ProviderRouter, Route
from gaia_services.chat.usage import UsageEntry, cost_of, estimated_cost
from gaia_services.runtime.budgets import Budgets, BudgetScope, Reservation
from gaia_services.runtime.calls import current_call
from gaia_services.runtime.errors import DomainError, InvalidArgument, Unavailable
from gaia_services.runtime.events import EventBus

__all__ = [
    "ChatTurns",
    "TurnCompleted",
    "TurnEvent",
    "TurnFailed",
    "TurnReply",
    "TurnRequest",
    "TurnStarted",
    "TurnToken",
]

_log = logging.getLogger("gaia.chat.turns")


@dataclass(frozen=True, slots=True)
class TurnRequest:
    message: str = ""
    messages: tuple[Turn, ...] = ()
    model: str = ""
    provider: str = ""
    conversation_id: str = ""
    history_mode: HistoryMode | None = None
    use_current_persona: bool = False
    persona_id: str = ""
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    enable_fallback: bool | None = None
    door: Door | None = None  # the front door, when its default model differs from the configured one
    streamed: bool = True  # for usage records: chat_stream or chat

    def user_text(self) -> str:
        if self.messages:
            return next((t.content for t in reversed(self.messages) if t.role == "user"), "")
        return self.message


@dataclass(frozen=True, slots=True)
class TurnStarted:
    conversation_id: str
    model: str
    provider: str
    request_id: str
    created: int
    persona_id: str
    conversation_created: bool


@dataclass(frozen=True, slots=True)
class TurnToken:
    text: str


@dataclass(frozen=True, slots=True)
class TurnCompleted:
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    time_to_first_token_ms: int
    llm_time_ms: int
    total_time_ms: int
    routing_time_ms: int
    fallback_used: bool
    message_id: str
    model: str
    provider: str


@dataclass(frozen=True, slots=True)
class TurnFailed:
    """The provider failed after the turn started (its error: a reason, a message, a kind)."""

    error: DomainError


TurnEvent = TurnStarted | TurnToken | TurnCompleted | TurnFailed


@dataclass(frozen=True, slots=True)
class TurnReply:
    """A whole turn: how it started, the reply text, and how it ended."""

    started: TurnStarted
    text: str
    outcome: TurnCompleted | TurnFailed


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


@dataclass
class _Progress:
    """What a running turn has produced so far (read when it ends, however it ends)."""

    route: Route
    parts: list[str] = field(default_factory=list)
    end: StreamEnd | None = None
    fallback_used: bool = False
    first_token_at: float | None = None
    llm_started: float = 0.0
    reservation: Reservation | None = None  # the turn's budget reservation, settled when it is stored

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What was decided before a turn started."""

    user_id: str
    request: TurnRequest
    user_text: str
    began: float
    routed: float
    route: Route
    placement: Placement
    prompt: Prompt
    fallback: bool
    started: TurnStarted

    @property
    def context(self) -> dict[str, str]:
        started = self.started
        return {
            "request_id": started.request_id,
            "user_id": self.user_id,
            "conversation_id": started.conversation_id,
            "persona_id": started.persona_id,
        }


class ChatTurns:
    def __init__(
        self,
        *,
        settings: LLMSettings,
        router: ProviderRouter,
        history: ChatHistory,
        personas: PersonaPrompts,
        events: EventBus,
        metrics: Metrics,
        budgets: Budgets | None = None,
    ) -> None:
        self._settings = settings
        self._budgets = budgets
        self._router = router
        self._history = history
        self._personas = personas
        self._events = events
        self._metrics = metrics
        self._background: set[asyncio.Task[None]] = set()

    async def drain(self) -> None:
        """Wait for background writes (of cut turns) still running."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _plan(self, *, user_id: str, request_id: str, request: TurnRequest) -> _Plan:
        """Everything decided before the turn starts; raises what refuses the turn."""
        began = time.perf_counter()
        user_text = request.user_text()
        if not user_text.strip():
            raise InvalidArgument("message must not be empty")
        route = self._router.resolve(request.model, request.provider, request.door)
        mode = request.history_mode or (
            HistoryMode.CONVERSATION if request.conversation_id else HistoryMode.NONE
        )
        placement = await self._history.place(
            user_id=user_id, mode=mode, conversation_id=request.conversation_id
        )
        persona = None
        if request.persona_id:
            persona = await self._personas.by_id(request.persona_id)
        elif request.use_current_persona:
            persona = await self._personas.current(user_id)
        system_parts = [persona.prompt] if persona is not None and persona.prompt else []
        if request.messages:
            system_parts += [t.content for t in request.messages if t.role == "system" and t.content]
            turns = tuple(t for t in request.messages if t.role in ("user", "assistant"))
        else:
            past: list[Turn] = []
            if mode is not HistoryMode.NONE and not placement.created:
                past = await self._history.turns(user_id=user_id, conversation_id=placement.conversation_id)
            system_parts += [t.content for t in past if t.role == "system"]
            turns = (*(t for t in past if t.role != "system"), Turn(role="user", content=user_text))
        temperature = request.temperature
        prompt = Prompt(
            model=route.model,
            system="\n\n".join(system_parts),
            turns=turns,
            max_tokens=request.max_tokens or self._settings.default_max_tokens,
            temperature=self._settings.default_temperature if temperature is None else temperature,
            top_p=request.top_p,
            stop=request.stop,
        )
        fallback = request.enable_fallback
        started = TurnStarted(
            conversation_id=placement.conversation_id,
            model=route.model,
            provider=route.provider,
            request_id=request_id,
            created=int(time.time()),
            persona_id=persona.id if persona else "",
            conversation_created=placement.created,
        )
        return _Plan(
            user_id=user_id,
            request=request,
            user_text=user_text,
            began=began,
            routed=time.perf_counter(),
            route=route,
            placement=placement,
            prompt=prompt,
            fallback=self._settings.enable_fallback if fallback is None else fallback,
            started=started,
        )

    async def stream(
        self, *, user_id: str, request_id: str, request: TurnRequest
    ) -> AsyncGenerator[TurnEvent, None]:
        """The caller's turn, measured for the performance routes: planning (validation, conversation,
        persona, provider choice) as ``provider_selection``, the provider's answer as ``llm_api_call``,
        time to first token, and the request shown in flight meanwhile."""
        metrics = self._metrics
        flight = metrics.begin(request_id, user_id=user_id)
        flight.stage = "provider_selection"
        stage_started = time.monotonic()
        run = self._run(user_id=user_id, request_id=request_id, request=request)
        try:
            async for event in run:
                if isinstance(event, TurnStarted):
                    metrics.record_stage("provider_selection", time.monotonic() - stage_started)
                    flight.provider, flight.model, flight.stage = event.provider, event.model, "llm_api_call"
                    stage_started = time.monotonic()
                elif isinstance(event, TurnToken):
                    metrics.first_token(flight)
                elif flight.stage == "llm_api_call":
                    metrics.record_stage("llm_api_call", time.monotonic() - stage_started)
                    flight.stage = "response_processing"
                yield event
        finally:
            metrics.finish(flight)
            await run.aclose()

    async def reply(self, *, user_id: str, request_id: str, request: TurnRequest) -> TurnReply:
        """The caller's turn, whole (measured as ``stream``)."""
        started: TurnStarted | None = None
        parts: list[str] = []
        outcome: TurnCompleted | TurnFailed | None = None
        async for event in self.stream(user_id=user_id, request_id=request_id, request=request):
            if isinstance(event, TurnToken):
                parts.append(event.text)
            elif isinstance(event, TurnStarted):
                started = event
            else:
                outcome = event
        if started is None or outcome is None:
            raise Unavailable("The chat turn ended without an answer")
        return TurnReply(started=started, text="".join(parts), outcome=outcome)

    async def _run(
        self, *, user_id: str, request_id: str, request: TurnRequest
    ) -> AsyncGenerator[TurnEvent, None]:
        plan = await self._plan(user_id=user_id, request_id=request_id, request=request)
        route = plan.route
        reservation = await self._reserve(plan)  # refuses the turn (BudgetExceeded) before any provider call
        await self._events.publish(
            "gaia.chat.message.start",
            {**plan.context, "model": route.model, "provider": route.provider, "timestamp": _now()},
        )
        progress = _Progress(route=route, reservation=reservation)
        opened: OpenedStream | None = None
        outcome = "cut"
        failure: DomainError | None = None
        try:
            yield plan.started
            progress.llm_started = time.perf_counter()
            opened = await self._router.open(route, plan.prompt, fallback=plan.fallback)
            progress.route, progress.fallback_used = opened.route, opened.fallback_used
            event = opened.first
            while True:
                if isinstance(event, StreamEnd):
                    progress.end = event
                    break
                if isinstance(event, TextDelta) and event.text:
                    if progress.first_token_at is None:
                        progress.first_token_at = time.perf_counter()
                    progress.parts.append(event.text)
                    yield TurnToken(event.text)
                try:
                    event = await anext(opened.rest)
                except StopAsyncIteration:
                    break
            outcome = "ok"
        except DomainError as exc:  # only the provider's calls are inside: a provider failure
            outcome, failure = "error", exc
        finally:
            if opened is not None:
                await opened.aclose()
            if outcome == "cut":  # the consumer went away: store what was said, in the background
                self._spawn(self._finish(plan, progress, status="cut", failure=None))
        if outcome == "ok":
            yield await self._complete(plan, progress)
            return
        assert failure is not None
        await self._finish(plan, progress, status="error", failure=failure)
        yield TurnFailed(failure)

    async def _reserve(self, plan: _Plan) -> Reservation | None:
        """Reserve the turn's most expensive outcome from the caller's budgets: the prompt as sent and
        ``max_tokens`` of reply (the request's, or the configured default), at the model's prices."""
        if self._budgets is None:
            return None
        state = current_call.get()
        principal = state.principal if state is not None else None
        if principal is not None and principal.user_id == plan.user_id:
            scope = BudgetScope.of(principal)
        else:
            scope = BudgetScope(user_id=plan.user_id, session=f"user:{plan.user_id}")
        estimate = estimated_cost(self._settings, plan.prompt)
        return await self._budgets.reserve(scope, Decimal(str(estimate)))

    async def _settle(self, reservation: Reservation | None, cost: float) -> None:
        """The turn's real cost (the usage record's) replaces its reservation; no stream is cut for it."""
        if self._budgets is not None and reservation is not None:
            try:
                await self._budgets.settle(reservation, Decimal(str(cost)))
            except Exception as exc:
                _log.warning("budget not settled: %s", exc)

    async def _complete(self, plan: _Plan, progress: _Progress) -> TurnCompleted:
        ended = time.perf_counter()
        message_id = await self._finish(plan, progress, status="ok", failure=None)
        end = progress.end or StreamEnd()
        first = progress.first_token_at or ended
        return TurnCompleted(
            finish_reason=end.finish_reason or "stop",
            prompt_tokens=end.prompt_tokens,
            completion_tokens=end.completion_tokens or len(progress.parts),
            time_to_first_token_ms=_ms(first - plan.began),
            llm_time_ms=_ms(ended - progress.llm_started),
            total_time_ms=_ms(time.perf_counter() - plan.began),
            routing_time_ms=_ms(plan.routed - plan.began),
            fallback_used=progress.fallback_used,
            message_id=message_id,
            model=progress.route.model,
            provider=progress.route.provider,
        )

    async def _finish(
        self, plan: _Plan, progress: _Progress, *, status: str, failure: DomainError | None
    ) -> str:
        """Store the turns and their usage, and publish the outcome; the stored reply's id."""
        route, end, context = progress.route, progress.end or StreamEnd(), plan.context
        reply: str | None = progress.text
        if status != "ok" and not progress.parts:
            reply = None  # nothing was said: only the user turn is kept
        completion = end.completion_tokens or len(progress.parts)
        latency = _ms(time.perf_counter() - plan.began)
        first = progress.first_token_at
        usage = UsageEntry(
            provider=route.provider,
            model=route.model,
            operation="chat_stream" if plan.request.streamed else "chat",
            tokens_in=end.prompt_tokens,
            tokens_out=completion,
            cost=cost_of(self._settings, route.model, end.prompt_tokens, completion),
            latency_ms=latency,
            status=status,
            metadata={
                "fallback_used": progress.fallback_used,
                "time_to_first_token_ms": None if first is None else _ms(first - plan.began),
                **({"error": failure.reason} if failure else {}),
            },
        )
        message_id = ""
        await self._settle(progress.reservation, usage.cost)
        progress.reservation = None
        try:
            message_id = await self._history.store(
                StoredTurn(
                    user_id=plan.user_id,
                    placement=plan.placement,
                    request_id=context["request_id"],
                    user_text=plan.user_text,
                    reply=reply,
                    partial=status != "ok",
                    usage=usage,
                )
            )
        except Exception as exc:
            if status == "ok":
                raise
            _log.warning("turn %s not stored: %s", context["request_id"], exc)
        common = {**context, "message_id": message_id, "model": route.model, "provider": route.provider}
        if status == "ok":
            await self._events.publish(
                "gaia.chat.message.complete",
                {
                    **common,
                    "prompt_tokens": end.prompt_tokens,
                    "completion_tokens": completion,
                    "latency_ms": latency,
                    "fallback_used": progress.fallback_used,
                    "timestamp": _now(),
                },
            )
        else:
            await self._events.publish(
                "gaia.chat.message.failed",
                {
                    **common,
                    "reason": failure.reason if failure else "cancelled",
                    "error": failure.message if failure else "client disconnected",
                    "partial": bool(progress.parts),
                    "timestamp": _now(),
                },
            )
        return message_id


def _now() -> str:
    return datetime.now(UTC).isoformat()
