"""Typed settings, read once at the edge of each process (pydantic-settings, prefix ``GAIA_``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DEV_JWT_SECRET", "Environment", "Settings"]

DEFAULT_DEV_JWT_SECRET = "gaia-dev-jwt-secret-change-me-in-production-0000"


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class Settings(BaseSettings):
    """Everything a Gaia process can be told; unprefixed legacy names are accepted where tools expect them."""

    model_config = SettingsConfigDict(env_prefix="GAIA_", extra="ignore", frozen=True)

    env: Environment = Environment.DEV
    data_dir: Path = Path(".gaia")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object a line, with request_id and trace_id

    # Infrastructure (unprefixed, as every tool expects them).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "GAIA_DATABASE_URL")
    )
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "GAIA_REDIS_URL"))
    nats_url: str | None = Field(default=None, validation_alias=AliasChoices("NATS_URL", "GAIA_NATS_URL"))
    redis_prefix: str = "gaia:"
    db_pool_min: int = 1
    db_pool_max: int = 10

    # Addresses.
    host: str = "127.0.0.1"
    http_port: int = 8666
    web_port: int = 8080
    shim_url: str | None = None  # how the web UI reaches the shim; default http://<host>:<http_port>
    web_session_secret: SecretStr = SecretStr("gaia-dev-web-session-secret-change-me")
    # The web UI's "continue as the dev user" credential (dev mode only): the seeded public dev key.
    web_dev_api_key: SecretStr = SecretStr("FJUeDkZRy0uPp7cYtavMsIfwi7weF9-RT7BeOlusqnE")
    auth_addr: str = "127.0.0.1:50051"
    chat_addr: str = "127.0.0.1:50052"
    asset_addr: str = "127.0.0.1:50053"

    # Security.
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_DEV_JWT_SECRET),
        validation_alias=AliasChoices("GAIA_JWT_SECRET", "SUPABASE_JWT_SECRET"),
    )
    access_token_ttl_s: int = 3600
    refresh_token_ttl_s: int = 30 * 24 * 3600

    # Shim.
    allowed_origins: str = Field(
        default="http://localhost:8666,http://localhost:3000",
        validation_alias=AliasChoices("ALLOWED_ORIGINS", "GAIA_ALLOWED_ORIGINS"),
    )
    request_timeout_s: float = 30.0
    long_request_timeout_s: float = 300.0  # routes of the "long" class (asset generation)
    max_body_bytes: int = 1_048_576
    stream_idle_timeout_s: float = 60.0
    health_probe_timeout_s: float = 2.0
    root_rate_limit_per_minute: int = Field(
        default=60, validation_alias=AliasChoices("RATE_LIMIT_REQUESTS", "GAIA_ROOT_RATE_LIMIT_PER_MINUTE")
    )

    # Observability. Each service's Prometheus /metrics port (0: off; the shim serves /metrics on its own
    # port). Traces are exported by OTLP/gRPC only when an endpoint is set (the standard OTEL_* names).
    auth_metrics_port: int = 0
    chat_metrics_port: int = 0
    asset_metrics_port: int = 0
    otel_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    #: Each process reports as ``<name>-<part>`` (``gaia-chat``, ``gaia-shim``, ...).
    otel_service_name: str = Field(default="gaia", validation_alias=AliasChoices("OTEL_SERVICE_NAME"))
    otel_sdk_disabled: bool = Field(default=False, validation_alias=AliasChoices("OTEL_SDK_DISABLED"))
    otel_traces_exporter: str = Field(default="otlp", validation_alias=AliasChoices("OTEL_TRACES_EXPORTER"))
    otel_schedule_delay_ms: int = Field(default=500, validation_alias=AliasChoices("OTEL_BSP_SCHEDULE_DELAY"))

    # Graceful shutdown: how long in-flight RPCs (streams included) may drain.
    shutdown_grace_s: float = 5.0

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env is Environment.PROD:
            secret = self.jwt_secret.get_secret_value()
            if secret == DEFAULT_DEV_JWT_SECRET or len(secret) < 32:
                raise ValueError(
                    "GAIA_ENV=prod needs GAIA_JWT_SECRET (or SUPABASE_JWT_SECRET) of at least 32 characters, "
                    "not the development default"
                )
        return self

    @property
    def shim_base_url(self) -> str:
        return self.shim_url or f"http://{self.host}:{self.http_port}"

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    def require(self, name: str) -> str:
        """The URL of an infrastructure dependency, or a clear error when it is not configured."""
        value = getattr(self, name)
        if not value:
            raise RuntimeError(f"{name.upper()} is not set; run through `gaia up` or set it explicitly")
        return str(value)
