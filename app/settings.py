"""Settings, read from the environment once at start-up and validated there."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, RedisDsn, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service. Names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "production"
    database_url: SecretStr
    # Migrations run as the owner of the schema; the app itself never does.
    migration_database_url: SecretStr | None = None
    # Per process: the engine's pool keeps this many connections (and opens as many again under
    # load); the pool of requests that only read (app.db.direct) opens up to this many more.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    redis_url: RedisDsn
    # Every key the app writes starts with this, so environments can share one Redis safely.
    redis_key_prefix: str = Field(default="fl:", max_length=40)
    secret_key: SecretStr = Field(min_length=32)
    platform_admin_token: SecretStr | None = Field(default=None, min_length=24)
    public_url: str = "http://localhost:8000"
    session_cookie_secure: bool = True
    session_max_age_seconds: int = Field(default=12 * 3600, ge=60)
    member_token_days: int = Field(default=90, ge=1, le=3650)
    login_attempts_per_window: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    request_max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # argon2id cost; the defaults follow the library's recommendation.
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_use_tls: bool = False
    mail_from: str = "FlexLedger <billing@flexledger.test>"
    worker_queue_name: str = "flexledger:queue"
    # Local hour of the billing day at which scheduled billing runs, in each location's time zone.
    billing_hour: int = Field(default=6, ge=0, le=23)
    # Addresses of the proxies whose X-Forwarded-For is believed (the client address feeds the
    # sign-in throttle). Set it to the load balancer's address when there is one.
    forwarded_allow_ips: str = "127.0.0.1"
    # Keys that encrypt third-party tokens at rest (Fernet keys, comma-separated): the first
    # encrypts, every one decrypts. Rotate by putting a new key first, running
    # `flexledger rotate-token-keys`, then dropping the old key. Without any, a key is derived from
    # SECRET_KEY, which is allowed outside production only.
    token_keys: SecretStr | None = None
    # The Xero app this deployment connects as; Xero features are off until a client id is set.
    # The URLs point elsewhere only for the local sandbox.
    xero_client_id: str | None = None
    xero_client_secret: SecretStr | None = None
    xero_login_url: str = "https://login.xero.com"
    xero_identity_url: str = "https://identity.xero.com"
    xero_api_url: str = "https://api.xero.com"
    # Where deep links into an organisation's Xero pages go.
    xero_go_url: str = "https://go.xero.com"
    # How much faster than real time the Xero we talk to counts its rate-limit windows (only a
    # time-scaled local sandbox, for benchmarks, differs from 1).
    xero_time_scale: float = Field(default=1.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _postgres_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("postgresql://", "postgresql+asyncpg://")):
            msg = "must be a postgresql:// URL"
            raise ValueError(msg)
        return value

    @field_validator("token_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from app.kit.crypto import parse_keys

            parse_keys(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _keys_in_production(self) -> Settings:
        if self.environment == "production" and self.xero_client_id and self.token_keys is None:
            msg = "TOKEN_KEYS must be set in production when Xero is configured"
            raise ValueError(msg)
        if self.xero_client_id and self.xero_client_secret is None:
            msg = "XERO_CLIENT_SECRET must be set with XERO_CLIENT_ID"
            raise ValueError(msg)
        return self

    @property
    def xero_redirect_uri(self) -> str:
        """Where Xero sends the operator back after consent; register it with the Xero app."""
        return f"{self.public_url.rstrip('/')}/console/xero/callback"

    @property
    def owner_database_url(self) -> str:
        return (self.migration_database_url or self.database_url).get_secret_value()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; the first call validates the environment."""
    return Settings()
