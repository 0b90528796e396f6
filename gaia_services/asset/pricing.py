"""The pricing catalogue: how each provider charges, as configuration (the reference's tables by default).

Entries use the reference's JSON shape (``{"model": "tier_based", "tiers": [...]}`` ...), so a pricing file
or a ``pricing_overrides`` row can replace any provider's entry. ``PricingBook`` holds the loaded
catalogue and
reloads it on demand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from gaia_services.runtime.errors import InvalidArgument

__all__ = [
    "Package",
    "PricingBook",
    "PricingModel",
    "ProviderPrice",
    "Tier",
    "default_catalogue",
    "parse_catalogue",
]


class PricingModel(StrEnum):
    TIER_BASED = "tier_based"
    CREDIT_BASED = "credit_based"
    PER_IMAGE = "per_image"
    TOKEN_BASED = "token_based"


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    monthly_fee: float
    images_per_minute: int
    monthly_limit: int
    standard_cost: float
    hd_cost: float


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    credits: int
    cost: float


@dataclass(frozen=True, slots=True)
class ProviderPrice:
    """One provider's entry; which fields matter depends on ``model``."""

    provider: str
    model: PricingModel
    last_updated: datetime
    tiers: tuple[Tier, ...] = ()
    packages: tuple[Package, ...] = ()
    operations: tuple[tuple[str, int], ...] = ()
    cost_per_credit: float = 0.04
    standard_cost: float = 0.0
    hd_cost: float = 0.0
    ultra_cost: float = 0.0
    input_cost_per_1k: float = 0.0
    output_cost_per_1k: float = 0.0

    def image_cost(self, quality: str) -> float:
        """Per-image price of ``quality`` (tier-based: standard or hd; per-image: falls back to standard)."""
        if self.model is PricingModel.TIER_BASED:
            tier = self.tiers[0]
            return tier.standard_cost if quality == "standard" else tier.hd_cost
        return {"standard": self.standard_cost, "hd": self.hd_cost, "ultra": self.ultra_cost}.get(
            quality, self.standard_cost
        )

    def credits_for(self, operation: str) -> int:
        return dict(self.operations).get(operation, 5)


def default_catalogue() -> dict[str, dict[str, Any]]:
    """The reference's ``PROVIDER_PRICING`` table (catalogue order matters)."""
    tier = {"images_per_minute": 0, "standard_cost": 0.040, "hd_cost": 0.080}
    return {
        "dalle": {
            "model": "tier_based",
            "tiers": [
                {
                    "name": "Tier 1",
                    "monthly_fee": 5.00,
                    **tier,
                    "images_per_minute": 5,
                    "monthly_limit": 15000,
                },
                {
                    "name": "Tier 2",
                    "monthly_fee": 50.00,
                    **tier,
                    "images_per_minute": 50,
                    "monthly_limit": 150000,
                },
                {
                    "name": "Tier 3",
                    "monthly_fee": 500.00,
                    **tier,
                    "images_per_minute": 500,
                    "monthly_limit": 1500000,
                },
            ],
        },
        "meshy": {
            "model": "credit_based",
            "packages": [
                {"name": "Starter", "credits": 200, "cost": 6.00},
                {"name": "Professional", "credits": 1000, "cost": 20.00},
                {"name": "Enterprise", "credits": 5000, "cost": 80.00},
            ],
            "operations": {"text_to_3d": 5, "texture_generation": 3, "refinement": 2},
            "cost_per_credit": 0.04,
        },
        "stability": {"model": "per_image", "standard_cost": 0.020, "hd_cost": 0.040, "ultra_cost": 0.080},
        "openai_gpt": {"model": "token_based", "input_cost_per_1k": 0.03, "output_cost_per_1k": 0.06},
        "claude": {"model": "token_based", "input_cost_per_1k": 0.015, "output_cost_per_1k": 0.075},
    }


def _entry(provider: str, raw: Mapping[str, Any], when: datetime) -> ProviderPrice:
    try:
        model = PricingModel(raw["model"])
        tiers = tuple(
            Tier(
                name=str(t["name"]),
                monthly_fee=float(t["monthly_fee"]),
                images_per_minute=int(t["images_per_minute"]),
                monthly_limit=int(t["monthly_limit"]),
                standard_cost=float(t["standard_cost"]),
                hd_cost=float(t["hd_cost"]),
            )
            for t in raw.get("tiers", ())
        )
        if model is PricingModel.TIER_BASED and not tiers:
            raise ValueError("a tier_based entry needs tiers")
        return ProviderPrice(
            provider=provider,
            model=model,
            last_updated=when,
            tiers=tiers,
            packages=tuple(
                Package(name=str(p["name"]), credits=int(p["credits"]), cost=float(p["cost"]))
                for p in raw.get("packages", ())
            ),
            operations=tuple((str(k), int(v)) for k, v in dict(raw.get("operations", {})).items()),
            cost_per_credit=float(raw.get("cost_per_credit", 0.04)),
            standard_cost=float(raw.get("standard_cost", 0.0)),
            hd_cost=float(raw.get("hd_cost", 0.0)),
            ultra_cost=float(raw.get("ultra_cost", 0.0)),
            input_cost_per_1k=float(raw.get("input_cost_per_1k", 0.0)),
            output_cost_per_1k=float(raw.get("output_cost_per_1k", 0.0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"Invalid pricing entry for provider: {provider}") from exc


def parse_catalogue(raw: Mapping[str, Mapping[str, Any]], when: datetime) -> tuple[ProviderPrice, ...]:
    return tuple(_entry(name, entry, when) for name, entry in raw.items())


@dataclass
class PricingBook:
    """The loaded catalogue: defaults, then the pricing file, then database overrides (in that order)."""

    pricing_file: Path | None = None
    entries: tuple[ProviderPrice, ...] = field(default_factory=tuple)

    def load(self, overrides: Mapping[str, Mapping[str, Any]], *, now: datetime | None = None) -> None:
        when = now or datetime.now(UTC)
        raw: dict[str, Mapping[str, Any]] = dict(default_catalogue())
        if self.pricing_file is not None and self.pricing_file.exists():
            raw.update(json.loads(self.pricing_file.read_text()))
        raw.update(overrides)
        fresh = parse_catalogue(raw, when)
        old = {e.provider: e for e in self.entries}
        # Keep the old timestamp of entries that did not change, so last_updated means "last changed".
        self.entries = tuple(
            _with_time(e, old[e.provider].last_updated)
            if e.provider in old and _same(old[e.provider], e)
            else e
            for e in fresh
        )

    def get(self, provider: str) -> ProviderPrice | None:
        return next((e for e in self.entries if e.provider == provider), None)

    def names(self) -> tuple[str, ...]:
        return tuple(e.provider for e in self.entries)


def _same(a: ProviderPrice, b: ProviderPrice) -> bool:
    return _with_time(a, b.last_updated) == b


def _with_time(entry: ProviderPrice, when: datetime) -> ProviderPrice:
    return replace(entry, last_updated=when)
