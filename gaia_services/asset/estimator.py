"""Cost estimates and provider comparisons, with the reference's arithmetic (operation order kept, so the
floats come out exactly as the reference's did)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gaia_services.asset.pricing import PricingModel, ProviderPrice
from gaia_services.runtime.errors import InvalidArgument

__all__ = ["Comparison", "Estimate", "compare", "estimate"]


@dataclass(frozen=True, slots=True)
class Estimate:
    provider: str
    operation: str
    quantity: int
    model: PricingModel
    cost_per_unit: float | None = None
    total_cost: float | None = None
    tier_fee: float | None = None
    credits_per_operation: int | None = None
    total_credits: int | None = None
    estimated_cost: float | None = None
    input_cost: float | None = None
    output_cost: float | None = None
    tokens_estimated: int | None = None

    @property
    def cost(self) -> float:
        """What the operation costs in US dollars, whatever the pricing model."""
        if self.estimated_cost is not None:
            return self.estimated_cost
        return self.total_cost or 0.0


@dataclass(frozen=True, slots=True)
class Comparison:
    provider: str
    model: PricingModel
    total_cost: float
    cost_per_unit: float | None = None
    cost_per_1k_tokens: float | None = None


def estimate(
    price: ProviderPrice | None,
    *,
    operation: str = "standard",
    quantity: int = 1,
    quality: str = "standard",
    tokens: int = 1000,
) -> Estimate:
    if price is None:
        raise InvalidArgument("Valid provider required")
    base: dict[str, Any] = {
        "provider": price.provider,
        "operation": operation,
        "quantity": quantity,
        "model": price.model,
    }
    match price.model:
        case PricingModel.TIER_BASED:
            cost = price.image_cost(quality)
            return Estimate(
                **base, cost_per_unit=cost, total_cost=cost * quantity, tier_fee=price.tiers[0].monthly_fee
            )
        case PricingModel.CREDIT_BASED:
            credits = price.credits_for(operation)
            return Estimate(
                **base,
                credits_per_operation=credits,
                total_credits=credits * quantity,
                estimated_cost=(credits * quantity) * price.cost_per_credit,
            )
        case PricingModel.PER_IMAGE:
            cost = price.image_cost(quality)
            return Estimate(**base, cost_per_unit=cost, total_cost=cost * quantity)
        case PricingModel.TOKEN_BASED:
            input_cost = (tokens * price.input_cost_per_1k) / 1000
            output_cost = (tokens * 0.5 * price.output_cost_per_1k) / 1000
            return Estimate(
                **base,
                input_cost=input_cost,
                output_cost=output_cost,
                total_cost=input_cost + output_cost,
                tokens_estimated=tokens,
            )
    raise InvalidArgument("Valid provider required")


def compare(
    entries: Iterable[ProviderPrice], *, operation: str, quantity: int = 1, quality: str = "standard"
) -> list[Comparison]:
    """Per-image providers for ``image_generation``; token-based ones (1,000 tokens) for ``text_completion``.

    Rows are sorted by total cost, cheapest first."""
    rows: list[Comparison] = []
    for price in entries:
        if price.model is PricingModel.PER_IMAGE and operation == "image_generation":
            cost = price.image_cost(quality)
            rows.append(
                Comparison(
                    provider=price.provider, model=price.model, cost_per_unit=cost, total_cost=cost * quantity
                )
            )
        elif price.model is PricingModel.TOKEN_BASED and operation == "text_completion":
            tokens = 1000
            input_cost = (tokens * price.input_cost_per_1k) / 1000
            output_cost = (tokens * 0.5 * price.output_cost_per_1k) / 1000
            rows.append(
                Comparison(
                    provider=price.provider,
                    model=price.model,
                    cost_per_1k_tokens=input_cost + output_cost,
                    total_cost=(input_cost + output_cost) * quantity,
                )
            )
    rows.sort(key=lambda row: row.total_cost)
    return rows
