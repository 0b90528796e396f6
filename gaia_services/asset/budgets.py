"""Generation budgets in Redis, enforced: a budget session's spend per day and a user's spend per month.

A generation reserves its expected cost before the provider is called (both counters move atomically, and
move back if either would pass its limit); it then settles to the real cost, or releases on failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import redis.asyncio as redis

from gaia_services.runtime.errors import Exhausted, Unavailable

__all__ = ["Budgets", "Reservation"]

# KEYS: session key, user key. ARGV: amount, session limit, user limit, session ttl, user ttl.
_RESERVE = """
local s = tonumber(redis.call('GET', KEYS[1]) or '0')
local u = tonumber(redis.call('GET', KEYS[2]) or '0')
local amount = tonumber(ARGV[1])
if s + amount > tonumber(ARGV[2]) + 1e-9 then return 1 end
if u + amount > tonumber(ARGV[3]) + 1e-9 then return 2 end
redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('INCRBYFLOAT', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 0
"""

SESSION_EXCEEDED = "Generation budget exceeded for this session"
USER_EXCEEDED = "Monthly generation budget exceeded for this user"


@dataclass(frozen=True, slots=True)
class Reservation:
    session_key: str
    user_key: str
    amount: Decimal


class Budgets:
    def __init__(
        self, *, client: redis.Redis | None, prefix: str, session_daily: float, user_monthly: float
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._session_daily = session_daily
        self._user_monthly = user_monthly

    def keys(self, session_id: str, user_id: str, now: datetime) -> tuple[str, str]:
        return (
            f"{self._prefix}asset:budget:session:{session_id}:{now:%Y%m%d}",
            f"{self._prefix}asset:budget:user:{user_id}:{now:%Y%m}",
        )

    def _redis(self) -> redis.Redis:
        if self._client is None:
            raise Unavailable("Budget store unavailable")
        return self._client

    async def reserve(self, *, session_id: str, user_id: str, amount: Decimal, now: datetime) -> Reservation:
        session_key, user_key = self.keys(session_id, user_id, now)
        try:
            outcome = await self._redis().eval(  # type: ignore[misc]
                _RESERVE,
                2,
                session_key,
                user_key,
                str(amount),
                str(self._session_daily),
                str(self._user_monthly),
                2 * 86400,
                32 * 86400,
            )
        except redis.RedisError as exc:
            raise Unavailable("Budget store unavailable") from exc
        if int(outcome) == 1:
            raise Exhausted(SESSION_EXCEEDED)
        if int(outcome) == 2:
            raise Exhausted(USER_EXCEEDED)
        return Reservation(session_key=session_key, user_key=user_key, amount=amount)

    async def _move(self, reservation: Reservation, delta: Decimal) -> None:
        if not delta:
            return
        try:
            async with self._redis().pipeline(transaction=True) as pipe:
                pipe.incrbyfloat(reservation.session_key, float(delta))
                pipe.incrbyfloat(reservation.user_key, float(delta))
                await pipe.execute()
        except redis.RedisError:
            return  # the counters expire; a lost adjustment only errs on the side of the limit

    async def settle(self, reservation: Reservation, actual: Decimal) -> None:
        await self._move(reservation, actual - reservation.amount)

    async def release(self, reservation: Reservation) -> None:
        await self._move(reservation, -reservation.amount)

    async def spent(self, *, session_id: str, user_id: str, now: datetime) -> tuple[float, float]:
        session_key, user_key = self.keys(session_id, user_id, now)
        values = await self._redis().mget(session_key, user_key)
        return tuple(float(v or 0) for v in values)  # type: ignore[return-value]
