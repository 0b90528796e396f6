"""The chat catalogue, performance judgements and in-process metrics, without any network."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from compat_gateway.render.personas import jsonb_order
from gaia_services.chat.catalogue import Catalogue
from gaia_services.chat.llm_config import ExtraModel, LLMSettings
from gaia_services.chat.metrics import STAGES, Metrics
from gaia_services.chat.performance import assess, health_of, provider_score
from gaia_services.chat.provider_stats import CallFigures
from gaia_services.runtime.errors import NotFound


def _settings(**values: object) -> LLMSettings:
    """Settings without credentials but those given (by their variables' names, which win)."""
    base: dict[str, object] = {
        "ANTHROPIC_API_KEY": None,
        "OPENAI_API_KEY": None,
        "GAIA_CATALOGUE_EXTRA_MODELS": [],
    }
    return LLMSettings.model_validate({**base, **values})


def test_catalogue_serves_the_reference_tables_and_availability_from_the_environment() -> None:
    catalogue = Catalogue(settings=_settings(ANTHROPIC_API_KEY="x"))
    assert [m.id for m in catalogue.models()] == ["claude-3-haiku-20240307", "gpt-4o-mini"]
    assert [m.id for m in catalogue.provider_models("openai")] == ["gpt-4o-mini", "gpt-4o"]
    assert catalogue.model("gpt-4o").description == "Most capable model with vision and advanced reasoning"
    assert catalogue.is_available("claude") and not catalogue.is_available("openai")
    assert [m.id for m in catalogue.models(available_only=True)] == ["claude-3-haiku-20240307"]
    assert [m.id for m in catalogue.models(capabilities=("tool_calling",))] == ["gpt-4o-mini"]
    assert catalogue.models(capabilities=("unspecified",)) == []
    with pytest.raises(NotFound, match="Provider nope not found"):
        catalogue.provider_models("nope")
    with pytest.raises(NotFound, match="Model not found: capabilities"):
        catalogue.model("capabilities")


def test_configured_models_join_the_catalogue() -> None:
    extra = ExtraModel(id="llama3", provider="local", provider_name="Local server", context_window=8192)
    catalogue = Catalogue(settings=_settings(GAIA_CATALOGUE_EXTRA_MODELS=[extra]))
    assert catalogue.model("llama3").provider == "local"
    assert [p.id for p in catalogue.providers()] == ["claude", "openai", "local"]
    assert catalogue.provider("local").models == ("llama3",)
    assert catalogue.is_available("local")  # no credentials variable needed
    assert "llama3" in [m.id for m in catalogue.models()]


def test_health_and_assessment_follow_the_reference_thresholds() -> None:
    quiet = CallFigures(provider="claude")
    assert health_of(quiet, configured=True) == "healthy"
    assert health_of(quiet, configured=False) == "unhealthy"
    failing = CallFigures(provider="claude", requests=10, errors=6, avg_latency_ms=100)
    assert health_of(failing, configured=True) == "unhealthy"
    slow = CallFigures(provider="claude", requests=10, avg_latency_ms=3000)
    assert health_of(slow, configured=True) == "warning"
    assert provider_score(slow) == 90.0 and provider_score(quiet) == 100.0
    verdict = assess(CallFigures(provider="", requests=4, errors=1, avg_latency_ms=1500, slow=0), active=0)
    assert (verdict.status, verdict.score, verdict.alerts) == ("critical", 40.0, ("High error rate: 25.0%",))
    assert assess(CallFigures(provider=""), active=0).status == "healthy"


def test_metrics_track_flights_stages_and_first_tokens() -> None:
    metrics = Metrics()
    since = datetime.now(UTC) - timedelta(seconds=1)
    flight = metrics.begin("req-1", provider="claude", model="m")
    with metrics.stage(flight, "llm_api_call"):
        assert metrics.active()[0][0].stage == "llm_api_call"
        time.sleep(0.01)
        metrics.first_token(flight)
        metrics.first_token(flight)  # only the first counts
    assert metrics.finish(flight) >= 0.01
    assert metrics.active() == []
    figures = {f.stage: f for f in metrics.stages(since=since, limit=100)}
    assert list(figures)[: len(STAGES)] == list(STAGES)
    assert figures["llm_api_call"].samples == 1 and figures["llm_api_call"].average_s >= 0.01
    assert figures["authentication"].samples == 0
    assert len(metrics.time_to_first_token(since=since)) == 1
    assert metrics.stages(since=datetime.now(UTC) + timedelta(seconds=1), limit=100)[3].samples == 0
    assert metrics.process().memory_mb > 1


def test_jsonb_key_order_is_length_then_bytes_recursively() -> None:
    value = {"helpful": True, "cheerful": True, "b": {"zz": 1.0, "a": [2.0, 2.5]}, "optimistic": 1}
    ordered = jsonb_order(value)
    assert list(ordered) == ["b", "helpful", "cheerful", "optimistic"]
    assert list(ordered["b"]) == ["a", "zz"] and ordered["b"]["zz"] == 1 and ordered["b"]["a"] == [2, 2.5]
