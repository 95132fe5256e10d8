"""Engines, read sessions and their FastAPI dependencies. Write sessions are made by the writer
(``app.writer.transaction``), where the derived-state hooks are registered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from app.core import context
from app.db import dialect


def encode_json(value: Any) -> str:
    """The engines' JSON serializer (JSON columns: revisions, provenance, audit details).

    orjson, ~10x the standard library's speed: bulk imports write these by the hundred
    thousand. Its text is compact UTF-8 rather than spaced and ASCII-escaped, and decodes to
    the same values; non-string keys become strings, as json.dumps makes them. Text already
    encoded by this function can be passed on as an ``orjson.Fragment`` and is stored as it is.
    """
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_db_engine(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout_s: float = 30,
    busy_timeout_ms: int = 30_000,
    read_timeout_ms: int = 0,
) -> Engine:
    """An engine with the dialect's set-up; ``read_timeout_ms`` > 0 bounds each statement of a
    read (the API's; tools such as the CLI's export read without a bound)."""
    engine = create_engine(
        url,
        json_serializer=encode_json,
        **dialect.engine_kwargs(
            url, pool_size=pool_size, read_timeout_ms=read_timeout_ms, pool_timeout_s=pool_timeout_s
        ),
    )
    dialect.install(engine, busy_timeout_ms=busy_timeout_ms, read_timeout_ms=read_timeout_ms)
    return engine


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read: on PostgreSQL one snapshot for all its statements (REPEATABLE READ; a
    read-only transaction there never fails to serialize), as SQLite's read transaction is,
    so a record and the data version read beside it agree (``app.derived.at_one_version``)
    however many writes land meanwhile."""
    with Session(engine, expire_on_commit=False) as session:
        if engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session
        # End a read with COMMIT, not the implicit ROLLBACK of close(): psycopg drops its
        # prepared statements on every rollback, so queries would be re-planned each time
        # (measured: +25% list throughput on PostgreSQL, bench/README.md).
        session.commit()


def get_engine(request: Request) -> Engine:
    """The primary's engine: for writes (``write_transaction``), and for reads that must see
    the latest commit (API keys)."""
    engine: Engine = request.app.state.engine
    return engine


def get_read_engine(request: Request) -> Engine:
    """The engine of the database chosen to answer this read: a replica that has caught up
    with what the client asked for, or the primary (``app.http.routing``)."""
    current = context.current()
    target = current.read_target if current is not None else None
    if target is not None:
        engine: Engine = target.engine
        return engine
    return get_engine(request)


def get_read_session(request: Request) -> Iterator[Session]:
    """The route's read session, ended (its COMMIT) once the route has built its answer and
    before that answer is sent (``ReadSessionDep``'s function scope): a read whose database
    fails at its end is then an error answer the read routing can still retry on the
    primary, never a failure after a 200 was sent (which made the server drop the client's
    connection); and no connection is held while a slow client reads."""
    with read_session(get_read_engine(request)) as session:
        yield session


EngineDep = Annotated[Engine, Depends(get_engine)]
ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
