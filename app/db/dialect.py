"""Every SQLite / PostgreSQL difference the app cares about, in one place."""

from __future__ import annotations

import hashlib
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Double,
    Engine,
    SQLColumnExpression,
    event,
    literal,
    literal_column,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType

# Execution option set on the write engine: SQLite takes the write lock at BEGIN for it.
WRITE_OPTION = "conflictdb_write"


def engine_kwargs(
    url: str, *, pool_size: int, read_timeout_ms: int = 0, pool_timeout_s: float = 30
) -> dict[str, Any]:
    """``pool_timeout_s``: how long a request waits for a pooled connection before the pool
    gives up (a 503 with Retry-After, app.http.problems), not the 30 s a client would wait."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        # The API serves requests from a thread pool; SQLAlchemy's pool hands each connection
        # to one thread at a time, so sqlite3's same-thread check only gets in the way.
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if parsed.database not in (None, "", ":memory:"):
            # A file database has a queue pool of its own, bounded like PostgreSQL's.
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=pool_timeout_s)
        return kwargs
    # A host that does not answer must fail fast (503), not hang a request or the health check.
    connect_args: dict[str, Any] = {"connect_timeout": 5}
    if read_timeout_ms > 0:
        # The read timeout as the session's default (no round trip per read); writes and
        # migrations lift it for their transaction (see ``install``).
        connect_args["options"] = f"-c statement_timeout={int(read_timeout_ms)}"
    return {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_timeout": pool_timeout_s,
        "pool_pre_ping": True,
        "connect_args": connect_args,
    }


_SQLITE_WRITE_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def writer_queue(engine: Engine) -> Iterator[None]:
    """On SQLite, queue this process's writers on a lock before BEGIN IMMEDIATE.

    SQLite has one writer at a time; a writer that finds the database locked sleeps in its busy
    handler (up to 100 ms a try) rather than being woken when the lock frees, so four writers
    of one process made p99 latency 540 ms (bench/README.md). Queueing them in-process hands the
    lock straight over; writers in other processes still wait on the busy timeout.
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    key = str(engine.url)
    with _LOCKS_GUARD:
        lock = _SQLITE_WRITE_LOCKS.setdefault(key, threading.RLock())
    with lock:
        yield


# Set on a read that ran out of time (both databases), so the API can say so (503).
TIMED_OUT_SQLSTATE = "57014"


def is_read_timeout(exc: BaseException) -> bool:
    """A statement stopped by the read timeout: PostgreSQL's query_canceled, SQLite's
    'interrupted' (from the progress handler below)."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == TIMED_OUT_SQLSTATE:
        return True
    return isinstance(orig, sqlite3.OperationalError) and str(orig) == "interrupted"


# PostgreSQL's serialization_failure and deadlock_detected: the whole transaction is safe to
# run again.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_busy(exc: BaseException) -> bool:
    """SQLite's write lock still held by another process after the busy timeout."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and str(orig).startswith(
        ("database is locked", "database is busy")
    )


def is_retryable(exc: BaseException) -> bool:
    """A write transaction that failed only because of other writers: run it again."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES or is_busy(exc)


def install(engine: Engine, *, busy_timeout_ms: int, read_timeout_ms: int = 0) -> None:
    """Attach per-dialect connection set-up to a new engine.

    ``read_timeout_ms`` bounds every statement of a read transaction (not of writes, which a
    client must never see half done, nor of migrations): a query too costly for its filters
    stops there instead of holding a worker and the database. PostgreSQL enforces it as
    ``statement_timeout`` (a connection option, lifted by writes); SQLite through a progress
    handler that interrupts the statement.
    """
    if engine.dialect.name != "sqlite":
        if read_timeout_ms > 0:

            @event.listens_for(engine, "begin")
            def _pg_unbounded_writes(conn: Any) -> None:
                # Reads have the timeout from the connection's options (per statement);
                # writes none.
                if conn.get_execution_options().get(WRITE_OPTION):
                    conn.exec_driver_sql("SET LOCAL statement_timeout = 0")

        return
    _install_sqlite(engine, busy_timeout_ms=busy_timeout_ms, read_timeout_ms=read_timeout_ms)


def _install_sqlite(engine: Engine, *, busy_timeout_ms: int, read_timeout_ms: int) -> None:
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the sqlite3 module) decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not in_memory:
            # WAL lets readers run beside the single writer; FULL makes a commit durable
            # before we answer 2xx.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()
        ensure_math_functions(dbapi_connection)
        if read_timeout_ms > 0:
            deadline: list[float] = [0.0]  # 0: no deadline (writes)
            _record.info["read_deadline"] = deadline
            dbapi_connection.set_progress_handler(
                lambda: 1 if deadline[0] and time.monotonic() > deadline[0] else 0, 20_000
            )

    if read_timeout_ms > 0:

        @event.listens_for(engine, "before_cursor_execute")
        def _sqlite_deadline(
            conn: Any, _cursor: Any, _sql: Any, _params: Any, context: Any, _many: Any
        ) -> None:
            # Per statement, as PostgreSQL's statement_timeout (a stream's pages too: each is
            # a statement of its own).
            deadline = conn.info.get("read_deadline")
            if deadline is not None:
                unbounded = conn.get_execution_options().get(WRITE_OPTION)
                deadline[0] = 0.0 if unbounded else time.monotonic() + read_timeout_ms / 1000

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # Write transactions take the write lock up front, so two writers queue on the busy
        # timeout instead of failing with "database is locked" when a read lock upgrades.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _unary(fn: Callable[[float], float]) -> Callable[[Any], float | None]:
    def apply(value: Any) -> float | None:
        # As SQLite's own math functions: NULL for NULL or a value that is not a number.
        try:
            return fn(float(value))
        except (TypeError, ValueError):
            return None

    return apply


# The math the events filters use in SQL (`near`: a great-circle distance).
MATH_FUNCTIONS: dict[str, Callable[[Any], float | None]] = {
    "sin": _unary(math.sin),
    "cos": _unary(math.cos),
}


def ensure_math_functions(dbapi_connection: Any) -> None:
    """SQLite builds without SQLITE_ENABLE_MATH_FUNCTIONS (before 3.35, or compiled without
    it) lack sin() and cos(): register Python's, deterministic, so the same SQL runs on every
    build. Python's sqlite3 here (3.40) has them built in, and keeps its own."""
    try:
        dbapi_connection.execute("SELECT sin(0), cos(0)").fetchone()
    except sqlite3.OperationalError:
        register_math_functions(dbapi_connection)


def register_math_functions(dbapi_connection: Any) -> None:
    for name, fn in MATH_FUNCTIONS.items():
        dbapi_connection.create_function(name, 1, fn, deterministic=True)


@contextmanager
def migration_transaction(conn: Connection) -> Iterator[None]:
    """The transaction a migration runs in; on SQLite, with foreign keys off, then checked.

    Alembic's batch mode rebuilds a SQLite table (copy, drop, rename) to alter it; with foreign
    keys on, dropping the old table would cascade into its children and delete their rows.
    The pragma only takes effect outside a transaction, so it is set on the raw connection
    before SQLAlchemy begins one, and the keys are checked before the commit.
    """
    # A migration is a write: never cut short by the API's read timeout.
    conn.execution_options(**{WRITE_OPTION: True})
    if conn.dialect.name != "sqlite":
        with conn.begin():
            yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        with conn.begin():
            yield
            problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"migration left broken foreign keys: {problems[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def refresh_statistics(engine: Engine, *, full: bool = False) -> None:
    """Give the query planner current statistics on the tables' contents.

    SQLite has none until ANALYZE runs, and without them it plans "the newest 100 events of a
    country" by fetching the country's whole year and sorting it (7 ms at 100,000 events)
    instead of walking the date index (1.4 ms). ANALYZE reads a bounded sample of each index
    (``analysis_limit``: 0.1 s at 100,000 events); at start-up it runs only on a database
    never analysed, otherwise ``PRAGMA optimize`` (tables that changed a lot); ``full``
    (after a bulk import) always. PostgreSQL's autovacuum
    keeps its own statistics; ``full`` runs ANALYZE there too, so a fresh import plans well
    at once.
    """
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
            never = not conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).first()
            conn.exec_driver_sql("ANALYZE" if full or never else "PRAGMA optimize")
        elif full:
            conn.exec_driver_sql("ANALYZE")
        conn.commit()


def clock_seconds(engine: Engine) -> ColumnElement[float]:
    """The database's clock in seconds since the Unix epoch, the same value wherever it appears
    in one statement: every machine reading it agrees (unlike their own clocks)."""
    if engine.dialect.name == "sqlite":
        # 'now' is fixed for the whole statement (one sqlite3_step); millisecond precision.
        return literal_column("((julianday('now') - 2440587.5) * 86400.0)", type_=Double())
    return literal_column(
        "CAST(EXTRACT(EPOCH FROM statement_timestamp()) AS DOUBLE PRECISION)", type_=Double()
    )


def insert_for(engine: Engine) -> Any:
    """``insert`` for an engine rather than a session."""
    return _insert(engine.dialect.name)


def insert(session: Session) -> Any:
    """The dialect's own ``insert`` (with ``on_conflict_do_update``): SQLite's or PostgreSQL's."""
    return _insert(session.get_bind().dialect.name)


def _insert(name: str) -> Any:
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert


def lock_name(session: Session, namespace: str, *parts: str | None) -> None:
    """Serialise writers that may create the same named record, until their commit.

    PostgreSQL (READ COMMITTED) lets two transactions both find no actor called X and both
    create one, since an actor's name is not unique (two actors may share a name, which makes a
    later match ambiguous). A transaction-scoped advisory lock on the name makes the second
    writer wait for the first to commit; its lookup then sees the new row. SQLite needs nothing:
    write transactions already hold the database's single write lock from BEGIN IMMEDIATE.
    """
    lock_names(session, namespace, [parts])


def lock_names(session: Session, namespace: str, names: Iterable[Sequence[str | None]]) -> None:
    """``lock_name`` for each of ``names``, in one statement: the locks are taken in the
    order of their keys, whatever order the names come in, so two writers locking
    overlapping sets cannot deadlock on each other."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted(
        {
            int.from_bytes(
                hashlib.blake2b(
                    "\x1f".join([namespace, *(p or "" for p in parts)]).encode(), digest_size=8
                ).digest(),
                "big",
                signed=True,
            )
            for parts in names
        }
    )
    if not keys:
        return
    if len(keys) == 1:
        session.execute(_LOCK_ONE, {"key": keys[0]})
    else:
        # unnest() yields the sorted keys in order; ORDER BY says so (volatile functions in
        # the select list run after the sort).
        session.execute(_LOCK_MANY, {"keys": keys})


_LOCK_ONE = text("SELECT pg_advisory_xact_lock(:key)")
_LOCK_MANY = text(
    "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) "
    "WITH ORDINALITY AS wanted (k, n) ORDER BY n"
)


class _StartsWith(FunctionElement[bool]):
    """``column`` starts with ``prefix``, as a range on the column's B-tree index (below)."""

    # Not Boolean: SQLAlchemy would then send SQLite `(...) = 1`, which no index serves.
    type = NullType()  # type: ignore[assignment]
    name = "starts_with"
    inherit_cache = True


def starts_with(column: SQLColumnExpression[Any], prefix: str) -> ColumnElement[bool]:
    """Code-point prefix match that an index serves: ``prefix <= column < next``, where
    ``next`` is the prefix with its last code point incremented (every string that starts
    with the prefix sorts between them, and no other does, in code-point order).

    SQLite compares text with memcmp (BINARY), which for UTF-8 is code-point order, so its
    plain index on the column serves the range (its LIKE would not: LIKE folds ASCII case
    and uses an index only under ``case_sensitive_like``). PostgreSQL orders text by the
    database's collation, which need not be code-point order (``en_US``): there the range
    uses the byte-wise pattern operators ``~>=~`` / ``~<~``, which a ``text_pattern_ops``
    index serves whatever the collation (the name keys' indexes are built so).
    """
    last = ord(prefix[-1])
    bump = last + 1 if last + 1 != 0xD800 else 0xE000  # no surrogates in a str to compare
    upper = prefix[:-1] + chr(bump) if bump <= 0x10FFFF else None
    if upper is None:  # a prefix ending in U+10FFFF: nothing sorts above it but extensions
        return _StartsWith(column, literal(prefix))
    return _StartsWith(column, literal(prefix), literal(upper))


@compiles(_StartsWith)
def _starts_with_binary(element: _StartsWith, compiler: SQLCompiler, **kw: Any) -> str:
    return _range(element, compiler, ">=", "<", **kw)


@compiles(_StartsWith, "postgresql")
def _starts_with_pattern_ops(element: _StartsWith, compiler: SQLCompiler, **kw: Any) -> str:
    return _range(element, compiler, "~>=~", "~<~", **kw)


def _range(element: _StartsWith, compiler: SQLCompiler, ge: str, lt: str, **kw: Any) -> str:
    column, low, *high = (compiler.process(c, **kw) for c in element.clauses)
    if not high:
        return f"({column} {ge} {low})"
    return f"({column} {ge} {low} AND {column} {lt} {high[0]})"


# -- set-based writes (app.writer.staged) ------------------------------------------------------


class SetSql:
    """How set-based statements spell what the two databases spell differently: staging
    tables (``TEMP``, rows gone with the connection), JSON built in SQL for JSON columns,
    and a date as ISO text."""

    def __init__(self, name: str) -> None:
        self.postgresql = name == "postgresql"
        # Column types of the staging tables.
        self.date_type = "DATE" if self.postgresql else "TEXT"
        self.json_object = "jsonb_build_object" if self.postgresql else "json_object"
        self.json_array = "jsonb_build_array" if self.postgresql else "json_array"
        # An empty object, to merge in when an optional key is absent.
        self.empty_object = "'{}'::jsonb" if self.postgresql else "'{}'"

    def emptied(self, tables: list[str]) -> list[str]:
        """Statements emptying staging tables. PostgreSQL: TRUNCATE, or a table emptied once
        per batch would keep every dead row (temporary tables are never vacuumed), and each
        batch would scan all the batches before it."""
        if self.postgresql:
            return [f"TRUNCATE {', '.join(tables)}"]
        return [f"DELETE FROM {table}" for table in tables]  # SQLite truncates these itself

    def staged(self, tables: list[str]) -> list[str]:
        """Statements run once a batch is staged: PostgreSQL's planner has no statistics of a
        temporary table (autovacuum never sees one) unless it is analyzed."""
        return [f"ANALYZE {', '.join(tables)}"] if self.postgresql else []

    def date_text(self, expression: str) -> str:
        return f"to_char({expression}, 'YYYY-MM-DD')" if self.postgresql else expression

    def strip_nulls(self, expression: str) -> str:
        """The object without its keys whose value is null (top level only, as built here:
        its values are scalars or arrays)."""
        if self.postgresql:
            return f"jsonb_strip_nulls({expression})"
        # RFC 7396 merge patch: a null in the patch removes the key.
        return f"json_patch('{{}}', {expression})"

    def merge(self, left: str, right: str) -> str:
        """Two objects with disjoint keys as one (right's values arrays or scalars)."""
        return f"({left} || {right})" if self.postgresql else f"json_patch({left}, {right})"

    def json_agg(self, expression: str, order_by: str) -> str:
        """An aggregate of ``expression`` into a JSON array, in ``order_by``'s order (SQLite
        before 3.44 has no ORDER BY inside an aggregate: its caller orders the rows fed in)."""
        if self.postgresql:
            return f"jsonb_agg({expression} ORDER BY {order_by})"
        return f"json_group_array({expression})"

    def json_column(self, expression: str) -> str:
        """A value built here, as stored in a JSON column (``json`` on PostgreSQL)."""
        return f"({expression})::json" if self.postgresql else expression

    def text_as_json(self, expression: str) -> str:
        """JSON text, as stored in a JSON column."""
        return f"({expression})::json" if self.postgresql else expression


def set_sql(session: Session) -> SetSql:
    return SetSql(session.get_bind().dialect.name)
