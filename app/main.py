"""The FastAPI application: routers, problem-details error handlers, lifespan."""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Scope

from app import derived
from app.auth.dependencies import (
    Principal,
    rate_limit_bucket,
    read_access,
    reveals_protected,
    sees_protected,
)
from app.config import Settings, get_settings
from app.core import bodies
from app.core.errors import ProblemError, add_problem_schemas, problem_responses
from app.db import dialect
from app.db.replicas import ReadRouter
from app.db.session import create_db_engine
from app.http import caching, docs, logs, ratelimit, routing
from app.http.metrics import FunctionCollector, Metrics, replica_metrics, worker_exits
from app.http.observe import RequestObserver
from app.http.problems import install_error_handlers
from app.http.ratelimit import Buckets
from app.http.streaming import StreamLimits, StreamSlots

log = logging.getLogger(__name__)

DESCRIPTION = """
A conflict-events database where every event is traceable to the words that report it.

Ingestion scripts `POST /v1/reports` (an article, its quotes and the events they support);
dashboards read events, actors, places, articles and quotes. Errors are RFC 9457 problem
details (`application/problem+json`).

Every answer carries `Data-Version`, the data version it reflects (a write: the one it
committed), and `X-Request-Id`, which problem bodies repeat as `request_id`. Reads may be
answered by a read replica a moment behind the primary: send the last `Data-Version` you saw
as a request header to get an answer at least that fresh (422 if it is not a version, or is
newer than the database's).
"""


class ConflictApp(FastAPI):
    """FastAPI, with ``app.http.observe`` wrapped around Starlette's whole middleware stack
    (its error middleware included), so that every answer, a 500 too, has a request id, a log
    line and its metrics."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestObserver(
            super().build_middleware_stack(),
            access_log=self.state.settings.access_log,
            metrics=self.state.metrics,
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logs.configure(settings.log_format)
    metrics = Metrics()
    engine, read_router = _engines(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            from app.db import migrate

            migrate.upgrade(engine)
        try:
            dialect.refresh_statistics(engine)
        except SQLAlchemyError as exc:
            # A database down at start-up is the routes' 503 to report, not a failed start.
            log.warning("planner statistics not refreshed: %s", exc)
        if settings.demo:
            from app.demo import load_demo_if_empty

            load_demo_if_empty(engine)
        if settings.environment == "local":
            from app.auth import local

            local.ensure_local_key(engine, local.key_file(settings))
        if settings.drafts_preload:
            from app.drafts import gazetteer

            # In the background: the server answers meanwhile, and a draft that comes first
            # waits for this build instead of starting its own.
            threading.Thread(target=gazetteer.get, name="gazetteer-preload", daemon=True).start()
        read_router.start()
        stop_metrics = metrics.serve(settings.metrics_address) if settings.metrics_address else None
        yield
        if stop_metrics is not None:
            stop_metrics()
        read_router.dispose()
        engine.dispose()
        worker_exits()

    app = ConflictApp(
        title="conflictdb",
        version=_package_version(),
        summary="An open conflict-events API with source-level evidence.",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by app.http.docs from the app's own files instead of FastAPI's CDN links.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.metrics = metrics
    app.state.read_router = read_router
    for target in read_router.targets:
        metrics.watch_pool(target.name, target.engine.pool)
    metrics.extra.append(FunctionCollector(lambda: replica_metrics(read_router)))
    app.state.stream_slots = StreamSlots(
        StreamLimits(
            max_streams=settings.max_streams,
            total_seconds=settings.stream_max_s,
            send_timeout_seconds=settings.stream_send_timeout_s,
        ),
        metrics,
    )
    install_error_handlers(app)
    # Added before the rate limiter, so inside it: a 304 takes a token like any answer.
    caching.install(
        app,
        cache_control=settings.cache_control,
        stats_cache_size=settings.stats_cache_size,
        read_version=routing.version_reader(read_router),
        may_read=read_access,
        private=settings.auth_reads,
        view_of=_view,
        is_private=_answers_curator,
    )
    # Inside the rate limiter (a read retried on the primary takes one token), outside the
    # caching middleware (whose ETag is the answering database's version).
    routing.install(app, read_router, metrics)
    ratelimit.install(
        app,
        settings.rate_limit_per_minute,
        bucket_of=rate_limit_bucket,
        on_refusal=metrics.rate_limited.inc,
        store=_rate_limit_store(settings, engine),
    )
    _install_http_middleware(app, settings)

    from app.actors.router import router as actors_router
    from app.articles.router import router as articles_router
    from app.auth.router import router as keys_router
    from app.changes.router import router as changes_router
    from app.drafts.router import router as drafts_router
    from app.events.router import router as events_router
    from app.health.router import router as health_router
    from app.home import index as home
    from app.incidents.router import router as incidents_router
    from app.outlets.router import router as outlets_router
    from app.places.router import router as places_router
    from app.quotes.router import router as quotes_router
    from app.reports.router import router as ingest_router
    from app.stats.router import router as stats_router
    from app.vocabulary.router import router as vocabulary_router

    # Every API route: reads open unless CONFLICTDB_AUTH_READS, a key checked whenever one is
    # sent (401/403; two credentials at once are a 400), and the rate limit (429).
    for router in (
        ingest_router,
        drafts_router,
        events_router,
        incidents_router,
        articles_router,
        quotes_router,
        outlets_router,
        actors_router,
        places_router,
        stats_router,
        changes_router,
        vocabulary_router,
        keys_router,
    ):
        app.include_router(
            router,
            dependencies=[Depends(read_access)],
            responses=problem_responses(400, 401, 403, 429),
        )
    app.include_router(health_router)
    docs.install(app)
    home.install(app)
    _register_body_schemas(app)
    return app


def _engines(settings: Settings) -> tuple[Engine, ReadRouter]:
    """The primary's engine (every write, and reads without a replica) and the read router
    over it and the replicas (``app.db.replicas``)."""

    def engine_for(url: str) -> Engine:
        return create_db_engine(
            url,
            pool_size=settings.db_pool_size,
            pool_timeout_s=settings.db_pool_timeout_s,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            read_timeout_ms=settings.read_timeout_ms,
        )

    primary = engine_for(settings.database_url)
    router = ReadRouter(
        primary,
        [(url, engine_for(url)) for url in settings.replica_urls],
        read_version=derived.read_version,
        max_lag_s=settings.replica_max_lag_s,
        check_interval_s=settings.replica_check_interval_s,
    )
    return primary, router


def _rate_limit_store(settings: Settings, engine: Engine) -> Buckets | None:
    """The shared buckets (``CONFLICTDB_RATE_LIMIT_STORE=database``), or None: in-process."""
    if settings.rate_limit_store != "database" or settings.rate_limit_per_minute == 0:
        return None
    from app.writer.ratelimits import DatabaseBuckets

    return DatabaseBuckets(engine, settings.rate_limit_per_minute)


# Answers that never name a speaker (aggregates): one answer for every reader, curators too.
NAMELESS_PREFIXES = ("/v1/stats/",)


def _view(request: Request) -> str:
    """What the request's credential shows beyond the public answer: protected speakers'
    names, to a curator (``app.http.caching`` keeps the two answers' tags apart)."""
    if request.url.path.startswith(NAMELESS_PREFIXES):
        return ""
    try:
        return "curate" if sees_protected(request) else ""
    except ProblemError:
        return ""  # the route answers the 401/403 itself


def _answers_curator(scope: Scope) -> bool:
    """Whether the answer went to a curator's key (it may show protected speakers' names):
    such answers are private to the key."""
    if str(scope.get("path", "")).startswith(NAMELESS_PREFIXES):
        return False
    principal = scope.get("state", {}).get("principal")
    return isinstance(principal, Principal) and reveals_protected(principal)


def _package_version() -> str:
    """The installed package's version (pyproject's), for the OpenAPI document's info.version
    and the caching salt; a source tree that was never installed has none."""
    try:
        return importlib.metadata.version("conflictdb")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


# Below this a response goes as is: gzip's header and the round trip cost more than it saves.
GZIP_MINIMUM_BYTES = 1024
# Headers a browser script may read on a cross-origin response.
CORS_EXPOSED_HEADERS = [
    "ETag",
    "Data-Version",
    "Link",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "Content-Disposition",
    "Idempotent-Replayed",
    "Location",
    "X-Request-Id",
]


def _install_http_middleware(app: FastAPI, settings: Settings) -> None:
    """Compression (gzip for clients that accept it), then CORS outermost, so a preflight is
    answered before rate limiting and every answer, a 429 included, carries the CORS headers.

    Starlette's GZipMiddleware compresses a streaming response chunk by chunk (each flushed
    as it comes), so exports still stream and are never held whole in memory. Level 6, not
    the maximum 9: nearly the same size for far less CPU on large exports.
    """
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "Accept",
            ],
            expose_headers=CORS_EXPOSED_HEADERS,
            # Keys travel in headers, never cookies: no credentialed requests.
            allow_credentials=False,
            max_age=600,
        )


SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer <key>` (`conflictdb keys create`).",
    },
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The same API key in `X-API-Key`. Keys never go in URLs.",
    },
}


def _scopes(dependant: Any) -> set[str]:
    """The scopes an operation's dependencies require (``app.auth.dependencies.require``)."""
    found = set()
    for dep in dependant.dependencies:
        scope = getattr(dep.call, "required_scope", None)
        if scope is not None:
            found.add(scope)
        found |= _scopes(dep)
    return found


def _document_security(app: FastAPI, schema: dict[str, Any]) -> None:
    """Declare the key schemes, and on each operation the scope it needs (none: optional)."""
    schema["components"]["securitySchemes"] = SECURITY_SCHEMES
    auth_reads = app.state.settings.auth_reads
    for route in iter_route_contexts(app.routes):
        if (
            not isinstance(route.original_route, APIRoute)
            or not route.original_route.include_in_schema
            or route.path not in schema["paths"]
        ):
            continue
        scopes = sorted(_scopes(route.dependant))
        if not scopes and any(d.call is read_access for d in route.dependant.dependencies):
            scopes = ["read"] if auth_reads else []
            if not auth_reads:
                security: list[dict[str, list[str]]] = [{}, {"bearer": []}, {"apiKey": []}]
                for method in route.methods or ():
                    schema["paths"][route.path][method.lower()]["security"] = security
                continue
        if not scopes:
            continue
        for method in route.methods or ():
            schema["paths"][route.path][method.lower()]["security"] = [
                {"bearer": scopes},
                {"apiKey": scopes},
            ]


def _register_body_schemas(app: FastAPI) -> None:
    """Add the models of bodies that routes validate themselves (in JSON mode) to the OpenAPI."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        bodies.add_schemas(schemas)
        add_problem_schemas(schemas)
        _document_security(app, schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
