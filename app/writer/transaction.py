"""Where write sessions are made, and the one function that runs work in a retried write
transaction and commits it.

Every write of data happens in a ``WriteSession`` opened here, and the derived state (data
version, monthly rollups, full-text documents, change feed: ``app.derived``) is kept by hooks
registered on that class just below, so no write path can skip them. Reads use plain
sessions (``app.db.session.read_session``) and pay for none of it.

``write_transaction`` owns the transaction: services pass it their work and never commit
themselves (they ``flush()`` when they need ids). It commits before it returns, so a caller
builds its 2xx response only from durable data; any error rolls the whole work back. Work that
loses a race is run again from the start: a unique key another writer committed first
(IntegrityError: the retry finds that row), PostgreSQL's serialization failures and deadlock
victims, and a SQLite database still locked after its busy timeout. Idempotency is a layer on
top (``app.idempotency.service.run``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import Conflict
from app.db import dialect
from app.db.bulk import BULK
from app.derived import hooks as derived_hooks

T = TypeVar("T")

# Each lost race on a natural key means another writer committed it: retrying makes progress.
MAX_ATTEMPTS = 8


class WriteSession(Session):
    """The session of every write transaction; the derived state follows its commits."""


derived_hooks.register(WriteSession)


@contextmanager
def write_session(engine: Engine, *, connection: Connection | None = None) -> Iterator[Session]:
    """One write transaction: committed when the block ends, rolled back if it raises.

    ``connection``: a write connection of ``engine`` the caller holds across transactions (a
    bulk import keeps its own, with the settings made for it); by default one from the pool.
    Prefer ``write_transaction``, which also runs the work again when it loses a race.
    """
    bind = connection or engine.execution_options(**{dialect.WRITE_OPTION: True})
    with dialect.writer_queue(engine), WriteSession(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def bulk_session(engine: Engine, *, connection: Connection | None = None) -> Iterator[Session]:
    """A write transaction whose inserts of many rows go straight to the driver
    (``app.db.bulk``): for loaders of whole datasets (imports, the benchmarks' data)."""
    with write_session(engine, connection=connection) as session:
        session.info[BULK] = True
        yield session


def write_transaction(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    session: Callable[[], AbstractContextManager[Session]] | None = None,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """``work`` in one write transaction, committed before this returns; run again from the
    start when it loses a race (see the module's notes), at most ``MAX_ATTEMPTS`` times.

    ``session`` opens the transaction instead of ``write_session(engine)`` (a bulk import
    writes on a connection it holds); ``on_retry`` forgets what a failed attempt left in
    memory (the import's caches of the rows it wrote) before the next one.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if attempt > 1 and on_retry is not None:
            on_retry()
        try:
            # The module's name, looked up at each call: the crash tests swap in broken sessions.
            with session() if session is not None else write_session(engine) as open_session:
                return work(open_session)
        except IntegrityError as exc:
            if attempt == MAX_ATTEMPTS:
                raise Conflict(
                    "The write collided with concurrent writes of the same records; retry it."
                ) from exc
        except DBAPIError as exc:
            if not dialect.is_retryable(exc) or attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")
