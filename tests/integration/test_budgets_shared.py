"""The budget ledger of two replicas (two ``Budgets``, each with its own connection, as two chat services
have) on the one real Redis: one limit, not two, under concurrency; refusals name the limit and its reset;
a key's budget published by auth is what every replica counts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import redis.asyncio as redis

from gaia_services.runtime.budgets import BudgetExceeded, Budgets, BudgetScope, BudgetSettings
from gaia_services.runtime.principal import AuthType, KeyBudget, Principal
from tests.support.infra import Infra


@pytest.fixture
async def replicas(infra: Infra) -> AsyncIterator[tuple[Budgets, Budgets]]:
    clients = [redis.from_url(infra.redis_url, decode_responses=True) for _ in range(2)]
    settings = BudgetSettings(session_daily=0.5, user_daily=1.0, user_monthly=50.0)
    prefix = f"{infra.redis_prefix}shared-{uuid.uuid4().hex[:8]}:"
    try:
        yield (
            Budgets(client=clients[0], prefix=prefix, settings=settings, service="chat"),
            Budgets(client=clients[1], prefix=prefix, settings=settings, service="chat"),
        )
    finally:
        for client in clients:
            await client.aclose()


async def test_two_replicas_hold_one_limit_under_concurrency(replicas: tuple[Budgets, Budgets]) -> None:
    user = str(uuid.uuid4())
    scopes = [BudgetScope(user_id=user, session=f"req:{uuid.uuid4()}") for _ in range(40)]

    async def spend(i: int) -> bool:
        budgets = replicas[i % 2]
        try:
            reservation = await budgets.reserve(scopes[i], Decimal("0.10"))
        except BudgetExceeded:
            return False
        await asyncio.sleep(0.01)
        await budgets.settle(reservation, Decimal("0.10"))
        return True

    outcomes = await asyncio.gather(*(spend(i) for i in range(40)))
    assert sum(outcomes) == 10  # 10 x 0.10 = the user's 1.00 a day, across both replicas
    status = {s.limit: s for s in await replicas[1].status(scopes[0])}
    assert status["user_daily"].spent_usd == pytest.approx(1.0) and status["user_daily"].remaining_usd == 0


async def test_a_refusal_names_its_limit_and_reset_and_releases_nothing(
    replicas: tuple[Budgets, Budgets],
) -> None:
    a, b = replicas
    principal = Principal(user_id=str(uuid.uuid4()), auth_type=AuthType.JWT, session_id=str(uuid.uuid4()))
    scope = BudgetScope.of(principal)
    assert scope.session == f"jwt:{principal.session_id}"  # the sign-in session, never a fresh one
    held = await a.reserve(scope, Decimal("0.40"))
    with pytest.raises(BudgetExceeded) as refused:
        await b.reserve(scope, Decimal("0.20"))
    assert refused.value.limit == "session_daily" and refused.value.retry_after_s
    assert refused.value.message.startswith("Daily budget of $0.50 exceeded for this session; resets at ")
    await a.release(held)
    await b.reserve(scope, Decimal("0.50"))  # released: the whole session budget is there again


async def test_a_published_key_budget_is_counted_by_every_replica(replicas: tuple[Budgets, Budgets]) -> None:
    a, b = replicas
    key_id = str(uuid.uuid4())
    await a.define_key(key_id, KeyBudget(max_budget=0.3, duration="30d"))
    principal = Principal(user_id=str(uuid.uuid4()), auth_type=AuthType.API_KEY, api_key_id=key_id)
    for _ in range(3):
        await b.reserve(BudgetScope.of(principal, str(uuid.uuid4())), Decimal("0.10"))
    with pytest.raises(BudgetExceeded) as refused:
        await a.reserve(BudgetScope.of(principal, str(uuid.uuid4())), Decimal("0.01"))
    assert refused.value.limit == "api_key"
    assert "Budget of $0.30 exceeded for this API key" in refused.value.message
