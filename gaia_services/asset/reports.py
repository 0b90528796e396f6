"""Billing arithmetic over usage sums: periods, limits, charges, projections and savings suggestions."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from gaia_services.asset.pricing import PricingBook, PricingModel
from gaia_services.asset.settings import AssetSettings
from gaia_services.asset.usage import LEGACY_PROVIDERS, ProviderTotals
from gaia_services.runtime.errors import InvalidArgument

__all__ = [
    "Alert",
    "Charges",
    "CreditUse",
    "DailyImages",
    "Period",
    "Suggestion",
    "TierUse",
    "TokenUse",
    "alerts",
    "charges",
    "find",
    "grand_total",
    "limits",
    "listed",
    "month_period",
    "parse_day",
    "parse_month",
    "suggestions",
]


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar month. ``end`` is the last day at the clock time of ``now``, as the reference reports it."""

    start: datetime
    end: datetime
    stop: datetime  # exclusive upper bound for queries (first instant of the next month)
    days_remaining: int

    @property
    def next_billing(self) -> date:
        return self.stop.date()


def month_period(now: datetime, year: int | None = None, month: int | None = None) -> Period:
    year, month = year or now.year, month or now.month
    last = calendar.monthrange(year, month)[1]
    start = datetime(year, month, 1, tzinfo=UTC)
    stop = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    end = now.replace(year=year, month=month, day=last)
    remaining = max(0, (end.date() - now.date()).days) if (year, month) == (now.year, now.month) else 0
    return Period(start=start, end=end, stop=stop, days_remaining=remaining)


def parse_month(text: str) -> tuple[int, int]:
    try:
        year, month = text.split("-")
        datetime(int(year), int(month), 1)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument("Invalid month format. Use YYYY-MM") from exc
    return int(year), int(month)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument("Invalid date format. Use YYYY-MM-DD") from exc


def listed(totals: Iterable[ProviderTotals]) -> list[ProviderTotals]:
    """The five legacy providers (zero when unused) in the reference's order, then any others by name."""
    by_name = {t.provider: t for t in totals}
    rows = [by_name.pop(name, ProviderTotals(provider=name)) for name, _ in LEGACY_PROVIDERS]
    return rows + [by_name[name] for name in sorted(by_name)]


def find(totals: Iterable[ProviderTotals], provider: str) -> ProviderTotals | None:
    return next((t for t in totals if t.provider == provider), None)


def grand_total(totals: Iterable[ProviderTotals]) -> ProviderTotals:
    result = ProviderTotals(provider="")
    for t in totals:
        result = result + ProviderTotals(
            provider="",
            cost=t.cost,
            requests=t.requests,
            tokens=t.tokens,
            images=t.images,
            models=t.models,
            credits=t.credits,
        )
    return result


@dataclass(frozen=True, slots=True)
class TierUse:
    current_tier: str
    monthly_limit: int
    used_this_month: int
    rate_limit: int
    monthly_fee: float
    overage_cost: float

    @property
    def remaining(self) -> int:
        return max(0, self.monthly_limit - self.used_this_month)


@dataclass(frozen=True, slots=True)
class CreditUse:
    current_package: str
    credit_limit: int
    credits_used: int
    auto_renewal: bool
    package_cost: float

    @property
    def credits_remaining(self) -> int:
        return max(0, self.credit_limit - self.credits_used)


@dataclass(frozen=True, slots=True)
class DailyImages:
    daily_limit: int
    used_today: int
    cost_per_image: float

    @property
    def remaining_today(self) -> int:
        return max(0, self.daily_limit - self.used_today)


@dataclass(frozen=True, slots=True)
class TokenUse:
    token_limit: int
    tokens_used: int
    cost_per_1k_tokens: float

    @property
    def tokens_remaining(self) -> int:
        return max(0, self.token_limit - self.tokens_used)


Limit = TierUse | CreditUse | DailyImages | TokenUse


def limits(
    book: PricingBook,
    settings: AssetSettings,
    month: Sequence[ProviderTotals],
    today: Sequence[ProviderTotals],
) -> list[tuple[str, Limit]]:
    """Each priced provider's use against the plan this deployment subscribes to (legacy report order)."""
    out: list[tuple[str, Limit]] = []
    order = [name for name, _ in LEGACY_PROVIDERS]
    for price in sorted(
        book.entries, key=lambda e: order.index(e.provider) if e.provider in order else len(order)
    ):
        used = find(month, price.provider) or ProviderTotals(provider=price.provider)
        match price.model:
            case PricingModel.TIER_BASED:
                tier = next((t for t in price.tiers if t.name == settings.dalle_tier), price.tiers[0])
                out.append(
                    (
                        price.provider,
                        TierUse(
                            current_tier=tier.name,
                            monthly_limit=tier.monthly_limit,
                            used_this_month=used.images,
                            rate_limit=tier.images_per_minute,
                            monthly_fee=tier.monthly_fee,
                            overage_cost=tier.standard_cost,
                        ),
                    )
                )
            case PricingModel.CREDIT_BASED:
                package = next(
                    (p for p in price.packages if p.name == settings.meshy_package),
                    price.packages[0] if price.packages else None,
                )
                if package is not None:
                    out.append(
                        (
                            price.provider,
                            CreditUse(
                                current_package=package.name,
                                credit_limit=package.credits,
                                credits_used=int(used.credits),
                                auto_renewal=settings.auto_payment,
                                package_cost=package.cost,
                            ),
                        )
                    )
            case PricingModel.PER_IMAGE:
                day = find(today, price.provider) or ProviderTotals(provider=price.provider)
                out.append(
                    (
                        price.provider,
                        DailyImages(
                            daily_limit=settings.stability_daily_limit,
                            used_today=day.images,
                            cost_per_image=price.standard_cost,
                        ),
                    )
                )
            case PricingModel.TOKEN_BASED:
                out.append(
                    (
                        price.provider,
                        TokenUse(
                            token_limit=settings.token_monthly_limit,
                            tokens_used=used.tokens,
                            cost_per_1k_tokens=round(price.input_cost_per_1k + price.output_cost_per_1k, 6),
                        ),
                    )
                )
    return out


def _share(limit: Limit) -> float:
    match limit:
        case TierUse():
            return limit.used_this_month / limit.monthly_limit if limit.monthly_limit else 0.0
        case CreditUse():
            return limit.credits_used / limit.credit_limit if limit.credit_limit else 0.0
        case DailyImages():
            return limit.used_today / limit.daily_limit if limit.daily_limit else 0.0
        case TokenUse():
            return limit.tokens_used / limit.token_limit if limit.token_limit else 0.0
    return 0.0


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str
    message: str
    severity: str


def alerts(rows: Sequence[tuple[str, Limit]]) -> list[Alert]:
    out = []
    for provider, limit in rows:
        share = _share(limit)
        if share >= 1.0:
            out.append(
                Alert("limit_exceeded", f"{provider} usage at {share * 100:.0f}% of its limit", "critical")
            )
        elif share > 0.8:
            out.append(
                Alert("approaching_limit", f"{provider} usage at {share * 100:.0f}% of its limit", "warning")
            )
    return out


@dataclass(frozen=True, slots=True)
class Charges:
    subscription_fees: float
    usage_charges: float
    overage_charges: float

    @property
    def total(self) -> float:
        return round(self.subscription_fees + self.usage_charges + self.overage_charges, 6)


def charges(rows: Sequence[tuple[str, Limit]], book: PricingBook, month: Sequence[ProviderTotals]) -> Charges:
    """Plan fees of the providers used this month, usage costs, and the part of them beyond the plans."""
    used = {t.provider for t in month if t.requests}
    fees = Decimal(0)
    overage = Decimal(0)
    for provider, limit in rows:
        if provider not in used:
            continue
        if isinstance(limit, TierUse):
            fees += Decimal(str(limit.monthly_fee))
            overage += max(0, limit.used_this_month - limit.monthly_limit) * Decimal(str(limit.overage_cost))
        elif isinstance(limit, CreditUse):
            fees += Decimal(str(limit.package_cost))
            price = book.get(provider)
            per_credit = Decimal(str(price.cost_per_credit if price else 0))
            overage += max(0, limit.credits_used - limit.credit_limit) * per_credit
    cost = sum((t.cost for t in month), Decimal(0))
    overage = min(overage, cost)
    return Charges(
        subscription_fees=float(fees), usage_charges=float(cost - overage), overage_charges=float(overage)
    )


def projected(bill: Charges, period: Period, now: datetime) -> float:
    """The period's bill if usage continues at this month's daily rate."""
    days = (period.stop - period.start).days
    elapsed = max(1, (now - period.start).days + 1)
    variable = bill.usage_charges + bill.overage_charges
    return round(bill.subscription_fees + variable / elapsed * days, 2)


@dataclass(frozen=True, slots=True)
class Suggestion:
    suggestion: str
    potential_savings: float
    reasoning: str


def suggestions(book: PricingBook, month: Sequence[ProviderTotals]) -> list[Suggestion]:
    out: list[Suggestion] = []
    dalle, stability = book.get("dalle"), book.get("stability")
    images = find(month, "dalle")
    if dalle and stability and images and images.images:
        saving = images.images * (dalle.image_cost("standard") - stability.image_cost("standard"))
        if saving > 0:
            out.append(
                Suggestion(
                    "Route standard-quality images to Stability",
                    round(saving, 2),
                    "Stability charges less per standard image than DALL-E",
                )
            )
    gpt, claude = book.get("openai_gpt"), book.get("claude")
    text = find(month, "openai_gpt")
    if gpt and claude and text and text.cost:
        rate_gpt = gpt.input_cost_per_1k + 0.5 * gpt.output_cost_per_1k
        rate_claude = claude.input_cost_per_1k + 0.5 * claude.output_cost_per_1k
        if rate_claude < rate_gpt:
            out.append(
                Suggestion(
                    "Switch some text completion tasks to Claude for cost efficiency",
                    round(float(text.cost) * (1 - rate_claude / rate_gpt), 2),
                    "Claude has lower per-token costs for long-form content",
                )
            )
    return out


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
