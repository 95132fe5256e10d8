"""Typed settings read from the environment (prefix ``CONFLICTDB_``; ``DATABASE_URL`` also accepted)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./conflictdb.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONFLICTDB_", extra="ignore")

    environment: Literal["local", "test", "production"] = "local"
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("CONFLICTDB_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user:pass@host/db",
    )
    demo: bool = Field(default=True, description="Load the demo report into an empty database.")
    migrate_on_start: bool = Field(
        default=True, description="Run `alembic upgrade head` when the app starts (local mode)."
    )
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=1000, ge=1)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    db_pool_size: int = Field(default=10, ge=1)
    auth_reads: bool = Field(default=False, description="Reads need a key with 'read' scope.")
    local_key_file: str = Field(
        default=".conflictdb-local-key",
        description="Local mode: where the first start writes the local write key it creates.",
    )
    idempotency_ttl_hours: float = Field(
        default=24, gt=0, description="How long an Idempotency-Key's response is kept."
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests a minute per API key (or address); 0 is off."
    )
    max_body_bytes: int = Field(default=5_000_000, ge=1024, description="Largest request body.")

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_scheme(cls, value: str) -> str:
        # Heroku-style and bare postgres:// URLs would pick psycopg2, which we do not install.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production_defaults(self) -> Settings:
        if self.environment == "production":
            if self.database_url == DEFAULT_DATABASE_URL:
                raise ValueError("production needs an explicit DATABASE_URL")
            if self.demo:
                raise ValueError("production must not load demo data (CONFLICTDB_DEMO=false)")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
