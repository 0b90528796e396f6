"""The caller's usage: recording it, and the reports over it (current month, daily history, plan limits,
the bill, the monthly report and cost analytics), as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from gaia_services.asset import reports
from gaia_services.asset.catalogue import PricingCatalogue
from gaia_services.asset.settings import AssetSettings
from gaia_services.asset.usage import OperationTotals, ProviderTotals, UsageRecord, UsageStore
from gaia_services.runtime.budgets import Budgets, BudgetScope, BudgetStatus
from gaia_services.runtime.errors import Forbidden, InvalidArgument, NotFound, Unavailable
from gaia_services.runtime.principal import Principal

__all__ = [
    "Analytics",
    "Billing",
    "CurrentUsage",
    "DayUsage",
    "LoggedUsage",
    "MonthlyReport",
    "UsageHistory",
    "UsageLimits",
    "UsageReports",
]

_MAX_HISTORY_DAYS = 3660
_MAX_PERIOD_DAYS = 3660
#: Scopes that may record usage for another user (other services reporting their callers' use).
_RECORDERS = ("admin", "service")


@dataclass(frozen=True, slots=True)
class LoggedUsage:
    usage_id: str
    cost: float
    at: datetime


@dataclass(frozen=True, slots=True)
class CurrentUsage:
    period: reports.Period
    totals: list[ProviderTotals]
    grand: ProviderTotals
    as_of: datetime


@dataclass(frozen=True, slots=True)
class DayUsage:
    day: date
    grand: ProviderTotals  # of the providers asked for
    breakdown: list[ProviderTotals]  # every provider


@dataclass(frozen=True, slots=True)
class UsageHistory:
    first: date
    last: date
    days: int
    entries: list[DayUsage]
    total_cost: Decimal
    total_requests: int
    peak_day: str  # ISO date, or "" when nothing was spent

    @property
    def average_daily_cost(self) -> float:
        return round(float(self.total_cost) / self.days, 6)


@dataclass(frozen=True, slots=True)
class UsageLimits:
    period: reports.Period
    limits: list[tuple[str, reports.Limit]]
    alerts: list[reports.Alert]


@dataclass(frozen=True, slots=True)
class Billing:
    period: reports.Period
    charges: reports.Charges
    estimated_next_bill: float
    alerts: list[reports.Alert]


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    year: int
    month: int
    generated_at: datetime
    totals: list[ProviderTotals]
    grand: ProviderTotals
    operations: list[OperationTotals]
    charges: reports.Charges
    suggestions: list[reports.Suggestion]


@dataclass(frozen=True, slots=True)
class Analytics:
    first: date
    last: date
    grand: ProviderTotals
    breakdown: list[ProviderTotals]  # most expensive first
    trends: list[tuple[date, Decimal]]  # each day's cost
    top_operations: list[OperationTotals]
    provider_cost: Decimal | None  # of the provider asked for, when it was used


class UsageReports:
    """Reports over the usage records. The costs of chat rounds and generations are written here and counted
    by the budgets (``runtime.budgets``) as the same numbers; ``budgets`` shows the caller's limits."""

    def __init__(
        self,
        *,
        usage: UsageStore,
        catalogue: PricingCatalogue,
        settings: AssetSettings,
        budgets: Budgets | None = None,
    ) -> None:
        self._usage = usage
        self._catalogue = catalogue
        self._settings = settings
        self._budgets = budgets

    async def budgets(self, caller: Principal, *, session_id: str = "") -> list[BudgetStatus]:
        """The caller's spend limits and their use (none when the budget store cannot be reached)."""
        if self._budgets is None:
            return []
        try:
            return await self._budgets.status(BudgetScope.of(caller, session_id))
        except Unavailable:
            return []

    async def record(self, record: UsageRecord, *, caller: Principal) -> str:
        """A usage row; only admins and services may record for another user than themselves. (Reported,
        not counted by the budgets: they count the spends the mesh makes, chat rounds and generations.)"""
        if record.user_id != caller.user_id and not any(scope in caller.scopes for scope in _RECORDERS):
            raise Forbidden("Usage may only be recorded for the caller's own user")
        if not record.provider or not record.operation:
            raise InvalidArgument("provider and operation are required")
        return await self._usage.record(record)

    async def log(
        self,
        user_id: str,
        *,
        provider: str,
        operation: str,
        cost: float | None,
        model: str = "",
        tokens: int | None = None,
        images: int = 0,
        credits: float = 0.0,
        quality: str = "",
        request_id: str = "",
    ) -> LoggedUsage:
        """The legacy usage log: one row for ``user_id``, stamped now (reported, not counted by the budgets:
        a client's own record of spend elsewhere)."""
        for name, present in (
            ("provider", bool(provider)),
            ("operation", bool(operation)),
            ("cost", cost is not None),
        ):
            if not present:
                raise InvalidArgument(f"Missing required field: {name}")
        assert cost is not None
        if cost < 0:
            raise InvalidArgument("cost must not be negative")
        now = datetime.now(UTC)
        usage_id = await self._usage.record(
            UsageRecord(
                user_id=user_id,
                provider=provider,
                operation=operation,
                model=model,
                tokens_in=max(0, tokens or 0),
                images=max(0, images),
                credits=max(0.0, credits),
                cost=Decimal(str(cost)),
                request_id=request_id or None,
                metadata={"source": "usage_log", "quality": quality or "standard"},
                occurred_at=now,
            )
        )
        return LoggedUsage(usage_id=usage_id, cost=cost, at=now)

    async def current(self, user_id: str, *, provider: str = "") -> CurrentUsage:
        now = datetime.now(UTC)
        period = reports.month_period(now)
        totals = reports.listed(await self._usage.by_provider(user_id, period.start, period.stop))
        if provider and reports.find(totals, provider) is None:
            raise NotFound(f"No usage data for provider: {provider}")
        return CurrentUsage(period=period, totals=totals, grand=reports.grand_total(totals), as_of=now)

    async def history(self, user_id: str, *, days: int = 0, provider: str = "") -> UsageHistory:
        """One entry per day of the last ``days`` (30 when 0), today included."""
        if days < 0:
            raise InvalidArgument("days must be a positive number")
        if days > _MAX_HISTORY_DAYS:  # one entry per day: bound the answer (and the date arithmetic)
            raise InvalidArgument(f"days must be at most {_MAX_HISTORY_DAYS}")
        days = days or 30
        today = datetime.now(UTC).date()
        first = today - timedelta(days=days - 1)
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        stop = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
        by_day = await self._usage.by_day(user_id, start, stop)
        entries = []
        peak, peak_cost = "", Decimal(0)
        total_cost, total_requests = Decimal(0), 0
        for day in reports.day_range(first, today):
            every = reports.listed(by_day.get(day, ()))
            grand = reports.grand_total(t for t in every if not provider or t.provider == provider)
            if grand.cost > peak_cost:
                peak, peak_cost = day.isoformat(), grand.cost
            total_cost += grand.cost
            total_requests += grand.requests
            entries.append(DayUsage(day=day, grand=grand, breakdown=every))
        return UsageHistory(
            first=first,
            last=today,
            days=days,
            entries=entries,
            total_cost=total_cost,
            total_requests=total_requests,
            peak_day=peak,
        )

    async def _limits(
        self, user_id: str, now: datetime
    ) -> tuple[reports.Period, list[tuple[str, reports.Limit]], list[ProviderTotals]]:
        period = reports.month_period(now)
        month = await self._usage.by_provider(user_id, period.start, period.stop)
        day_start = datetime(now.year, now.month, now.day, tzinfo=UTC)
        today = await self._usage.by_provider(user_id, day_start, day_start + timedelta(days=1))
        book = await self._catalogue.ready()
        return period, reports.limits(book, self._settings, month, today), month

    async def limits(self, user_id: str, *, provider: str = "") -> UsageLimits:
        period, rows, _ = await self._limits(user_id, datetime.now(UTC))
        chosen = [(p, limit) for p, limit in rows if not provider or p == provider]
        return UsageLimits(period=period, limits=chosen, alerts=reports.alerts(chosen))

    async def billing(self, user_id: str) -> Billing:
        now = datetime.now(UTC)
        period, rows, month = await self._limits(user_id, now)
        book = await self._catalogue.ready()
        bill = reports.charges(rows, book, month)
        return Billing(
            period=period,
            charges=bill,
            estimated_next_bill=reports.projected(bill, period, now),
            alerts=reports.alerts(rows),
        )

    async def monthly(self, user_id: str, *, month: str = "") -> MonthlyReport:
        """The report of ``month`` (``YYYY-MM``; this month when empty)."""
        now = datetime.now(UTC)
        year, month_number = reports.parse_month(month) if month else (now.year, now.month)
        period = reports.month_period(now, year, month_number)
        used = await self._usage.by_provider(user_id, period.start, period.stop)
        operations = await self._usage.by_operation(user_id, period.start, period.stop)
        book = await self._catalogue.ready()
        rows = reports.limits(book, self._settings, used, [])
        totals = reports.listed(used)
        return MonthlyReport(
            year=year,
            month=month_number,
            generated_at=now,
            totals=totals,
            grand=reports.grand_total(totals),
            operations=operations,
            charges=reports.charges(rows, book, used),
            suggestions=reports.suggestions(book, used),
        )

    async def analytics(
        self, user_id: str, *, start_date: str = "", end_date: str = "", provider: str = ""
    ) -> Analytics:
        """Costs from ``start_date`` to ``end_date`` (ISO days; the 30 days before today by default)."""
        now = datetime.now(UTC)
        last = reports.parse_day(end_date) if end_date else now.date()
        first = reports.parse_day(start_date) if start_date else last - timedelta(days=30)
        if (last - first).days > _MAX_PERIOD_DAYS:  # one trend entry per day: bound the answer
            raise InvalidArgument(f"The period must be at most {_MAX_PERIOD_DAYS} days")
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        stop = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        totals = reports.listed(await self._usage.by_provider(user_id, start, stop))
        days = await self._usage.by_day(user_id, start, stop) if first <= last else {}
        operations = await self._usage.by_operation(user_id, start, stop)
        match = reports.find(totals, provider) if provider else None
        return Analytics(
            first=first,
            last=last,
            grand=reports.grand_total(totals),
            breakdown=sorted(totals, key=lambda t: -t.cost),
            trends=[
                (day, sum((t.cost for t in days.get(day, ())), Decimal(0)))
                for day in (reports.day_range(first, last) if first <= last else [])
            ],
            top_operations=operations[:3],
            provider_cost=None if match is None else match.cost,
        )
