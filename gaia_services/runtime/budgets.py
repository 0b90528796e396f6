"""Spend budgets, enforced in Redis across replicas and services: one ledger for chat rounds and generations.

Every spend is checked against the caller's limits before it happens:

- per budget session per day (``session_daily``): the request's ``session_id``, else the caller's sign-in
  session (the JWT's session, else the API key, else the user), never a fresh random one;
- per user per day (``user_daily``) and per calendar month (``user_monthly``), UTC;
- per API key (``api_key``), when the key has a ``max_budget`` (per ``budget_duration``, or for its life).
  The auth service writes each budgeted key's definition to Redis (``budget:keydef:<key id>``, when the key
  is created and whenever it authenticates from Postgres), so every service reads it where it counts.

``reserve`` moves every counter by the estimate atomically (one Lua script: all of them or none), or refuses
with ``BudgetExceeded`` naming the first limit it would pass and when that resets; ``settle`` moves them
to the real cost (the number the usage record carries), ``release`` gives the estimate back. A refusal is
published as ``gaia.budget.exceeded`` and counted in ``gaia_budget_refusals_total{limit}``. With Redis
unreachable a reservation fails closed (``Unavailable``): spend that cannot be counted is not allowed.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import redis.asyncio as redis
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gaia_services.runtime.budget_metrics import BUDGET_REFUSALS
from gaia_services.runtime.errors import Exhausted, InvalidArgument, Unavailable
from gaia_services.runtime.events import EventBus, NullEventBus
from gaia_services.runtime.principal import AuthType, KeyBudget, Principal

__all__ = [
    "BUDGET_EXCEEDED",
    "BudgetExceeded",
    "BudgetScope",
    "BudgetSettings",
    "BudgetStatus",
    "Budgets",
    "Reservation",
    "parse_duration",
]

_log = logging.getLogger("gaia.budgets")

BUDGET_EXCEEDED = "gaia.budget.exceeded"
UNAVAILABLE = "Budget store unavailable"
_REDIS_ERRORS = (redis.RedisError, OSError, TimeoutError)
_DURATION = re.compile(r"^(\d{1,6})([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# KEYS: the counters. ARGV[1]: the amount; then, per counter i, ARGV[2i] its limit and ARGV[2i+1] its TTL
# (0: none). Returns the 1-based index of the first counter the amount would take past its limit, or 0 after
# moving every counter by the amount.
_RESERVE = """
local amount = tonumber(ARGV[1])
for i = 1, #KEYS do
  local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
  if spent + amount > tonumber(ARGV[2 * i]) + 1e-9 then return i end
end
for i = 1, #KEYS do
  redis.call('INCRBYFLOAT', KEYS[i], ARGV[1])
  local ttl = tonumber(ARGV[2 * i + 1])
  if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 0
"""


class BudgetSettings(BaseSettings):
    """The spend limits (US dollars), prefix ``GAIA_BUDGET_``; the asset service's older names are aliases."""

    model_config = SettingsConfigDict(
        env_prefix="GAIA_BUDGET_", extra="ignore", frozen=True, populate_by_name=True
    )

    session_daily: float = Field(
        default=0.50,
        validation_alias=AliasChoices(
            "GAIA_BUDGET_SESSION_DAILY", "GAIA_ASSET_SESSION_DAILY_BUDGET", "MAX_GENERATION_COST_PER_ASSET"
        ),
    )
    user_daily: float = Field(
        default=5.0,
        validation_alias=AliasChoices("GAIA_BUDGET_USER_DAILY", "GAIA_ASSET_USER_DAILY_BUDGET"),
    )
    user_monthly: float = Field(
        default=50.0,
        validation_alias=AliasChoices("GAIA_BUDGET_USER_MONTHLY", "GAIA_ASSET_USER_MONTHLY_BUDGET"),
    )


def parse_duration(text: str) -> int:
    """``"30d"`` → seconds (units s, m, h, d); ``InvalidArgument`` otherwise. Empty is 0 (no reset)."""
    if not text:
        return 0
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise InvalidArgument(f"budget_duration must look like 30d, 12h, 15m or 60s, not {text!r}")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


@dataclass(frozen=True, slots=True)
class BudgetScope:
    """Whose money a spend is: the user, the budget session, and the API key (with its budget) if any."""

    user_id: str
    session: str
    api_key_id: str = ""
    key_budget: KeyBudget | None = None

    @classmethod
    def of(cls, principal: Principal, session_id: str = "") -> BudgetScope:
        """The caller's scope; the budget session is ``session_id``, else the caller's sign-in session."""
        if session_id:
            session = f"req:{session_id}"
        elif principal.session_id:
            session = f"jwt:{principal.session_id}"
        elif principal.auth_type is AuthType.API_KEY and principal.api_key_id:
            session = f"key:{principal.api_key_id}"
        else:
            session = f"user:{principal.user_id}"
        return cls(
            user_id=principal.user_id,
            session=session,
            api_key_id=principal.api_key_id,
            key_budget=principal.key_budget,
        )


@dataclass(frozen=True, slots=True)
class _Counter:
    limit: str  # session_daily, api_key, user_daily, user_monthly
    key: str
    limit_usd: float
    ttl_s: int
    resets_at: datetime | None  # None: never (a key's lifetime budget)


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    limit: str
    limit_usd: float
    spent_usd: float
    resets_at: datetime | None

    @property
    def remaining_usd(self) -> float:
        return round(max(0.0, self.limit_usd - self.spent_usd), 6)


@dataclass(frozen=True, slots=True)
class Reservation:
    keys: tuple[str, ...]
    amount: Decimal


class BudgetExceeded(Exhausted):
    """A spend refused because it would pass ``limit``; ``resets_at`` is when that limit starts afresh."""

    def __init__(self, message: str, *, limit: str, resets_at: datetime | None) -> None:
        retry = None if resets_at is None else max(1, int((resets_at - datetime.now(UTC)).total_seconds()))
        super().__init__(message, retry_after_s=retry, reason="budget_exceeded")
        self.limit = limit
        self.resets_at = resets_at


def _stamp(moment: datetime | None) -> str:
    return "never" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_WHAT = {
    "session_daily": "Daily budget of ${usd:.2f} exceeded for this session",
    "user_daily": "Daily budget of ${usd:.2f} exceeded for this user",
    "user_monthly": "Monthly budget of ${usd:.2f} exceeded for this user",
    "api_key": "Budget of ${usd:.2f} exceeded for this API key",
}


def _message(counter: _Counter) -> str:
    what = _WHAT[counter.limit].format(usd=counter.limit_usd)
    if counter.resets_at is None:
        return f"{what} (it does not reset)"
    return f"{what}; resets at {_stamp(counter.resets_at)}"


class Budgets:
    def __init__(
        self,
        *,
        client: redis.Redis | None,
        prefix: str,
        settings: BudgetSettings,
        events: EventBus | None = None,
        service: str = "",
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._settings = settings
        self._events = events or NullEventBus()
        self._service = service

    @property
    def settings(self) -> BudgetSettings:
        return self._settings

    def _counters(self, scope: BudgetScope, now: datetime) -> list[_Counter]:
        now = now.astimezone(UTC)
        day = datetime(now.year, now.month, now.day, tzinfo=UTC)
        month = datetime(now.year, now.month, 1, tzinfo=UTC)
        next_month = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
        p, s = f"{self._prefix}budget:", self._settings
        counters = [
            _Counter(
                "session_daily",
                f"{p}session:{scope.session}:{now:%Y%m%d}",
                s.session_daily,
                2 * 86400,
                day + timedelta(days=1),
            )
        ]
        if scope.api_key_id and scope.key_budget is not None:
            seconds = parse_duration(scope.key_budget.duration)
            if seconds:
                window = int(now.timestamp()) // seconds
                key, ttl = f"{p}key:{scope.api_key_id}:{seconds}:{window}", seconds + 86400
                resets: datetime | None = datetime.fromtimestamp((window + 1) * seconds, UTC)
            else:
                key, ttl, resets = f"{p}key:{scope.api_key_id}:life", 0, None
            counters.append(_Counter("api_key", key, scope.key_budget.max_budget, ttl, resets))
        counters += [
            _Counter(
                "user_daily",
                f"{p}user:{scope.user_id}:{now:%Y%m%d}",
                s.user_daily,
                2 * 86400,
                day + timedelta(days=1),
            ),
            _Counter(
                "user_monthly",
                f"{p}user:{scope.user_id}:{month:%Y%m}",
                s.user_monthly,
                32 * 86400,
                next_month,
            ),
        ]
        return counters

    def _def_key(self, api_key_id: str) -> str:
        return f"{self._prefix}budget:keydef:{api_key_id}"

    async def define_key(self, api_key_id: str, budget: KeyBudget | None) -> None:
        """Publish (or, with None, withdraw) a key's budget to every service. A failure is logged: the next
        authentication of the key from Postgres writes it again."""
        if self._client is None:
            return
        try:
            if budget is None:
                await self._client.delete(self._def_key(api_key_id))
            else:
                value = json.dumps({"max_budget": budget.max_budget, "duration": budget.duration})
                await self._client.set(self._def_key(api_key_id), value)
        except _REDIS_ERRORS as exc:
            _log.warning("key budget of %s not published: %s", api_key_id, type(exc).__name__)

    async def _resolved(self, scope: BudgetScope) -> BudgetScope:
        """``scope`` with its key's budget, read from the published definitions when not already known."""
        if not scope.api_key_id or scope.key_budget is not None:
            return scope
        try:
            raw = await self._redis().get(self._def_key(scope.api_key_id))
        except _REDIS_ERRORS as exc:
            raise Unavailable(UNAVAILABLE) from exc
        if raw is None:
            return scope
        data = json.loads(raw)
        budget = KeyBudget(max_budget=float(data["max_budget"]), duration=str(data.get("duration") or ""))
        return replace(scope, key_budget=budget)

    def _redis(self) -> redis.Redis:
        if self._client is None:
            raise Unavailable(UNAVAILABLE)
        return self._client

    async def reserve(
        self, scope: BudgetScope, amount: Decimal, *, now: datetime | None = None
    ) -> Reservation:
        """Move every counter of ``scope`` by ``amount``, or refuse (``BudgetExceeded``) moving none."""
        scope = await self._resolved(scope)
        counters = self._counters(scope, now or datetime.now(UTC))
        amount = max(Decimal(0), amount)
        args: list[str | int] = [str(amount)]
        for counter in counters:
            args += [repr(counter.limit_usd), counter.ttl_s]
        try:
            outcome = int(
                await self._redis().eval(  # type: ignore[misc]
                    _RESERVE, len(counters), *(c.key for c in counters), *args
                )
            )
        except _REDIS_ERRORS as exc:
            raise Unavailable(UNAVAILABLE) from exc
        if outcome:
            await self._refused(scope, counters[outcome - 1], amount)
        return Reservation(keys=tuple(c.key for c in counters), amount=amount)

    async def _refused(self, scope: BudgetScope, counter: _Counter, amount: Decimal) -> None:
        BUDGET_REFUSALS.labels(limit=counter.limit).inc()
        error = BudgetExceeded(_message(counter), limit=counter.limit, resets_at=counter.resets_at)
        await self._events.publish(
            BUDGET_EXCEEDED,
            {
                "limit": counter.limit,
                "limit_usd": counter.limit_usd,
                "requested_usd": float(amount),
                "user_id": scope.user_id,
                "api_key_id": scope.api_key_id,
                "budget_session": scope.session,
                "resets_at": None if counter.resets_at is None else _stamp(counter.resets_at),
                "service": self._service,
                "message": error.message,
                "timestamp": datetime.now(UTC).isoformat(),
            },
        )
        raise error

    async def _move(self, keys: tuple[str, ...], delta: Decimal, ttls: tuple[int, ...] = ()) -> None:
        if not delta or self._client is None:
            return
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.incrbyfloat(key, float(delta))
                for key, ttl in zip(keys, ttls, strict=False):
                    if ttl:
                        pipe.expire(key, ttl)
                await pipe.execute()
        except _REDIS_ERRORS as exc:  # the counters expire; a lost adjustment is logged, not raised
            _log.warning("budget adjustment of %s lost: %s", delta, type(exc).__name__)

    async def settle(self, reservation: Reservation, actual: Decimal) -> None:
        """The spend's real cost replaces its estimate."""
        await self._move(reservation.keys, max(Decimal(0), actual) - reservation.amount)

    async def release(self, reservation: Reservation) -> None:
        """Nothing was spent: the estimate comes back."""
        await self._move(reservation.keys, -reservation.amount)

    async def charge(self, scope: BudgetScope, amount: Decimal, *, now: datetime | None = None) -> None:
        """Count a spend that already happened (no check: e.g. usage logged after the fact)."""
        try:
            scope = await self._resolved(scope)
        except Unavailable:
            return
        counters = self._counters(scope, now or datetime.now(UTC))
        await self._move(
            tuple(c.key for c in counters), max(Decimal(0), amount), tuple(c.ttl_s for c in counters)
        )

    async def status(self, scope: BudgetScope, *, now: datetime | None = None) -> list[BudgetStatus]:
        """Each limit of ``scope``: its size, what is spent (reservations in flight included), its reset."""
        scope = await self._resolved(scope)
        counters = self._counters(scope, now or datetime.now(UTC))
        try:
            values = await self._redis().mget([c.key for c in counters])
        except _REDIS_ERRORS as exc:
            raise Unavailable(UNAVAILABLE) from exc
        return [
            BudgetStatus(
                limit=c.limit,
                limit_usd=c.limit_usd,
                spent_usd=round(float(v or 0), 6),
                resets_at=c.resets_at,
            )
            for c, v in zip(counters, values, strict=True)
        ]
