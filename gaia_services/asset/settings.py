"""The asset service's own settings (prefix ``GAIA_ASSET_``), read once where the service is wired."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AssetSettings"]


class AssetSettings(BaseSettings):
    """Providers, storage, budgets and the pricing catalogue of the asset service."""

    model_config = SettingsConfigDict(env_prefix="GAIA_ASSET_", extra="ignore", frozen=True)

    # Providers: each is used only when its key is set; otherwise the built-in local generator answers.
    openai_api_key: SecretStr | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    openai_image_model: str = "dall-e-3"
    stability_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GAIA_ASSET_STABILITY_API_KEY", "STABILITY_API_KEY")
    )
    stability_base_url: str = "https://api.stability.ai"
    stability_engine: str = "stable-diffusion-xl-1024-v1-0"
    meshy_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GAIA_ASSET_MESHY_API_KEY", "MESHY_API_KEY")
    )
    meshy_base_url: str = "https://api.meshy.ai"
    meshy_poll_interval_s: float = 5.0
    meshy_max_wait_s: float = 600.0
    mubert_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GAIA_ASSET_MUBERT_API_KEY", "MUBERT_API_KEY")
    )
    mubert_base_url: str = "https://api-b2b.mubert.com"
    mubert_cost: float = 0.05
    provider_timeout_s: float = 60.0
    provider_retries: int = 2
    max_file_mb: float = 100.0

    # Storage: "local" (under GAIA_DATA_DIR/assets) or "s3" (any S3-compatible endpoint, SigV4-signed).
    storage: Literal["local", "s3"] = "local"
    storage_dir: Path | None = None
    bucket_name: str = "assets"
    s3_endpoint: str = ""  # e.g. http://minio:9000 or https://s3.eu-west-1.amazonaws.com
    s3_bucket: str = ""  # defaults to bucket_name
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: SecretStr | None = None
    s3_path_style: bool = True  # <endpoint>/<bucket>/<key>; False: <bucket>.<endpoint host>/<key>
    s3_timeout_s: float = 30.0  # a whole PUT or DELETE; between two reads of a GET
    s3_connect_timeout_s: float = 5.0
    s3_retries: int = 2  # extra attempts after a connection error, a timeout or a 5xx
    public_base_url: str = ""  # where the shim is reachable; default http://<host>:<http_port>

    # Budgets: runtime.budgets.BudgetSettings (GAIA_BUDGET_*; GAIA_ASSET_SESSION_DAILY_BUDGET,
    # MAX_GENERATION_COST_PER_ASSET and GAIA_ASSET_USER_MONTHLY_BUDGET are its aliases).

    # Pricing: the reference's tables unless a JSON file (same shape) replaces entries.
    pricing_file: Path | None = None
    # What this deployment subscribes to (used by limits and billing).
    dalle_tier: str = "Tier 1"
    meshy_package: str = "Professional"
    stability_daily_limit: int = 1000
    token_monthly_limit: int = 1_000_000
    payment_method_kind: str = "none"
    payment_method_last_four: str = ""
    payment_method_status: str = "not_configured"
    auto_payment: bool = False
