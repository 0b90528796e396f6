"""The estimator's arithmetic against hand-computed values, for every pricing model, and catalogue loading."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gaia_services.asset.estimator import compare, estimate
from gaia_services.asset.pricing import PricingBook, PricingModel
from gaia_services.runtime.errors import InvalidArgument


def book(tmp_path: Path | None = None) -> PricingBook:
    value = PricingBook(pricing_file=tmp_path)
    value.load({}, now=datetime(2025, 7, 17, tzinfo=UTC))
    return value


def test_tier_based_is_the_first_tier_price_times_quantity_plus_its_fee() -> None:
    e = estimate(book().get("dalle"), quantity=5)
    assert (e.model, e.cost_per_unit, e.total_cost, e.tier_fee) == (PricingModel.TIER_BASED, 0.04, 0.2, 5.0)
    hd = estimate(book().get("dalle"), quantity=3, quality="hd")
    assert (hd.cost_per_unit, hd.total_cost) == (0.08, 0.24)


def test_credit_based_is_credits_times_quantity_at_four_cents() -> None:
    e = estimate(book().get("meshy"), operation="text_to_3d", quantity=2)
    assert (e.credits_per_operation, e.total_credits, e.estimated_cost) == (5, 10, 0.4)
    texture = estimate(book().get("meshy"), operation="texture_generation", quantity=4)
    assert (texture.total_credits, texture.estimated_cost) == (12, 0.48)
    unknown = estimate(book().get("meshy"), operation="something_else")
    assert (unknown.credits_per_operation, unknown.estimated_cost) == (5, 0.2)


def test_per_image_uses_the_quality_price_falling_back_to_standard() -> None:
    stability = book().get("stability")
    assert estimate(stability, quality="hd", quantity=3).total_cost == 0.12
    assert estimate(stability, quality="ultra", quantity=2).total_cost == 0.16
    assert estimate(stability, quality="weird", quantity=10).total_cost == 0.2


def test_token_based_charges_input_and_half_as_much_output() -> None:
    e = estimate(book().get("claude"), tokens=2000)
    assert (e.input_cost, e.output_cost, e.total_cost, e.tokens_estimated) == (0.03, 0.075, 0.105, 2000)
    gpt = estimate(book().get("openai_gpt"), tokens=1000)
    assert (gpt.input_cost, gpt.output_cost, gpt.total_cost) == (0.03, 0.03, 0.06)


def test_an_unknown_provider_is_invalid() -> None:
    with pytest.raises(InvalidArgument, match="Valid provider required"):
        estimate(book().get("nope"))


def test_comparison_rows_are_sorted_cheapest_first() -> None:
    text = compare(book().entries, operation="text_completion", quantity=2)
    assert [(r.provider, r.cost_per_1k_tokens, r.total_cost) for r in text] == [
        ("claude", 0.0525, 0.105),
        ("openai_gpt", 0.06, 0.12),
    ]
    images = compare(book().entries, operation="image_generation", quantity=10)
    assert [(r.provider, r.cost_per_unit, r.total_cost) for r in images] == [("stability", 0.02, 0.2)]
    assert compare(book().entries, operation="3d") == []


def test_a_pricing_file_and_overrides_replace_entries_and_reload_changes_last_updated(tmp_path: Path) -> None:
    path = tmp_path / "pricing.json"
    path.write_text(
        json.dumps(
            {"stability": {"model": "per_image", "standard_cost": 0.01, "hd_cost": 0.02, "ultra_cost": 0.03}}
        )
    )
    value = book(path)
    assert estimate(value.get("stability"), quantity=4).total_cost == 0.04
    first = value.get("claude")
    value.load(
        {"claude": {"model": "token_based", "input_cost_per_1k": 0.003, "output_cost_per_1k": 0.015}},
        now=datetime(2025, 8, 1, tzinfo=UTC),
    )
    assert estimate(value.get("claude"), tokens=1000).total_cost == pytest.approx(
        0.0105
    )  # float sum, as the reference
    assert value.get("claude").last_updated == datetime(2025, 8, 1, tzinfo=UTC)
    assert value.get("dalle").last_updated == first.last_updated  # unchanged entries keep their time
    with pytest.raises(InvalidArgument):
        value.load({"broken": {"model": "tier_based"}})
