"""Typed settings read from the environment (prefix ``CONFLICTDB_``; ``DATABASE_URL`` also accepted)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///./conflictdb.sqlite3"
_ORIGIN = re.compile(r"^https?://[^/\s]+$")
# Cache-Control directives that let a shared cache keep an answer.
_SHARED_CACHING = re.compile(r"\b(public|max-age|s-maxage)\b", re.IGNORECASE)


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
    read_timeout_ms: int = Field(
        default=30_000,
        ge=0,
        description="Longest a statement of a read may run (503 query-timeout beyond); 0 is off.",
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_pool_timeout_s: float = Field(
        default=5,
        gt=0,
        description="Longest a request waits for a pooled database connection (503 beyond).",
    )
    max_streams: int = Field(
        default=8,
        ge=1,
        description="Streamed answers (CSV, GeoJSON, NDJSON) sent at once per process; one "
        "more is a 503 with Retry-After.",
    )
    stream_max_s: float = Field(
        default=3600, gt=0, description="Longest a streamed answer may run (then it is cut)."
    )
    stream_send_timeout_s: float = Field(
        default=30,
        gt=0,
        description="Longest a streamed answer waits for a client that stopped reading.",
    )
    auth_reads: bool = Field(default=False, description="Reads need a key with 'read' scope.")
    local_key_file: str | None = Field(
        default=None,
        description="Local mode: the file holding the local write key the first start creates. "
        "Default: one per database (app.auth.local.key_file_for): .conflictdb-local-key for "
        "the default SQLite file, .conflictdb-local-key-<name>-<hash of the URL> otherwise.",
    )
    idempotency_ttl_hours: float = Field(
        default=24, gt=0, description="How long an Idempotency-Key's response is kept."
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests a minute per API key (or address); 0 is off."
    )
    rate_limit_store: Literal["memory", "database"] = Field(
        default="memory",
        description="Where the rate-limit buckets live: memory (each worker process its own: "
        "N workers allow N times the limit) or database (one bucket per client across every "
        "process and machine, a statement per request).",
    )
    max_body_bytes: int = Field(default=5_000_000, ge=1024, description="Largest request body.")
    page_max_bytes: int = Field(
        default=8_000_000,
        ge=100_000,
        description="About the most a page of events with include=sources may hold: a page "
        "that would be larger is cut short, with a next_cursor (streams: a shorter page).",
    )
    report_max_entities: int = Field(
        default=500,
        ge=1,
        description="Actors, places, aliases and affiliations one report may describe, counted "
        "across nesting (422 beyond).",
    )
    report_max_place_depth: int = Field(
        default=12, ge=1, description="Deepest chain of place parents a report may give."
    )
    report_max_quote_chars: int = Field(
        default=200_000, ge=1, description="Characters of a report's quotes together."
    )
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Origins browsers may call the API from (CORS), comma-separated, e.g. "
            "`https://dash.example.org,http://localhost:3000`, or `*` for any; none (the "
            "default) turns CORS off."
        ),
    )
    stats_max_buckets: int = Field(
        default=10_000,
        ge=1,
        description="Most rows a stats answer may have (buckets x groups, or places); more is a 422.",
    )
    stats_use_rollups: bool = Field(
        default=True,
        description="Answer the stats queries the monthly rollups can answer from them; "
        "false reads the events every time.",
    )
    dispute_threshold: float = Field(
        default=0.25,
        ge=0,
        lt=1,
        description="An event is disputed when its sources' latest figures for one field "
        "spread by more than this share of the largest ((max - min) / max). Applied as events "
        "change; `conflictdb db rebuild-derived` re-marks every event after a change.",
    )
    cache_control: str = Field(
        default="no-cache",
        pattern=r"^[!-~]([ -~]*[!-~])?$",
        description="Cache-Control of the collection reads (lists, exports, stats, the change "
        "feed): they carry a weak ETag from the data version, so the default `no-cache` lets "
        "clients keep them and revalidate with If-None-Match (a 304 when nothing changed).",
    )
    stats_cache_size: int = Field(
        default=256,
        ge=0,
        description="Stats answers each worker keeps in memory (LRU), by data version and "
        "request, until the next write; 0 is off.",
    )
    explorer_tiles: str | None = Field(
        default=None,
        pattern=r"^https://[^/\s]+/\S*\{z\}\S*\{x\}\S*\{y\}\S*$",
        description="A raster tile server the explorer's map may draw under the events, as a "
        "URL template (`https://tiles.example.org/{z}/{x}/{y}.png`); none (the default) "
        "draws the bundled Natural Earth countries alone, with no request elsewhere. Its "
        "origin is added to the page's Content-Security-Policy.",
    )
    explorer_tiles_attribution: str = Field(
        default="",
        max_length=300,
        description="The tile server's attribution, shown on the map (as text).",
    )

    replica_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="PostgreSQL streaming replicas for reads, comma-separated SQLAlchemy URLs "
        "(as DATABASE_URL); none by default.",
    )
    replica_max_lag_s: float = Field(
        default=5.0,
        gt=0,
        description="A replica further behind the primary than this takes no reads until it "
        "catches up.",
    )
    replica_check_interval_s: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="How often each process reads every database's data version (replica "
        "health, lag, and which replicas can answer a client's Data-Version).",
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="The server's log lines: one JSON object each (json), or plain text.",
    )
    access_log: bool = Field(
        default=True,
        description="One log line per request (id, route, status, duration, key prefix).",
    )
    metrics_address: str | None = Field(
        default=None,
        pattern=r"^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]*):\d{1,5}$",
        description="host:port of a separate listener serving GET /metrics without a key "
        "(for a private network; /metrics on the API's own address needs the admin scope).",
    )
    drafts_preload: bool = Field(
        default=False,
        description="Build the draft assistant's world gazetteer when a worker starts (in the "
        "background: a few seconds of CPU, about 215 MB) instead of on its first draft.",
    )

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for origin in value if isinstance(value, list) else []:
            # A browser's Origin is scheme://host[:port], never with a path or trailing slash:
            # an origin written otherwise would silently never match.
            if origin != "*" and not _ORIGIN.match(str(origin)):
                raise ValueError(f"CORS origin {origin!r} is not scheme://host[:port]")
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_scheme(cls, value: str) -> str:
        return _psycopg_url(value)

    @field_validator("replica_urls", mode="before")
    @classmethod
    def _replicas(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            value = [_psycopg_url(str(url)) for url in value]
            for url in value:
                if not url.startswith("postgresql+psycopg://"):
                    raise ValueError(f"a replica is a PostgreSQL URL, not {url.split(':')[0]}:...")
        return value

    @model_validator(mode="after")
    def _replicas_need_postgres(self) -> Settings:
        if self.replica_urls and self.is_sqlite:
            raise ValueError(
                "CONFLICTDB_REPLICA_URLS are PostgreSQL streaming replicas: the primary "
                "(DATABASE_URL) must be PostgreSQL too"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production_defaults(self) -> Settings:
        if self.environment == "production":
            if self.database_url == DEFAULT_DATABASE_URL:
                raise ValueError("production needs an explicit DATABASE_URL")
            if self.demo:
                raise ValueError("production must not load demo data (CONFLICTDB_DEMO=false)")
            if self.auth_reads and _SHARED_CACHING.search(self.cache_control):
                raise ValueError(
                    "reads need a key (CONFLICTDB_AUTH_READS), so answers must not be kept by "
                    f"shared caches: CONFLICTDB_CACHE_CONTROL={self.cache_control!r} says they may "
                    "(public, max-age, s-maxage); use no-cache or private"
                )
            if self.auth_reads and "*" in self.cors_allow_origins:
                raise ValueError(
                    "reads need a key (CONFLICTDB_AUTH_READS), so any web page must not be let "
                    "to read with its visitors' keys: list the dashboards' origins in "
                    "CONFLICTDB_CORS_ALLOW_ORIGINS instead of *"
                )
            if self.rate_limit_per_minute == 0:
                log.warning(
                    "CONFLICTDB_RATE_LIMIT_PER_MINUTE=0: no rate limit in production; one "
                    "client can take every worker"
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _psycopg_url(value: str) -> str:
    # Heroku-style and bare postgres:// URLs would pick psycopg2, which we do not install.
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


def describe_refusal(exc: ValidationError) -> str:
    """Why the environment's settings were refused, in one line naming the variables."""
    parts = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # a rule across settings: the message names them
            parts.append(message)
            continue
        field = str(error["loc"][0])
        variable = "DATABASE_URL" if field == "database_url" else f"CONFLICTDB_{field.upper()}"
        parts.append(f"{variable}: {message}")
    return "; ".join(parts)


@lru_cache
def get_settings() -> Settings:
    return Settings()
