"""The auth service's own settings (prefix ``GAIA_AUTH_``), read once where the service is wired."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from gaia_services.settings import Environment

__all__ = ["AuthSettings"]


class AuthSettings(BaseSettings):
    """Hashing, confirmation, mail, caching and rate-limit knobs of the auth service."""

    model_config = SettingsConfigDict(env_prefix="GAIA_AUTH_", extra="ignore", frozen=True)

    # argon2id with light parameters: tests only (also chosen when GAIA_ENV=test).
    light_hashing: bool = False
    # Whether registration must be confirmed by mail; unset means on in prod, off in dev and test.
    require_confirmation: bool | None = None
    confirmation_ttl_s: int = 24 * 3600
    # A new confirmation mail for one address at most this often.
    resend_interval_s: int = 60
    # Base URL put in mailed links; empty means the shim's own address.
    public_url: str = ""

    # Mail: SMTP when a host is set, else every message is logged and written under GAIA_DATA_DIR/mail/.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    mail_from: str = "Gaia <no-reply@gaia.local>"

    # Credential caching: Redis (shared, full-hash keys) plus a short in-process layer invalidated via NATS.
    cache_ttl_s: int = 600
    local_cache_ttl_s: float = 5.0
    # last_used_at is written at most once per this many seconds per key.
    last_used_interval_s: int = 60

    # Per-principal rate limit (sliding window of one minute); a key may override it in its permissions
    # JSON as {"rate_limit_per_minute": N}.
    rate_limit_per_minute: int = 600
    # Failed logins for one email: after this many within the window, logins are refused until it passes.
    login_max_failures: int = 5
    login_failure_window_s: int = 900

    def confirmation_required(self, env: Environment) -> bool:
        if self.require_confirmation is not None:
            return self.require_confirmation
        return env is Environment.PROD

    def light(self, env: Environment) -> bool:
        return self.light_hashing or env is Environment.TEST
