"""Rate-limit buckets in the database, shared by every process and machine
(``CONFLICTDB_RATE_LIMIT_STORE=database``; the in-process buckets of ``app.http.ratelimit``
are the default).

A request takes its token in one statement, atomic on both databases: an upsert of its
bucket's row that refills the bucket for the time since it was last refilled (by the
database's clock, the same for every machine), takes a token when there is one, and returns
the outcome. Concurrent requests of one bucket queue on that row's lock for the length of the
statement, never longer. It is bookkeeping, not data: it goes around the write transaction and
its derived state (no data version), as the rate limiter runs before any of that.

A bucket idle long enough to be full again holds nothing a new row would not: such rows are
deleted now and then (``PRUNE_EVERY`` requests of a process), so the table stays the size of
the clients of the last minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, case, delete, literal
from sqlalchemy.exc import SQLAlchemyError

from app.db import dialect
from app.models import RateLimitBucket

log = logging.getLogger(__name__)

PRUNE_EVERY = 1000
_WARN_EVERY_S = 60.0


class DatabaseBuckets:
    """Token buckets of ``per_minute`` tokens, refilled continuously, in ``rate_limit_bucket``."""

    blocking = True  # each take is a statement: the rate limiter calls it from the thread pool

    def __init__(self, engine: Engine, per_minute: int) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        # PostgreSQL: the statement alone, in autocommit (one round trip). SQLite: in a write
        # transaction of its own (BEGIN IMMEDIATE, queued behind this process's writers), since
        # its autocommit mode is not one SQLAlchemy's SQLite set-up here keeps (app.db.dialect).
        self.engine = (
            engine.execution_options(**{dialect.WRITE_OPTION: True})
            if self.sqlite
            else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._takes = 0
        self._warned_at = 0.0
        self._lock = threading.Lock()
        table = RateLimitBucket.__table__
        now = dialect.clock_seconds(engine)
        elapsed = case((now > table.c.refilled_at, now - table.c.refilled_at), else_=0.0)
        grown = table.c.tokens + elapsed * self.rate
        refilled = case((grown > self.capacity, literal(self.capacity)), else_=grown)
        self._now = now
        self._refilled = refilled
        self._insert = dialect.insert_for(engine)

    def take(self, bucket: str) -> tuple[bool, int, float]:
        """(allowed, tokens remaining, seconds until the next token). A database that cannot
        be reached lets the request through (logged): the limit is there to share a working
        service fairly, and the request meets the same database next anyway."""
        table = RateLimitBucket.__table__
        refilled = self._refilled
        stmt = (
            self._insert(table)
            .values(bucket=bucket, tokens=self.capacity - 1.0, refilled_at=self._now, allowed=True)
            .on_conflict_do_update(
                index_elements=[table.c.bucket],
                set_={
                    "tokens": case((refilled >= 1.0, refilled - 1.0), else_=refilled),
                    "refilled_at": self._now,
                    "allowed": refilled >= 1.0,
                },
            )
            .returning(table.c.tokens, table.c.allowed)
        )
        try:
            with self._connection() as conn:
                tokens, allowed = conn.execute(stmt).one()
            self._maybe_prune()
        except SQLAlchemyError as exc:
            now = time.monotonic()
            if now - self._warned_at > _WARN_EVERY_S:
                self._warned_at = now
                log.warning("rate-limit buckets unreadable, requests let through: %s", exc)
            return True, int(self.capacity), 0.0
        tokens = float(tokens)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
        return bool(allowed), int(tokens), wait

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        if not self.sqlite:
            with self.engine.connect() as conn:
                yield conn
            return
        with dialect.writer_queue(self.engine), self.engine.begin() as conn:
            yield conn

    def _maybe_prune(self) -> None:
        with self._lock:
            self._takes += 1
            due = self._takes % PRUNE_EVERY == 0
        if not due:
            return
        full_after = self.capacity / self.rate  # seconds for an empty bucket to fill
        with self._connection() as prune:
            prune.execute(
                delete(RateLimitBucket).where(RateLimitBucket.refilled_at < self._now - full_after)
            )
