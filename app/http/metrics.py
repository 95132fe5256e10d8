"""Prometheus metrics (prometheus-client): requests by route template and status, latency,
requests in flight, database pool use, rate-limit refusals, streams, reports ingested, and
what each process knows of the replicas and the data version.

One uvicorn worker: each app keeps its own registry, and ``render`` reads it. Several workers
(``uvicorn --workers N``, or ``conflictdb serve --workers N``) answer ``/metrics`` in turn, so
each would show only itself: with ``PROMETHEUS_MULTIPROC_DIR`` set (to an empty directory the
workers share, cleared before the server starts; ``conflictdb serve`` makes one itself for
N > 1), prometheus-client's multiprocess mode keeps every worker's counters in files there and
``render`` adds them up, whichever worker answers. Facts that are the same for every process
(the replicas' lag and health, the data version) come from ``extra`` collectors, read from the
answering worker at the scrape.

The request path pays for two label lookups (kept in a dict per route and status) and a few
additions under a lock: a microsecond or two, no I/O, no thread-pool hop.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.db.replicas import ReadRouter

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds: a page of events takes milliseconds, an export of a country's years a minute.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
UNMATCHED_ROUTE = "<unmatched>"  # a path no route serves: one label, whatever was asked


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


def prepare_workers(workers: int) -> str | None:
    """Before a server starts ``workers`` processes: for more than one, prometheus-client's
    multiprocess mode, in ``PROMETHEUS_MULTIPROC_DIR`` (emptied of a previous run's files) or
    in a new temporary directory. The workers inherit the variable (it must be set before
    prometheus-client is imported in them, which it is: they start afresh). Returns the
    directory, or None for one worker."""
    if workers <= 1:
        return None
    directory = os.environ.get(MULTIPROCESS_ENV)
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))
    else:
        directory = tempfile.mkdtemp(prefix="conflictdb-metrics-")
        os.environ[MULTIPROCESS_ENV] = directory
    return directory


def worker_exits() -> None:
    """A worker stopping: drop its share of the live gauges (in flight, pool, streams), which
    would otherwise be added up with the living workers' until the directory is emptied."""
    if multiprocess_mode():
        prometheus_multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class Metrics:
    """The app's metrics. ``extra``: collectors read at each scrape (replicas, data version)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.extra: list[Collector] = []
        r = self.registry
        self.requests = Counter(
            "conflictdb_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "conflictdb_http_request_duration_seconds",
            "Time from a request's arrival to its answer's last byte, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_progress = Gauge(
            "conflictdb_http_requests_in_progress",
            "Requests being answered now.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.rate_limited = Counter(
            "conflictdb_rate_limit_refusals",
            "Requests refused by the rate limit (429).",
            registry=r,
        )
        self.reports = Counter(
            "conflictdb_reports_ingested",
            "POST /v1/reports answered 2xx, by outcome: created (written), recognised (an "
            "identical report was already stored), replayed (an Idempotency-Key's answer).",
            ["outcome"],
            registry=r,
        )
        self.streams_active = Gauge(
            "conflictdb_streams_active",
            "Streamed answers (CSV, GeoJSON, NDJSON) being sent now.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.streams = Counter(
            "conflictdb_streams",
            "Streamed answers by how they ended: completed, aborted (cut short, or the client "
            "left), refused (503: the process already sends its most).",
            ["outcome"],
            registry=r,
        )
        self.pool_in_use = Gauge(
            "conflictdb_db_connections_in_use",
            "Database connections checked out of the pool, by database (primary or replica).",
            ["database"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_capacity = Gauge(
            "conflictdb_db_connections_max",
            "Connections the pools may open (pool size plus overflow), by database.",
            ["database"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.reads = Counter(
            "conflictdb_reads",
            "Read requests by the database that answered them (primary or a replica's name), "
            "and whether they were retried on the primary after a replica failed.",
            ["database", "retried"],
            registry=r,
        )
        self._scrape: CollectorRegistry | None = None
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            with self._lock:
                children = self._children.setdefault(
                    key,
                    (
                        self.requests.labels(method, route, str(status)),
                        self.latency.labels(method, route),
                    ),
                )
        children[0].inc()
        children[1].observe(seconds)

    def watch_pool(self, name: str, pool: Any) -> None:
        """Count ``pool``'s connections in use (checkout and check-in events) under ``name``."""
        from sqlalchemy import event

        in_use = self.pool_in_use.labels(name)
        size = getattr(pool, "size", None)
        overflow = getattr(pool, "_max_overflow", 0)
        if callable(size):
            self.pool_capacity.labels(name).inc(size() + max(0, overflow))

        @event.listens_for(pool, "checkout")
        def _checkout(*_: Any) -> None:
            in_use.inc()

        @event.listens_for(pool, "checkin")
        def _checkin(*_: Any) -> None:
            in_use.dec()

    def scrape_registry(self) -> CollectorRegistry:
        """What a scrape reads: this process's registry, or every worker's in multiprocess
        mode; then the ``extra`` collectors. (A registry of collectors, read at each scrape.)"""
        if self._scrape is None:
            registry = CollectorRegistry(auto_describe=False)
            if multiprocess_mode():
                prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            else:
                registry.register(FunctionCollector(self.registry.collect))
            for collector in self.extra:
                registry.register(collector)
            self._scrape = registry
        return self._scrape

    def render(self) -> bytes:
        """The Prometheus text exposition of ``scrape_registry``."""
        return generate_latest(self.scrape_registry())

    def serve(self, address: str) -> Callable[[], None] | None:
        """Serve the metrics, without a key, on ``address`` (host:port) from a thread of
        this process; the function returned stops it. None when the port is taken: with
        several workers, the first to bind serves them all (in multiprocess mode each
        worker's answer is the same), and the others only say so."""
        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "0.0.0.0"
        try:
            server, thread = start_http_server(int(port), host, registry=self.scrape_registry())
        except OSError as exc:
            log.info("metrics on %s served by another process (%s)", address, exc)
            return None
        log.info("metrics on http://%s/metrics", address)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        return stop


class FunctionCollector(Collector):
    """A collector whose metrics a function builds at each scrape."""

    def __init__(self, build: Callable[[], Iterable[Metric]]) -> None:
        self.build = build

    def collect(self) -> Iterable[Metric]:
        return self.build()

    def describe(self) -> Iterable[Metric]:
        return []


def replica_metrics(router: ReadRouter) -> Iterable[Metric]:
    """The data version and the replicas as this process sees them (the same from any
    process: each polls every replica itself), built at the scrape."""
    try:
        version: int | None = router.version_of(router.primary)
    except Exception:  # the primary is down: conflictdb_primary_up says so, the rest goes on
        version = None
    up = GaugeMetricFamily("conflictdb_primary_up", "Whether the primary answered the scrape.")
    up.add_metric([], 0.0 if version is None else 1.0)
    yield up
    if version is not None:
        yield GaugeMetricFamily(
            "conflictdb_data_version",
            "The primary's data version (every committed write of data advances it).",
            value=version,
        )
    if not router.replicas:
        return
    labels = ["replica", "address"]
    healthy = GaugeMetricFamily(
        "conflictdb_replica_up",
        "1 when the replica takes reads (answering, within the lag limit), else 0.",
        labels=labels,
    )
    lag = GaugeMetricFamily(
        "conflictdb_replica_lag_seconds",
        "How long ago the primary first had a version the replica still lacks (0: none).",
        labels=labels,
    )
    behind = GaugeMetricFamily(
        "conflictdb_replica_behind_versions",
        "Data versions the replica lacks of the primary's (as last polled).",
        labels=labels,
    )
    for row in router.health():
        key = [row["name"], row["address"]]
        healthy.add_metric(key, 1.0 if row["status"] == "ok" else 0.0)
        if row["lag_seconds"] is not None:
            lag.add_metric(key, row["lag_seconds"])
        if row["behind_versions"] is not None:
            behind.add_metric(key, row["behind_versions"])
    yield from (healthy, lag, behind)
